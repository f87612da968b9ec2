"""Numbers from outside are checked, never a 500 (issue 13.10): a tablet's age_ms of 1e30, a negative one, NaN,
Infinity, true or text; ids in paths and query strings beyond what a database column holds."""

import uuid

import pytest
from django.test import Client

from haocha.evaluations.models import Rating
from tests.channel_helpers import tablet_client
from tests.workorder_helpers import bad_rating, staff

pytestmark = pytest.mark.django_db

HUGE = "9" * 30


def post_raw(client, window, text: str):
    """The body as the tablet could send it, including what json.dumps would refuse (NaN, Infinity, 1e30)."""
    return client.post(f"/tablet/{window.code}/ratings", text, content_type="application/json")


def body(age: str) -> str:
    return f'{{"key": "{uuid.uuid4()}", "level": "satisfied", "age_ms": {age}}}'


@pytest.mark.parametrize(
    "age, code",
    [
        ("1e30", "rating_too_old"),
        ("1e308", "rating_too_old"),
        (HUGE, "rating_too_old"),
        ("Infinity", "invalid_age"),
        ("-Infinity", "invalid_age"),
        ("NaN", "invalid_age"),
        ("-1", "invalid_age"),
        ("-1e30", "invalid_age"),
        ("true", "invalid_age"),
        ('"1500"', "invalid_age"),
        ('"abc"', "invalid_age"),
        ("[1]", "invalid_age"),
        ("{}", "invalid_age"),
    ],
)
def test_a_tablets_age_out_of_range_is_a_422_with_a_code(cast, age, code):
    client, _ = tablet_client(cast, cast.window_a, interval=0)
    r = post_raw(client, cast.window_a, body(age))
    assert r.status_code == 422, (age, r.status_code, r.content[:200])
    assert r.json()["code"] == code and r.json()["message"]
    assert not Rating.objects.exists()


@pytest.mark.parametrize("age", ["0", "1500", "1500.0", "259199999", "null"])
def test_a_tablets_ordinary_ages_are_stored(cast, age):
    client, _ = tablet_client(cast, cast.window_a, interval=0)
    r = post_raw(client, cast.window_a, body(age))
    assert r.status_code == 201, (age, r.content)


def test_ids_beyond_a_database_column_are_not_found(cast):
    order = bad_rating(cast, "NUM-1")
    clerk = staff(cast.clerk)
    for path in (f"/channels/halls/{HUGE}/terminals/", "/channels/halls/9223372036854775808/terminals/"):
        assert clerk.post(path).status_code == 404, path
    assert Client().get(f"/public/departments/{HUGE}/").status_code == 404
    handler = staff(cast.handler_a)
    assert handler.get(f"/workorders/{order.number}/files/{HUGE}/0/").status_code == 404
    assert handler.get(f"/workorders/{order.number}/files/1/{HUGE}/").status_code == 404
    supervisor = staff(cast.supervisor)
    for param in ("department", "hall", "staff", "window"):
        r = supervisor.get("/ratings/", {param: HUGE})
        assert r.status_code == 422, (param, r.status_code)
    for page in (HUGE, "-1", "NaN", "1e30"):
        assert supervisor.get("/ratings/", {"page": page}).status_code == 200, page
        assert staff(cast.operator).get("/workorders/queue/operator/", {"page": page}).status_code == 200, (
            page
        )
    assert supervisor.get("/channels/", {"hall": HUGE}).status_code == 200


@pytest.mark.parametrize(
    "field, value, code",
    [
        ("comment", "慢" * 1001, "comment_too_long"),
        ("comment", {"text": "好"}, "invalid_comment"),
        ("comment", 5, "invalid_comment"),
        ("level", 5, "invalid_level"),
        ("case_no", "A" * 51, "case_no_too_long"),
        ("case_no", 12345, "invalid_case_no"),
        ("reasons", ["ON401"] * 21, "invalid_reasons"),
        ("key", 123, "invalid_key"),
    ],
)
def test_a_tablets_other_fields_are_refused_rather_than_cut_or_turned_into_text(cast, field, value, code):
    """A comment longer than the field holds was cut to 1,000 characters and stored; {} became "{}"."""
    import json

    client, _ = tablet_client(cast, cast.window_a, interval=0)
    data = {
        "key": str(uuid.uuid4()),
        "level": "dissatisfied",
        "comment": "等了很久",
        "age_ms": 0,
        field: value,
    }
    r = post_raw(client, cast.window_a, json.dumps(data))
    assert r.status_code == 422, (field, r.status_code, r.content[:200])
    assert r.json()["code"] == code
    assert not Rating.objects.exists()


def test_dates_at_the_ends_of_the_calendar_are_a_422_on_the_ratings_page(cast):
    """/ratings/?from=0001-01-01 overflowed turning the day into a time (500)."""
    supervisor = staff(cast.supervisor)
    for query in (
        {"from": "0001-01-01", "to": "0001-01-02"},
        {"from": "9999-12-30", "to": "9999-12-31"},
        {"to": "9999-12-31"},
    ):
        r = supervisor.get("/ratings/", query)
        assert r.status_code == 422 and "之间" in r.content.decode(), query
    assert supervisor.get("/ratings/", {"from": "2026-01-01", "to": "2026-01-31"}).status_code == 200
