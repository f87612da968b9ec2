"""Rankings: the minimum sample, the smoothed score, ties, 约谈 candidates over two months, the Excel export."""

from datetime import date
from io import BytesIO

import pytest
from openpyxl import load_workbook

from haocha.accounts.access import actor_for_user
from haocha.analytics.models import Dim, RatingRollup, ScorePolicy
from haocha.analytics.selectors import interview_candidates, members_in_scope
from haocha.organisations.models import Window


def month_rows(dim, member, year, month, vs=0, s=0, b=0, d=0, vd=0, n_case=None):
    n = vs + s + b + d + vd
    RatingRollup.objects.create(
        dim=dim,
        grain="m",
        period=date(year, month, 1),
        member_id=member,
        channel="pc",
        n=n,
        n_case=n if n_case is None else n_case,
        n_vs=vs,
        n_s=s,
        n_b=b,
        n_d=d,
        n_vd=vd,
    )


@pytest.fixture
def windows(cast):
    """Five windows of the hall: w[0] excellent, w[1] and w[2] equal, w[3] too few ratings, w[4] poor."""
    out = [cast.window_a, cast.window_b]
    for i in range(3):
        out.append(
            Window.objects.create(
                hall=cast.hall,
                code=f"430100-H1-C0{i}",
                number=f"C0{i}",
                name=f"综合窗口{i}",
                department=cast.dept_a,
            )
        )
    month_rows(Dim.WINDOW, out[0].pk, 2026, 3, vs=100)  # score 100
    month_rows(Dim.WINDOW, out[1].pk, 2026, 3, vs=30, s=10)  # 95
    month_rows(Dim.WINDOW, out[2].pk, 2026, 3, vs=30, s=10)  # 95, tied with w[1]
    month_rows(Dim.WINDOW, out[3].pk, 2026, 3, vs=10)  # 100 but only 10 ratings
    month_rows(Dim.WINDOW, out[4].pk, 2026, 3, b=58, d=2)  # 59.33
    return out


def test_it_ranks_by_the_smoothed_score_above_the_minimum_sample(cast, api_for, windows):
    r = api_for(user=cast.supervisor).get("/stats/rankings", dim="window", year=2026, month=3)
    assert r.status_code == 200, r.content
    body = r.json()
    scores = [100, 95, 95, (58 * 60 + 2 * 40) / 60]
    mean = sum(scores) / 4  # the unweighted mean of the ranked windows; w[3] is not among them
    assert body["prior_mean"] == pytest.approx(mean, abs=1e-6)
    assert body["min_sample"] == 30 and body["prior_weight"] == 50
    ranked = [(row["rank"], row["member"]) for row in body["ranked"]]
    assert ranked == [(1, windows[0].pk), (2, windows[1].pk), (2, windows[2].pk), (4, windows[4].pk)]
    assert body["ranked"][0]["smoothed"] == pytest.approx((100 * 100 + 50 * mean) / 150, abs=1e-6)
    assert body["ranked"][1]["smoothed"] == pytest.approx((40 * 95 + 50 * mean) / 90, abs=1e-6)
    assert body["ranked"][3]["bad"] == 2 and body["ranked"][3]["bad_rate"] == pytest.approx(2 / 60, abs=1e-6)
    assert [(row["member"], row["rank"], row["n"]) for row in body["insufficient"]] == [
        (windows[3].pk, None, 10)
    ]
    assert "30" in body["rule"] and "50" in body["rule"] and "样本不足" in body["rule"]


def test_a_region_policy_changes_the_sample_and_the_smoothing(cast, api_for, windows):
    ScorePolicy.objects.create(region=cast.city, min_sample=5, prior_weight=0)
    body = api_for(user=cast.supervisor).get("/stats/rankings", dim="window", year=2026, month=3).json()
    # without smoothing the 10-rating window ties the 100-rating one at 100 and is listed after it
    assert [(row["rank"], row["member"]) for row in body["ranked"][:2]] == [
        (1, windows[0].pk),
        (1, windows[3].pk),
    ]
    assert body["insufficient"] == [] and "少于 5 条" in body["rule"]


def test_the_year_ranking_sums_the_months(cast, api_for, windows):
    month_rows(Dim.WINDOW, windows[3].pk, 2026, 4, vs=25)
    body = api_for(user=cast.supervisor).get("/stats/rankings", dim="window", year=2026).json()
    assert (body["start"], body["end"]) == ("2026-01-01", "2026-12-31")
    assert {row["member"]: row["n"] for row in body["ranked"]}[windows[3].pk] == 35


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"dim": "region", "year": 2026}, "unknown_dim"),
        ({"dim": "window", "year": 1900}, "invalid_year"),
        ({"dim": "window", "year": 2026, "month": 13}, "invalid_month"),
        ({"dim": "window", "year": 2026, "region": "999999"}, "region_not_found"),
    ],
)
def test_it_refuses_bad_ranking_requests(cast, api_for, params, code):
    r = api_for(user=cast.supervisor).get("/stats/rankings", **params)
    assert r.status_code in (404, 422) and r.json()["code"] == code


def test_interview_candidates_are_at_the_bottom_two_months_running(cast, windows):
    # February: w[1] last; w[4] second to last (not a candidate: bottom 10% of 4 windows is one window)
    month_rows(Dim.WINDOW, windows[0].pk, 2026, 2, vs=50)
    month_rows(Dim.WINDOW, windows[4].pk, 2026, 2, vs=20, b=20)
    month_rows(Dim.WINDOW, windows[1].pk, 2026, 2, b=30, vd=10)
    month_rows(Dim.WINDOW, windows[2].pk, 2026, 2, vs=40)
    members = members_in_scope(actor_for_user(cast.supervisor), Dim.WINDOW)
    found, march, february = interview_candidates(Dim.WINDOW, 2026, 3, members=members)
    assert february.ranked[-1].member == windows[1].pk and march.ranked[-1].member == windows[4].pk
    assert found == []
    # April: w[4] last again → a candidate for March-April, with both ranks
    month_rows(Dim.WINDOW, windows[0].pk, 2026, 4, vs=50)
    month_rows(Dim.WINDOW, windows[4].pk, 2026, 4, b=50)
    found, april, _ = interview_candidates(Dim.WINDOW, 2026, 4, members=members)
    assert april.ranked[-1].member == windows[4].pk
    assert [(c["member"], c["rank"], c["of"], c["previous_rank"], c["previous_of"]) for c in found] == [
        (windows[4].pk, 2, 2, 4, 4)
    ]


def test_the_export_opens_in_excel_with_the_columns_and_numbers(cast, api_for, windows):
    month_rows(Dim.DEPARTMENT, cast.dept_a.pk, 2026, 3, vs=30, s=8, d=2, n_case=35)
    month_rows(Dim.DEPARTMENT, cast.dept_b.pk, 2026, 3, vs=5)
    api = api_for(user=cast.supervisor)
    r = api.get("/stats/export.xlsx", dim="department", year=2026, month=3)
    assert r.status_code == 200, r.content
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(BytesIO(r.content)).active
    headers = [c.value for c in ws[2]]
    assert headers == [
        "名次",
        "单位",
        "评价数",
        "满意度得分",
        "好评率",
        "差评数",
        "差评率",
        "评价率",
        "整改率",
        "按时整改率",
        "回访满意率",
        "排名得分",
    ]
    first = [c.value for c in ws[3]]
    assert first[:3] == [1, "长沙市市场监督管理局", 40]
    assert first[3] == pytest.approx((30 * 100 + 8 * 80 + 2 * 40) / 40)
    assert first[4] == pytest.approx(38 / 40) and first[5] == 2 and first[6] == pytest.approx(0.05)
    assert first[11] == pytest.approx(first[3])  # the only ranked unit: smoothed toward itself
    second = [c.value for c in ws[4]]
    assert second[:3] == ["样本不足", "长沙市人力资源和社会保障局", 5] and second[11] is None
    json_rows = api.get("/stats/export", dim="department", year=2026, month=3).json()["rows"]
    assert [row["n"] for row in json_rows] == [40, 5]
    assert (
        api.get("/stats/export", dim="staff", year=2026).json()["code"] == "unknown_dim"
    )  # no personal data


def test_an_outsider_exports_only_their_own_units(cast, api_for, windows):
    month_rows(Dim.DEPARTMENT, cast.dept_a.pk, 2026, 3, vs=40)
    month_rows(Dim.DEPARTMENT, cast.dept_yuelu.pk, 2026, 3, vs=3)
    rows = (
        api_for(user=cast.outsider).get("/stats/export", dim="department", year=2026, month=3).json()["rows"]
    )
    assert [row["name"] for row in rows] == ["岳麓区行政审批服务局"]
