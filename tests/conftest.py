import contextlib
import os

import pytest
from hypothesis import settings as hypothesis_settings

from haocha.accounts.access import clear_actor_cache
from haocha.evaluations.policy import clear_set_cache
from haocha.organisations.policies import clear_policy_cache
from haocha.workcalendar.statutory import statutory_holidays
from haocha.workorders.notifications import clear_recipient_cache
from tests.factories import build_cast

# `make mutation` runs the selected tests once per mutant: fewer generated examples there (a mutant that
# survives 25 examples is reported, and the full suite still runs the default 100).
hypothesis_settings.register_profile("mutation", max_examples=25, deadline=None)
if os.environ.get("HAOCHA_TEST_DATABASE"):
    hypothesis_settings.load_profile("mutation")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Argon2 is deliberately slow; tests that check it ask for it (see test_passwords_use_argon2)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_caches():
    clear_actor_cache()
    clear_set_cache()
    clear_policy_cache()
    clear_recipient_cache()
    statutory_holidays.cache_clear()  # computed again under each mutant (make mutation forks a warm process)
    yield
    clear_actor_cache()
    clear_set_cache()
    clear_recipient_cache()


@pytest.fixture
def cast(db):
    return build_cast()


class Api:
    """A JSON client for /api with a key or a logged-in session."""

    def __init__(self, client, key=None):
        self.client = client
        self.key = key

    def _headers(self, extra):
        headers = dict(extra or {})
        if self.key:
            headers["X-Api-Key"] = self.key
        return headers

    def get(self, path, headers=None, **params):
        return self.client.get("/api" + path, params, headers=self._headers(headers))

    def post(self, path, data=None, headers=None):
        return self.client.post(
            "/api" + path, data or {}, content_type="application/json", headers=self._headers(headers)
        )

    def put(self, path, data=None, headers=None):
        return self.client.put(
            "/api" + path, data or {}, content_type="application/json", headers=self._headers(headers)
        )


@pytest.fixture
def api_for(client):
    from django.test import Client

    def make(key=None, user=None):
        c = Client() if (key or user) else client
        if user is not None:
            c.force_login(user)
        return Api(c, key)

    return make


@contextlib.contextmanager
def connection_kept():
    """Calls through haocha.wsgi.application inside a test's transaction: the application must not close
    the test's connection at a request's start or end (Django's own test client disconnects the same
    handlers around each of its requests, and connects them again afterwards)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def wsgi_keep_connection():
    with connection_kept():
        yield


def url_of_test_database() -> str:
    """The test database as a DATABASE_URL, for server and worker processes of a test's own."""
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{os.path.abspath(s['NAME'])}"
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
