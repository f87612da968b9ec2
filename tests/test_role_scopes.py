"""Roles never lend each other scope (issue 13.4): a user holding two roles may take each action only over the
organisations of the role that allows it — reveal, reply, flags, the ratings pages, staff-recorded ratings and
the work-order workbench alike."""

import pytest
from django.test import Client

from haocha.accounts.models import Role, RoleAssignment
from haocha.core.models import AuditLog
from haocha.evaluations.models import Rating, RatingFlag, RatingReply
from tests.factories import finished_case
from tests.workorder_helpers import bad_rating

pytestmark = pytest.mark.django_db


def also(user, role, *, region=None, organisation=None):
    RoleAssignment.objects.create(user=user, role=role, region=region, organisation=organisation)
    return user


def session(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def api(user, method, path, data=None):
    c = session(user)
    if method == "get":
        return c.get("/api" + path, data or {})
    return c.post("/api" + path, data or {}, content_type="application/json")


def _rating_at_hall(cast, case_no, window, item, seq):
    finished_case(cast, case_no, seq=seq, window=window, item=item)
    r = Client().post(
        "/api/ratings",
        {"case_no": case_no, "channel": "tablet", "level": "dissatisfied", "comment": "等了很久没人办"},
        content_type="application/json",
        headers={"X-Api-Key": cast.key_city},
    )
    assert r.status_code == 201, r.content
    return Rating.objects.get(public_id=r.json()["id"])


@pytest.fixture
def hall_ratings(cast):
    """A 差评 of department B made at window B01 of the hall, and one of department A at window A01."""
    rating_b = _rating_at_hall(cast, "RS-B", cast.window_b, cast.item_b, 2)
    rating_a = _rating_at_hall(cast, "RS-A", cast.window_a, cast.item_a, 3)
    return rating_a, rating_b


def test_a_handler_who_is_also_the_hall_clerk_cannot_reveal_another_departments_rater(cast, hall_ratings):
    rating_a, rating_b = hall_ratings
    mixed = also(cast.handler_a, Role.WINDOW_CLERK, organisation=cast.hall)
    r = api(mixed, "post", f"/ratings/{rating_b.public_id}/identity", {"purpose": "差评回访"})
    assert r.status_code in (403, 404), r.content
    assert "13812345678" not in r.content.decode()
    assert not AuditLog.objects.filter(action="identity_read").exists()
    # over the department the handler role is held for, the reveal is allowed
    r = api(mixed, "post", f"/ratings/{rating_a.public_id}/identity", {"purpose": "差评回访"})
    assert r.status_code == 200 and r.json()["phone"] == "13812345678"


def test_the_hall_clerk_role_does_not_open_other_departments_ratings_to_the_handler_role(cast, hall_ratings):
    rating_a, rating_b = hall_ratings
    mixed = session(also(cast.handler_a, Role.WINDOW_CLERK, organisation=cast.hall))
    listed = mixed.get("/ratings/").content.decode()
    assert "共 1 条" in listed and "食品经营许可" in listed and "社会保障卡申领" not in listed
    assert mixed.get(f"/ratings/{rating_b.public_id}/").status_code == 404
    assert mixed.get(f"/ratings/{rating_a.public_id}/").status_code == 200
    assert mixed.get(f"/api/ratings/{rating_b.public_id}").status_code == 404
    assert mixed.get("/api/ratings", {"case_no": "RS-B"}).status_code == 404
    assert mixed.get("/api/ratings", {"case_no": "RS-A"}).status_code == 200


def test_a_supervisor_elsewhere_cannot_reply_as_a_departments_handler(cast, hall_ratings):
    """Handler of A and supervisor of the city: the supervisor role sees department B, but only the handler
    role replies, and only for department A."""
    rating_a, rating_b = hall_ratings
    mixed = also(cast.handler_a, Role.SUPERVISOR, region=cast.city)
    r = api(mixed, "post", f"/ratings/{rating_b.public_id}/reply", {"text": "我们已整改"})
    assert r.status_code == 403 and r.json()["code"] == "reply_not_allowed", r.content
    assert not RatingReply.objects.exists()
    r = api(mixed, "post", f"/ratings/{rating_a.public_id}/reply", {"text": "我们已整改"})
    assert r.status_code == 201, r.content


def test_a_handler_who_supervises_another_district_cannot_flag_their_own_departments_ratings(
    cast, hall_ratings
):
    rating_a, _ = hall_ratings
    mixed = also(cast.handler_a, Role.SUPERVISOR, region=cast.yuelu)
    r = api(mixed, "post", f"/ratings/{rating_a.public_id}/flags", {"kind": "invalid", "reason": "误评"})
    assert r.status_code == 403 and r.json()["code"] == "flag_not_allowed", r.content
    assert not RatingFlag.objects.exists() and Rating.objects.get(pk=rating_a.pk).is_valid


def test_a_handler_who_is_an_operator_elsewhere_cannot_record_ratings_for_their_department(cast):
    finished_case(cast, "RS-R", seq=4)
    mixed = also(cast.handler_a, Role.OPERATOR_12345, region=cast.yuelu)
    body = {"case_no": "RS-R", "channel": "hotline_12345", "level": "very_satisfied"}
    r = api(mixed, "post", "/ratings", body)
    assert r.status_code == 403 and r.json()["code"] == "staff_cannot_rate", r.content
    assert not Rating.objects.exists()
    assert api(cast.operator, "post", "/ratings", body).status_code == 201


def test_an_operator_elsewhere_gets_no_citizen_link_on_their_departments_orders(cast):
    """The citizen's signed 回访 link is for 12345 over the order; a handler who is an operator of another
    district must not be able to answer their own department's 回访 as the citizen."""
    order = bad_rating(cast, "RS-L", seq=5)
    mixed = session(also(cast.handler_a, Role.OPERATOR_12345, region=cast.yuelu))
    html = mixed.get(f"/workorders/{order.number}/").content.decode()
    assert 'id="citizen-link"' not in html and "/c/" not in html
    assert 'id="citizen-link"' in session(cast.operator).get(f"/workorders/{order.number}/").content.decode()


def test_the_hall_clerk_role_takes_no_department_step_on_another_departments_order(cast):
    order = _rating_at_hall(cast, "RS-W", cast.window_b, cast.item_b, 6).work_order
    mixed = session(also(cast.handler_a, Role.WINDOW_CLERK, organisation=cast.hall))
    assert mixed.get(f"/workorders/{order.number}/").status_code == 200  # hall staff see the hall's orders
    for action in ("accept", "return", "appeal"):
        r = mixed.post(f"/workorders/{order.number}/act/{action}/", {"reason": "x", "statement": "x"})
        assert r.status_code == 403, action
