"""The short way in for `POST /api/ratings` with an API key: the bulk of all traffic (tablets, apps,
approval systems, the hotline).

It is the same operation as the Ninja route (evaluations/api.py): the same RatingIn schema, the same
conversion (`rating_input`), the same service (`rating_submit`), the same answer (`answer_body`) and the
same error body. What it leaves out is Django's middleware, URL resolving and Ninja's per-request
machinery, which together cost a rating about a quarter of its CPU time.

Only a call that is well formed takes this way: a JSON body matching the schema, an allowed Host, a key
of an active client. Anything else (an unknown key, a body that is not a JSON object or does not match
the schema, a NUL character, another content type, a disallowed host, a plain-HTTP call where HTTPS is
required) is handed unchanged to the API-key chain of the full application, so the refusals a caller can
get are the ones it gives. A domain error raised by the service (404 unknown case, 409 already rated,
422 ...) is answered here with the `{code, message}` body the API's exception handler writes. The one
deliberate difference: an unexpected server error is a JSON 500 here, Django's plain page there.
"""

import logging
from io import BytesIO

import orjson
from django.conf import settings
from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from pydantic import ValidationError

from haocha.accounts.access import actor_for_api_key, presented_api_key
from haocha.core.errors import DomainError
from haocha.evaluations.api import RatingIn, answer_body, rating_input
from haocha.evaluations.services import rating_submit

log = logging.getLogger("django.request")

PATH = "/api/ratings"
MAX_BODY = 64 * 1024  # a rating is well under 2 KB; anything larger goes the long way (and its limits)
_STATUS = {
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


def _security_headers(request) -> list[tuple[str, str]]:
    """What SecurityMiddleware adds to a response, for the settings in force."""
    headers = []
    if settings.SECURE_HSTS_SECONDS and request.is_secure():
        value = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            value += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            value += "; preload"
        headers.append(("Strict-Transport-Security", value))
    if settings.SECURE_CONTENT_TYPE_NOSNIFF:
        headers.append(("X-Content-Type-Options", "nosniff"))
    if settings.SECURE_REFERRER_POLICY:
        policy = settings.SECURE_REFERRER_POLICY
        headers.append(("Referrer-Policy", policy if isinstance(policy, str) else ",".join(policy)))
    if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
        headers.append(("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY))
    return headers


def takes(environ) -> bool:
    """Whether a call may try the short way (it may still be handed on)."""
    return (
        environ.get("PATH_INFO") == PATH
        and environ.get("REQUEST_METHOD") == "POST"
        and not environ.get("QUERY_STRING")
        and environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower() == "application/json"
    )


def _parse(environ) -> tuple[RatingIn, str, WSGIRequest] | None:
    """The validated body, the key and the request, or None to hand the call on. Touches no database."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 < length <= MAX_BODY:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = BytesIO(body)  # for the fallback, which reads it again
    if len(body) != length or b"\x00" in body or b"\\u0000" in body:
        return None
    request = WSGIRequest(environ)
    try:
        request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware checks it
    except DisallowedHost:
        return None
    if settings.SECURE_SSL_REDIRECT and not request.is_secure():
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    try:
        payload = RatingIn.model_validate(data)
    except ValidationError:
        return None
    key = presented_api_key(environ)
    return (payload, key, request) if key else None


def handle(environ, start_response, fallback):
    """Answer a rating submission, or hand the call (body intact) to `fallback`, the API-key chain."""
    parsed = _parse(environ)
    if parsed is None:
        return fallback(environ, start_response)
    payload, key, request = parsed
    signals.request_started.send(sender=__name__, environ=environ)  # connection upkeep, as Django does
    try:
        actor = actor_for_api_key(key)
        if actor is None:
            answer = None  # the API-key chain answers 401
        else:
            try:
                data = rating_input(
                    payload, environ.get("REMOTE_ADDR"), environ.get("HTTP_IDEMPOTENCY_KEY", "")
                )
                rating, created = rating_submit(actor=actor, data=data)
            except DomainError as exc:
                log.warning("%s: %s (%s)", _STATUS.get(exc.status, exc.status), PATH, exc.code)
                answer = (exc.status, orjson.dumps(exc.as_dict()), "application/json; charset=utf-8", [])
            else:
                extra = [] if created else [("Idempotent-Replayed", "true")]
                answer = (201, answer_body(rating, created), "application/json", extra)
    except Exception:
        log.exception("Internal Server Error: %s", PATH)
        body = orjson.dumps({"code": "server_error", "message": "服务器内部错误，请稍后重试"})
        answer = (500, body, "application/json; charset=utf-8", [])
    finally:
        signals.request_finished.send(sender=__name__)
    if answer is None:
        return fallback(environ, start_response)
    status, body, content_type, extra = answer
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        *_security_headers(request),
        *extra,
    ]
    start_response(_STATUS.get(status, f"{status} Error"), headers)
    return [body]
