"""Signed requests between levels: app id, timestamp, nonce and a signature of all of them and the body.

Headers (haocha to haocha): `X-Hc-App`, `X-Hc-Timestamp` (unix seconds), `X-Hc-Nonce` (16–64 characters,
once per app within the allowed skew), `X-Hc-Signature` over the string to sign

    METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n hex digest of the raw body

The schemes an agreement may ask for (SCHEMES; docs/interface.md has worked examples): `hmac-sha256` (the
shared secret, SHA-256 body digest; what haocha parents verify), `hmac-sm3` (the same with SM3) and
`sm2-sm3` (the sender's SM2 private key signs, the receiver holds its public key; SM3 body digest).
"""

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from haocha.integrations.docking import gm

MAX_SKEW_SECONDS = 300
HEADERS = ("X-Hc-App", "X-Hc-Timestamp", "X-Hc-Nonce", "X-Hc-Signature")


def sha256_hex(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def string_to_sign(
    method: str, path: str, timestamp: str, nonce: str, body: bytes, digest: Callable = sha256_hex
) -> bytes:
    return "\n".join((method.upper(), path, timestamp, nonce, digest(body))).encode()


@dataclass(frozen=True)
class Scheme:
    """One way of signing: the body digest in the string to sign, and how the string is signed and checked.
    `key` is the shared secret for HMAC; for SM2 the private key to sign and the public key to check."""

    name: str  # as configured (HAOCHA_PARENT_SIGNING)
    label: str  # as a request names it (the provincial C-Sign-Type header)
    digest: Callable[[bytes], str]
    _sign: Callable[[str, bytes], str]
    _check: Callable[[str, bytes, str], bool]
    asymmetric: bool = False

    def message(self, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
        return string_to_sign(method, path, timestamp, nonce, body, self.digest)

    def sign(self, key: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
        return self._sign(key, self.message(method, path, timestamp, nonce, body))

    def verify(
        self, key: str, given: str, method: str, path: str, timestamp: str, nonce: str, body: bytes
    ) -> bool:
        return self._check(key, self.message(method, path, timestamp, nonce, body), (given or "").strip())


def _hmac_check(sign: Callable[[str, bytes], str]) -> Callable[[str, bytes, str], bool]:
    def check(key: str, message: bytes, given: str) -> bool:
        if not given.isascii():  # compare_digest refuses non-ASCII text (TypeError): no such signature
            return False
        return hmac.compare_digest(sign(key, message), given.lower())

    return check


def _hmac_sha256(key: str, message: bytes) -> str:
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def _hmac_sm3(key: str, message: bytes) -> str:
    return gm.hmac_sm3_hex(key.encode(), message)


HMAC_SHA256 = Scheme("hmac-sha256", "HMAC-SHA256", sha256_hex, _hmac_sha256, _hmac_check(_hmac_sha256))
HMAC_SM3 = Scheme("hmac-sm3", "HMAC-SM3", gm.sm3_hex, _hmac_sm3, _hmac_check(_hmac_sm3))
SM2_SM3 = Scheme("sm2-sm3", "SM2-SM3", gm.sm3_hex, gm.sm2_sign, gm.sm2_verify, asymmetric=True)
SCHEMES = {s.name: s for s in (HMAC_SHA256, HMAC_SM3, SM2_SM3)}


def scheme(name: str) -> Scheme:
    try:
        return SCHEMES[(name or "").strip().lower()]
    except KeyError:
        raise ValueError(f"未知的签名方式“{name}”：可选 {'、'.join(SCHEMES)}") from None


def new_timestamp_and_nonce() -> tuple[str, str]:
    return str(int(time.time())), secrets.token_hex(16)


# --- haocha to haocha (HMAC-SHA256 under the child's shared secret) --------------------------------------


def signature(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return HMAC_SHA256.sign(secret, method, path, timestamp, nonce, body)


def signed_headers(
    app_id: str, secret: str, method: str, path: str, body: bytes, *, using: Scheme = HMAC_SHA256
) -> dict:
    timestamp, nonce = new_timestamp_and_nonce()
    return {
        "X-Hc-App": app_id,
        "X-Hc-Timestamp": timestamp,
        "X-Hc-Nonce": nonce,
        "X-Hc-Signature": using.sign(secret, method, path, timestamp, nonce, body),
    }


def fresh(timestamp: str, now: float | None = None) -> bool:
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return False
    return abs((now or time.time()) - int(timestamp)) <= MAX_SKEW_SECONDS


def matches(secret: str, given: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bool:
    return HMAC_SHA256.verify(secret, given, method, path, timestamp, nonce, body)


def verified_request(request, secret_of) -> tuple[object, str]:
    """Check a signed request (headers present, sender known, fresh, nonce well-formed, signature right).
    `secret_of(app_id)` gives (secret, sender) — or (secret, sender, scheme) when the agreement names another
    HMAC scheme than HMAC-SHA256 — or None for an unknown sender. Returns (sender, nonce): the caller records
    the nonce where it keeps its senders' nonces, which refuses a replay."""
    from haocha.core.errors import DomainError, Forbidden, InvalidInput

    app, timestamp, nonce, given = (request.headers.get(h, "") for h in HEADERS)
    if not (app and timestamp and nonce and given):
        raise DomainError(
            "缺少签名：请求头须有 X-Hc-App、X-Hc-Timestamp、X-Hc-Nonce 和 X-Hc-Signature",
            code="signature_missing",
            status=401,
        )
    known = secret_of(app)
    if known is None:
        raise Forbidden(f"未登记、已停用或不符的接入编号：{app[:40]}", code="unknown_system")
    secret, sender, *agreed = known
    using = agreed[0] if agreed else HMAC_SHA256
    if not fresh(timestamp):
        raise Forbidden("签名时间戳无效或已过期（允许误差5分钟）", code="signature_expired")
    if not 16 <= len(nonce) <= 64:
        raise InvalidInput("X-Hc-Nonce 应为16至64个字符", code="invalid_nonce")
    if not using.verify(secret, given, request.method, request.path, timestamp, nonce, request.body):
        raise Forbidden("签名不正确", code="signature_invalid")
    return sender, nonce


def record_nonce(create) -> None:
    """Store a request's nonce with `create()`; one seen before is a replay (409)."""
    from django.db import IntegrityError, transaction

    from haocha.core.errors import DomainError

    try:
        with transaction.atomic():
            create()
    except IntegrityError:
        raise DomainError("重复的请求（nonce 已使用），已拒绝", code="replayed", status=409) from None
