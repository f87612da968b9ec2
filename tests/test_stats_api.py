"""/api/stats: figures equal the counts of the cast's ratings, refusals carry codes, scope is enforced."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from haocha.analytics.models import Dim, RatingRollup
from haocha.analytics.services import rollups_apply_all
from haocha.evaluations.models import Rating
from tests.factories import finished_case, make_client
from tests.workorder_helpers import bad_rating

LEVELS = ["very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"]


@pytest.fixture
def rated(cast, api_for):
    """Twelve rated cases of department A (window A01) and five of department B, one 差评 with its order."""
    api = api_for(key=cast.key_city)
    plan = [(cast.item_a, cast.window_a, lv) for lv in LEVELS[:3] * 4] + [
        (cast.item_b, cast.window_b, lv) for lv in LEVELS
    ]
    for i, (item, window, level) in enumerate(plan):
        finished_case(cast, f"ST-{i}", seq=i, item=item, window=window)
        body = {"case_no": f"ST-{i}", "channel": "tablet" if i % 2 else "pc", "level": level}
        if level in LEVELS[3:]:
            body["comment"] = "材料要求前后不一致"
        if window == cast.window_a:
            body["staff_no"] = cast.staff_a.staff_no
        assert api.post("/ratings", body).status_code == 201
    finished_case(cast, "ST-UNRATED", seq=90, item=cast.item_a)  # finished, never rated: 评价率 < 1
    bad_rating(cast, "ST-BAD", seq=91)
    rollups_apply_all()
    today = timezone.localdate()
    return {"start": (today - timedelta(days=10)).isoformat(), "end": today.isoformat()}


def test_it_returns_figures_that_match_the_ratings(cast, api_for, rated):
    api = api_for(user=cast.supervisor)
    r = api.get("/stats/figures", dim="department", member=cast.dept_a.pk, **rated)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["name"] == "长沙市市场监督管理局" and body["start"] == rated["start"]
    mine = Rating.objects.filter(department=cast.dept_a, kind=1, is_valid=True)
    f = body["figures"]
    assert f["n"] == mine.count() == 13
    assert f["levels"] == [mine.filter(level=lv).count() for lv in LEVELS] == [4, 4, 4, 1, 0]
    assert f["bad"] == 1 and f["bad_rate"] == round(1 / 13, 6)
    assert f["good_rate"] == round(8 / 13, 6)
    assert f["score"] == round((4 * 100 + 4 * 80 + 4 * 60 + 40) / 13, 6)
    assert f["n_finished"] == 14 and f["rating_rate"] == round(13 / 14, 6)
    assert f["n_orders"] == 1
    assert "差评率" in body["definitions"]["bad_rate"]

    city = api.get("/stats/figures", dim="region", member=cast.city.pk, **rated).json()["figures"]
    assert city["n"] == Rating.objects.filter(kind=1, is_valid=True).count() == 18

    tablet = api.get("/stats/figures", dim="department", member=cast.dept_a.pk, channel="tablet", **rated)
    assert tablet.json()["figures"]["n"] == mine.filter(channel="tablet").count()


def test_it_breaks_down_by_unit_sorted_by_count(cast, api_for, rated):
    api = api_for(key=cast.key_city)
    r = api.get("/stats/breakdown", dim="department", **rated)
    assert r.status_code == 200, r.content
    items = r.json()["items"]
    assert [(i["member"], i["figures"]["n"]) for i in items] == [(cast.dept_a.pk, 13), (cast.dept_b.pk, 5)]
    assert items[1]["name"] == "长沙市人力资源和社会保障局"
    by_org = api.get("/stats/breakdown", dim="window", organisation=cast.dept_b.pk, **rated).json()["items"]
    assert [i["member"] for i in by_org] == [cast.window_b.pk]
    regions = api.get("/stats/breakdown", dim="region", region="430100", **rated).json()["items"]
    assert [i["member"] for i in regions] == [cast.city.pk]


def test_it_draws_the_trend_by_day_and_month(cast, api_for, rated):
    api = api_for(user=cast.supervisor)
    today = timezone.localdate()
    r = api.get("/stats/trend", dim="region", member=cast.city.pk, grain="day", **rated)
    assert r.status_code == 200, r.content
    points = r.json()["points"]
    assert sum(p["n"] for p in points) == 18 and sum(p["bad"] for p in points) == 3
    assert points[-1]["period"] <= today.isoformat()
    assert all(sum(p["levels"]) == p["n"] for p in points)
    month = api.get("/stats/trend", dim="region", member=cast.city.pk, grain="month", **rated).json()
    assert sum(p["n"] for p in month["points"]) == 18
    assert all(p["period"].endswith("-01") for p in month["points"])


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"dim": "city"}, 422, "unknown_dim"),
        ({"start": "2026-13-01"}, 422, "invalid_date"),
        ({"start": "yesterday"}, 422, "invalid_date"),
        ({"start": "2026-03-01", "end": "2026-02-01"}, 422, "period_reversed"),
        ({"start": "2025-01-01", "end": "2026-01-02"}, 422, "period_too_long"),
        ({"channel": "pigeon"}, 422, "unknown_channel"),
        ({"member": 987654}, 404, "member_not_found"),
        ({"member": "abc"}, 422, "invalid_input"),
    ],
)
def test_it_refuses_bad_input_with_a_code(cast, api_for, params, status, code):
    query = {"dim": "department", "member": cast.dept_a.pk, "start": "2026-01-01", "end": "2026-01-31"}
    r = api_for(user=cast.supervisor).get("/stats/figures", **{**query, **params})
    assert r.status_code == status, r.content
    assert r.json()["code"] == code
    assert r.json()["message"]


def test_it_accepts_a_full_leap_year_but_refuses_longer():
    from haocha.analytics.params import check_period
    from haocha.core.errors import InvalidInput

    assert check_period(date(2024, 1, 1), date(2024, 12, 31)).end == date(2024, 12, 31)
    with pytest.raises(InvalidInput) as refused:
        check_period(date(2024, 1, 1), date(2025, 1, 1))
    assert refused.value.code == "period_too_long"


def test_it_keeps_an_outsider_to_their_district(cast, api_for, rated):
    outsider = api_for(user=cast.outsider)  # supervisor of 岳麓区
    r = outsider.get("/stats/figures", dim="department", member=cast.dept_a.pk, **rated)
    assert r.status_code == 404 and r.json()["code"] == "member_not_found"
    r = outsider.get("/stats/figures", dim="region", member=cast.city.pk, **rated)
    assert r.status_code == 404
    r = outsider.get("/stats/trend", dim="window", member=cast.window_a.pk, **rated)
    assert r.status_code == 404
    assert outsider.get("/stats/breakdown", dim="department", **rated).json()["items"] == []
    assert outsider.get("/stats/breakdown", dim="staff", **rated).json()["items"] == []
    r = outsider.get("/stats/breakdown", dim="department", region="430102", **rated)  # 芙蓉区
    assert r.status_code == 404 and r.json()["code"] == "region_not_found"
    r = outsider.get("/stats/breakdown", dim="window", organisation=cast.dept_a.pk, **rated)
    assert r.status_code == 404 and r.json()["code"] == "organisation_not_found"
    ranked = outsider.get("/stats/rankings", dim="window", year=2026).json()
    assert ranked["ranked"] == [] and ranked["insufficient"] == []
    # a department's system sees its own units only, and no region totals
    own = api_for(key=cast.key_b)
    assert [i["member"] for i in own.get("/stats/breakdown", dim="department", **rated).json()["items"]] == [
        cast.dept_b.pk
    ]
    assert own.get("/stats/figures", dim="region", member=cast.city.pk, **rated).status_code == 404


def test_it_needs_credentials_and_the_read_scope(cast, api_for, rated):
    r = api_for().get("/stats/figures", dim="region", member=cast.city.pk, **rated)
    assert r.status_code == 401 and r.json()["code"] == "unauthenticated"
    _, key = make_client("评价器", regions=[cast.city], scopes=["ratings:write"])
    r = api_for(key=key).get("/stats/figures", dim="region", member=cast.city.pk, **rated)
    assert r.status_code == 403 and r.json()["code"] == "scope_missing"


def test_the_stats_endpoints_are_documented(client):
    paths = client.get("/api/openapi.json").json()["paths"]
    for name in ("figures", "breakdown", "trend", "rankings", "export", "export.xlsx"):
        assert f"/api/stats/{name}" in paths


def test_no_evaluator_identity_in_any_answer(cast, api_for, rated):
    api = api_for(user=cast.admin)
    text = "".join(
        api.get(path, **params).content.decode()
        for path, params in [
            ("/stats/breakdown", {"dim": "staff", **rated}),
            ("/stats/breakdown", {"dim": "window", **rated}),
            ("/stats/rankings", {"dim": "item", "year": timezone.localdate().year}),
        ]
    )
    assert "李娜" in text  # the staff member rated is named; the citizen who rated is not
    assert "王小明" not in text and "13812345678" not in text and "evaluator" not in text
    assert RatingRollup.objects.filter(dim=Dim.STAFF, member_id=cast.staff_a.pk).exists()
