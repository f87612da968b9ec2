"""Monthly 通报: figures equal the selectors', the ranking rule, the Excel workbook, scope and publishing."""

from io import BytesIO

from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from haocha.analytics.models import Dim, ScorePolicy
from haocha.analytics.selectors import Period, breakdown, figures
from haocha.publication.excel import SHEETS
from haocha.publication.models import Notice
from tests.publication_helpers import build_month, last_month_start
from tests.workorder_helpers import staff


def _url(cast, suffix=""):
    return f"/notices/{cast.city.code}/{last_month_start():%Y-%m}/{suffix}"


def test_notice_figures_equal_the_selectors(cast):
    ScorePolicy.objects.create(region=cast.city, min_sample=5, prior_weight=10)
    build_month(cast)
    month = last_month_start()
    period = Period.month(month.year, month.month)
    r = staff(cast.supervisor).get(_url(cast))
    assert r.status_code == 200
    expected = figures(Dim.REGION, cast.city.pk, period)
    assert expected.n == 33 and expected.bad == 3
    assert r.context["figures"].as_dict() == expected.as_dict()
    html = r.content.decode()
    assert (
        '<td class="num value">33</td>' in html
        and "样本不足" not in html.split('id="department-ranking"')[1][:50]
    )
    depts = breakdown(Dim.DEPARTMENT, period, members=[cast.dept_a.pk, cast.dept_b.pk])
    ranked = {row.member_id: row for row in r.context["departments"]}
    assert set(ranked) == {cast.dept_a.pk, cast.dept_b.pk}
    mean = sum(f.score for f in depts.values()) / len(depts)  # the ranked units' plain mean score
    for pk, f in depts.items():
        assert ranked[pk].figures.as_dict() == f.as_dict()
        assert abs(ranked[pk].smoothed - (f.n * f.score + 10 * mean) / (f.n + 10)) < 1e-9
    assert [row.rank for row in r.context["departments"]] == [1, 2]
    assert r.context["departments"][0].smoothed >= r.context["departments"][1].smoothed
    assert "× 参评单位平均得分）" in html and "评价数少于 5 条的单位不参加排名" in html


def test_units_below_the_minimum_sample_are_not_ranked(cast):
    build_month(cast, n=6)  # default minimum sample 30
    r = staff(cast.supervisor).get(_url(cast))
    assert r.context["departments"] == [] and len(r.context["departments_small"]) == 2
    assert "样本不足（评价数少于 30 条" in r.content.decode()


def test_excel_workbook_has_the_sheets_and_figures(cast):
    build_month(cast)
    r = staff(cast.supervisor).get(_url(cast, "notice.xlsx"))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(BytesIO(r.content))
    assert tuple(wb.sheetnames) == SHEETS
    summary = {row[0]: row[1] for row in wb["概况"].iter_rows(min_row=4, values_only=True)}
    month = last_month_start()
    expected = figures(Dim.REGION, cast.city.pk, Period.month(month.year, month.month))
    assert summary["评价数"] == expected.n and summary["差评数"] == expected.bad
    assert abs(summary["差评率"] - expected.bad_rate) < 1e-12
    cases = list(wb["差评处置"].iter_rows(min_row=2, values_only=True))
    assert len(cases) == 3 and all("13911112222" not in str(row) for row in cases)
    trend = wb["评价趋势"]
    assert trend._charts and any(row[1] == expected.n for row in trend.iter_rows(min_row=2, values_only=True))


def test_notice_scope(cast):
    assert staff(cast.outsider).get(_url(cast)).status_code == 404  # supervises 岳麓区 only
    refused = staff(cast.handler_a).get(_url(cast))  # department roles see no region totals
    assert refused.status_code == 403 and "“通报”仅向监管人员开放" in refused.content.decode()
    assert staff(cast.outsider).get(_url(cast, "notice.xlsx")).status_code == 404
    assert (
        staff(cast.outsider).get(f"/notices/{cast.yuelu.code}/{last_month_start():%Y-%m}/").status_code == 200
    )
    assert staff(cast.supervisor).get(f"/notices/{cast.city.code}/2026-13/").status_code == 404
    assert staff(cast.supervisor).get("/notices/999999/2026-01/").status_code == 404
    assert Client().get(_url(cast)).status_code == 302
    index = staff(cast.outsider).get("/notices/").content.decode()
    assert cast.yuelu.name in index and f"/notices/{cast.city.code}/" not in index


def test_publishing_makes_the_notice_public(cast):
    build_month(cast, n=4)
    public = f"/public/notices/{cast.city.code}/{last_month_start():%Y-%m}/"
    assert Client().get(public).status_code == 404
    this_month = f"/notices/{cast.city.code}/{timezone.localdate():%Y-%m}/publish/"
    assert staff(cast.supervisor).post(this_month).status_code == 409
    assert staff(cast.outsider).post(_url(cast, "publish/")).status_code == 404
    assert staff(cast.supervisor).post(_url(cast, "publish/")).status_code == 302
    assert Notice.objects.filter(region=cast.city, month=last_month_start()).exists()
    assert Client().get(public).status_code == 200
    assert Client().get(public + "notice.xlsx").status_code == 200
    assert public in Client().get("/public/notices/").content.decode()


def test_typical_cases_list_closed_orders_first_on_every_database(cast):
    from haocha.publication.selectors import typical_cases
    from haocha.workorders.models import Status, WorkOrder

    build_month(cast)
    orders = list(WorkOrder.objects.order_by("pk"))
    assert len(orders) == 3 and all(o.closed_at is None for o in orders)
    closed = orders[1]
    WorkOrder.objects.filter(pk=closed.pk).update(status=Status.CLOSED, closed_at=timezone.now())
    month = last_month_start()
    cases = typical_cases(cast.city, Period.month(month.year, month.month))
    assert len(cases) == 3
    # PostgreSQL sorts NULL first in a descending order: the closed one must still lead
    assert [c["status"] for c in cases] == ["已办结", "待核实", "待核实"]
