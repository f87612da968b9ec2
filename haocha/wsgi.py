"""WSGI entry point used by `haocha serve` (waitress or granian): Django's own handler,
one middleware chain (settings.MIDDLEWARE) for every call."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haocha.settings")

application = get_wsgi_application()
