"""The landing page, the health check and the OpenAPI document answer."""

import pytest

pytestmark = pytest.mark.django_db


def test_home_and_health(cast, client):
    r = client.get("/")
    assert r.status_code == 200
    page = r.content.decode()
    assert "长沙市政务服务“好差评”" in page and "芙蓉区" in page
    assert client.get("/healthz").json()["status"] == "ok"


def test_openapi_lists_every_operation(client):
    spec = client.get("/api/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/cases/{case_no}",
        "/api/cases/bulk",
        "/api/ratings",
        "/api/ratings/follow-up",
        "/api/ratings/{rating_id}/reply",
        "/api/regions",
        "/api/items",
        "/api/staff",
    ):
        assert path in paths, path
    assert "好差评" in spec["info"]["title"]
