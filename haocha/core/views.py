"""The health check, and the answers for a request that failed: never Django's bare HTML 500, JSON under
/api/, and 503 with Retry-After while the database cannot be reached."""

import sys

from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string

RETRY_AFTER_SECONDS = 30
UNAVAILABLE = (OperationalError, InterfaceError)  # cannot connect, connection lost, database locked …


def healthz(request):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return _unavailable(request)
    return JsonResponse({"status": "ok", "database": connection.vendor})


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _unavailable(request):
    message = "数据库暂时无法访问，请稍后再试"
    if _wants_json(request):
        response = JsonResponse({"code": "database_unavailable", "message": message}, status=503)
    else:
        html = render_to_string(
            "haocha/unavailable.html", {"status": 503, "message": message, "title": "暂时无法访问"}
        )
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request):
    """handler500: the database down is a 503 that says so; anything else a 500 in the caller's format.
    Rendered without the base template, whose context processors read the database."""
    if isinstance(sys.exc_info()[1], UNAVAILABLE):
        return _unavailable(request)
    message = "服务器内部错误，已记录，请稍后再试"
    if _wants_json(request):
        return JsonResponse({"code": "server_error", "message": message}, status=500)
    html = render_to_string("haocha/unavailable.html", {"status": 500, "message": message, "title": "出错了"})
    return HttpResponse(html, status=500)


HEADINGS = {
    400: "请求有误",
    403: "无权访问",
    404: "未找到",
    405: "不支持该操作",
    409: "操作冲突",
    410: "已失效",
    413: "内容过大",
    422: "内容有误",
    429: "操作过于频繁",
}


def error_page(request, status: int, message: str, code: str = ""):
    """A 4xx answer in the caller's format: JSON under /api/, the error alone for htmx (it is swapped in where
    the fragment would have gone), else the site's error page."""
    if _wants_json(request):
        return JsonResponse({"code": code or "error", "message": message}, status=status)
    context = {"status": status, "message": message, "code": code, "heading": HEADINGS.get(status, "出错了")}
    template = "haocha/_error.html" if request.headers.get("HX-Request") else "haocha/error.html"
    return render(request, template, context, status=status)


def bad_request(request, exception=None):
    return error_page(request, 400, "请求格式不正确，无法处理", "bad_request")


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else "您没有访问该页面的权限"
    return error_page(request, 403, message, "forbidden")


def page_not_found(request, exception=None):
    return error_page(request, 404, f"页面 {request.path} 不存在", "not_found")


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: a form sent from a page that has expired (or from another site) is refused in words."""
    message = "页面已过期或来源不符（CSRF 校验失败），操作没有执行：请刷新页面后重新提交"
    if not request.COOKIES.get("csrftoken"):
        message += "；如果浏览器禁用了 Cookie，请先允许本站使用 Cookie"
    return error_page(request, 403, message, "csrf_failed")
