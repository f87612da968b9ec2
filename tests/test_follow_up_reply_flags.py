"""追评, department replies, correction flags and the audited identity reveal."""

from datetime import timedelta

import pytest
from django.utils import timezone

from haocha.core.models import AuditLog
from haocha.evaluations.models import Rating, RatingFlag, RatingPolicy
from tests.factories import finished_case, resident_id

pytestmark = pytest.mark.django_db


def first_rating(cast, api_for, case_no, **extra):
    finished_case(cast, case_no, finished_ago=timedelta(days=3))
    body = {"case_no": case_no, "channel": "mobile", "level": "basically_satisfied", **extra}
    r = api_for(cast.key_a).post("/ratings", body)
    assert r.status_code == 201, r.content
    return r.json()


def test_one_follow_up_per_case(cast, api_for):
    first = first_rating(cast, api_for, "FU-1")
    api = api_for(cast.key_a)
    body = {
        "case_no": "FU-1",
        "channel": "mobile",
        "level": "dissatisfied",
        "comment": "说好三天办结，结果拖了一周",
    }
    r = api.post("/ratings/follow-up", body)
    assert r.status_code == 201, r.content
    fu = r.json()
    assert fu["kind"] == 2 and fu["kind_name"] == "追评" and fu["is_bad"]
    assert fu["evaluator_id_masked"] == first["evaluator_id_masked"]
    again = api.post("/ratings/follow-up", body)
    assert again.status_code == 201 and again.json()["id"] == fu["id"]  # the same again: the original
    second = api.post("/ratings/follow-up", {"case_no": "FU-1", "channel": "mobile", "level": "satisfied"})
    assert second.status_code == 409 and second.json()["code"] == "already_followed_up"
    other = {"name": "钱七", "id_number": resident_id(55)}
    r = api.post(
        "/ratings/follow-up",
        {"case_no": "FU-1", "channel": "mobile", "level": "satisfied", "evaluator": other},
    )
    assert r.status_code == 403 and r.json()["code"] in ("not_applicant", "not_first_evaluator")
    listed = api.get("/ratings", case_no="FU-1").json()
    assert [x["kind"] for x in listed] == [1, 2]
    assert Rating.objects.count() == 2


def test_follow_up_needs_a_first_rating(cast, api_for):
    finished_case(cast, "FU-2")
    r = api_for(cast.key_a).post(
        "/ratings/follow-up", {"case_no": "FU-2", "channel": "pc", "level": "satisfied"}
    )
    assert r.status_code == 409 and r.json()["code"] == "no_first_rating"


def test_follow_up_window_closes(cast, api_for):
    RatingPolicy.objects.create(region=cast.city, follow_up_days=15)
    finished_case(cast, "FU-4", finished_ago=timedelta(days=40))
    api = api_for(cast.key_a)
    old = (timezone.now() - timedelta(days=39)).isoformat()
    body = {"case_no": "FU-4", "channel": "pc", "level": "satisfied", "rated_at": old}
    assert api.post("/ratings", body).status_code == 201
    r = api.post("/ratings/follow-up", {"case_no": "FU-4", "channel": "pc", "level": "satisfied"})
    assert r.status_code == 409 and r.json()["code"] == "follow_up_window_closed"
    assert "15天" in r.json()["message"]


def test_a_department_replies_once(cast, api_for):
    rating = first_rating(cast, api_for, "RP-1", level="dissatisfied", reasons=["ON401"])
    handler_b = api_for(user=cast.handler_b)
    assert handler_b.post(f"/ratings/{rating['id']}/reply", {"text": "x"}).status_code == 404
    handler_a = api_for(user=cast.handler_a)
    r = handler_a.post(
        f"/ratings/{rating['id']}/reply", {"text": "已联系您核实，审批时限已压缩至3个工作日。"}
    )
    assert r.status_code == 201, r.content
    assert r.json()["reply"]["text"].startswith("已联系您")
    r = handler_a.post(f"/ratings/{rating['id']}/reply", {"text": "再回复一次"})
    assert r.status_code == 409 and r.json()["code"] == "already_replied"
    clerk = api_for(user=cast.clerk)
    assert clerk.post(f"/ratings/{rating['id']}/reply", {"text": "窗口回复"}).status_code in (403, 404)


def test_flags_mark_never_edit(cast, api_for):
    rating = first_rating(cast, api_for, "FL-1", level="very_dissatisfied", comment="恶意刷差评")
    sup = api_for(user=cast.supervisor)
    r = sup.post(f"/ratings/{rating['id']}/flags", {"kind": "invalid", "reason": "经核实为误操作"})
    assert r.status_code == 201, r.content
    stored = Rating.objects.get(public_id=rating["id"])
    assert not stored.is_valid and stored.invalid_reason == "经核实为误操作"
    assert stored.level == "very_dissatisfied" and stored.comment == "恶意刷差评"
    again = sup.post(f"/ratings/{rating['id']}/flags", {"kind": "invalid", "reason": "重复"})
    assert again.status_code == 409 and again.json()["code"] == "already_invalid"
    handler = api_for(user=cast.handler_a)
    assert (
        handler.post(f"/ratings/{rating['id']}/flags", {"kind": "invalid", "reason": "x"}).status_code == 403
    )
    assert RatingFlag.objects.count() == 1
    assert AuditLog.objects.filter(action="rating_flag").count() == 1
    hidden = sup.post(f"/ratings/{rating['id']}/flags", {"kind": "hide_text", "reason": "含个人信息"})
    assert hidden.status_code == 201
    assert api_for(cast.key_a).get(f"/ratings/{rating['id']}").json()["comment"] == ""


def test_identity_reveal_is_audited_and_restricted(cast, api_for):
    rating = first_rating(cast, api_for, "ID-1", level="dissatisfied", reasons=["ON402"])
    url = f"/ratings/{rating['id']}/identity"
    assert api_for(cast.key_a).post(url, {"purpose": "差评回访"}).status_code == 403
    assert api_for(user=cast.clerk).post(url, {"purpose": "差评回访"}).status_code in (403, 404)
    assert api_for(user=cast.outsider).post(url, {"purpose": "差评回访"}).status_code == 404
    assert not AuditLog.objects.filter(action="identity_read").exists()
    r = api_for(user=cast.operator).post(url, {"purpose": "差评回访"})
    assert r.status_code == 200
    assert r.json() == {"name": "王小明", "id_number": resident_id(1), "phone": "13812345678"}
    entry = AuditLog.objects.get(action="identity_read")
    assert entry.actor == cast.operator and entry.object_id == str(Rating.objects.get().pk)
    assert "差评回访" in entry.summary
