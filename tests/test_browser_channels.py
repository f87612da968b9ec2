"""The channels in headless Chromium, with screenshots: the window tablet in both orientations (and a server
outage in the middle of a session: the rating is kept and delivered once), the mobile page at 360×640, the
self-service terminal and 我的办件."""

from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connections

from haocha.accounts.access import actor_for_user
from haocha.channels import devices, duty, links
from haocha.channels.models import ServedCase
from haocha.evaluations.models import Rating
from haocha.workorders.models import WorkOrder
from tests.browser import chromium, login, new_page, screenshot
from tests.channel_helpers import clerk_is_staff, sent_codes
from tests.factories import PASSWORD, build_cast, finished_case, resident_id
from tests.servers import ProductionServer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@contextmanager
def browser_session():
    """Chromium; ORM calls made while Playwright runs get a connection of their own, closed at the end
    (PostgreSQL will not drop a test database someone is still connected to)."""
    with chromium() as browser:
        try:
            yield browser
        finally:
            connections.close_all()


def activate_in(page, base, code):
    page.goto(f"{base}/devices/activate/{code}/")
    page.click("#activate-button")
    page.wait_for_selector(".level")


def tablet_with_clerk_on_duty(cast):
    """The clerk on duty at window A01 and a tablet registered there (1 s between ratings); its code."""
    staff = clerk_is_staff(cast)
    duty.duty_start(staff=staff, window=cast.window_a, label="clerk")
    device, code = devices.tablet_register(actor=actor_for_user(cast.clerk), window=cast.window_a)
    device.min_interval_seconds = 1
    device.save(update_fields=["min_interval_seconds"])
    return staff, device, code


@contextmanager
def tablet_on_server(code):
    """`haocha serve` and a Chromium page activated as the tablet with activation `code`."""
    server = ProductionServer()
    try:
        server.start()
        with browser_session() as browser:
            page = new_page(browser, 1280, 800)
            activate_in(page, server.url, code)
            yield server, page
    finally:
        server.stop()
        server.log.close()


def pending(page) -> int:
    return int(page.get_attribute("#sync", "data-pending"))


def test_tablet_landscape_survives_a_server_outage():
    cast = build_cast()
    staff, device, code = tablet_with_clerk_on_duty(cast)
    with tablet_on_server(code) as (server, page):
        assert page.inner_text("#t-staff-name") == "李娜" and page.inner_text("#t-staff-no") == "SJ0001"
        assert page.inner_text("#t-window-number") == "A01"
        assert page.locator("#t-staff svg.initials").count() == 1  # no photo: initials
        assert page.locator(".level").all_inner_texts() == [
            "非常满意",
            "满意",
            "基本满意",
            "不满意",
            "非常不满意",
        ]
        screenshot(page, "ch-tablet-landscape-start")

        page.click("[data-level=dissatisfied]")
        page.wait_for_selector("#screen-reasons:not([hidden])")
        page.click("#t-submit")  # neither reason nor comment
        page.wait_for_selector("#t-reason-error:not([hidden])")
        page.click("#t-reasons .reason >> nth=1")
        page.fill("#t-comment", "等候时间较长")
        screenshot(page, "ch-tablet-landscape-reasons")
        page.click("#t-submit")
        page.wait_for_selector("#screen-thanks:not([hidden])")
        page.wait_for_selector('#sync[data-pending="0"][data-sent="1"]')
        screenshot(page, "ch-tablet-landscape-thanks")
        first = Rating.objects.get()
        assert (first.level, first.reason_codes, first.comment) == (
            "dissatisfied",
            ["OF402"],
            "等候时间较长",
        )
        page.wait_for_selector("#screen-start:not([hidden])", timeout=20_000)  # back to the start by itself

        server.stop()
        assert server.is_down()
        page.wait_for_function("!document.querySelector('.level').disabled")
        page.click("[data-level=very_satisfied]")
        page.wait_for_selector("#screen-thanks:not([hidden])")
        page.wait_for_selector("#sync.offline", timeout=15_000)
        assert pending(page) == 1 and "待发送" in page.inner_text("#sync")
        stored = page.evaluate(
            f"JSON.parse(localStorage.getItem('haocha.tablet.pending.{cast.window_a.code}'))"
        )
        assert len(stored) == 1 and stored[0]["level"] == "very_satisfied"
        screenshot(page, "ch-tablet-offline-pending")
        page.wait_for_timeout(3000)  # a few failed retries while the server is away
        assert Rating.objects.count() == 1

        server.start()
        page.wait_for_selector('#sync[data-pending="0"]', timeout=45_000)
        assert page.inner_text("#sync") == "评价已全部送达"
        screenshot(page, "ch-tablet-back-online")
        page.wait_for_timeout(6000)  # the page keeps polling: nothing is sent twice
        assert page.evaluate(f"localStorage.getItem('haocha.tablet.pending.{cast.window_a.code}')") == "[]"
        assert page.js_errors == []
    ratings = list(Rating.objects.order_by("rated_at"))
    assert len(ratings) == 2
    late = ratings[1]
    assert (late.level, late.channel, late.window, late.staff, late.device_id) == (
        "very_satisfied",
        "tablet",
        cast.window_a,
        staff,
        device.code,
    )
    assert late.rated_at < late.received_at  # counted when pressed, not when delivered


def test_tablet_starts_during_an_outage_from_its_offline_copy():
    """A tablet that restarts while the server is away opens its page from the copy its service worker
    kept; the rating pressed then waits, and is delivered once when the server is back."""
    cast = build_cast()
    staff, device, code = tablet_with_clerk_on_duty(cast)
    with tablet_on_server(code) as (server, page):
        page.wait_for_selector("body[data-offline-copy=kept]", timeout=15_000)
        kept = page.evaluate(
            "caches.open('haocha-tablet-1').then(c => c.keys())"
            ".then(k => k.map(r => new URL(r.url).pathname + new URL(r.url).search))"
        )
        assert f"/tablet/{cast.window_a.code}/" in kept
        assert any(p.startswith("/static/channels/tablet.js") for p in kept), kept
        assert any(p.startswith("/static/channels/tablet.css") for p in kept), kept

        server.stop()
        assert server.is_down()
        page.reload()  # the tablet restarts during the outage
        page.wait_for_selector(".level")
        assert page.inner_text("#t-staff-name") == "网络恢复后显示上岗人员"
        assert page.inner_text("#t-window-number") == "A01"
        page.wait_for_function("!document.querySelector('.level').disabled")
        page.click("[data-level=satisfied]")
        page.wait_for_selector("#screen-thanks:not([hidden])")
        page.wait_for_selector("#sync.offline", timeout=15_000)
        assert pending(page) == 1
        screenshot(page, "ch-tablet-offline-start")
        assert Rating.objects.count() == 0

        server.start()
        page.wait_for_selector('#sync[data-pending="0"]', timeout=45_000)
        page.wait_for_function(
            "document.getElementById('t-staff-name').textContent === '李娜'", timeout=30_000
        )  # the duty state is back once the server answers
        assert page.js_errors == []
    rating = Rating.objects.get()
    assert (rating.level, rating.channel, rating.window, rating.staff, rating.device_id) == (
        "satisfied",
        "tablet",
        cast.window_a,
        staff,
        device.code,
    )


def test_tablet_portrait_rates_the_case_being_served(live_server):
    cast = build_cast()
    staff = clerk_is_staff(cast)
    case = finished_case(cast, "BRW-TAB-1", window=cast.window_a)
    base = live_server.url
    with browser_session() as browser:
        clerk = new_page(browser)
        login(clerk, base, "clerk", PASSWORD, "/desk/")
        clerk.select_option("#duty-window-select", cast.window_a.code)
        clerk.click("#duty-start")
        clerk.wait_for_selector("#duty-panel")
        clerk.fill("#case_no", "BRW-TAB-1")
        clerk.click("#serving-form button")
        clerk.wait_for_selector("#served-case:has-text('BRW-TAB-1')")
        screenshot(clerk, "ch-desk-on-duty")

        clerk.goto(base + "/channels/")
        clerk.click(f"#w-{cast.window_a.code} button:has-text('登记评价器')")
        clerk.wait_for_selector("#activation")
        activation_url = clerk.input_value("#activation-url")
        screenshot(clerk, "ch-channels-activation")

        tablet = new_page(browser, 800, 1280)
        tablet.goto(activation_url)
        assert "A01号窗口 评价器" in tablet.inner_text("#activate-target")
        tablet.click("#activate-button")
        tablet.wait_for_selector(".level")
        assert "食品经营许可" in tablet.inner_text("#t-case") and "王**" in tablet.inner_text("#t-case")
        boxes = [tablet.locator(".level").nth(i).bounding_box() for i in range(5)]
        assert all(b["width"] > 600 for b in boxes)  # portrait: one button per row, full width
        assert boxes[0]["y"] < boxes[1]["y"] < boxes[4]["y"] and boxes[4]["y"] + boxes[4]["height"] <= 1280
        screenshot(tablet, "ch-tablet-portrait-start")
        tablet.click("[data-level=satisfied]")
        tablet.wait_for_selector('#sync[data-pending="0"][data-sent="1"]')
        screenshot(tablet, "ch-tablet-portrait-thanks")

        clerk.goto(base + "/desk/")
        clerk.wait_for_selector("#desk-feed li")
        feed = clerk.inner_text("#desk-feed")
        assert "已收到评价" in feed and "满意" not in clerk.content()
        screenshot(clerk, "ch-desk-received")

        supervisor = new_page(browser)
        login(supervisor, base, "supervisor", PASSWORD, "/ratings/")
        supervisor.wait_for_selector("#rating-table")
        row = supervisor.locator("#rating-table tbody tr").first
        assert row.locator(".channel").inner_text() == "政务大厅平板电脑"
        assert row.locator(".device").inner_text() == f"PJQ-{cast.window_a.code}"
        screenshot(supervisor, "ch-ratings-list")
        row.locator("a:has-text('详情')").click()
        supervisor.wait_for_selector("#rating-facts")
        screenshot(supervisor, "ch-rating-detail")
        assert tablet.js_errors == [] and clerk.js_errors == [] and supervisor.js_errors == []
    rating = Rating.objects.get()
    assert (rating.case, rating.staff, rating.level) == (case, staff, "satisfied")
    assert ServedCase.objects.get().cleared_at is not None


def test_mobile_page_at_360x640(live_server):
    cast = build_cast()
    case = finished_case(cast, "BRW-M-1")
    base = live_server.url
    with browser_session() as browser:
        page = new_page(browser, 360, 640)
        page.goto(base + links.rating_link_path(case, channel="sms", level="satisfied"))
        page.wait_for_selector("#rate-form")
        assert "您已选择“满意”" in page.inner_text("#preset")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling
        screenshot(page, "ch-mobile-one-tap")
        page.click("label.level-very_dissatisfied")
        page.wait_for_selector(".reason-group[data-level=very_dissatisfied]:not([hidden])")
        assert page.locator(".reason-group[data-level=satisfied]").is_hidden()
        page.click("#rate-form button[type=submit]")
        page.wait_for_selector("#form-error")  # a 差评 needs a reason or a comment
        assert "差评须选择" in page.inner_text("#form-error")
        page.click("text=推诿扯皮、刁难群众")
        page.fill("#rate-form-comment", "窗口说材料不全但没说缺什么")
        screenshot(page, "ch-mobile-bad-rating-form")
        page.click("#rate-form button[type=submit]")
        page.wait_for_selector("#thanks")
        page.wait_for_selector("#work-order")
        assert "待核实" in page.inner_text("#order-status")
        screenshot(page, "ch-mobile-rated-with-progress")

        other = new_page(browser, 360, 640)
        other.goto(base + links.rating_link_path(case, channel="qrcode"))
        other.wait_for_selector("#first-rating")  # already rated: the page shows it, no form
        assert other.locator("#rate-form").count() == 0
        assert "非常不满意" in other.inner_text("#first-rating")
        screenshot(other, "ch-mobile-already-rated")
        assert other.locator("#follow-up-card[open]").count() == 0  # 追评 folded: the rating is in
        other.click("#follow-up-card summary")
        other.fill("#follow-up-form-comment", "后来部门打电话道歉并办好了")
        other.click("#follow-up-form label.level-satisfied")
        other.click("#follow-up-form button[type=submit]")
        other.wait_for_selector("#follow-up")
        screenshot(other, "ch-mobile-follow-up")
        assert page.js_errors == [] and other.js_errors == []
    assert Rating.objects.filter(case=case).count() == 2 and WorkOrder.objects.count() == 1


def test_self_service_terminal(live_server):
    cast = build_cast()
    finished_case(cast, "BRW-T-1", seq=21)
    finished_case(cast, "BRW-T-2", seq=21, item=cast.item_b)
    device, code = devices.terminal_register(actor=actor_for_user(cast.clerk), hall=cast.hall)
    base = live_server.url
    with browser_session() as browser:
        page = new_page(browser, 1280, 1024)
        page.goto(f"{base}/devices/activate/{code}/")
        page.click("#activate-button")
        page.wait_for_selector("#by-id")
        screenshot(page, "ch-terminal-start")
        page.fill("#id_number", resident_id(21))
        page.click("#by-id-submit")
        page.wait_for_selector("#code-card")
        [(phone, sms_code)] = sent_codes()
        assert phone == "13812345678"
        page.fill("#code", "000000" if sms_code != "000000" else "111111")
        page.click("#code-submit")
        page.wait_for_selector("#form-error")
        screenshot(page, "ch-terminal-wrong-code")
        page.fill("#code", sms_code)
        page.click("#code-submit")
        page.wait_for_selector("#terminal-cases")
        listing = page.inner_text("#terminal-cases")
        assert "BRW-T-1" in listing and "王**" in listing and "王小明" not in listing
        screenshot(page, "ch-terminal-cases")
        page.click("[data-case=BRW-T-2] a:has-text('去评价')")
        page.wait_for_selector("#rate-form")
        page.click("#rate-form label.level-very_satisfied")
        screenshot(page, "ch-terminal-rate")
        page.click("#rate-form button[type=submit]")
        page.wait_for_selector("#terminal-thanks")
        screenshot(page, "ch-terminal-thanks")
        page.goto(base + "/terminal/cases/")
        page.wait_for_selector("#by-id")  # the session ended with the rating
        assert page.js_errors == []
    rating = Rating.objects.get()
    assert (rating.channel, rating.device_id, rating.case.case_no) == ("terminal", device.code, "BRW-T-2")


def test_my_cases(live_server):
    cast = build_cast()
    finished_case(cast, "BRW-MY-1", seq=31)
    rated = finished_case(cast, "BRW-MY-2", seq=31, item=cast.item_b)
    base = live_server.url
    with browser_session() as browser:
        page = new_page(browser, 1280, 800)
        page.goto(base + "/my/")
        page.wait_for_selector("#my-login")
        page.check("input[value=phone]")
        page.fill("#value", "13812345678")
        page.click("#my-send")
        page.wait_for_selector("#code-sent")
        page.fill("#code", sent_codes()[-1][1])
        page.click("#my-verify")
        page.wait_for_selector("#my-orders")
        assert page.locator("#my-orders .order").count() == 2
        screenshot(page, "ch-my-cases")
        page.click("[data-case=BRW-MY-2] a:has-text('去评价')")
        page.wait_for_selector("#rate-form")
        page.click("#rate-form label.level-very_satisfied")
        page.click("#rate-form button[type=submit]")
        page.wait_for_selector("#thanks")
        page.goto(base + "/my/")
        page.wait_for_selector("[data-case=BRW-MY-2] a:has-text('追评')")
        screenshot(page, "ch-my-cases-after-rating")
        assert page.js_errors == []
    assert Rating.objects.get().case == rated and Rating.objects.get().channel == "pc"
