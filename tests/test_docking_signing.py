"""Signing schemes and 国密 (docking/signing.py, docking/gm.py, province/protocol.py): the worked examples of
docs/interface.md, the standards' test vectors, round trips, and what is refused. Expected values come from
another implementation (the standard library's hmac, gmssl's pure-Python SM3 and SM4, the published vectors)."""

import base64
import hashlib
import hmac
import os
import time

import orjson
import pytest
from gmssl import func, sm3, sm4

from haocha.integrations.docking import gm, signing
from haocha.integrations.province import protocol

# The worked example of docs/interface.md (签名示例); the SM2 key and k are GB/T 32918.2's example values.
METHOD, TIMESTAMP, NONCE = "POST", "1796088600", "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
SECRET = "demo-secret-not-for-production"
BODY = b'{"records":[{"projectNo":"CS2026120001","pf":"4","satisfaction":5}]}'
DOC_HMAC_SHA256 = "da637b7f9d22ed39b9cac35e454008e803309cb1d683e0e9ffcd553fe962e84d"
DOC_HMAC_SM3 = "1ac8bb5fa661945220fab9d144e3a82e2643a719c4e5111867d926e09d7c736c"
DOC_SM2_PRIVATE = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8"
DOC_SM2_K = "59276e27d506861a16680f3ad9c02dccef3cc1fa3cdbe4ce6d54b80deac1bc21"
DOC_SM2_SIGNATURE = (
    "3b6ce757046b473af7fbea5d96e70e49fba440ee5929dc53c411b9c1aa6f989f"
    "06d1d466b92ef1fe36026b72b8e0cf9890d7890887a92be0eb8e59c256964f97"
)


def sm3_reference(data: bytes) -> bytes:
    return bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(data)))


def hmac_sm3_reference(key: bytes, message: bytes) -> str:
    """RFC 2104 by hand over gmssl's SM3 (block 64 bytes)."""
    key = key.ljust(64, b"\0")
    inner = sm3_reference(bytes(k ^ 0x36 for k in key) + message)
    return sm3_reference(bytes(k ^ 0x5C for k in key) + inner).hex()


def test_the_haocha_scheme_signs_the_documented_string_with_hmac_sha256():
    path = "/api/docking/upload"
    text = f"POST\n{path}\n{TIMESTAMP}\n{NONCE}\n{hashlib.sha256(BODY).hexdigest()}".encode()
    expected = hmac.new(SECRET.encode(), text, hashlib.sha256).hexdigest()
    assert signing.string_to_sign(METHOD, path, TIMESTAMP, NONCE, BODY) == text
    assert signing.signature(SECRET, METHOD, path, TIMESTAMP, NONCE, BODY) == expected == DOC_HMAC_SHA256
    assert signing.matches(SECRET, expected.upper(), METHOD, path, TIMESTAMP, NONCE, BODY)


def test_hmac_sm3_follows_rfc_2104_over_sm3():
    path = "/addEvaluate"
    text = f"POST\n{path}\n{TIMESTAMP}\n{NONCE}\n{sm3_reference(BODY).hex()}".encode()
    assert signing.HMAC_SM3.message(METHOD, path, TIMESTAMP, NONCE, BODY) == text
    got = signing.HMAC_SM3.sign(SECRET, METHOD, path, TIMESTAMP, NONCE, BODY)
    assert got == hmac_sm3_reference(SECRET.encode(), text) == DOC_HMAC_SM3
    assert signing.HMAC_SM3.verify(SECRET, got, METHOD, path, TIMESTAMP, NONCE, BODY)
    assert not signing.HMAC_SM3.verify(SECRET, got, METHOD, path, TIMESTAMP, NONCE, BODY + b" ")


def test_sm3_and_sm4_match_the_standards_vectors_and_gmssl():
    # GB/T 32905-2016 A.1 and A.2
    assert gm.sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    assert gm.sm3_hex(b"abcd" * 16) == "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
    data = os.urandom(1000)
    assert gm.sm3_hex(data) == sm3_reference(data).hex()
    # GB/T 32907-2016 A.1: one block, key = plain text
    key = bytes.fromhex("0123456789abcdeffedcba9876543210")
    assert gm.sm4_encrypt(key, key, "ecb")[:16].hex() == "681edf34d206965e86b3e94f536e4246"
    reference = sm4.CryptSM4()
    reference.set_key(key, sm4.SM4_DECRYPT)
    sealed = gm.sm4_encrypt(key, data, "cbc")
    assert reference.crypt_cbc(sealed[:16], sealed[16:]) == data
    assert reference.crypt_ecb(gm.sm4_encrypt(key, data, "ecb")) == data


@pytest.mark.parametrize("mode", gm.SM4_MODES)
def test_sm4_round_trip_and_a_wrong_key_does_not_give_the_text_back(mode):
    key, other = os.urandom(16), os.urandom(16)
    plain = "王*｜满意".encode() * 50
    sealed = gm.sm4_encrypt(key, plain, mode)
    assert plain not in sealed and len(sealed) % 16 == 0
    assert gm.sm4_decrypt(key, sealed, mode) == plain
    try:
        wrong = gm.sm4_decrypt(other, sealed, mode)
    except ValueError:
        wrong = None
    assert wrong != plain
    with pytest.raises(ValueError):
        gm.sm4_decrypt(key, sealed[:-1], mode)
    if mode == "cbc":  # a fresh IV each time: the same text never looks the same twice
        assert gm.sm4_encrypt(key, plain, mode) != sealed


def test_sm2_sm3_round_trip_and_everything_tampered_is_refused():
    private, public = gm.sm2_keypair()
    _, stranger = gm.sm2_keypair()
    args = (METHOD, "/addEvaluate", TIMESTAMP, NONCE, BODY)
    given = signing.SM2_SM3.sign(private, *args)
    assert len(given) == 128
    assert signing.SM2_SM3.verify(public, given, *args)
    assert signing.SM2_SM3.verify("04" + public.upper(), given.upper(), *args)
    assert not signing.SM2_SM3.verify(public, given, METHOD, "/addEvaluate", TIMESTAMP, NONCE, BODY[:-1])
    assert not signing.SM2_SM3.verify(public, given, METHOD, "/addEvaluateService", TIMESTAMP, NONCE, BODY)
    assert not signing.SM2_SM3.verify(public, given, METHOD, "/addEvaluate", "1796088601", NONCE, BODY)
    assert not signing.SM2_SM3.verify(stranger, given, *args)
    for garbage in ("", "zz" * 64, "0" * 128, given[:-2], "f" * 128):
        assert not signing.SM2_SM3.verify(public, garbage, *args)
    assert signing.SM2_SM3.sign(private, *args) != given  # a fresh k each time


def test_sm2_works_with_a_public_key_that_starts_with_04():
    """gmssl's constructor strips a 04 prefix with lstrip("04"), which would also eat this key's x."""
    private = f"{11:064x}"
    public = gm.sm2_public_of(private)
    assert public.startswith("04") and len(public) == 128
    given = gm.sm2_sign(private, b"message")
    assert gm.sm2_verify(public, b"message", given)


def test_sm2_matches_the_standards_example():
    """GB/T 32918.2 (GM/T 0003.2) example on the recommended curve: "message digest", the default user id."""
    public = gm.sm2_public_of(DOC_SM2_PRIVATE)
    assert public == (
        "09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
        "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13"
    )
    expected = (
        "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
        "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa"
    )
    assert gm._crypt(DOC_SM2_PRIVATE, public).sign_with_sm3(b"message digest", DOC_SM2_K) == expected
    assert gm.sm2_verify(public, b"message digest", expected)


def test_the_documented_sm2_example_reproduces():
    public = gm.sm2_public_of(DOC_SM2_PRIVATE)
    message = signing.SM2_SM3.message(METHOD, "/addEvaluate", TIMESTAMP, NONCE, BODY)
    crypt = gm._crypt(DOC_SM2_PRIVATE, public)
    assert crypt.sign_with_sm3(message, DOC_SM2_K) == DOC_SM2_SIGNATURE
    assert signing.SM2_SM3.verify(public, DOC_SM2_SIGNATURE, METHOD, "/addEvaluate", TIMESTAMP, NONCE, BODY)


def test_keys_that_are_not_what_the_agreement_says_are_refused():
    for bad in ("", "12", "g" * 64, "0" * 64, gm._CURVE["n"].lower()):
        with pytest.raises(gm.BadKey):
            gm.sm2_private_key(bad)
    with pytest.raises(gm.BadKey):
        gm.sm2_public_key("ab" * 63)
    with pytest.raises(gm.BadKey):
        gm.sm4_key("00" * 15)
    with pytest.raises(ValueError, match="未知的签名方式"):
        signing.scheme("rsa")
    assert signing.scheme("SM2-SM3") is signing.SM2_SM3


def agreement(**changes) -> protocol.Agreement:
    values = {"app_id": "hc-430100", "scheme": signing.HMAC_SM3, "key": SECRET, "sm4_key": bytes(range(16))}
    values.update(changes)
    return protocol.Agreement(**values)


def test_an_sealed_call_carries_only_ciphertext_and_opens_on_the_other_side():
    sender = agreement()
    payload = {"records": [{"projectNo": "CS2026120001", "userName": "王*"}]}
    body, headers = protocol.seal(sender, "/addEvaluate", payload)
    assert list(orjson.loads(body)) == ["encryptData"] and b"CS2026120001" not in body
    assert headers[protocol.ENCRYPT] == "SM4-CBC" and headers[protocol.SIGN_TYPE] == "HMAC-SM3"
    opened, nonce = protocol.unseal(sender, "POST", "/addEvaluate", headers, body)
    assert opened == payload and nonce == headers[protocol.NONCE]


@pytest.mark.parametrize(
    "change, code",
    [
        ({"body": b'{"encryptData":"AAAA"}'}, "4005"),  # the body changed after signing
        ({"path": "/addEvaluateService"}, "4005"),  # signed for another call
        ({protocol.SIGNATURE: None}, "4001"),
        ({protocol.APP: "hc-other"}, "4002"),
        ({protocol.SIGN_TYPE: "HMAC-SHA256"}, "4003"),
        ({protocol.TIMESTAMP: str(int(time.time()) - 3600)}, "4004"),
        ({protocol.ENCRYPT: "none"}, "4007"),
    ],
)
def test_what_the_platform_refuses(change, code):
    sender = agreement()
    body, headers = protocol.seal(sender, "/addEvaluate", {"records": [{}]})
    path = change.pop("path", "/addEvaluate")
    body = change.pop("body", body)
    headers.update(change)
    headers = {k: v for k, v in headers.items() if v is not None}
    with pytest.raises(protocol.Refused) as refused:
        protocol.unseal(sender, "POST", path, headers, body)
    assert refused.value.code == code


def test_a_platform_with_another_sm4_key_cannot_open_the_body():
    body, headers = protocol.seal(agreement(), "/addEvaluate", {"records": [{}]})
    with pytest.raises(protocol.Refused) as refused:
        protocol.unseal(agreement(sm4_key=os.urandom(16)), "POST", "/addEvaluate", headers, body)
    assert refused.value.code == "4007"
    damaged = orjson.dumps({"encryptData": base64.b64encode(b"x" * 32).decode()})
    headers[protocol.SIGNATURE] = signing.HMAC_SM3.sign(
        SECRET, "POST", "/addEvaluate", headers[protocol.TIMESTAMP], headers[protocol.NONCE], damaged
    )
    with pytest.raises(protocol.Refused):
        protocol.unseal(agreement(), "POST", "/addEvaluate", headers, damaged)


def test_a_signed_answer_is_bound_to_its_request():
    platform_private, platform_public = gm.sm2_keypair()
    platform = agreement(answer_key=platform_private)
    child = agreement(answer_key=platform_public)
    raw = orjson.dumps({protocol.CODE: protocol.SUCCESS})
    headers = protocol.answer_headers(platform, "/addEvaluate", NONCE, raw)
    assert protocol.answer_signed(child, "/addEvaluate", NONCE, headers, raw)
    assert not protocol.answer_signed(child, "/addEvaluate", "another-request-nonce", headers, raw)
    assert not protocol.answer_signed(child, "/addEvaluate", NONCE, headers, raw.replace(b"0000", b"0001"))
    assert not protocol.answer_signed(child, "/addEvaluate", NONCE, {}, raw)
