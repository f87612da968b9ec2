"""A monthly 通报, the 差评 themes fragment and the public site in headless Chromium (desktop and mobile)."""

import pytest
from django.utils import timezone

from haocha.analytics.models import ScorePolicy
from tests.browser import browser_page, chromium, login, new_page, screenshot
from tests.factories import PASSWORD, build_cast
from tests.publication_helpers import build_month, last_month_start

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_notice_and_themes_for_a_supervisor(live_server):
    cast = build_cast()
    ScorePolicy.objects.create(region=cast.city, min_sample=5, prior_weight=10)
    build_month(cast)
    with browser_page() as page:
        login(page, live_server.url, "supervisor", PASSWORD)
        page.goto(f"{live_server.url}/notices/{cast.city.code}/{last_month_start():%Y-%m}/")
        page.wait_for_selector("#chart-trend svg")
        page.wait_for_selector("#chart-ranking svg")
        assert page.locator("#department-ranking tbody tr").count() == 2
        screenshot(page, "notice-city")
        page.click("#publish")
        page.wait_for_load_state()
        assert "已于" in page.locator("#notice").inner_text()
        page.goto(f"{live_server.url}/mining/")
        page.wait_for_selector("#mining-themes .trend canvas")
        assert "排队时间长/取号难" in page.locator("#mining-themes").inner_text()
        screenshot(page, "mining-themes")
        assert page.js_errors == []


def test_public_site_on_desktop_and_mobile(live_server):
    cast = build_cast()
    build_month(cast)
    from haocha.publication.models import Notice

    Notice.objects.create(region=cast.city, month=last_month_start(), published_at=timezone.now())
    with chromium() as browser:
        for name, width, height in (("desktop", 1280, 800), ("mobile", 390, 844)):
            page = new_page(browser, width, height)
            page.goto(live_server.url + "/public/")
            page.wait_for_selector("#chart-trend svg")
            assert page.locator("#public-departments tbody tr").count() == 2
            assert page.evaluate("document.documentElement.scrollWidth") <= width + 1 or name == "desktop"
            screenshot(page, f"public-index-{name}")
            page.click("#public-departments tbody tr a >> nth=0")
            page.wait_for_selector("#chart-trend svg")
            screenshot(page, f"public-department-{name}")
            page.goto(f"{live_server.url}/public/notices/{cast.city.code}/{last_month_start():%Y-%m}/")
            page.wait_for_selector("#chart-trend svg")
            screenshot(page, f"public-notice-{name}")
            assert page.js_errors == []
