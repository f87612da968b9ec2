"""The smaller fixes of issue 13.21 in Chromium, at the sizes their users have: the desk (1440×900) for staff,
a phone (360×640) for citizens, the kiosk (1080×1920) for the terminal."""

import pytest
from django.db import connections

from haocha.channels import links
from tests.browser import chromium, login, new_page, screenshot
from tests.channel_helpers import clerk_is_staff, sent_codes
from tests.factories import PASSWORD, build_cast, finished_case
from tests.workorder_helpers import act, bad_rating, refresh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DESK, PHONE, KIOSK = (1440, 900), (360, 640), (1080, 1920)


def test_staff_pages_at_the_desk(live_server):
    cast = build_cast()
    clerk_is_staff(cast)
    cast.operator.display_name = "陈静"
    cast.operator.save(update_fields=["display_name"])
    order = bad_rating(cast, "BSF-1")
    act(cast.operator, order, "verify", valid="1", department=cast.dept_a.pk)
    act(cast.handler_a, refresh(order), "return", reason="属于社保业务，非本部门职责")
    act(cast.operator, refresh(order), "assign", department=cast.dept_b.pk)
    base = live_server.url
    try:
        with chromium() as browser:
            page = new_page(browser, *DESK)
            page.goto(base + "/login/")
            user, password = page.locator("#id_username"), page.locator("#id_password")
            assert password.bounding_box()["width"] == user.bounding_box()["width"]
            screenshot(page, "login-desk")
            login(page, base, "supervisor", PASSWORD, next_url=f"/workorders/{order.number}/")
            timeline = page.locator("#timeline").inner_text()
            assert "陈静 · 12345话务员（长沙市）" in timeline
            assert "由 长沙市市场监督管理局 改派给 长沙市人力资源和社会保障局" in timeline
            screenshot(page, "workorder-timeline-desk")
            page.goto(base + "/notices/")
            first = page.locator("ul.notice-months a").first.inner_text()
            assert first.startswith("长沙市 ") and first.endswith("月通报")
            screenshot(page, "notices-index-desk")
            page.context.close()

            page = new_page(browser, *DESK)
            login(page, base, "clerk", PASSWORD, next_url="/channels/")
            page.click(f"form[action='/channels/windows/{cast.window_a.code}/tablet/'] button")
            page.wait_for_selector("#activation")
            url = page.input_value("#activation-url")
            assert page.url.endswith(f"/channels/?hall={cast.hall.pk}")  # a GET: a reload posts nothing
            page.reload()
            assert page.input_value("#activation-url") == url
            screenshot(page, "channels-activation-after-redirect-desk")
            assert page.js_errors == []
    finally:
        connections.close_all()


def test_citizen_pages_on_a_phone_and_the_kiosk(live_server):
    cast = build_cast()
    finished_case(cast, "BSF-MY-1", seq=41)
    rated = finished_case(cast, "BSF-MY-2", seq=41, item=cast.item_b)
    base = live_server.url
    try:
        with chromium() as browser:
            page = new_page(browser, *PHONE)
            page.goto(base + links.rating_link_path(rated, channel="pc"))
            page.click("label.level-very_dissatisfied")
            page.fill("#rate-form-comment", "网上材料清单和窗口要求不一致")
            page.click("#rate-form button[type=submit]")
            page.wait_for_selector("#thanks")
            assert "评价渠道" not in page.inner_text("body") and "PC端" not in page.inner_text("body")
            assert page.locator("#follow-up-card").evaluate("d => d.open") is False
            assert page.locator("#follow-up-form").is_hidden()
            screenshot(page, "mobile-after-bad-rating-phone")

            page.goto(base + "/my/")
            page.check("input[value=phone]")
            assert page.get_attribute("#value", "inputmode") == "tel"
            page.check("input[value=id]")
            assert page.get_attribute("#value", "inputmode") == "text"
            page.check("input[value=phone]")
            page.fill("#value", "13812345678")
            page.click("#my-send")
            page.wait_for_selector("#code-sent")
            page.fill("#code", sent_codes()[-1][1])
            page.click("#my-verify")
            page.wait_for_selector("#my-orders")
            lines = page.eval_on_selector_all(".date", "els => els.map(e => e.getClientRects().length)")
            assert lines and all(n == 1 for n in lines), lines  # no date broken over two lines
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE[0]
            screenshot(page, "my-cases-phone")

            page.goto(base + "/")
            assert "近 12 个月" in page.inner_text("#home-period")
            screenshot(page, "home-period-phone")
            page.context.close()

            kiosk = new_page(browser, *KIOSK)
            kiosk.goto(base + "/terminal/")
            text = kiosk.inner_text("#not-activated")
            assert "本设备尚未激活为自助服务终端" in text and "评价渠道" in text and "403" not in text
            screenshot(kiosk, "terminal-not-activated-kiosk")
            assert kiosk.js_errors == [] and page.js_errors == []
    finally:
        connections.close_all()
