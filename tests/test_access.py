"""Every caller sees only the organisations it belongs to or supervises; staff never rate for citizens."""

import pytest

from haocha.accounts.access import actor_for_user
from tests.factories import finished_case

pytestmark = pytest.mark.django_db


def test_actor_scopes_follow_the_trees(cast):
    assert actor_for_user(cast.admin).all_access
    supervisor = actor_for_user(cast.supervisor)  # region 长沙市: every organisation in the city and below
    assert {cast.dept_a.pk, cast.dept_b.pk, cast.dept_yuelu.pk, cast.hall.pk} <= supervisor.org_ids
    outsider = actor_for_user(cast.outsider)  # region 岳麓区 only
    assert outsider.org_ids == {cast.dept_yuelu.pk}
    clerk = actor_for_user(cast.clerk)  # organisation: the hall
    assert clerk.org_ids == {cast.hall.pk}
    handler = actor_for_user(cast.handler_a)
    assert handler.org_ids == {cast.dept_a.pk}


def test_session_callers_see_only_their_cases_and_ratings(cast, api_for):
    finished_case(cast, "AC-1")
    r = api_for(cast.key_a).post("/ratings", {"case_no": "AC-1", "channel": "pc", "level": "satisfied"})
    rating_id = r.json()["id"]
    for user, visible in [
        (cast.admin, True),
        (cast.supervisor, True),
        (cast.handler_a, True),
        (cast.handler_b, False),
        (cast.outsider, False),
    ]:
        api = api_for(user=user)
        expected = 200 if visible else 404
        assert api.get("/cases/AC-1").status_code == expected, user
        assert api.get(f"/ratings/{rating_id}").status_code == expected, user
        assert api.get("/ratings", case_no="AC-1").status_code == expected, user


def test_hall_staff_see_cases_handled_at_their_hall(cast, api_for):
    finished_case(cast, "AC-2", window=cast.window_a)
    finished_case(cast, "AC-3")
    clerk = api_for(user=cast.clerk)
    assert clerk.get("/cases/AC-2").status_code == 200
    assert clerk.get("/cases/AC-3").status_code == 404


def test_staff_cannot_rate_for_a_citizen(cast, api_for):
    finished_case(cast, "AC-4", window=cast.window_a)
    body = {"case_no": "AC-4", "channel": "tablet", "level": "very_satisfied"}
    for user in (cast.clerk, cast.handler_a, cast.supervisor):
        r = api_for(user=user).post("/ratings", body)
        assert r.status_code == 403 and r.json()["code"] == "staff_cannot_rate", user
    # what a citizen said on the 12345 hotline is recorded by the operator, with the channel saying so
    r = api_for(user=cast.operator).post("/ratings", {**body, "channel": "hotline_12345"})
    assert r.status_code == 201 and r.json()["channel"] == "hotline_12345"


def test_staff_list_is_scoped(cast, api_for):
    assert api_for().get("/staff").status_code == 401
    mine = api_for(user=cast.handler_a).get("/staff").json()
    assert [s["staff_no"] for s in mine["items"]] == ["SJ0001"]
    assert api_for(user=cast.handler_b).get("/staff").json()["items"] == []


def test_reference_data_is_public_catalogue_information(cast, api_for):
    regions = api_for().get("/regions", parent="430100").json()
    assert [r["code"] for r in regions] == ["430102", "430104"]
    orgs = api_for().get("/organisations", kind="department", region="430104").json()
    assert [o["name"] for o in orgs["items"]] == ["岳麓区行政审批服务局"]
    halls = api_for().get("/halls").json()["items"]
    assert [h["name"] for h in halls] == ["长沙市政务服务中心", "长沙市民之家政务服务大厅"]
    windows = api_for().get("/windows", hall=cast.hall.pk).json()["items"]
    assert [w["number"] for w in windows] == ["A01", "B01"]
    items = api_for().get("/items", q="社会保障").json()["items"]
    assert [i["code"] for i in items] == [cast.item_b.code]
