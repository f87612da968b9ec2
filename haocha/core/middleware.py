"""Turn a domain error escaping an HTML view into a Chinese error page with its 4xx status, never a 500."""

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
