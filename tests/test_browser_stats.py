"""The dashboard and a rankings page in headless Chromium: charts drawn, htmx drill-down, no JS errors."""

from datetime import date

import pytest

from haocha.analytics.models import Dim
from haocha.analytics.services import rollups_apply_all
from haocha.mining.services import mining_refresh_all
from tests.browser import browser_page, htmx_ready, login, screenshot
from tests.factories import PASSWORD, build_cast, finished_case
from tests.test_stats_rankings import month_rows

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_dashboard_draws_its_charts_and_drills_down(live_server):
    from django.test import Client

    cast = build_cast()
    for i, level in enumerate(["very_satisfied"] * 5 + ["satisfied", "dissatisfied"]):
        finished_case(cast, f"BS-{i}", seq=i, window=cast.window_a)
        body = {
            "case_no": f"BS-{i}",
            "channel": ["tablet", "pc"][i % 2],
            "level": level,
            "comment": "要求不清楚",
        }
        body["staff_no"] = cast.staff_a.staff_no
        r = Client().post(
            "/api/ratings", body, content_type="application/json", headers={"X-Api-Key": cast.key_city}
        )
        assert r.status_code == 201, r.content
    rollups_apply_all()
    mining_refresh_all()
    with browser_page(1280, 900) as page:
        today = date.today()  # these ratings are today's: this month, not the last full one the page opens on
        this_month = f"/stats/%3Fperiod=month%26year={today.year}%26month={today.month}"
        login(page, live_server.url, "supervisor", PASSWORD, next_url=this_month)
        page.wait_for_selector("#chart-trend canvas")
        for chart in ("#chart-levels", "#chart-channels"):
            assert page.locator(f"{chart} canvas").count() == 1
        assert page.locator("#focus-name").inner_text() == "长沙市"
        assert "7" in page.locator("#stats-cards").inner_text()
        page.wait_for_function("!document.querySelector('#themes-panel').innerText.includes('正在加载')")
        themes = page.locator("#themes-panel").inner_text()
        assert "差评文本挖掘" in themes and "暂不可用" not in themes
        assert "口径说明" in page.locator("#definitions").inner_text()
        screenshot(page, "stats-dashboard")
        page.click(f"#drill-down a[href*='department={cast.dept_a.pk}']")  # htmx swap, not a new page
        page.wait_for_function("document.querySelector('#focus-name').innerText.includes('市场监督')")
        assert f"department={cast.dept_a.pk}" in page.url
        page.wait_for_selector("#chart-levels canvas")
        page.click(f"#drill-down a[href*='window={cast.window_a.pk}']")
        page.wait_for_function("document.querySelector('#focus-name').innerText.includes('A01')")
        assert page.locator("a.to-ratings[href*='staff=']").count() == 1
        assert "李娜" in page.locator("#drill-down").inner_text()
        htmx_ready(page, "#stats-filters")  # the drill-down swapped the form in: wired up before a change
        page.select_option("#stats-filters select[name=channel]", "tablet")
        page.wait_for_function("location.search.includes('channel=tablet')")
        page.wait_for_function(
            "document.querySelector('#stats-cards .card b').innerText === '4'"
        )  # 4 by tablet
        assert "政务大厅平板电脑" in page.locator(".focus-line").inner_text()
        page.wait_for_selector("#chart-trend canvas")
        screenshot(page, "stats-dashboard-window")
        assert page.js_errors == []


def test_the_rankings_page_draws_the_ranking(live_server):
    cast = build_cast()
    today = date.today()
    for i, window in enumerate([cast.window_a, cast.window_b]):
        month_rows(Dim.WINDOW, window.pk, today.year, today.month, vs=40 - i * 5, s=5, d=i * 3)
    with browser_page(1280, 900) as page:
        this_month = f"/stats/rankings/%3Fdim=window%26year={today.year}%26month={today.month}"
        login(page, live_server.url, "supervisor", PASSWORD, next_url=this_month)
        page.wait_for_selector("#chart-ranking canvas")
        assert page.locator("#ranked tbody tr").count() == 2
        assert "不参加排名" in page.locator("#rank-rule").inner_text()
        screenshot(page, "stats-rankings")
        assert page.js_errors == []
