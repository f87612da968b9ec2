"""/stats/ pages through HTTP: the dashboard's drill-down and scope, the rankings page, the Excel download."""

from io import BytesIO

from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from haocha.accounts.models import User
from haocha.analytics.models import Dim
from haocha.analytics.services import rollups_apply_all
from tests.factories import finished_case
from tests.test_stats_rankings import month_rows


def _as(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _rate(cast, n=6):
    api = Client()
    for i in range(n):
        finished_case(cast, f"SP-{i}", seq=i, window=cast.window_a)
        body = {
            "case_no": f"SP-{i}",
            "channel": "tablet",
            "level": "satisfied",
            "staff_no": cast.staff_a.staff_no,
        }
        r = api.post(
            "/api/ratings", body, content_type="application/json", headers={"X-Api-Key": cast.key_city}
        )
        assert r.status_code == 201, r.content
    rollups_apply_all()


def _this_month(**params) -> dict:
    """The dashboard opens on the last full month; these ratings are today's."""
    today = timezone.localdate()
    return {"period": "month", "year": today.year, "month": today.month, **params}


def test_the_dashboard_drills_down_to_the_ratings_of_one_staff_member(cast):
    _rate(cast)
    c = _as(cast.supervisor)
    page = c.get("/stats/", _this_month()).content.decode()
    assert "长沙市" in page and "口径说明" in page and "差评率 = 差评数 ÷ 评价数" in page
    assert f"department={cast.dept_a.pk}" in page  # a department row narrows the filter
    assert 'hx-get="/mining/themes/?' in page  # the themes panel loads from the mining endpoint
    today = timezone.localdate()
    dept = c.get("/stats/", _this_month(department=cast.dept_a.pk)).content.decode()
    assert f"window={cast.window_a.pk}" in dept
    window = c.get(
        "/stats/", _this_month(department=cast.dept_a.pk, window=cast.window_a.pk)
    ).content.decode()
    start = today.replace(day=1).isoformat()
    link = f"/ratings/?window={cast.window_a.pk}&amp;staff={cast.staff_a.pk}&amp;start={start}&amp;end="
    assert link in window and "李娜" in window
    # htmx asks for the partial only
    partial = c.get(
        "/stats/", {"department": cast.dept_a.pk}, headers={"HX-Request": "true"}
    ).content.decode()
    assert partial.lstrip().startswith('<div id="stats-body">') and "<html" not in partial


def test_the_dashboard_counts_match_the_rollups(cast):
    _rate(cast, n=4)
    page = _as(cast.supervisor).get("/stats/", _this_month(department=cast.dept_a.pk)).content.decode()
    assert "<b>4</b><span>评价数</span>" in page and "<b>100.00%</b><span>好评率</span>" in page


def test_the_dashboard_keeps_an_outsider_in_their_district(cast):
    c = _as(cast.outsider)
    assert c.get("/stats/", {"department": cast.dept_a.pk}).status_code == 404
    assert c.get("/stats/", {"region": "430102"}).status_code == 404
    assert c.get("/stats/", {"window": cast.window_a.pk}).status_code == 404
    page = c.get("/stats/").content.decode()
    assert "岳麓区" in page and "长沙市市场监督管理局" not in page
    nobody = User.objects.create_user(username="nobody", password="x-Haocha-2026!")
    r = _as(nobody).get("/stats/")
    assert (
        r.status_code == 403 and "“统计分析”仅向监管人员、部门管理员、差评处理人员开放" in r.content.decode()
    )
    assert Client().get("/stats/").status_code == 302  # login first


def test_bad_dashboard_filters_are_refused_in_chinese(cast):
    c = _as(cast.supervisor)
    for params in (
        {"period": "custom", "start": "2026-05-01", "end": "2026-04-01"},
        {"period": "custom", "start": "2024-01-01", "end": "2026-01-01"},
        {"period": "week"},
        {"month": "13"},
        {"channel": "carrier-pigeon"},
        {"department": "x"},
    ):
        r = c.get("/stats/", params)
        assert r.status_code in (404, 422), params
        assert 'id="page-error"' in r.content.decode()


def test_the_rankings_page_states_its_rules(cast):
    for i, window in enumerate([cast.window_a, cast.window_b]):
        month_rows(Dim.WINDOW, window.pk, 2026, 3, vs=40 - i * 10, d=i * 10)
        month_rows(Dim.WINDOW, window.pk, 2026, 2, vs=40 - i * 10, d=i * 10)
    month_rows(Dim.STAFF, cast.staff_a.pk, 2026, 3, vs=35)
    page = (
        _as(cast.supervisor)
        .get("/stats/rankings/", {"dim": "window", "year": 2026, "month": 3})
        .content.decode()
    )
    assert "评价数少于 30 条的单位不参加排名" in page and "服务明星" in page and "办事能手" in page
    assert "约谈候选窗口" in page and "2026年2月" in page
    assert "社保服务" in page.split('id="interviews"')[1]  # last in February and in March
    assert "李娜" in page.split('id="stars"')[1].split("</table>")[0]  # 35 ratings, no 差评
    year = _as(cast.supervisor).get("/stats/rankings/", {"dim": "item", "scope": "year", "year": 2026})
    assert year.status_code == 200 and "约谈候选窗口" not in year.content.decode()


def test_the_excel_download_from_the_page(cast):
    month_rows(Dim.DEPARTMENT, cast.dept_a.pk, 2026, 3, vs=31)
    r = _as(cast.supervisor).get("/stats/export/", {"dim": "department", "year": 2026, "month": 3})
    assert r.status_code == 200 and "attachment" in r["Content-Disposition"]
    ws = load_workbook(BytesIO(r.content)).active
    assert ws["A1"].value == "2026年03月部门评价结果"
    assert [c.value for c in ws[3]][:3] == [1, "长沙市市场监督管理局", 31]
    assert _as(cast.supervisor).get("/stats/export/", {"dim": "staff", "year": 2026}).status_code == 422


def test_the_home_page_reads_the_rollups(cast, client):
    _rate(cast, n=2)
    page = client.get("/").content.decode()
    assert "<b>2</b><span>评价数</span>" in page and "<b>100.00%</b><span>好评率</span>" in page
