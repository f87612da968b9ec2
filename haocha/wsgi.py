"""WSGI entry point used by the production server (granian) and `haocha serve`.

Calls to the API that carry an API key (approval systems, tablets, apps: the bulk of the traffic) go
through a shorter middleware chain, settings.API_KEY_MIDDLEWARE. Everything else, including the API called
with a staff session, goes through the full chain in settings.MIDDLEWARE. A rating submitted with an API
key takes a shorter way still (evaluations/fastlane.py).
"""

import os

from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haocha.settings")


class _ApiKeyHandler(WSGIHandler):
    def load_middleware(self, is_async=False):
        from django.conf import settings

        # Django builds the chain from settings.MIDDLEWARE; swapped for the build only, at start-up.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = settings.API_KEY_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


class Application:
    def __init__(self):
        self.full = get_wsgi_application()  # sets Django up
        self.api_key = _ApiKeyHandler()
        from haocha.accounts.access import presented_api_key
        from haocha.evaluations import fastlane

        self.fastlane = fastlane
        self.presented_api_key = presented_api_key

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/api/") and self.presented_api_key(environ):
            if self.fastlane.takes(environ):
                return self.fastlane.handle(environ, start_response, self.api_key)
            return self.api_key(environ, start_response)
        return self.full(environ, start_response)


application = Application()
