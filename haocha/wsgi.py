"""WSGI entry point used by the production server (granian) and `haocha serve`: Django's own handler,
one middleware chain (settings.MIDDLEWARE) for every call."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haocha.settings")

application = get_wsgi_application()
