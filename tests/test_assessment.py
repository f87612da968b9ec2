"""年度目标考核: the rule (weights summing to 100, the nearest region's rule, its text), the scores against an
independent computation from the raw rows of a small year, and the page, API and workbook through HTTP with
their access checks."""

from datetime import datetime, time
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from haocha.analytics.services import rollups_apply_all
from haocha.assessment.models import AssessmentRule
from haocha.assessment.rules import rule_for, rule_text
from haocha.catalogue.models import Case
from haocha.evaluations.models import Rating
from haocha.workorders.models import Appeal, Transition, WorkOrder
from tests.factories import finished_case
from tests.workorder_helpers import act, refresh, staff

pytestmark = pytest.mark.django_db

WEIGHTS = {
    "weight_rating_rate": 10,
    "weight_bad_rate": 20,
    "weight_bad_count": 10,
    "weight_on_time": 20,
    "weight_rectify": 15,
    "weight_callback_solved": 10,
    "weight_truthfulness": 15,
}
CEILING = Decimal("50.00")  # percent: the fixture's 差评率 are high
MIN_SAMPLE = 5


def rated(cast, case_no, *, item, seq, level="satisfied"):
    finished_case(cast, case_no, seq=seq, item=item)
    body = {"case_no": case_no, "channel": "pc", "level": level}
    if level in ("dissatisfied", "very_dissatisfied"):
        body["comment"] = "材料要求前后不一致，跑了三次"
    r = Client().post(
        "/api/ratings", body, content_type="application/json", headers={"X-Api-Key": cast.key_city}
    )
    assert r.status_code == 201, r.content
    return WorkOrder.objects.filter(rating__public_id=r.json()["id"]).first()


def bad(cast, case_no, *, item, seq):
    return rated(cast, case_no, item=item, seq=seq, level="dissatisfied")


def closed_loop(cast, order, handler, *, answers):
    """交办, contact, feedback and a 回访 per answer (False: 未解决, the order is handled again)."""
    act(cast.operator, order, "verify", valid="1", department=order.department_id)
    for solved in answers:
        assert act(handler, refresh(order), "contact", method="phone", outcome="已联系").status_code == 302
        assert act(handler, refresh(order), "feedback", result="已整改").status_code == 302
        satisfaction = "satisfied" if solved else "dissatisfied"
        r = act(
            cast.operator,
            refresh(order),
            "callback",
            solved="1" if solved else "0",
            satisfaction=satisfaction,
        )
        assert r.status_code == 302
    return refresh(order)


def appealed(cast, order, handler, *, uphold):
    act(cast.operator, order, "verify", valid="1", department=order.department_id)
    assert (
        act(handler, refresh(order), "appeal", ground="malicious", statement="经调取监控核实").status_code
        == 302
    )
    r = act(cast.supervisor, refresh(order), "review_appeal", uphold="1" if uphold else "0", note="经复核")
    assert r.status_code == 302
    return refresh(order)


@pytest.fixture
def year_of(cast):
    """A small year: three departments (one below the minimum sample), 差评 handled every way."""
    from haocha.accounts.models import Role
    from tests.factories import make_user

    handler_yuelu = make_user("handler_yuelu", Role.HANDLER, organisation=cast.dept_yuelu)
    AssessmentRule.objects.create(
        region=cast.city, bad_rate_ceiling=CEILING, min_sample=MIN_SAMPLE, **WEIGHTS
    )
    seq = iter(range(1, 1000))
    for i in range(6):
        rated(cast, f"A-G{i}", item=cast.item_a, seq=next(seq), level="very_satisfied")
    finished_case(cast, "A-UNRATED-1", seq=next(seq), item=cast.item_a)  # 评价率 below 100 %
    a1 = bad(cast, "A-B1", item=cast.item_a, seq=next(seq))
    closed_loop(cast, a1, cast.handler_a, answers=[True])
    a2 = bad(cast, "A-B2", item=cast.item_a, seq=next(seq))
    closed_loop(cast, a2, cast.handler_a, answers=[False, True])  # a 回访 contradicting the report
    a3 = bad(cast, "A-B3", item=cast.item_a, seq=next(seq))
    appealed(cast, a3, cast.handler_a, uphold=False)  # 申诉不成立: the order carries on, still open

    for i in range(5):
        rated(cast, f"B-G{i}", item=cast.item_b, seq=next(seq))
    b1 = bad(cast, "B-B1", item=cast.item_b, seq=next(seq))
    closed_loop(cast, b1, cast.handler_b, answers=[True])
    b2 = bad(cast, "B-B2", item=cast.item_b, seq=next(seq))
    appealed(cast, b2, cast.handler_b, uphold=True)  # 申诉成立: the 差评 leaves the statistics

    for i in range(3):
        rated(cast, f"Y-G{i}", item=cast.item_yuelu, seq=next(seq))
    y1 = bad(cast, "Y-B1", item=cast.item_yuelu, seq=next(seq))
    closed_loop(cast, y1, handler_yuelu, answers=[False])  # reopened, still being handled
    rollups_apply_all()
    return timezone.localdate().year


# --- the expected figures, from the raw rows ---------------------------------------------------------------


def _year_bounds(year):
    tz = timezone.get_current_timezone()
    return datetime.combine(datetime(year, 1, 1), time.min, tz), datetime.combine(
        datetime(year + 1, 1, 1), time.min, tz
    )


def ratio(a, b):
    return a / b if b else None


def expected_measures(dept, year) -> dict:
    start, end = _year_bounds(year)
    now = timezone.now()
    ratings = Rating.objects.filter(
        department=dept, kind=Rating.Kind.FIRST, is_valid=True, rated_at__gte=start, rated_at__lt=end
    )
    n = ratings.count()
    bad = ratings.filter(level__in=("dissatisfied", "very_dissatisfied")).count()
    finished = Case.objects.filter(
        department=dept, status="finished", finished_at__gte=start, finished_at__lt=end
    )
    rated = sum(
        1 for c in finished if Rating.objects.filter(case=c, kind=Rating.Kind.FIRST, is_valid=True).exists()
    )
    orders = list(WorkOrder.objects.filter(department=dept, received_at__gte=start, received_at__lt=end))
    closed = [o for o in orders if o.status == "closed"]
    late = [o for o in orders if o.is_open and o.due_at and o.due_at < now]
    called = [o for o in orders if o.callback_satisfaction]
    callbacks = Transition.objects.filter(order__in=orders, action="callback")
    unsolved = sum(1 for t in callbacks if t.data.get("solved") is False)
    rejected = Appeal.objects.filter(order__in=orders, status="rejected").count()
    a, b = ratio(rejected, len(orders)), ratio(unsolved, callbacks.count())
    return {
        "n": n,
        "bad": bad,
        "bad_rate": ratio(bad, n),
        "rating_rate": ratio(rated, finished.count()),
        "on_time_rate": ratio(sum(1 for o in closed if not o.finish_over_minutes), len(closed) + len(late)),
        "rectify_rate": ratio(len(closed), sum(1 for o in orders if o.status not in ("invalid", "merged"))),
        "callback_solved_rate": ratio(sum(1 for o in called if o.callback_solved), len(called)),
        "truthfulness": None if a is None and b is None else max(0.0, 1 - (a or 0) - (b or 0)),
    }


def expected_points(m: dict, most_bad: int) -> dict:
    def rate(v, w):
        return w if v is None else w * v

    return {
        "rating_rate": rate(m["rating_rate"], 10),
        "bad_rate": 20 * max(0.0, 1 - m["bad_rate"] / 0.5),
        "bad": 10 if most_bad == 0 else 10 * (1 - m["bad"] / most_bad),
        "on_time_rate": rate(m["on_time_rate"], 20),
        "rectify_rate": rate(m["rectify_rate"], 15),
        "callback_solved_rate": rate(m["callback_solved_rate"], 10),
        "truthfulness": rate(m["truthfulness"], 15),
    }


# --- the rule ----------------------------------------------------------------------------------------------


def test_weights_must_sum_to_100_with_a_chinese_error(cast):
    rule = AssessmentRule(region=cast.city, **{**WEIGHTS, "weight_truthfulness": 10})
    with pytest.raises(ValidationError) as err:
        rule.full_clean()
    assert "各项权重之和须为 100 分，当前为 95 分" in str(err.value)
    rule = AssessmentRule(region=cast.city, **{**WEIGHTS, "weight_rating_rate": 15})
    with pytest.raises(ValidationError):
        rule.full_clean()
    AssessmentRule(region=cast.city, **WEIGHTS).full_clean()
    with pytest.raises(ValidationError):
        AssessmentRule(region=cast.city, bad_rate_ceiling=Decimal("0"), **WEIGHTS).full_clean()


def test_the_admin_refuses_weights_that_do_not_sum_to_100(cast):
    admin = staff(cast.admin)
    form = {**WEIGHTS, "region": cast.city.pk, "bad_rate_ceiling": "5.00", "min_sample": "30"}
    r = admin.post("/admin/assessment/assessmentrule/add/", {**form, "weight_bad_count": "5"})
    assert r.status_code == 200 and "各项权重之和须为 100 分，当前为 95 分" in r.content.decode()
    assert not AssessmentRule.objects.exists()
    r = admin.post("/admin/assessment/assessmentrule/add/", form)
    assert r.status_code == 302 and AssessmentRule.objects.get().region == cast.city


def test_the_nearest_rule_up_the_tree_applies_else_the_default(cast):
    assert rule_for(cast.yuelu).pk is None and "默认年度目标考核规则" in rule_text(rule_for(cast.yuelu))
    city = AssessmentRule.objects.create(region=cast.city, **WEIGHTS)
    assert rule_for(cast.yuelu) == city
    own = AssessmentRule.objects.create(
        region=cast.yuelu, **{**WEIGHTS, "weight_bad_count": 0, "weight_bad_rate": 30}
    )
    assert rule_for(cast.yuelu) == own and rule_for(cast.furong) == city


def test_the_rule_text_is_made_from_the_weights_applied(cast):
    rule = AssessmentRule(region=cast.city, **{**WEIGHTS, "weight_bad_count": 0, "weight_bad_rate": 30})
    text = rule_text(rule)
    assert "长沙市年度目标考核规则" in text
    assert "差评率 30 分：30 ×（1 − 差评率 ÷ 2.00%）" in text
    assert "差评数不计分" in text and "差评数 0 分" not in text
    for words in (
        "评价率 10 分",
        "处置及时性（按时整改率）20 分",
        "有效性（整改率）15 分",
        "有效性（回访解决率）10 分",
        "真实性 15 分",
    ):
        assert words in text
    assert "全年评价数少于 30 条的单位不参加考核" in text


# --- the scores --------------------------------------------------------------------------------------------


def test_the_scores_equal_an_independent_computation_from_the_raw_rows(cast, year_of, api_for):
    r = api_for(user=cast.supervisor).get("/assessment", year=year_of, dim="department")
    assert r.status_code == 200, r.content
    body = r.json()
    rows = {row["member"]: row for row in body["ranked"]}
    assert set(rows) == {cast.dept_a.pk, cast.dept_b.pk}
    assert [row["member"] for row in body["insufficient"]] == [cast.dept_yuelu.pk]  # 4 ratings, fewer than 5
    assert body["insufficient"][0]["points"] == {} and body["insufficient"][0]["rank"] is None
    measures = {d.pk: expected_measures(d, year_of) for d in (cast.dept_a, cast.dept_b)}
    # the fixture holds what it says: every measure below 100 % somewhere, one appeal of each outcome
    assert measures[cast.dept_a.pk]["truthfulness"] < 1 and measures[cast.dept_b.pk]["truthfulness"] == 1
    assert (
        measures[cast.dept_a.pk]["rating_rate"] < 1 and measures[cast.dept_a.pk]["on_time_rate"] is not None
    )
    most_bad = max(m["bad"] for m in measures.values())
    for pk, m in measures.items():
        row = rows[pk]
        assert row["n"] == m["n"]
        for key in (
            "bad_rate",
            "rating_rate",
            "on_time_rate",
            "rectify_rate",
            "callback_solved_rate",
            "truthfulness",
        ):
            assert row["measures"][key] == (None if m[key] is None else round(m[key], 6)), (pk, key)
            assert row["measures"][key] is None or 0 <= row["measures"][key] <= 1
        assert row["measures"]["bad"] == m["bad"]
        want = expected_points(m, most_bad)
        assert row["points"] == {k: round(v, 2) for k, v in want.items()}, pk
        assert row["total"] == round(sum(round(v, 2) for v in want.values()), 2)
    totals = [row["total"] for row in body["ranked"]]
    assert totals == sorted(totals, reverse=True) and [row["rank"] for row in body["ranked"]] == [1, 2]
    assert body["rule"]["text"] == rule_text(AssessmentRule.objects.get(region=cast.city))
    assert body["rule"]["weights"]["truthfulness"] == 15
    assert (
        "真实性" in body["definitions"]["truthfulness"]
        and "回访解决率" in body["definitions"]["callback_solved_rate"]
    )


def test_a_district_is_assessed_over_the_orders_and_ratings_in_it(cast, year_of, api_for):
    body = api_for(user=cast.supervisor).get("/assessment", year=year_of, dim="district").json()
    assert body["ranked"] == [] and [r["code"] for r in body["insufficient"]] == ["430104"]
    AssessmentRule.objects.filter(region=cast.city).update(min_sample=4)
    from haocha.organisations.policies import clear_policy_cache

    clear_policy_cache()
    body = api_for(user=cast.supervisor).get("/assessment", year=year_of, dim="district").json()
    [yuelu] = body["ranked"]
    assert yuelu["code"] == "430104" and yuelu["n"] == 4
    # its one order: 回访 said 未解决 once, nothing rectified yet
    assert yuelu["measures"]["truthfulness"] == 0 and yuelu["measures"]["rectify_rate"] == 0
    assert yuelu["points"]["truthfulness"] == 0 and yuelu["points"]["rectify_rate"] == 0


# --- page, API and workbook through HTTP -------------------------------------------------------------------


def test_the_page_shows_the_table_beside_its_rule_and_definitions(cast, year_of):
    r = staff(cast.supervisor).get(f"/assessment/?year={year_of}&dim=department")
    assert r.status_code == 200
    html = r.content.decode()
    assert rule_text(AssessmentRule.objects.get(region=cast.city)) in html
    assert "长沙市市场监督管理局" in html and "岳麓区行政审批服务局" in html  # the latter under 样本不足
    assert "真实性：100% − 申诉不成立占比 − 回访否定占比" in html
    assert 'data-chart="assessment"' in html


def test_who_may_open_the_assessment(cast, year_of, api_for):
    assert staff(cast.handler_a).get(f"/assessment/?year={year_of}").status_code == 403
    assert Client().get(f"/assessment/?year={year_of}").status_code == 302  # to the login page
    # a district's supervisor sees their district's units only, and not the city's
    outsider = staff(cast.outsider).get(f"/assessment/?year={year_of}&dim=department")
    assert outsider.status_code == 200 and "长沙市市场监督管理局" not in outsider.content.decode()
    assert staff(cast.outsider).get(f"/assessment/?year={year_of}&region=430100").status_code == 404
    r = api_for(user=cast.outsider).get("/assessment", year=year_of, region="430100")
    assert r.status_code == 404 and r.json()["code"] == "region_not_found"
    r = api_for(user=cast.handler_a).get("/assessment", year=year_of)
    assert r.status_code == 403 and r.json()["code"] == "role_required"
    r = api_for(key=cast.key_a).get("/assessment", year=year_of)  # a department's system: no region
    assert r.status_code == 403 and r.json()["code"] == "role_required"
    assert api_for(key=cast.key_city).get("/assessment", year=year_of).status_code == 200
    r = api_for(user=cast.supervisor).get("/assessment", year=year_of, dim="window")
    assert r.status_code == 422 and r.json()["code"] == "unknown_dim"
    r = api_for(user=cast.supervisor).get("/assessment", year=1800)
    assert r.status_code == 422 and r.json()["code"] == "invalid_year"


def test_the_workbook_holds_the_results_and_the_rule(cast, year_of, api_for):
    cast.dept_b.name = '=HYPERLINK("http://x") 人社局'
    cast.dept_b.save()
    body = api_for(user=cast.supervisor).get("/assessment", year=year_of).json()
    for url in (f"/assessment/assessment.xlsx?year={year_of}", f"/api/assessment.xlsx?year={year_of}"):
        r = staff(cast.supervisor).get(url)
        assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
        wb = load_workbook(BytesIO(r.content))
        assert wb.sheetnames == ["考核结果", "考核规则与口径说明"]
        ws = wb["考核结果"]
        header = [c.value for c in ws[2]]
        assert header[:5] == ["名次", "单位", "单位代码", "评价数", "差评工单数"] and header[-1] == "总分"
        rows = list(ws.iter_rows(min_row=3, values_only=True))
        by_name = {row[1]: row for row in rows}
        for want in body["ranked"]:
            got = by_name[want["name"]]
            assert got[0] == want["rank"] and got[3] == want["n"] and got[-1] == want["total"]
            assert got[header.index("真实性得分")] == want["points"]["truthfulness"]
        assert by_name["岳麓区行政审批服务局"][0] == "样本不足"
        name_cell = next(c for c in ws["B"] if c.value and str(c.value).startswith("=HYPERLINK"))
        assert name_cell.data_type == "s"  # text, never a formula
        notes = {row[0]: row[1] for row in wb["考核规则与口径说明"].iter_rows(values_only=True)}
        assert notes["考核规则"] == body["rule"]["text"]
        assert notes["真实性权重（分）"] == 15 and "回访否定占比" in notes["口径：真实性"]
    assert staff(cast.handler_a).get(f"/assessment/assessment.xlsx?year={year_of}").status_code == 403


def test_points_stay_between_0_and_the_weight():
    from haocha.analytics.figures import Counts, Figures
    from haocha.assessment.rules import BY_KEY, points

    bad_rate, bad, rate = BY_KEY["bad_rate"], BY_KEY["bad"], BY_KEY["rectify_rate"]
    assert points(bad_rate, 0.08, 20, ceiling=0.05, most_bad=0) == 0  # beyond the ceiling: 0, not negative
    assert points(bad_rate, 0.0, 20, ceiling=0.05, most_bad=0) == 20
    assert points(bad_rate, 0.025, 20, ceiling=0.05, most_bad=0) == 10
    assert points(bad, 3, 10, ceiling=0.05, most_bad=0) == 10  # nobody has a 差评
    assert points(bad, 3, 10, ceiling=0.05, most_bad=6) == 5
    assert points(rate, None, 15, ceiling=0.05, most_bad=0) == 15  # nothing to rectify
    assert points(rate, 0.4, 15, ceiling=0.05, most_bad=0) == pytest.approx(6)
    assert points(rate, 0.4, 0, ceiling=0.05, most_bad=0) == 0
    # 真实性: 100 % less both shares, never below 0; "—" with nothing to judge by
    f = Figures(Counts(n_orders=5, n_appeals_rejected=3, n_callback_answers=4, n_callback_unsolved=3))
    assert f.appeal_rejected_share == 0.6 and f.callback_contradicted_share == 0.75 and f.truthfulness == 0
    f = Figures(
        Counts(
            n_orders=10, n_appeals_rejected=1, n_appeals_upheld=4, n_callback_answers=5, n_callback_unsolved=1
        )
    )
    assert f.truthfulness == pytest.approx(1 - 0.1 - 0.2)  # an upheld appeal costs nothing
    assert Figures(Counts()).truthfulness is None
    assert Figures(Counts(n_callback=4, n_callback_solved=3)).callback_solved_rate == 0.75
