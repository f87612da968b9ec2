"""The rankings page in Chromium at the desk (1440×900) as the walk met it (issue 13.14): a city whose staff
each have fewer ratings a month than the minimum sample. It opens on a tab with a ranking, and every empty
table and chart says why."""

from datetime import date, timedelta

import pytest

from haocha.analytics.models import Dim
from tests.browser import browser_page, login, screenshot
from tests.factories import PASSWORD, build_cast
from tests.test_stats_rankings import month_rows

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_rankings_open_on_a_tab_with_data_and_explain_empty_tables(live_server):
    cast = build_cast()
    last = (date.today().replace(day=1) - timedelta(days=1)).replace(day=1)
    month_rows(Dim.DEPARTMENT, cast.dept_a.pk, last.year, last.month, vs=40, s=8, d=1)
    month_rows(Dim.DEPARTMENT, cast.dept_b.pk, last.year, last.month, vs=25, s=10, b=3)
    month_rows(Dim.HALL, cast.hall.pk, last.year, last.month, vs=65, s=18, b=3, d=1)
    month_rows(Dim.WINDOW, cast.window_a.pk, last.year, last.month, vs=20, s=4, d=1)
    month_rows(Dim.WINDOW, cast.window_b.pk, last.year, last.month, vs=15, s=6)
    month_rows(Dim.STAFF, cast.staff_a.pk, last.year, last.month, vs=9, s=2)
    with browser_page(1440, 900) as page:
        login(page, live_server.url, "supervisor", PASSWORD, next_url="/stats/rankings/")
        page.wait_for_selector("#chart-ranking canvas")
        assert page.locator("#rank-tabs a.on").inner_text() == "部门排名"
        assert page.locator("#ranked tbody tr").count() == 2
        for section in ("stars", "able", "interviews"):
            reason = page.locator(f"#{section} .empty-reason").inner_text()
            assert "少于最少评价数 30 条" in reason, (section, reason)
        screenshot(page, "stats-rankings-opens-with-data-desk")
        page.click("#rank-tabs a:has-text('窗口排名')")
        page.wait_for_selector("#chart-ranking.empty")
        chart = page.locator("#chart-ranking").inner_text()
        assert (
            "本期有 2 个窗口有评价，但评价数都少于最少评价数 30 条" in chart and "本期暂无数据" not in chart
        )
        assert page.locator("#insufficient tbody tr").count() == 2
        screenshot(page, "stats-rankings-window-tab-explained-desk")
        assert page.js_errors == []
