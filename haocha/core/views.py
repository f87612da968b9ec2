"""The health check, and the answers for a request that failed: never Django's bare HTML 500, JSON under
/api/, and 503 with Retry-After while the database cannot be reached."""

import sys

from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
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
