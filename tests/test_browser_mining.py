"""The 差评 mining page and its click-through in headless Chromium at 1440×900 (screenshots kept)."""

import pytest

from haocha.mining.services import mining_refresh_all
from tests.browser import browser_page, login, screenshot
from tests.factories import PASSWORD, build_cast
from tests.mining_corpus import load
from tests.workorder_helpers import bad_rating

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_mining_page_and_click_through(live_server):
    cast = build_cast()
    for i, row in enumerate(load("holdout")[:40]):
        bad_rating(cast, f"BM-{i}", seq=i, comment=row.text)
    mining_refresh_all()
    with browser_page(1440, 900) as page:
        login(page, live_server.url, "supervisor", PASSWORD)
        page.goto(f"{live_server.url}/mining/")
        page.wait_for_selector("#mining-themes .trend canvas")
        text = page.locator("#mining-themes").inner_text()
        assert "有文字的差评" in text and "未归类" in text and "主题分类说明" in text
        assert page.locator("#mining-themes tr.theme").count() >= 10
        screenshot(page, "mining-page")
        page.click('#mining-themes tr.theme[data-theme="queue"] td.def a')
        page.wait_for_selector("#mining-comments")
        listed = page.locator("#mining-comments tbody tr").count()
        assert listed == int(page.locator("#mining-comments .count").inner_text()) > 0
        assert "排队时间长/取号难" in page.locator("#mining-comments").inner_text()
        screenshot(page, "mining-click-through")
        assert page.js_errors == []
