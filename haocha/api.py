"""The JSON API: one NinjaAPI, API-key or session callers, errors with a stable code and a Chinese message."""

import orjson
from django.conf import settings as django_settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import BaseRenderer
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from haocha.accounts.access import Actor, actor_for_api_key, actor_for_user, presented_api_key
from haocha.core.errors import DomainError
from haocha.core.openapi import add_error_answers
from haocha.core.views import RETRY_AFTER_SECONDS


class OrjsonRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request, data, *, response_status):
        return orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS, default=str)


class ApiKeyAuth(APIKeyHeader):
    """`X-Api-Key: hc_...` — one key per calling system."""

    param_name = "X-Api-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        return actor_for_api_key(key) if key else None


class BearerAuth(HttpBearer):
    """`Authorization: Bearer hc_...` — the same keys, for callers that prefer the standard header."""

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        return actor_for_api_key(token) if token else None


class StaffSessionAuth(SessionAuth):
    """A signed-in staff member (CSRF-checked)."""

    def __call__(self, request: HttpRequest):
        # A call that presents an API key is a system's: its key decides (401 when wrong). Without this, a
        # wrong key fell through to the session check and got "403 CSRF check Failed".
        if presented_api_key(request.META):
            return None
        if django_settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None  # no credentials at all: 401, not the CSRF check of a session that is not there
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        user = super().authenticate(request, key)
        if user is None or not user.is_active:
            return None
        return actor_for_user(user)


AUTH = [ApiKeyAuth(), BearerAuth(), StaffSessionAuth()]


class HaochaAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document also lists the error answers ({code, message}) of each operation,
    so that a calling system sees them in /api/docs, not only the successful answer (core/openapi.py)."""

    def get_openapi_schema(self, *args, **kwargs):
        return add_error_answers(super().get_openapi_schema(*args, **kwargs))


api = HaochaAPI(
    title="haocha 政务服务好差评平台 API",
    version="1",
    description=(
        "办件登记、评价提交（各渠道统一入口）、追评、回复与基础数据。"
        "调用方使用接入系统的 API 密钥（请求头 `X-Api-Key` 或 `Authorization: Bearer`），"
        "或工作人员登录会话。错误返回 `{code, message}`：`code` 为稳定的机器码，`message` 为中文说明。"
    ),
    renderer=OrjsonRenderer(),
    auth=AUTH,
    urls_namespace="api",
)


def error_response(request, status: int, code: str, message: str, details=None):
    body = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return api.create_response(request, body, status=status)


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    response = error_response(request, exc.status, exc.code, exc.message, exc.details)
    for name, value in exc.headers.items():
        response[name] = value
    return response


@api.exception_handler(NinjaValidationError)
def on_validation_error(request, exc: NinjaValidationError):
    details = []
    for err in exc.errors:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "payload"))
        details.append({"field": loc, "error": err.get("type", ""), "detail": err.get("msg", "")})
    fields = "、".join(d["field"] for d in details if d["field"]) or "请求体"
    return error_response(request, 422, "invalid_input", f"请求数据不符合要求：{fields}", details)


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def on_database_unavailable(request, exc):
    response = error_response(request, 503, "database_unavailable", "数据库暂时无法访问，请稍后再试")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return error_response(request, 401, "unauthenticated", "未认证：请提供有效的 API 密钥或先登录")


# Django Ninja's own refusals, in English, said in Chinese with a code a caller can act on.
NINJA_ERRORS = {
    "Cannot parse request body": (
        "invalid_body",
        "请求体无法解析：请发送有效的 JSON（Content-Type: application/json）",
    ),
    "CSRF check Failed": (
        "csrf_failed",
        "CSRF 校验失败：以登录会话调用接口时须带 X-CSRFToken 请求头（值为 csrftoken Cookie），系统对接请改用 API 密钥",
    ),
}
STATUS_ERRORS = {
    400: ("bad_request", "请求格式不正确"),
    401: ("unauthenticated", "未认证：请提供有效的 API 密钥或先登录"),
    403: ("forbidden", "无权执行该操作"),
    404: ("not_found", "请求的资源不存在"),
    405: ("method_not_allowed", "该接口不支持此请求方法"),
    413: ("payload_too_large", "请求体过大"),
    429: ("too_many_requests", "请求过于频繁，请稍后再试"),
}


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    text = str(exc)
    known = NINJA_ERRORS.get(text.split(" (")[0])  # in debug mode Ninja appends the parser's error
    code, message = known or STATUS_ERRORS.get(exc.status_code, ("http_error", text))
    return error_response(request, exc.status_code, code, message)


def register_routers() -> None:
    from haocha.analytics.api import router as stats_router
    from haocha.assessment.api import router as assessment_router
    from haocha.catalogue.api import router as cases_router
    from haocha.catalogue.reference_api import router as items_router
    from haocha.channels.api import router as channels_router
    from haocha.evaluations.api import router as ratings_router
    from haocha.integrations.docking.api import router as docking_router
    from haocha.integrations.hotline12345.api import router as hotline_router
    from haocha.integrations.sms.api import router as sms_router
    from haocha.organisations.api import router as reference_router

    api.add_router("/", reference_router)
    api.add_router("/", items_router)
    api.add_router("/cases", cases_router)
    api.add_router("/ratings", ratings_router)
    api.add_router("/sms", sms_router)
    api.add_router("/docking", docking_router)
    api.add_router("/hotline12345", hotline_router)
    api.add_router("/stats", stats_router)
    api.add_router("/channels", channels_router)
    api.add_router("/", assessment_router)


register_routers()
