"""The self-service terminal as a kiosk (issue 13.16) in Chromium at its size, 1080×1920 portrait: large type and
touch targets, a start page without scrolling, the on-screen keypad all the way to a stored rating, a scanned
办结通知 QR code, the inactivity timeout that clears the session on the server, and the ID-card reader hook
played by the stand-in agent (tools/idcard_standin.py). Screenshots: test-artifacts/screenshots/kiosk-*.png."""

from contextlib import contextmanager

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import connections

from haocha.accounts.access import actor_for_user
from haocha.channels import devices, links
from haocha.evaluations.channels import Channel
from haocha.evaluations.models import Rating
from tests.browser import chromium, new_page, screenshot
from tests.channel_helpers import sent_codes
from tests.factories import build_cast, finished_case, resident_id
from tools.idcard_standin import StandInReader

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

KIOSK = (1080, 1920)
MIN_FONT_PX, MIN_TARGET_PX = 28, 88
ID_WITH_X = 78  # resident_id(78) ends in X

# Every visible piece of text and every touch target on the page, measured as Chromium lays them out.
MEASURE = """({font, target}) => {
  const shown = el => {
    const r = el.getBoundingClientRect(), s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none' && s.opacity !== '0';
  };
  const small = [], short = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!shown(el) || el.closest('[hidden]')) continue;
    const text = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (text && size < font) small.push(`${el.tagName}.${el.className} "${el.textContent.trim().slice(0, 16)}" ${size}px`);
  }
  const targets = 'button, a, input:not([type=hidden]):not([type=radio]):not([type=checkbox]), textarea, ' +
                  'select, label.pill, label.check, summary';
  for (const el of document.querySelectorAll(targets)) {
    if (!shown(el) || el.closest('[hidden]') || el.id === 'scan-input') continue;
    const h = el.getBoundingClientRect().height;
    if (h < target) short.push(`${el.tagName}#${el.id}.${el.className} "${(el.textContent || '').trim().slice(0, 16)}" ${h}px`);
  }
  return {small, short, base: parseFloat(getComputedStyle(document.body).fontSize),
          height: document.documentElement.scrollHeight, width: document.documentElement.scrollWidth};
}"""


def assert_kiosk_sizes(page, *, no_scroll=False):
    m = page.evaluate(MEASURE, {"font": MIN_FONT_PX, "target": MIN_TARGET_PX})
    assert m["base"] >= MIN_FONT_PX, m
    assert m["small"] == [], m["small"]
    assert m["short"] == [], m["short"]
    assert m["width"] <= KIOSK[0], m
    if no_scroll:
        assert m["height"] <= KIOSK[1], m


@contextmanager
def kiosk_browser():
    with chromium() as browser:
        try:
            yield browser
        finally:
            connections.close_all()


def activated_terminal(browser, base, cast):
    _device, code = devices.terminal_register(actor=actor_for_user(cast.clerk), hall=cast.hall)
    page = new_page(browser, *KIOSK)
    page.goto(f"{base}/devices/activate/{code}/")
    page.click("#activate-button")
    page.wait_for_selector("#by-case")
    kiosk_ready(page)
    return page


def kiosk_ready(page):
    """kiosk.js has set up (it is deferred): what a scanner types from now on is caught."""
    page.wait_for_selector("body[data-kiosk-ready='1']", state="attached")


def tap(page, keys):
    """Type on the on-screen keypad, one tap per key (only the keys of the shown layout are visible)."""
    for key in keys:
        page.click(f"#keypad .key[data-key='{key}']:visible")


def tap_action(page, action):
    page.click(f"#keypad .key[data-action='{action}']:visible")


def session_key(page):
    return next(c["value"] for c in page.context.cookies() if c["name"] == "sessionid")


def test_keypad_from_case_number_to_a_stored_rating(live_server):
    cast = build_cast()
    finished_case(cast, "CS-2026A-17", seq=61)
    base = live_server.url
    with kiosk_browser() as browser:
        stranger = new_page(browser, *KIOSK)  # a browser that is not the activated terminal
        stranger.goto(base + "/terminal/")
        assert "本设备尚未激活为自助服务终端" in stranger.inner_text("#not-activated")
        screenshot(stranger, "kiosk-not-activated")
        assert_kiosk_sizes(stranger, no_scroll=True)
        stranger.context.close()

        page = activated_terminal(browser, base, cast)
        screenshot(page, "kiosk-start")
        assert_kiosk_sizes(page, no_scroll=True)
        assert page.evaluate("document.activeElement.id") == "scan-input"  # ready for the scanner
        for field in ("#case_no", "#last4", "#id_number"):
            assert page.get_attribute(field, "inputmode") == "none"
        page.click("#case_no")
        assert page.get_attribute("#keypad", "data-mode") == "caseno"
        tap(page, "CS-2026A-179")
        tap_action(page, "back")
        assert page.input_value("#case_no") == "CS-2026A-17"
        page.click("#last4")
        assert page.get_attribute("#keypad", "data-mode") == "idno"
        assert page.locator("#keypad .key[data-key='Q']").is_hidden()
        tap(page, "5678")
        screenshot(page, "kiosk-start-keypad")
        tap_action(page, "enter")  # 确定 on the last field sends its form
        page.wait_for_selector("#terminal-cases")
        screenshot(page, "kiosk-cases")
        assert_kiosk_sizes(page)
        page.click("[data-case='CS-2026A-17'] a:has-text('去评价')")
        page.wait_for_selector("#rate-form")
        page.click("#rate-form label.level-very_satisfied")
        screenshot(page, "kiosk-rate")
        assert_kiosk_sizes(page)
        page.click("#rate-form button[type=submit]")
        page.wait_for_selector("#terminal-thanks")
        screenshot(page, "kiosk-done")
        assert_kiosk_sizes(page, no_scroll=True)
        assert page.js_errors == []
    rating = Rating.objects.get()
    assert (rating.case.case_no, rating.channel, rating.level) == (
        "CS-2026A-17",
        "terminal",
        "very_satisfied",
    )


def test_keypad_for_an_id_number_with_x_and_the_sms_code(live_server):
    cast = build_cast()
    finished_case(cast, "KP-ID-1", seq=ID_WITH_X)
    id_number = resident_id(ID_WITH_X)
    assert id_number.endswith("X")
    base = live_server.url
    with kiosk_browser() as browser:
        page = activated_terminal(browser, base, cast)
        page.click("#id_number")
        tap(page, id_number[:-1] + "9")
        tap_action(page, "back")
        tap(page, "X")
        assert page.input_value("#id_number") == id_number
        page.click("#by-id-submit")
        page.wait_for_selector("#code-card")
        assert page.get_attribute("#code", "inputmode") == "none"
        assert page.get_attribute("#keypad", "data-mode") == "digits"
        assert page.locator("#keypad .kp-x").is_hidden() and page.locator("#keypad .kp-full").is_hidden()
        [(_phone, code)] = sent_codes()
        tap(page, code)
        screenshot(page, "kiosk-code")
        assert_kiosk_sizes(page, no_scroll=True)
        page.click("#code-submit")
        page.wait_for_selector("#terminal-cases")
        assert "KP-ID-1" in page.inner_text("#terminal-cases")
        assert page.js_errors == []


def test_scanning_the_notice_qr_opens_its_rating(live_server):
    cast = build_cast()
    case = finished_case(cast, "KQ-1", seq=62)
    base = live_server.url
    link = links.rating_link_url(case, channel=Channel.QRCODE)  # what the 办结通知's QR code carries
    with kiosk_browser() as browser:
        page = activated_terminal(browser, base, cast)
        # A USB scanner types the payload and Enter into whatever has the focus: here the scan field.
        page.keyboard.type(link, delay=2)
        page.keyboard.press("Enter")
        page.wait_for_selector("#rate-form")
        assert page.url == f"{base}/terminal/rate/KQ-1/"
        screenshot(page, "kiosk-scan-rate")
        page.click("#rate-form label.level-satisfied")
        page.click("#rate-form button[type=submit]")
        page.wait_for_selector("#terminal-thanks")

        page.goto(base + "/terminal/")
        kiosk_ready(page)
        page.click("#case_no")  # the citizen was typing a number when the scanner fired
        tap(page, "KQ")
        forged = link[:-3] + ("AA/" if not link.endswith("AA/") else "BB/")
        page.keyboard.type(forged, delay=2)
        page.keyboard.press("Enter")
        page.wait_for_selector("#form-error")
        assert "二维码无效" in page.inner_text("#form-error")
        assert page.input_value("#case_no") == ""  # a new page: the scan did not land in the field
        screenshot(page, "kiosk-scan-error")
        assert_kiosk_sizes(page, no_scroll=True)
        assert page.js_errors == []
    assert Rating.objects.get().channel == "terminal"


def test_the_timeout_clears_the_session_and_returns_to_the_start(live_server, settings):
    settings.HAOCHA_TERMINAL_IDLE_SECONDS = 4
    settings.HAOCHA_TERMINAL_COUNTDOWN_SECONDS = 3
    settings.HAOCHA_TERMINAL_DONE_SECONDS = 3
    cast = build_cast()
    finished_case(cast, "KT-1", seq=63)
    base = live_server.url
    with kiosk_browser() as browser:
        page = activated_terminal(browser, base, cast)
        page.evaluate("window.untouched = true")
        page.wait_for_timeout(5500)  # an untouched start page is not reloaded every few seconds
        assert page.evaluate("window.untouched === true")
        assert page.locator("#kiosk-timeout").is_hidden()

        page.fill("#case_no", "KT-1")
        page.fill("#last4", "5678")
        page.click("#by-case-submit")
        page.wait_for_selector("#terminal-cases")
        key = session_key(page)
        assert "terminal" in SessionStore(session_key=key).load()
        page.wait_for_selector("#kiosk-timeout", state="visible", timeout=4000)
        assert "秒后将清除您的信息并返回首页" in page.inner_text("#kiosk-timeout")
        screenshot(page, "kiosk-timeout-countdown", settle_ms=100)
        page.click("#kiosk-stay")  # a touch: the countdown starts again
        assert page.locator("#kiosk-timeout").is_hidden()
        assert page.url == f"{base}/terminal/cases/"
        page.wait_for_url(f"{base}/terminal/", timeout=8000)
        page.wait_for_selector("#by-case")
        assert not SessionStore().exists(key)  # reset on the server, not only a new page
        page.goto(base + "/terminal/cases/")
        assert page.url == f"{base}/terminal/"

        # Half-typed input on the start page is cleared as well.
        page.click("#case_no")
        with page.expect_navigation(url=f"{base}/terminal/", timeout=8000):
            tap(page, "KT")
        assert page.input_value("#case_no") == ""

        # After 感谢评价 the terminal goes back on its own, and resets on the way.
        page.fill("#case_no", "KT-1")
        page.fill("#last4", "5678")
        page.click("#by-case-submit")
        page.click("[data-case='KT-1'] a:has-text('去评价')")
        page.click("#rate-form label.level-satisfied")
        page.click("#rate-form button[type=submit]")
        page.wait_for_selector("#terminal-thanks")
        assert "秒后返回首页" in page.inner_text("#terminal-thanks")
        key = session_key(page)
        page.wait_for_url(f"{base}/terminal/", timeout=8000)
        assert not SessionStore().exists(key)
        assert page.js_errors == []
    assert Rating.objects.count() == 1


def test_the_id_card_reader_stand_in_fills_the_id_number_and_proceeds(live_server, settings):
    cast = build_cast()
    finished_case(cast, "KC-1", seq=64)
    finished_case(cast, "KC-2", seq=65)
    reader = StandInReader().start()
    settings.HAOCHA_TERMINAL_IDCARD_AGENT_URL = reader.url
    base = live_server.url
    try:
        with kiosk_browser() as browser:
            page = activated_terminal(browser, base, cast)
            reader.present("王小明", resident_id(64))  # a card on the reader
            page.wait_for_selector("#code-card", timeout=10000)
            assert reader.reads == 1
            [(phone, code)] = sent_codes()  # the same path as a typed ID number: an SMS code is still needed
            assert phone == "13812345678"
            assert page.evaluate("window.haochaIdCard('王小明', '430102198503120641')") is False  # not here
            tap(page, code)
            tap_action(page, "enter")
            page.wait_for_selector("#terminal-cases")
            assert "KC-1" in page.inner_text("#terminal-cases") and "KC-2" not in page.inner_text(
                "#terminal-cases"
            )
            page.context.close()

            # A reader driver that calls the page directly (window.haochaIdCard) instead of running an agent.
            settings.HAOCHA_TERMINAL_IDCARD_AGENT_URL = ""
            page = activated_terminal(browser, base, cast)
            assert page.evaluate(f"window.haochaIdCard('王小明', ' {resident_id(65).lower()} ')") is True
            page.wait_for_selector("#code-card")
            assert len(sent_codes()) == 2
            screenshot(page, "kiosk-idcard-code")
            # A malformed number from a reader is refused like a typed one.
            page.goto(base + "/terminal/")
            page.evaluate("window.haochaIdCard('王小明', '4301021985031206')")
            page.wait_for_selector("#form-error")
            assert "身份证号码格式或校验位不正确" in page.inner_text("#form-error")
            assert page.js_errors == []
    finally:
        reader.stop()
