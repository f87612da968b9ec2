"""Identity numbers and phones: validated, matched by keyed hash, masked, encrypted."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from haocha.core import identity
from haocha.organisations.codes import credit_code_check_char, is_valid_credit_code
from tests.factories import credit_code, resident_id


def test_masks():
    assert identity.mask_id_number("430102198503120018") == "430***********0018"
    assert identity.mask_phone("13812345678") == "138****5678"
    assert identity.mask_phone("+86 138-1234-5678") == "138****5678"
    assert identity.mask_name("王小明") == "王**"
    assert identity.mask_name("") == ""


def test_resident_id_check_digit():
    good = resident_id(7)
    assert identity.is_valid_resident_id(good)
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    assert not identity.is_valid_resident_id(wrong)
    assert identity.is_valid_resident_id("11010519491231002X")


def test_credit_code():
    assert is_valid_credit_code(credit_code(1))
    assert is_valid_credit_code("91350100M000100Y43")
    assert not is_valid_credit_code("91350100M000100Y44")


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=17, max_size=17))
def test_any_credit_code_with_its_check_char_is_valid(first17):
    assert is_valid_credit_code(first17 + credit_code_check_char(first17))


def test_identity_is_hashed_masked_and_encrypted_never_in_clear():
    ident = identity.Identity(name="王小明", id_number="430102198503120018", phone="13812345678")
    assert ident.id_hash == identity.keyed_hash("id", "430102198503120018")
    assert "430102198503120018" not in ident.id_enc and "13812345678" not in ident.phone_enc
    assert identity.decrypt(ident.id_enc) == "430102198503120018"
    assert identity.decrypt(ident.phone_enc) == "13812345678"
    assert identity.Identity(id_number="430102198503120018").id_hash == ident.id_hash


@pytest.mark.parametrize("key", ["short-key", "k" * 64, "a much longer identity key " * 5])
def test_the_keyed_hash_is_hmac_sha256_under_any_key(settings, key):
    import hashlib
    import hmac

    from haocha.core.identity import keyed_hash

    settings.IDENTITY_HASH_KEY = key
    for kind, value in (("id", "430102198503120016"), ("phone", "13912345678"), ("id", "X"), ("phone", "")):
        expected = (
            hmac.new(key.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest() if value else ""
        )
        assert keyed_hash(kind, value) == expected
