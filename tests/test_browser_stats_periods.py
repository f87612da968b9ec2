"""The dashboard and the rankings in Chromium at the desk (1440×900): they open on the last full month, and a
month that is not over is marked on every chart and figure (issue 13.13)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from haocha.analytics.services import rollups_apply_all
from haocha.mining.services import mining_refresh_all
from haocha.organisations.models import Staff, Window
from tests.browser import browser_page, htmx_ready, login, screenshot
from tests.factories import PASSWORD, build_cast, finished_case
from tests.workorder_helpers import frozen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DESK = (1440, 900)
LEVELS = ["very_satisfied"] * 6 + ["satisfied"] * 3 + ["basically_satisfied", "dissatisfied"]


def _last_month_15() -> datetime:
    first = date.today().replace(day=1)
    day = (first - timedelta(days=1)).replace(day=15)
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def rate_a_month(cast, prefix: str, n: int, *, staff_per_window: int = 1):
    """`n` ratings a window (two windows), each by its own case, with a comment on the 差评."""
    for w, (window, item) in enumerate([(cast.window_a, cast.item_a), (cast.window_b, cast.item_b)]):
        staff = list(Staff.objects.filter(windows=window)) or [cast.staff_a]
        for i in range(n):
            case_no = f"{prefix}-{w}-{i}"
            finished_case(
                cast, case_no, item=item, seq=w * 100 + i, window=window, finished_ago=timedelta(hours=2 + i)
            )
            level = LEVELS[(i + w) % len(LEVELS)]
            body = {"case_no": case_no, "channel": ["tablet", "pc", "qrcode"][i % 3], "level": level}
            body["staff_no"] = staff[i % len(staff)].staff_no
            if level == "dissatisfied":
                body["comment"] = "材料要求不清楚，来回跑了两次"
            r = Client().post(
                "/api/ratings", body, content_type="application/json", headers={"X-Api-Key": cast.key_city}
            )
            assert r.status_code == 201, r.content


def test_the_results_pages_open_on_the_last_full_month_and_mark_a_partial_one(live_server):
    cast = build_cast()
    Staff.objects.create(staff_no="SJ0002", name="王芳", department=cast.dept_b).windows.add(cast.window_b)
    assert Window.objects.count() == 2
    with frozen(_last_month_15()):
        rate_a_month(cast, "LM", 33)
    rate_a_month(cast, "TM", 3)  # today: the first days of this month
    rollups_apply_all()
    mining_refresh_all()
    today = date.today()
    last = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    with browser_page(*DESK) as page:
        login(page, live_server.url, "supervisor", PASSWORD, next_url="/stats/")
        page.wait_for_selector("#chart-trend canvas")
        period = page.locator("#period-line").inner_text()
        assert period.startswith(f"{last:%Y-%m-%d} 至"), period
        assert page.locator(".partial-mark").count() == 0
        assert "66" in page.locator("#stats-cards").inner_text()
        page.wait_for_function("!document.querySelector('#themes-panel').innerText.includes('正在加载')")
        screenshot(page, "stats-dashboard-last-full-month-desk")

        htmx_ready(page, "#stats-filters")
        if (today.year, today.month) != (last.year, last.month):
            if today.year != last.year:
                page.select_option("#stats-filters select[name=year]", str(today.year))
                page.wait_for_function(f"location.search.includes('year={today.year}')")
                htmx_ready(page, "#stats-filters")
            page.select_option("#stats-filters select[name=month]", str(today.month))
        page.wait_for_function(f"location.search.includes('month={today.month}')")
        page.wait_for_selector("#period-note")
        assert "截至今日" in page.locator("#period-note").inner_text()
        cards = page.locator("#stats-cards .card")
        assert cards.count() == 7
        for i in range(7):
            assert "截至今日" in cards.nth(i).inner_text()
        headings = page.locator("#stats-body .panel:not(.definitions) > h2")
        assert headings.count() >= 9
        for i in range(headings.count()):
            assert "截至今日" in headings.nth(i).inner_text(), headings.nth(i).inner_text()
        page.wait_for_selector("#chart-trend canvas")
        screenshot(page, "stats-dashboard-partial-month-desk")

        page.goto(live_server.url + "/stats/rankings/")
        page.wait_for_selector("#chart-ranking canvas")
        assert f"{last.year}年{last.month}月" in page.locator("h1").inner_text()
        assert page.locator(".partial-mark").count() == 0
        screenshot(page, "stats-rankings-last-full-month-desk")
        page.goto(live_server.url + f"/stats/rankings/?dim=window&year={today.year}&month={today.month}")
        assert "部分月份·截至今日" in page.locator("h1").inner_text()
        assert "月中排名不作为评优和约谈依据" in page.locator("#period-note").inner_text()
        screenshot(page, "stats-rankings-partial-month-desk")
        assert page.js_errors == []
