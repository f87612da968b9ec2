"""SMS codes for the self-service terminal and 我的办件: sent only to the phone on record, never telling whether
an ID number has cases, hashed, expiring, limited in attempts and throttled; then the cases, masked."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from haocha.channels.models import VerificationCode
from haocha.core.models import OutboxMessage
from haocha.evaluations.models import Rating
from tests.channel_helpers import sent_codes, terminal_client
from tests.factories import finished_case, resident_id

pytestmark = pytest.mark.django_db


def ask_code(terminal, id_number):
    return terminal.post("/terminal/", {"action": "id", "id_number": id_number})


def test_the_terminal_is_a_registered_device(cast):
    r = Client().get("/terminal/")
    assert r.status_code == 403 and "自助服务终端" in r.content.decode()


def test_an_id_number_without_cases_looks_the_same_and_sends_nothing(cast):
    finished_case(cast, "T-1", seq=1)  # outside quiet hours its SMS invitation is queued at once
    terminal, _ = terminal_client(cast)
    queued = set(OutboxMessage.objects.values_list("pk", flat=True))
    r = ask_code(terminal, "43010219850312001")  # 17 characters: malformed
    assert r.status_code == 422 and "身份证号码格式或校验位不正确" in r.content.decode()
    stranger = ask_code(terminal, resident_id(77))
    assert stranger.status_code == 302 and stranger["Location"] == "/terminal/code/"
    page = terminal.get("/terminal/code/").content.decode()
    assert "如该身份证号码有办件记录，验证码已发送" in page
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == queued  # no code was sent
    r = terminal.post("/terminal/code/", {"code": "123456"})
    assert r.status_code == 422 and "验证码不正确" in r.content.decode()
    row = VerificationCode.objects.get()
    assert row.code_hash == "" and row.subject_kind == "id"


def test_the_code_goes_to_the_phone_on_record_then_the_cases_are_shown_masked(cast):
    finished_case(cast, "T-2", seq=2)
    finished_case(cast, "T-3", seq=2, item=cast.item_b)
    finished_case(cast, "T-OTHER", seq=3)
    terminal, device = terminal_client(cast)
    assert ask_code(terminal, resident_id(2)).status_code == 302
    [(phone, code)] = sent_codes()
    assert phone == "13812345678"
    row = VerificationCode.objects.get()
    assert code not in row.code_hash and len(row.code_hash) == 64
    r = terminal.post("/terminal/code/", {"code": code})
    assert r.status_code == 302 and r["Location"] == "/terminal/cases/"
    page = terminal.get("/terminal/cases/").content.decode()
    assert "T-2" in page and "T-3" in page and "T-OTHER" not in page
    assert (
        "王**" in page and "王小明" not in page and "13812345678" not in page and resident_id(2) not in page
    )
    page = terminal.get("/terminal/rate/T-2/").content.decode()
    assert "服务态度" in page  # the offline indicator set
    r = terminal.post("/terminal/rate/T-2/", {"level": "very_satisfied", "key": "k-terminal-0001"})
    assert r.status_code == 302 and r["Location"] == "/terminal/done/"
    rating = Rating.objects.get()
    assert (rating.channel, rating.device_id, rating.case.case_no) == ("terminal", device.code, "T-2")
    assert terminal.get("/terminal/cases/").content.decode().count("已评价") == 1
    # a case outside the verified identity
    assert terminal.get("/terminal/rate/T-OTHER/").status_code == 404
    # 退出 clears the session: the next citizen starts afresh
    terminal.get("/terminal/done/")
    assert terminal.get("/terminal/cases/")["Location"] == "/terminal/"


def test_wrong_expired_spent_and_too_many_attempts(cast):
    finished_case(cast, "T-4", seq=4)
    terminal, _ = terminal_client(cast)
    ask_code(terminal, resident_id(4))
    [(_phone, code)] = sent_codes()
    wrong = "000000" if code != "000000" else "111111"
    r = terminal.post("/terminal/code/", {"code": wrong})
    assert r.status_code == 422 and "还可尝试4次" in r.content.decode()
    for _ in range(4):
        terminal.post("/terminal/code/", {"code": wrong})
    r = terminal.post("/terminal/code/", {"code": code})  # right, but too late
    assert r.status_code == 429 and "错误次数过多" in r.content.decode()
    # a new code, left to expire
    VerificationCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    ask_code(terminal, resident_id(4))
    code = sent_codes()[-1][1]
    VerificationCode.objects.filter(consumed_at__isnull=True, attempts=0).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    r = terminal.post("/terminal/code/", {"code": code})
    assert r.status_code == 410 and "已过期" in r.content.decode()
    # a third code, used once, then sent again for the same challenge
    VerificationCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    ask_code(terminal, resident_id(4))
    code = sent_codes()[-1][1]
    challenge = terminal.session["terminal_challenge"]
    assert terminal.post("/terminal/code/", {"code": code}).status_code == 302
    s = terminal.session
    s["terminal_challenge"] = challenge
    s.save()
    r = terminal.post("/terminal/code/", {"code": code})
    assert r.status_code == 409 and "已使用" in r.content.decode()


def test_codes_are_throttled(cast):
    finished_case(cast, "T-5", seq=5)
    terminal, _ = terminal_client(cast)
    assert ask_code(terminal, resident_id(5)).status_code == 302
    r = ask_code(terminal, resident_id(5))
    assert r.status_code == 429 and "秒后再重新获取" in r.content.decode()
    for _ in range(4):
        VerificationCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))
        assert ask_code(terminal, resident_id(5)).status_code == 302
    VerificationCode.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    r = ask_code(terminal, resident_id(5))
    assert r.status_code == 429 and "次数过多" in r.content.decode()
    assert len(sent_codes()) == 5


def test_the_terminal_finds_a_case_by_number(cast):
    finished_case(cast, "T-6", seq=6)
    terminal, _ = terminal_client(cast)
    r = terminal.post("/terminal/", {"action": "case", "case_no": "T-6", "last4": "1234"})
    assert r.status_code == 404 and "办件编号或验证信息不正确" in r.content.decode()
    r = terminal.post("/terminal/", {"action": "case", "case_no": "T-6", "last4": "5678"})
    assert r.status_code == 302
    page = terminal.get("/terminal/cases/").content.decode()
    assert "T-6" in page and "去评价" in page


def login_my_cases(client, kind, value):
    r = client.post("/my/login/", {"kind": kind, "value": value})
    assert r.status_code == 302, r.content.decode()
    code = sent_codes()[-1][1]
    r = client.post("/my/verify/", {"code": code})
    assert r.status_code == 302 and r["Location"] == "/my/"


def test_my_cases_by_id_number_then_rate_and_follow_up(cast, client):
    finished_case(cast, "MY-1", seq=8)
    finished_case(cast, "MY-2", seq=8, item=cast.item_b)
    finished_case(cast, "MY-NOT-MINE", seq=9)
    assert client.get("/my/")["Location"] == "/my/login/"
    login_my_cases(client, "id", resident_id(8))
    page = client.get("/my/").content.decode()
    assert "MY-1" in page and "MY-2" in page and "MY-NOT-MINE" not in page
    assert page.count("去评价") == 2
    link = page.split('data-case="MY-1"')[1].split('href="')[1].split('"')[0]
    r = client.post(link, {"action": "rate", "level": "satisfied", "key": "k-my-cases-000001"})
    assert r.status_code == 302
    assert Rating.objects.get().channel == "pc"
    page = client.get("/my/").content.decode()
    assert page.count("去评价") == 1 and "追评" in page
    client.post("/my/logout/")
    assert client.get("/my/")["Location"] == "/my/login/"


def test_my_cases_by_phone_and_session_expiry(cast, client):
    finished_case(cast, "MY-3", seq=10)
    r = client.post("/my/login/", {"kind": "phone", "value": "1381234"})
    assert r.status_code == 422 and "手机号码格式不正确" in r.content.decode()
    login_my_cases(client, "phone", "13812345678")
    assert "MY-3" in client.get("/my/").content.decode()
    s = client.session
    s["my_subject"]["exp"] = 0
    s.save()
    assert client.get("/my/")["Location"] == "/my/login/"
    assert client.post("/my/verify/", {"code": "123456"})["Location"] == "/my/login/"


def test_housekeeping_deletes_spent_throttles_and_codes_only(db):
    from datetime import timedelta

    from django.utils import timezone

    from haocha.channels.models import Throttle, VerificationCode
    from haocha.channels.throttle import channels_housekeeping

    now = timezone.now()
    Throttle.objects.create(key="old", window_start=now - timedelta(days=2), count=3)
    Throttle.objects.create(key="fresh", window_start=now - timedelta(minutes=5), count=1)
    for label, expires in (("old", now - timedelta(days=2)), ("fresh", now + timedelta(minutes=5))):
        VerificationCode.objects.create(
            purpose=VerificationCode.Purpose.TERMINAL,
            subject_kind="id",
            subject_hash=label,
            expires_at=expires,
        )
    assert channels_housekeeping() == {"throttles": 1, "codes": 1}
    assert list(Throttle.objects.values_list("key", flat=True)) == ["fresh"]
    assert list(VerificationCode.objects.values_list("subject_hash", flat=True)) == ["fresh"]
