"""WSGI entry point used by the production server (granian) and `haocha serve`.

Calls to the API that carry an API key (approval systems, tablets, apps: the bulk of the traffic) go
through a shorter middleware chain: sessions, CSRF, messages, locale negotiation and the HTML error page
serve browsers. Everything else, including the API called with a staff session, goes through the full
chain in settings.MIDDLEWARE. A rating submitted with an API key takes a shorter way still
(evaluations/fastlane.py).
"""

import os

from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haocha.settings")

API_KEY_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "haocha.core.middleware.RejectNulMiddleware",
]


class _ApiKeyHandler(WSGIHandler):
    def load_middleware(self, is_async=False):
        from django.conf import settings

        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = [m for m in full if m in API_KEY_MIDDLEWARE]
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


def _has_api_key(environ) -> bool:
    return "HTTP_X_API_KEY" in environ or environ.get("HTTP_AUTHORIZATION", "").startswith("Bearer ")


class Application:
    def __init__(self):
        self.full = get_wsgi_application()  # sets Django up
        self.api_key = _ApiKeyHandler()
        from haocha.evaluations import fastlane

        self.fastlane = fastlane

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/api/") and _has_api_key(environ):
            if self.fastlane.takes(environ):
                return self.fastlane.handle(environ, start_response, self.api_key)
            return self.api_key(environ, start_response)
        return self.full(environ, start_response)


application = Application()
