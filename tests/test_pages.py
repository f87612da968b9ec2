"""The landing page, the health check and the OpenAPI document answer."""

import pytest
from django.test import override_settings

from haocha.channels.links import rating_link_token
from tests.factories import finished_case

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


def test_openapi_documents_the_error_answers(cast, client):
    """Every operation lists its error answers with the one error shape; real errors have that shape."""
    spec = client.get("/api/openapi.json").json()
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "message"]
    ref = {"$ref": "#/components/schemas/Error"}

    def statuses(path, method):
        responses = spec["paths"][path][method]["responses"]
        for status, answer in responses.items():
            if status >= "400":
                assert answer["content"]["application/json"]["schema"] == ref, (path, status)
        return set(responses)

    assert statuses("/api/ratings", "post") == {"201", "400", "401", "403", "404", "409", "422", "503"}
    assert statuses("/api/cases/{case_no}", "get") == {"200", "400", "401", "403", "404", "422"}
    assert {"401", "403"}.isdisjoint(statuses("/api/regions", "get"))  # public reference data
    link_rating = statuses("/api/channels/links/{token}/rating", "post")
    assert link_rating == {"201", "400", "403", "404", "409", "410", "422", "503"}
    assert "401" not in link_rating  # the signed link is the credential
    for path in (
        "/api/ratings",
        "/api/ratings/follow-up",
        "/api/channels/cases/{case_no}/rating",
        "/api/channels/cases/{case_no}/follow-up",
        "/api/channels/links/{token}/rating",
        "/api/channels/links/{token}/follow-up",
    ):
        assert "Idempotent-Replayed" in spec["paths"][path]["post"]["responses"]["201"]["headers"], path
    assert "x-haocha-errors" not in str(spec) and "x-haocha-replayed" not in str(spec)
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert "422" in operation["responses"], (method, path)
    # what the API really answers has the documented shape
    cast_case = finished_case(cast, "OAS-1")
    answers = [
        client.get("/api/cases/NOPE"),  # no credentials
        client.get("/api/cases/NOPE", HTTP_X_API_KEY=cast.key_city),
        client.post("/api/ratings", {}, content_type="application/json", HTTP_X_API_KEY=cast.key_city),
    ]
    with override_settings(HAOCHA_RATING_LINK_DAYS=-1):  # an expired signed link
        answers.append(client.get(f"/api/channels/links/{rating_link_token(cast_case, channel='sms')}"))
    assert [a.status_code for a in answers] == [401, 404, 422, 410]
    for answer in answers:
        body = answer.json()
        assert set(body) <= set(error["properties"]) and all(
            isinstance(body[k], str) for k in error["required"]
        )


@pytest.mark.parametrize("accept", ["en-US,en;q=0.9", "fr", ""])
def test_pages_are_in_chinese_whatever_the_browser_asks(client, accept):
    # One language (settings.LANGUAGES): Django's own texts (login form, admin) are Chinese for every caller.
    headers = {"Accept-Language": accept} if accept else {}
    login = client.get("/login/", headers=headers).content.decode()
    admin = client.get("/admin/login/", headers=headers).content.decode()
    assert "用户名" in login and "密码" in login
    assert "用户名" in admin and "Username" not in admin
