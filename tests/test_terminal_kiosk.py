"""The self-service terminal as a kiosk (issue 13.16), through HTTP: the reset endpoint the inactivity timeout
posts to clears the citizen's session on the server; a scanned 办结通知 QR code opens its case only when its
signature holds (anything else gets a Chinese message, never a 500); every page carries the kiosk layout, the
on-screen keypad's fields and the configured timeout."""

import re
import time

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core import signing
from django.test import Client

from haocha.channels import links, qr
from haocha.evaluations.channels import Channel
from haocha.evaluations.models import Rating
from tests.channel_helpers import sent_codes, terminal_client
from tests.factories import finished_case, resident_id

pytestmark = pytest.mark.django_db


def look_up(terminal, case_no):
    r = terminal.post("/terminal/", {"action": "case", "case_no": case_no, "last4": "5678"})
    assert r.status_code == 302 and r["Location"] == "/terminal/cases/", r.content.decode()


def scan(terminal, payload):
    return terminal.post("/terminal/scan/", {"payload": payload})


def test_reset_flushes_the_terminal_session(cast):
    finished_case(cast, "KR-1", seq=41)
    terminal, _ = terminal_client(cast)
    look_up(terminal, "KR-1")
    old_key = terminal.session.session_key
    assert "terminal" in terminal.session
    r = terminal.post("/terminal/reset/")
    assert r.status_code == 302 and r["Location"] == "/terminal/"
    assert not SessionStore().exists(old_key)  # the session row itself is gone, not just hidden
    assert "terminal" not in terminal.session
    assert terminal.get("/terminal/cases/")["Location"] == "/terminal/"
    # The device stays activated: the next citizen starts on the start page.
    assert terminal.get("/terminal/").status_code == 200


def test_reset_also_forgets_a_pending_sms_code(cast):
    finished_case(cast, "KR-2", seq=42)
    terminal, _ = terminal_client(cast)
    assert terminal.post("/terminal/", {"action": "id", "id_number": resident_id(42)}).status_code == 302
    [(_phone, code)] = sent_codes()
    assert terminal.post("/terminal/reset/").status_code == 302
    assert terminal.get("/terminal/code/")["Location"] == "/terminal/"
    # The code typed by whoever comes next no longer opens the first citizen's cases.
    r = terminal.post("/terminal/code/", {"code": code})
    assert r.status_code == 302 and r["Location"] == "/terminal/"
    assert terminal.get("/terminal/cases/")["Location"] == "/terminal/"


def test_reset_is_a_post_from_the_registered_terminal(cast):
    terminal, _ = terminal_client(cast)
    assert terminal.get("/terminal/reset/").status_code == 405
    r = Client().post("/terminal/reset/")
    assert r.status_code == 403 and "自助服务终端" in r.content.decode()


def test_the_done_page_clears_the_session_too(cast):
    finished_case(cast, "KR-3", seq=43)
    terminal, _ = terminal_client(cast)
    look_up(terminal, "KR-3")
    page = terminal.get("/terminal/done/").content.decode()
    assert 'data-idle-seconds="15"' in page  # back to the start after 15 s, reset on the way
    assert terminal.get("/terminal/cases/")["Location"] == "/terminal/"


def test_a_scanned_notice_qr_opens_its_rating_and_the_rating_is_stored(cast):
    case = finished_case(cast, "KS-1", seq=44)
    finished_case(cast, "KS-OTHER", seq=45)
    terminal, device = terminal_client(cast)
    # What the QR code of the printed 办结通知 carries (staff.case_notice): the signed rating link.
    payload = links.rating_link_url(case, channel=Channel.QRCODE)
    r = scan(terminal, payload + "\n")
    assert r.status_code == 302 and r["Location"] == "/terminal/rate/KS-1/"
    page = terminal.get("/terminal/rate/KS-1/").content.decode()
    assert 'id="rate-form"' in page and "KS-1" in page
    assert terminal.get("/terminal/rate/KS-OTHER/").status_code == 404  # the scan opens that one case only
    r = terminal.post("/terminal/rate/KS-1/", {"level": "satisfied", "key": "k-kiosk-scan-0001"})
    assert r.status_code == 302 and r["Location"] == "/terminal/done/"
    rating = Rating.objects.get()
    assert (rating.case.case_no, rating.channel, rating.device_id) == ("KS-1", "terminal", device.code)
    # A second scan of the same notice shows the rating given, it does not rate again (the rule book decides).
    assert scan(terminal, payload)["Location"] == "/terminal/rate/KS-1/"
    page = terminal.get("/terminal/rate/KS-1/").content.decode()
    assert 'id="already"' in page and 'id="rate-form"' not in page


def test_a_scan_of_the_token_alone_or_another_host_works_while_the_signature_holds(cast):
    case = finished_case(cast, "KS-2", seq=46)
    terminal, _ = terminal_client(cast)
    token = links.rating_link_token(case, channel=Channel.QRCODE)
    assert scan(terminal, token)["Location"] == "/terminal/rate/KS-2/"
    assert scan(terminal, f"https://pj.example.gov.cn/r/{token}/")["Location"] == "/terminal/rate/KS-2/"


def _tampered(token: str) -> str:
    last = token[-1]
    return token[:-1] + ("A" if last != "A" else "B")


@pytest.mark.parametrize(
    ("make", "status", "message"),
    [
        ("tampered", 404, "二维码无效"),
        ("forged_case", 404, "二维码无效"),
        ("other_salt", 404, "二维码无效"),
        ("window_qr", 422, "这是窗口的评价二维码"),
        ("text", 422, "未能识别该二维码"),
        ("other_site", 422, "未能识别该二维码"),
        ("empty", 422, "未能识别该二维码"),
        ("huge", 422, "未能识别该二维码"),
        ("expired", 410, "该二维码已过期"),
    ],
)
def test_a_bad_or_forged_scan_gets_a_chinese_message_and_opens_nothing(
    cast, monkeypatch, make, status, message
):
    case = finished_case(cast, "KS-3", seq=47)
    terminal, _ = terminal_client(cast)
    good = links.rating_link_token(case, channel=Channel.QRCODE)
    if make == "expired":
        real = time.time
        with monkeypatch.context() as m:
            m.setattr(time, "time", lambda: real() - 61 * 86400)
            expired = links.rating_link_token(case, channel=Channel.QRCODE)
    payload = {
        "tampered": f"http://127.0.0.1:8000/r/{_tampered(good)}/",
        # Signed with another key: what anyone can make who knows the case number and the link format.
        "forged_case": "/r/"
        + signing.dumps({"c": "KS-3", "ch": "qrcode"}, key="guessed", salt=links.SALT)
        + "/",
        "other_salt": "/r/" + signing.dumps({"c": "KS-3", "ch": "qrcode"}, salt="haocha.other") + "/",
        "window_qr": qr.window_url(cast.window_a.code),
        "text": "KS-3",
        "other_site": "https://evil.example/login?next=/r/x/",
        "empty": "",
        "huge": "/r/" + "A" * 5000 + "/",
        "expired": f"/r/{expired}/" if make == "expired" else "",
    }[make]
    r = scan(terminal, payload)
    body = r.content.decode()
    assert r.status_code == status, body
    assert message in body and 'role="alert"' in body
    assert 'id="by-case"' in body  # the start page again, with the error on it
    assert "terminal" not in terminal.session
    assert terminal.get("/terminal/rate/KS-3/")["Location"] == "/terminal/"


def test_failed_scans_are_throttled_per_terminal(cast):
    case = finished_case(cast, "KS-4", seq=48)
    terminal, _ = terminal_client(cast)
    for _ in range(20):
        assert scan(terminal, "not a code").status_code == 422
    r = scan(terminal, links.rating_link_url(case, channel=Channel.QRCODE))
    assert r.status_code == 429 and "扫码失败次数过多" in r.content.decode()


def test_a_scan_needs_the_registered_terminal_and_a_post(cast):
    case = finished_case(cast, "KS-5", seq=49)
    r = Client().post("/terminal/scan/", {"payload": links.rating_link_url(case, channel=Channel.QRCODE)})
    assert r.status_code == 403 and "自助服务终端" in r.content.decode()
    terminal, _ = terminal_client(cast)
    assert terminal.get("/terminal/scan/")["Location"] == "/terminal/"


def test_every_terminal_page_has_the_kiosk_layout(cast, settings):
    settings.HAOCHA_TERMINAL_IDLE_SECONDS = 45
    finished_case(cast, "KL-1", seq=50)
    terminal, _ = terminal_client(cast)
    start = terminal.get("/terminal/").content.decode()
    for field, mode in (("case_no", "caseno"), ("last4", "idno"), ("id_number", "idno")):
        tag = re.search(rf'<input[^>]*id="{field}"[^>]*>', start).group(0)
        assert 'inputmode="none"' in tag and f'data-keypad="{mode}"' in tag, tag
    assert 'id="keypad"' in start and 'id="scan-input"' in start and "data-idcard-form" in start
    assert terminal.post("/terminal/", {"action": "id", "id_number": resident_id(50)}).status_code == 302
    code = terminal.get("/terminal/code/").content.decode()
    tag = re.search(r'<input[^>]*id="code"[^>]*>', code).group(0)
    assert 'inputmode="none"' in tag and 'data-keypad="digits"' in tag
    look_up(terminal, "KL-1")
    pages = [start, code]
    pages += [terminal.get(p).content.decode() for p in ("/terminal/cases/", "/terminal/rate/KL-1/")]
    for page in pages:
        assert "channels/kiosk.css" in page and "channels/kiosk.js" in page
        assert 'data-idle-seconds="45"' in page and 'data-countdown-seconds="10"' in page
        assert 'id="kiosk-timeout"' in page and 'data-reset-url="/terminal/reset/"' in page
        assert 'http-equiv="refresh" content="180;' in page  # without JavaScript, back to the start anyway


def test_the_server_forgets_an_idle_session_after_the_configured_time(cast, settings, monkeypatch):
    settings.HAOCHA_TERMINAL_SESSION_SECONDS = 120
    finished_case(cast, "KL-2", seq=51)
    terminal, _ = terminal_client(cast)
    look_up(terminal, "KL-2")
    assert terminal.get("/terminal/cases/").status_code == 200
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 121)
    assert terminal.get("/terminal/cases/")["Location"] == "/terminal/"


def test_the_reader_agent_address_is_handed_to_the_start_page_only_when_set(cast, settings):
    terminal, _ = terminal_client(cast)
    assert "data-idcard-agent" not in terminal.get("/terminal/").content.decode()
    settings.HAOCHA_TERMINAL_IDCARD_AGENT_URL = "http://127.0.0.1:18089/card"
    assert 'data-idcard-agent="http://127.0.0.1:18089/card"' in terminal.get("/terminal/").content.decode()


def test_a_citizen_still_touching_the_page_keeps_the_session(cast, settings):
    import time as clock_time
    from unittest import mock

    settings.HAOCHA_TERMINAL_SESSION_SECONDS = 180
    finished_case(cast, "KR-9", seq=49)
    terminal, _ = terminal_client(cast)
    look_up(terminal, "KR-9")
    start = clock_time.time()
    # a long comment: the page pings every 30 s while being touched, for 5 minutes
    for minute in range(1, 11):
        with mock.patch("haocha.channels.views.terminal.time.time", return_value=start + 30 * minute):
            assert terminal.post("/terminal/alive/").status_code == 204
    with mock.patch("haocha.channels.views.terminal.time.time", return_value=start + 330):
        assert terminal.get("/terminal/cases/").status_code == 200  # still theirs
    # untouched for longer than the session: gone, and a ping does not bring it back
    with mock.patch("haocha.channels.views.terminal.time.time", return_value=start + 330 + 181):
        assert terminal.post("/terminal/alive/").status_code == 205
        assert terminal.get("/terminal/cases/")["Location"] == "/terminal/"
    assert Client().post("/terminal/alive/").status_code == 403  # only the registered terminal
    assert terminal.get("/terminal/alive/").status_code == 405
