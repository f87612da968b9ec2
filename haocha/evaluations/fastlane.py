"""The short way in for `POST /api/ratings` with an API key: the bulk of all traffic (tablets, apps,
approval systems, the hotline).

It is the same operation as the Ninja route (evaluations/api.py): the same RatingIn schema, the same
conversion (`rating_input`), the same service (`rating_submit`), the same answer (`answer_body`) and the
same error body. What it leaves out is Django's request object, URL resolving, middleware and Ninja's
per-request machinery, which together cost a rating about a quarter of its CPU time.

Only a call that is well formed takes this way. A call with an unknown key, a body that is not a JSON
object or does not match the schema, a NUL character, or anything else unusual is handed to the full
Django application unchanged, so every refusal a caller can get looks exactly as it does there. A domain
error raised by the service (404 unknown case, 409 already rated, 422 ...) is answered here with the same
`{code, message}` body the API's exception handler writes.
"""

import logging
from functools import cache
from io import BytesIO

import orjson
from django.conf import settings
from django.core import signals
from pydantic import ValidationError

from haocha.accounts.access import actor_for_api_key
from haocha.core.errors import DomainError
from haocha.evaluations.api import RatingIn, answer_body, rating_input
from haocha.evaluations.services import rating_submit

log = logging.getLogger("django.request")

PATH = "/api/ratings"
MAX_BODY = 64 * 1024  # a rating is well under 2 KB; anything larger goes the long way (and its limits)
_REASONS = {
    201: "201 Created",
    400: "400 Bad Request",
    401: "401 Unauthorized",
    403: "403 Forbidden",
    404: "404 Not Found",
    409: "409 Conflict",
    422: "422 Unprocessable Entity",
    429: "429 Too Many Requests",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}


@cache
def _security_headers() -> tuple[tuple[str, str], ...]:
    """What SecurityMiddleware adds to every response, for the settings in force."""
    headers = []
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        policy = settings.SECURE_REFERRER_POLICY
        headers.append(("Referrer-Policy", policy if isinstance(policy, str) else ",".join(policy)))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    return tuple(headers)


def takes(environ) -> bool:
    """Whether a call may try the short way (it may still be handed on)."""
    return (
        environ.get("PATH_INFO") == PATH
        and environ.get("REQUEST_METHOD") == "POST"
        and not environ.get("QUERY_STRING")
        and not (settings.SECURE_SSL_REDIRECT and environ.get("wsgi.url_scheme") != "https")
    )


def _api_key(environ) -> str:
    key = environ.get("HTTP_X_API_KEY")
    if key:
        return key
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if auth.startswith("Bearer "):
        return auth[7:].strip()
    return ""


def handle(environ, start_response, fallback):
    """Answer a rating submission, or hand the call (body intact) to `fallback`, the full application."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return fallback(environ, start_response)
    if not 0 < length <= MAX_BODY:
        return fallback(environ, start_response)
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = BytesIO(body)  # for the fallback, which reads it again
    if len(body) != length or b"\x00" in body or b"\\u0000" in body:
        return fallback(environ, start_response)
    signals.request_started.send(sender=__name__, environ=environ)  # connection upkeep, as Django does
    try:
        key = _api_key(environ)
        actor = actor_for_api_key(key) if key else None
        if actor is None:
            return fallback(environ, start_response)
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return fallback(environ, start_response)
        if not isinstance(data, dict):
            return fallback(environ, start_response)
        try:
            payload = RatingIn.model_validate(data)
        except ValidationError:
            return fallback(environ, start_response)
        try:
            data = rating_input(payload, environ.get("REMOTE_ADDR"), environ.get("HTTP_IDEMPOTENCY_KEY", ""))
            rating, created = rating_submit(actor=actor, data=data)
        except DomainError as exc:
            return _respond(start_response, exc.status, orjson.dumps(exc.as_dict()))
        extra = [] if created else [("Idempotent-Replayed", "true")]
        return _respond(start_response, 201, answer_body(rating, created), extra)
    except Exception:
        log.exception("Internal Server Error: %s", PATH)
        body = orjson.dumps({"code": "server_error", "message": "服务器内部错误，请稍后重试"})
        return _respond(start_response, 500, body)
    finally:
        signals.request_finished.send(sender=__name__)


def _respond(start_response, status: int, body: bytes, extra: list | None = None):
    headers = [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        *_security_headers(),
        *(extra or []),
    ]
    start_response(_REASONS.get(status, f"{status} Error"), headers)
    return [body]
