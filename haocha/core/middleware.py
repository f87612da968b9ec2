"""Turn a domain error escaping an HTML view into a Chinese error page with its 4xx status, never a 500."""

from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import render

from haocha.core.errors import DomainError


class DomainErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DomainError):
            context = {"message": exception.message, "code": exception.code, "status": exception.status}
            return render(request, "haocha/error.html", context, status=exception.status)
        return None


class RejectNulMiddleware:
    """NUL characters cannot be stored (PostgreSQL refuses them): refuse such input up front with a 4xx."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        query = request.META.get("QUERY_STRING", "")
        body = request.body if request.method in ("POST", "PUT", "PATCH") and _small(request) else b""
        form = request.content_type == "application/x-www-form-urlencoded"
        if "%00" in query or b"\x00" in body or b"\\u0000" in body or (form and b"%00" in body):
            message = "请求中含有不允许的空字符（NUL）"
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "invalid_character", "message": message}, status=422)
            return HttpResponseBadRequest(message)
        return self.get_response(request)


def _small(request) -> bool:
    try:
        return int(
            request.META.get("CONTENT_LENGTH") or 0
        ) <= 10 * 1024 * 1024 and not request.content_type.startswith("multipart/")
    except ValueError:
        return False
