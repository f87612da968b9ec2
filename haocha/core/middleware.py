"""Turn a domain error escaping an HTML view into a Chinese error page with its 4xx status, never a 500 (for
an htmx request, the error alone, so the fragment it replaces shows what happened)."""

from django.http import HttpResponseBadRequest, JsonResponse

from haocha.core.errors import DomainError
from haocha.core.views import error_page


class DomainErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DomainError):
            response = error_page(request, exception.status, exception.message, exception.code)
            for name, value in exception.headers.items():  # e.g. Retry-After of a quota
                response[name] = value
            return response
        return None


class RejectNulMiddleware:
    """NUL characters cannot be stored (PostgreSQL refuses them, even in a query's parameters): refuse them up
    front with a 4xx wherever a request can carry them — path, query, cookies, form and JSON bodies, the
    fields and file names of a multipart form — JSON under /api/."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _carries_nul(request):
            message = "请求中含有不允许的空字符（NUL）"
            if request.path.startswith("/api/"):
                return JsonResponse({"code": "invalid_character", "message": message}, status=422)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def _carries_nul(request) -> bool:
    if "\x00" in request.path_info or "%00" in request.META.get("QUERY_STRING", ""):
        return True
    cookies = request.META.get("HTTP_COOKIE", "")
    if "\x00" in cookies or "%00" in cookies or any("\x00" in v for v in request.COOKIES.values()):
        return True  # the parsed values too: a quoted cookie's octal escape \000 becomes a NUL
    if request.method not in ("POST", "PUT", "PATCH"):
        return False
    if request.content_type.startswith("multipart/"):
        try:
            fields, files = request.POST, request.FILES
        except Exception:  # a malformed body: the view's own parsing answers it
            return False
        texts = [text for name, values in fields.lists() for text in (name, *values)]
        return any("\x00" in text for text in texts) or any("\x00" in (f.name or "") for f in files.values())
    if not _small(request):
        return False
    body = request.body
    form = request.content_type == "application/x-www-form-urlencoded"
    return b"\x00" in body or b"\\u0000" in body or (form and b"%00" in body)


def _small(request) -> bool:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) <= 10 * 1024 * 1024
    except ValueError:
        return False
