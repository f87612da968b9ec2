"""One rule for reading ratings on every path (issue 13.5): the ratings pages, the ratings API and the channels'
case state answer each user alike; window clerks read no ratings (the pages refuse them on purpose), and
outsiders get 403 or 404 on every path."""

import uuid

import pytest
from django.test import Client

from haocha.accounts.models import Role
from haocha.evaluations.models import Rating
from tests.factories import finished_case, make_user

pytestmark = pytest.mark.django_db


def session(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def rate(cast, case_no, *, seq, window=None, item=None, level="satisfied"):
    finished_case(cast, case_no, seq=seq, window=window, item=item)
    body = {"case_no": case_no, "channel": "tablet" if window else "pc", "level": level}
    if level in ("dissatisfied", "very_dissatisfied"):
        body["comment"] = "窗口让我来回跑了三次"
    r = Client().post(
        "/api/ratings", body, content_type="application/json", headers={"X-Api-Key": cast.key_city}
    )
    assert r.status_code == 201, r.content
    return Rating.objects.get(public_id=r.json()["id"])


@pytest.fixture
def ratings(cast):
    return [
        rate(cast, "RR-1", seq=1, window=cast.window_a),
        rate(cast, "RR-2", seq=2, window=cast.window_b, item=cast.item_b, level="dissatisfied"),
        rate(cast, "RR-3", seq=3),
        rate(cast, "RR-4", seq=4, item=cast.item_yuelu, level="very_dissatisfied"),
    ]


def test_a_window_clerk_reads_no_ratings_on_any_path(cast, ratings):
    clerk = session(cast.clerk)
    at_the_hall = ratings[0]
    assert clerk.get("/api/cases/RR-1").status_code == 200  # the case handled at the hall is the clerk's
    for path in (
        "/ratings/",
        f"/ratings/{at_the_hall.public_id}/",
        f"/api/ratings/{at_the_hall.public_id}",
        "/api/ratings?case_no=RR-1",
        "/api/channels/cases/RR-1/state",
    ):
        r = clerk.get(path)
        assert r.status_code == 403, (path, r.status_code)
        assert "very_satisfied" not in r.content.decode() and 'satisfied"' not in r.content.decode()
    r = clerk.get(f"/api/ratings/{at_the_hall.public_id}")
    assert r.json()["code"] == "forbidden" and "查看评价记录" in r.json()["message"]


def test_outsiders_get_404_on_the_page_and_the_api(cast, ratings):
    city = ratings[0]
    for user in (cast.handler_b, cast.outsider):
        c = session(user)
        assert c.get(f"/ratings/{city.public_id}/").status_code == 404, user
        assert c.get(f"/api/ratings/{city.public_id}").status_code == 404, user
        assert c.get("/api/ratings", {"case_no": "RR-1"}).status_code == 404, user
        assert c.get("/api/channels/cases/RR-1/state").status_code == 404, user
    nobody = session(make_user("nobody"))
    assert nobody.get(f"/api/ratings/{city.public_id}").status_code == 403
    assert nobody.get(f"/ratings/{city.public_id}/").status_code == 403
    assert Client().get(f"/api/ratings/{city.public_id}").status_code == 401


def test_every_user_gets_the_same_answer_from_the_page_and_the_api(cast, ratings):
    """Each member of the cast, each rating (and one that does not exist): the page and the API agree, and
    the page's list holds exactly the ratings the API answers."""
    mixed = make_user("mixed", Role.HANDLER, organisation=cast.dept_a)
    mixed.roles.create(role=Role.WINDOW_CLERK, organisation=cast.hall)
    users = [cast.admin, cast.supervisor, cast.operator, cast.handler_a, cast.handler_b, cast.clerk]
    for user in [*users, cast.outsider, mixed]:
        c = session(user)
        readable = set()
        for rating in [*ratings, None]:
            rid = rating.public_id if rating else uuid.uuid4()
            page = c.get(f"/ratings/{rid}/").status_code
            api = c.get(f"/api/ratings/{rid}").status_code
            assert page == api, (user.username, rating and rating.case.case_no, page, api)
            if rating is not None and rating.case_id:
                by_case = c.get("/api/ratings", {"case_no": rating.case.case_no}).status_code
                assert by_case == api, (user.username, rating.case.case_no, by_case, api)
            if api == 200:
                readable.add(str(rating.public_id))
        listed = c.get("/ratings/")
        if listed.status_code == 200:
            html = listed.content.decode()
            shown = {chunk.split('"')[0] for chunk in html.split('<tr data-id="')[1:]}
            assert shown == readable, user.username
        else:
            assert listed.status_code == 403 and not readable, user.username
