"""国密 for docking agreements: SM3 digests and HMAC-SM3, SM2 signatures over SM3 (GB/T 32918, the default
user id 1234567812345678), SM4 encryption (GB/T 32907); keys as hex text, as agreements exchange them.

SM2 is gmssl's (the maintained pure-Python implementation: about 6 ms a signature, 10 ms a check). SM3 and
SM4 run in OpenSSL through `cryptography`, because gmssl's pure Python takes over a second per 300 kB body
(a batch of 500 records) where OpenSSL takes 3 ms; tests check both against gmssl and the standards' vectors.
Nothing here touches Django: the stand-in provincial platform uses it as it is.
"""

import os
import re
import secrets
from functools import lru_cache

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from gmssl import sm2

_CURVE = sm2.default_ecc_table
_N = int(_CURVE["n"], 16)
_PRIVATE = re.compile(r"^[0-9a-f]{64}$")
_PUBLIC = re.compile(r"^(04)?[0-9a-f]{128}$")
_SIGNATURE = re.compile(r"^[0-9a-f]{128}$")
SM4_MODES = ("cbc", "ecb")
BLOCK = 16


class BadKey(ValueError):
    """A key that is not what the agreement says (wrong length, not hex, out of range)."""


# --- SM3 -----------------------------------------------------------------------------------------------


def sm3_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize().hex()


def hmac_sm3_hex(key: bytes, message: bytes) -> str:
    mac = crypto_hmac.HMAC(key, hashes.SM3())
    mac.update(message)
    return mac.finalize().hex()


# --- SM2 -----------------------------------------------------------------------------------------------


def sm2_private_key(text: str) -> str:
    """The private key as 64 lower-case hex digits (a number in 1 … n-2), or BadKey."""
    key = (text or "").strip().lower()
    if not _PRIVATE.match(key) or not 0 < int(key, 16) < _N - 1:
        raise BadKey("SM2 私钥应为64位十六进制数字")
    return key


def sm2_public_key(text: str) -> str:
    """The public key as 128 hex digits x‖y (an uncompressed `04` prefix is accepted and dropped)."""
    key = (text or "").strip().lower()
    if not _PUBLIC.match(key):
        raise BadKey("SM2 公钥应为128位十六进制数字（x‖y，可带前缀04）")
    return key[-128:]


@lru_cache(maxsize=16)
def sm2_public_of(private_key: str) -> str:
    """The public key d·G of a private key."""
    d = int(sm2_private_key(private_key), 16)
    return sm2.CryptSM2(private_key="", public_key="")._kg(d, _CURVE["g"])


def sm2_keypair() -> tuple[str, str]:
    """A fresh (private, public) pair from the operating system's randomness."""
    private = f"{secrets.randbelow(_N - 2) + 1:064x}"
    return private, sm2_public_of(private)


def _crypt(private_key: str, public_key: str) -> sm2.CryptSM2:
    crypt = sm2.CryptSM2(private_key=private_key, public_key="")
    # Set after construction: gmssl's constructor strips a "04" prefix with lstrip("04"), which also eats
    # the leading 0s and 4s of a key whose x coordinate starts with them.
    crypt.public_key = public_key
    return crypt


def sm2_sign(private_key: str, message: bytes) -> str:
    """SM2 signature over SM3(Z‖message), as 128 hex digits r‖s (not DER)."""
    private = sm2_private_key(private_key)
    crypt = _crypt(private, sm2_public_of(private))
    while True:
        # k from `secrets`: gmssl's own default draws it from `random`, which is predictable.
        signature = crypt.sign_with_sm3(message, f"{secrets.randbelow(_N - 1) + 1:064x}")
        if signature:  # None for the rare k that gives r = 0 or s = 0: draw again
            return signature


def sm2_verify(public_key: str, message: bytes, signature: str) -> bool:
    signature = (signature or "").strip().lower()
    if not _SIGNATURE.match(signature):
        return False
    try:
        return bool(_crypt("", sm2_public_key(public_key)).verify_with_sm3(signature, message))
    except (ValueError, TypeError, ZeroDivisionError):  # a point not on the curve, an r or s out of range
        return False


# --- SM4 -----------------------------------------------------------------------------------------------


def sm4_key(text: str) -> bytes:
    """A 128-bit SM4 key given as 32 hex digits."""
    key = (text or "").strip().lower()
    if not re.fullmatch(r"[0-9a-f]{32}", key):
        raise BadKey("SM4 密钥应为32位十六进制数字（128位）")
    return bytes.fromhex(key)


def sm4_encrypt(key: bytes, data: bytes, mode: str = "cbc") -> bytes:
    """PKCS#7-padded SM4; CBC output is a fresh random IV followed by the ciphertext."""
    padder = padding.PKCS7(128).padder()
    padded = padder.update(data) + padder.finalize()
    if mode == "cbc":
        iv = os.urandom(BLOCK)
        encryptor = Cipher(algorithms.SM4(key), modes.CBC(iv)).encryptor()
        return iv + encryptor.update(padded) + encryptor.finalize()
    if mode == "ecb":
        encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
        return encryptor.update(padded) + encryptor.finalize()
    raise ValueError(f"SM4 mode {mode!r}: cbc or ecb")


def sm4_decrypt(key: bytes, data: bytes, mode: str = "cbc") -> bytes:
    """The plain text, or ValueError when the length or the padding is wrong (wrong key, damaged text)."""
    if mode == "cbc":
        if len(data) < 2 * BLOCK or len(data) % BLOCK:
            raise ValueError("SM4-CBC 密文长度不正确")
        decryptor = Cipher(algorithms.SM4(key), modes.CBC(data[:BLOCK])).decryptor()
        padded = decryptor.update(data[BLOCK:]) + decryptor.finalize()
    elif mode == "ecb":
        if not data or len(data) % BLOCK:
            raise ValueError("SM4-ECB 密文长度不正确")
        decryptor = Cipher(algorithms.SM4(key), modes.ECB()).decryptor()
        padded = decryptor.update(data) + decryptor.finalize()
    else:
        raise ValueError(f"SM4 mode {mode!r}: cbc or ecb")
    unpadder = padding.PKCS7(128).unpadder()
    return unpadder.update(padded) + unpadder.finalize()
