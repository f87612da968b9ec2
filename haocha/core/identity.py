"""Evaluator and applicant identity: keyed hashes to match, masks to show, encryption to reveal under audit."""

import hashlib
import re
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

_ID_RE = re.compile(r"^\d{17}[\dX]$")
_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def normalise_id_number(value: str) -> str:
    return (value or "").strip().upper()


def normalise_phone(value: str) -> str:
    value = value or ""
    if value.isascii() and value.isdigit():  # as most systems send it (an import reads two a rating)
        return value
    digits = re.sub(r"[\s\-]", "", value)
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits


def is_valid_resident_id(value: str) -> bool:
    """GB 11643 18-digit 居民身份证号码 with its ISO 7064 check digit."""
    value = normalise_id_number(value)
    if not _ID_RE.match(value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def resident_id_check_digit(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_valid_phone(value: str) -> bool:
    return bool(_PHONE_RE.match(normalise_phone(value)))


def keyed_hash(kind: str, value: str) -> str:
    """HMAC-SHA256 of a normalised identifier, so equal values match without storing them in clear."""
    if not value:
        return ""
    state = _HMAC_STATES.get(kind) or _hmac_state(kind)
    h = state[0].copy()
    h.update(value.encode())
    o = state[1].copy()
    o.update(h.digest())
    return o.hexdigest()


# kind -> the HMAC's inner and outer hashes with the key (and the "kind:" prefix) absorbed: a value then
# costs two sha256 copies instead of hmac.new's key set-up (a bulk import hashes two identifiers a rating).
_HMAC_STATES: dict[str, tuple] = {}


def _hmac_state(kind: str) -> tuple:
    raw = settings.IDENTITY_HASH_KEY.encode()
    if len(raw) > 64:
        raw = hashlib.sha256(raw).digest()
    raw = raw.ljust(64, b"\0")  # as HMAC (RFC 2104) pads the key: hmac.new with it gives the same digests
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in raw))
    inner.update(f"{kind}:".encode())
    state = _HMAC_STATES[kind] = (inner, hashlib.sha256(bytes(b ^ 0x5C for b in raw)))
    return state


@receiver(setting_changed)
def _key_changed(*, setting, **_ignored) -> None:
    if setting == "IDENTITY_HASH_KEY":
        _HMAC_STATES.clear()


def mask_id_number(value: str) -> str:
    """`430***********1234`: first three and last four characters of a certificate number."""
    value = normalise_id_number(value)
    if not value:
        return ""
    if len(value) <= 7:
        return value[:1] + "*" * (len(value) - 1)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phone(value: str) -> str:
    """`138****5678`."""
    value = normalise_phone(value)
    if not value:
        return ""
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """`张*` / `欧阳**`: keep the surname character only."""
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) == 1:
        return "*"
    return value[0] + "*" * (len(value) - 1)


@lru_cache(maxsize=1)
def _fernet() -> Fernet:
    return Fernet(settings.IDENTITY_ENCRYPTION_KEY.encode())


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return ""


class Identity:
    """The stored form of a person's identifiers: hash, mask and ciphertext for each."""

    __slots__ = ("id_enc", "id_hash", "id_masked", "name", "phone_enc", "phone_hash", "phone_masked")

    def __init__(self, *, name: str = "", id_number: str = "", phone: str = ""):
        id_number = normalise_id_number(id_number)
        phone = normalise_phone(phone)
        self.name = (name or "").strip()
        self.id_hash = keyed_hash("id", id_number)
        self.id_masked = mask_id_number(id_number)
        self.id_enc = encrypt(id_number)
        self.phone_hash = keyed_hash("phone", phone)
        self.phone_masked = mask_phone(phone)
        self.phone_enc = encrypt(phone)
