"""/public/ and a 通报 with a city's worth of departments in Chromium (issue 13.17): on a phone (360×640) the
page is a list of cards with search and pages, no name one character a line; every bar of the ranking charts
is labelled, on the phone and at the desk (1440×900)."""

import pytest
from django.utils import timezone

from haocha.publication.models import Notice
from tests.browser import chromium, login, new_page, screenshot
from tests.factories import PASSWORD, build_cast
from tests.public_listing_helpers import many_departments
from tests.publication_helpers import last_month_start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE, DESK = (360, 640), (1440, 900)


def _labelled_bars(page, chart: str) -> tuple[list[str], list[str]]:
    """The ranking chart's category names and the texts its SVG draws (ECharts breaks a long name over lines)."""
    names = page.evaluate(
        f"echarts.getInstanceByDom(document.querySelector('{chart}')).getOption().yAxis[0].data"
    )
    drawn = page.eval_on_selector_all(f"{chart} svg text", "els => els.map(e => e.textContent)")
    return names, drawn


def _every_bar_labelled(page, chart: str) -> int:
    names, drawn = _labelled_bars(page, chart)
    text = "".join(drawn)
    missing = [n for n in names if n.replace(" ", "") not in text]
    assert names and not missing, missing
    return len(names)


def test_public_pages_on_a_phone_and_at_the_desk(live_server):
    cast = build_cast()
    many_departments(cast)
    Notice.objects.create(region=cast.city, month=last_month_start(), published_at=timezone.now())
    base = live_server.url
    with chromium() as browser:
        page = new_page(browser, *PHONE)
        page.goto(base + "/public/")
        page.wait_for_selector("#chart-ranking svg")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 9000, height  # the walk measured 22,000 px
        widths = page.eval_on_selector_all(
            "#public-departments td.name", "els => els.map(e => e.clientWidth)"
        )
        assert len(widths) == 20 and min(widths) > 250, widths  # a name on a line, not a character a line
        assert _every_bar_labelled(page, "#chart-ranking") == 15
        screenshot(page, "public-index-phone")
        page.fill("#q", "管理局")
        page.click("#department-search button")
        page.wait_for_selector("#department-count")
        assert "“管理局”：找到" in page.inner_text("#department-count")
        assert all("管理局" in t for t in page.locator("#public-departments td.name").all_inner_texts())
        screenshot(page, "public-index-search-phone")
        page.goto(base + "/public/?page=2#departments")
        assert "第 2/3 页" in page.inner_text("#department-pager")
        page.goto(f"{base}/public/notices/{cast.city.code}/{last_month_start():%Y-%m}/")
        page.wait_for_selector("#chart-ranking svg")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
        assert _every_bar_labelled(page, "#chart-ranking") == 15
        screenshot(page, "public-notice-phone")
        assert page.js_errors == []
        page.context.close()

        page = new_page(browser, *DESK)
        page.goto(base + "/public/")
        page.wait_for_selector("#chart-ranking svg")
        assert _every_bar_labelled(page, "#chart-ranking") == 15
        months = page.evaluate(
            "echarts.getInstanceByDom(document.querySelector('#chart-trend')).getOption().xAxis[0].axisLabel.interval"
        )
        assert months == 0  # every month labelled
        screenshot(page, "public-index-desk")
        login(
            page,
            base,
            "supervisor",
            PASSWORD,
            next_url=f"/notices/{cast.city.code}/{last_month_start():%Y-%m}/",
        )
        page.wait_for_selector("#chart-ranking svg")
        assert _every_bar_labelled(page, "#chart-ranking") == 15
        screenshot(page, "notice-city-desk")
        page.goto(
            base + f"/stats/rankings/?dim=department&year={last_month_start().year}"
            f"&month={last_month_start().month}"
        )
        page.wait_for_selector("#chart-ranking canvas")
        option = page.evaluate(
            "echarts.getInstanceByDom(document.querySelector('#chart-ranking')).getOption()"
        )
        assert option["yAxis"][0]["axisLabel"]["interval"] == 0 and len(option["yAxis"][0]["data"]) == 15
        box = page.locator("#chart-ranking").bounding_box()
        assert box["height"] >= 40 * 15  # a row a bar: the labels do not overlap
        screenshot(page, "stats-rankings-departments-desk")
        assert page.js_errors == []
