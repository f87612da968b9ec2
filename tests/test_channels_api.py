"""Channels API for apps: a case's rating state, rating and 追评 through the one intake, signed links and the
embed code; the same through a signed link without a key; documented in OpenAPI."""

import pytest

from haocha.accounts.access import actor_for_user
from haocha.channels import links
from haocha.evaluations.models import Rating
from haocha.evaluations.services import rating_reply
from tests.factories import finished_case, make_client

pytestmark = pytest.mark.django_db


def test_state_rate_follow_up_and_reply(cast, api_for):
    finished_case(cast, "API-1")
    app = api_for(key=cast.key_city)
    state = app.get("/channels/cases/API-1/state").json()
    assert state["can_rate"] and state["first"] is None and state["item_name"] == "食品经营许可"
    body = {"level": "满意", "indicators": {"usability": "very_satisfied"}, "reasons": ["ON201"]}
    r = app.post("/channels/cases/API-1/rating", body, headers={"Idempotency-Key": "app-1"})
    assert r.status_code == 201
    state = r.json()
    assert state["first"]["level"] == "satisfied" and state["first"]["channel"] == "mobile"
    assert state["first"]["reason_texts"] == ["办理比较顺利"] and state["can_follow_up"]
    again = app.post("/channels/cases/API-1/rating", body, headers={"Idempotency-Key": "app-1"})
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    second = app.post(
        "/channels/cases/API-1/rating", {"level": "very_satisfied"}, headers={"Idempotency-Key": "b"}
    )
    assert second.status_code == 409 and second.json()["code"] == "already_rated"
    keyless = app.post("/channels/cases/API-1/rating", body)  # without a key a repeat is a second rating
    assert keyless.status_code == 409 and keyless.json()["code"] == "already_rated"
    rating_reply(actor=actor_for_user(cast.handler_a), rating=Rating.objects.get(), text="感谢您的肯定")
    assert app.get("/channels/cases/API-1/state").json()["first"]["reply"]["text"] == "感谢您的肯定"
    r = app.post(
        "/channels/cases/API-1/follow-up", {"level": "very_satisfied"}, headers={"Idempotency-Key": "f1"}
    )
    assert r.status_code == 201 and r.json()["follow_up"]["kind"] == 2 and not r.json()["can_follow_up"]
    assert Rating.objects.count() == 2


def test_errors_and_scopes(cast, api_for):
    finished_case(cast, "API-2")
    app = api_for(key=cast.key_city)
    assert app.get("/channels/cases/NOPE/state").status_code == 404
    assert api_for(key=cast.key_b).get("/channels/cases/API-2/state").status_code == 404
    r = app.post("/channels/cases/API-2/rating", {"level": "great"})
    assert r.status_code == 422 and r.json()["code"] == "unknown_level"
    r = app.post("/channels/cases/API-2/rating", {"level": "satisfied", "channel": "tablet"})
    assert r.status_code == 422 and r.json()["code"] == "channel_not_allowed"
    r = app.post("/channels/cases/API-2/follow-up", {"level": "satisfied"})
    assert r.status_code == 409 and r.json()["code"] == "no_first_rating"
    _client, writer = make_client("只写系统", regions=[cast.city], scopes=["ratings:write"])
    r = api_for(key=writer).get("/channels/cases/API-2/state")
    assert r.status_code == 403 and r.json()["code"] == "scope_missing"
    assert api_for().get("/channels/cases/API-2/state").status_code == 401


def test_links_and_embed_code(cast, api_for):
    case = finished_case(cast, "API-3")
    r = api_for(key=cast.key_city).get("/channels/cases/API-3/links", channel="sms")
    assert r.status_code == 200
    data = r.json()
    token = data["rating_url"].split("/r/")[1].rstrip("/")
    target = links.target_from_token(token)
    assert (target.case, target.channel) == (case, "sms")
    assert data["embed_url"].endswith(f"/embed/{token}/")
    assert 'src="http://127.0.0.1:8000/static/channels/embed.js"' in data["embed_script"]
    r = api_for(key=cast.key_city).get("/channels/cases/API-3/links", channel="tablet")
    assert r.status_code == 422


def test_a_signed_link_rates_without_a_key(cast, api_for):
    case = finished_case(cast, "API-4")
    token = links.rating_link_token(case, channel="qrcode")
    anon = api_for()
    assert anon.get(f"/channels/links/{token}").json()["can_rate"] is True
    body = {"level": "very_satisfied", "key": "app-key-0000000001"}
    assert anon.post(f"/channels/links/{token}/rating", body).status_code == 201
    replay = anon.post(f"/channels/links/{token}/rating", body)
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    other = anon.post(f"/channels/links/{token}/rating", {"level": "satisfied", "key": "another-key-00001"})
    assert other.status_code == 409 and other.json()["code"] == "already_rated"
    r = anon.post(f"/channels/links/{token}/follow-up", {"level": "satisfied", "key": "fu-key-0000000001"})
    assert r.status_code == 201 and r.json()["follow_up"]["channel"] == "qrcode"
    assert anon.get("/channels/links/forged").status_code == 404
    assert Rating.objects.get(kind=1).channel == "qrcode"


def test_openapi_documents_the_channel_operations(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/channels/windows/{window_code}/serving",
        "/api/channels/cases/{case_no}/state",
        "/api/channels/cases/{case_no}/rating",
        "/api/channels/cases/{case_no}/follow-up",
        "/api/channels/cases/{case_no}/links",
        "/api/channels/links/{token}",
        "/api/channels/links/{token}/rating",
    ):
        assert path in paths, path
