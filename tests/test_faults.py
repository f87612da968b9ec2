"""Faults answered as faults: the database down is a 503 with Retry-After (JSON under /api/ and /healthz),
never Django's HTML 500; an unexpected error under /api/ is JSON too."""

import json
import urllib.error
import urllib.request
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client

from tests.servers import ProductionServer


def _down(*args, **kwargs):
    raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")


@pytest.fixture
def quiet_client():
    return Client(raise_request_exception=False)


def test_healthz_says_the_database_is_unavailable(db, quiet_client):
    from django.db import connection

    with mock.patch.object(connection, "cursor", _down):
        r = quiet_client.get("/healthz")
    assert r.status_code == 503 and r["Retry-After"] == "30"
    assert r.json() == {"code": "database_unavailable", "message": "数据库暂时无法访问，请稍后再试"}


def test_an_api_call_while_the_database_is_down_gets_a_json_503(cast, quiet_client):
    with mock.patch("haocha.api.actor_for_api_key", _down):
        r = quiet_client.get("/api/staff", headers={"X-Api-Key": cast.key_city})
    assert r.status_code == 503 and r["Retry-After"] == "30"
    assert r["Content-Type"].startswith("application/json") and r.json()["code"] == "database_unavailable"


def test_a_page_while_the_database_is_down_says_so_in_chinese(cast, quiet_client):
    quiet_client.force_login(cast.supervisor)
    with mock.patch("django.contrib.sessions.backends.db.SessionStore.load", _down):
        r = quiet_client.get("/workorders/")
    assert r.status_code == 503 and r["Retry-After"] == "30"
    assert "数据库暂时无法访问" in r.content.decode()


def test_an_unexpected_error_under_the_api_is_json(cast, quiet_client):
    with mock.patch("haocha.api.actor_for_api_key", side_effect=RuntimeError("bug")):
        r = quiet_client.get("/api/staff", headers={"X-Api-Key": cast.key_city})
    assert r.status_code == 500 and r.json()["code"] == "server_error"


@pytest.mark.slow
def test_the_real_server_answers_503_json_while_postgresql_cannot_be_reached():
    # Nothing listens on port 1: every connection attempt is refused, as when the database is down.
    server = ProductionServer(
        "postgres://postgres@127.0.0.1:1/haocha", log_name="faults-server.log", ready=(503,)
    )
    server.start()
    try:
        for path, kind in (("/healthz", "json"), ("/api/regions", "json"), ("/", "html")):
            with pytest.raises(urllib.error.HTTPError) as answer:
                urllib.request.urlopen(server.url + path, timeout=10)
            assert answer.value.code == 503, path
            assert answer.value.headers["Retry-After"] == "30"
            body = answer.value.read().decode()
            if kind == "json":
                assert json.loads(body)["code"] == "database_unavailable", path
            else:
                assert "数据库暂时无法访问" in body
    finally:
        server.stop()
