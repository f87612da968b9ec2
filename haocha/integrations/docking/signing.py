"""Signed requests between levels: app id, timestamp, nonce and an HMAC of all of them and the body.

Headers: `X-Hc-App`, `X-Hc-Timestamp` (unix seconds), `X-Hc-Nonce` (16–64 characters, once per app within
the allowed skew), `X-Hc-Signature` = hex HMAC-SHA256 under the shared secret of

    METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n hex SHA-256 of the raw body
"""

import hashlib
import hmac
import secrets
import time

MAX_SKEW_SECONDS = 300
HEADERS = ("X-Hc-App", "X-Hc-Timestamp", "X-Hc-Nonce", "X-Hc-Signature")


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join((method.upper(), path, timestamp, nonce, digest)).encode()


def signature(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return hmac.new(
        secret.encode(), string_to_sign(method, path, timestamp, nonce, body), hashlib.sha256
    ).hexdigest()


def signed_headers(app_id: str, secret: str, method: str, path: str, body: bytes) -> dict:
    timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
    return {
        "X-Hc-App": app_id,
        "X-Hc-Timestamp": timestamp,
        "X-Hc-Nonce": nonce,
        "X-Hc-Signature": signature(secret, method, path, timestamp, nonce, body),
    }


def fresh(timestamp: str, now: float | None = None) -> bool:
    if not timestamp.isdigit():
        return False
    return abs((now or time.time()) - int(timestamp)) <= MAX_SKEW_SECONDS


def matches(secret: str, given: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bool:
    expected = signature(secret, method, path, timestamp, nonce, body)
    return hmac.compare_digest(expected, (given or "").strip().lower())
