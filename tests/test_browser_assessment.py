"""The yearly assessment page in Chromium at 1366×768: the rule beside the scores, the stacked chart drawn,
the table inside the page's width, the workbook link; a screenshot for the record."""

import pytest

from tests.browser import browser_page, login, screenshot
from tests.factories import PASSWORD
from tests.test_assessment import year_of  # noqa: F401  the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_assessment_page_shows_the_rule_beside_the_scores(live_server, cast, year_of):  # noqa: F811
    with browser_page(1366, 768) as page:
        login(page, live_server.url, "supervisor", PASSWORD, next_url=f"/assessment/%3Fyear={year_of}")
        page.wait_for_selector("#chart-assessment canvas")
        assert page.locator("#assessment-tabs a.on").inner_text() == "部门考核"
        assert page.locator("#assessment-title").inner_text() == f"长沙市{year_of}年度部门目标考核"
        rule = page.locator("#rule-text").inner_text()
        assert rule.startswith("长沙市年度目标考核规则：满分 100 分") and "真实性 15 分" in rule
        # the rule and the chart side by side at this width
        rule_box, chart_box = (
            page.locator("#rule").bounding_box(),
            page.locator("#chart-assessment").bounding_box(),
        )
        assert abs(rule_box["y"] - chart_box["y"]) < 120 and rule_box["x"] < chart_box["x"]
        rows = page.locator("#assessment-table tbody tr")
        assert rows.count() == 2 and rows.nth(0).locator("td").first.inner_text() == "1"
        assert page.locator("#assessment-insufficient tbody tr").count() == 1
        assert "回访否定占比" in page.locator("#definitions").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366
        # the total and the rank are read without scrolling the wide table sideways
        total = page.locator("#total-heading").bounding_box()
        assert total["x"] + total["width"] <= 1366, total
        screenshot(page, "assessment-year-1366")
        page.click("#assessment-tabs a:has-text('区县考核')")
        page.wait_for_selector("#assessment-insufficient")
        assert "岳麓区" in page.locator("#assessment-insufficient").inner_text()
        screenshot(page, "assessment-districts-1366")
        with page.expect_download() as download:
            page.click("#xlsx-link")
        assert download.value.suggested_filename == f"haocha-assessment-district-430100-{year_of}.xlsx"
        assert page.js_errors == []
