"""短信邀评 when a case is finished: quiet hours, one reminder, expiry, who is not invited, templates."""

import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from haocha.core import clock
from haocha.core.errors import Conflict
from haocha.core.models import OutboxMessage
from haocha.core.outbox import outbox_process
from haocha.integrations.sms.invitations import invitation_move, sms_sweep
from haocha.integrations.sms.models import SmsInvitation, SmsOptOut, SmsPolicy
from haocha.integrations.sms.policy import EffectiveSmsPolicy, parse_quiet_hours
from tests.sms_helpers import PHONE, register_case

pytestmark = pytest.mark.django_db
BJ = ZoneInfo("Asia/Shanghai")


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=BJ)


# Scenarios run tomorrow (Beijing time), so the outbox rows written now are due when the clock gets there.
BASE = timezone.localtime().date() + timedelta(days=1)


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(BASE + timedelta(days=day), time(hour, minute, second), tzinfo=BJ)


@pytest.fixture(autouse=True)
def _file_backend(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.HAOCHA_SMS_QUIET_HOURS = "21:00-08:00"
    settings.HAOCHA_SMS_REMINDER_HOURS = 24
    settings.HAOCHA_SMS_EXPIRE_DAYS = 7
    return tmp_path


def sent_texts(tmp_path) -> list[dict]:
    path = tmp_path / "sms" / "outbox.jsonl"
    return (
        [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []
    )


def finish_at(cast, api_for, case_no, moment, **kw):
    """Register a case the approval system reports as finished at `moment` (the clock set to it)."""
    with clock.replay_at(moment):
        return register_case(
            api_for(cast.key_a),
            cast,
            case_no,
            accepted_at=(moment - timedelta(days=2)).isoformat(),
            finished_at=(moment - timedelta(minutes=5)).isoformat(),
            **kw,
        )


def deliver(moment):
    with clock.replay_at(moment):
        return outbox_process(now=moment)


@pytest.mark.parametrize(
    "local, expected",
    [
        ((2026, 11, 20, 20, 59), (2026, 11, 20, 20, 59)),
        ((2026, 11, 20, 21, 0), (2026, 11, 21, 8, 0)),
        ((2026, 11, 20, 23, 30), (2026, 11, 21, 8, 0)),
        ((2026, 11, 21, 0, 10), (2026, 11, 21, 8, 0)),
        ((2026, 11, 21, 7, 59), (2026, 11, 21, 8, 0)),
        ((2026, 11, 21, 8, 0), (2026, 11, 21, 8, 0)),
        ((2026, 11, 21, 12, 0), (2026, 11, 21, 12, 0)),
    ],
)
def test_quiet_hours_cross_midnight(local, expected):
    policy = EffectiveSmsPolicy(True, (time(21), time(8)), 24, 7, "", "")
    assert policy.next_send_time(bj(*local)) == bj(*expected)


def test_quiet_hours_within_a_day_and_off():
    policy = EffectiveSmsPolicy(True, (time(12), time(14)), 24, 7, "", "")
    assert policy.next_send_time(at(0, 13, 0)) == at(0, 14, 0)
    assert policy.next_send_time(at(0, 15, 0)) == at(0, 15, 0)
    assert parse_quiet_hours("off") is None and parse_quiet_hours("08:00-08:00") is None
    assert parse_quiet_hours("22:30-07:00") == (time(22, 30), time(7))


def test_a_case_finished_at_night_is_invited_next_morning(cast, api_for, _file_backend):
    night = at(0, 22, 30)
    case = finish_at(cast, api_for, "SMS-IN-0001", night)
    invitation = SmsInvitation.objects.get(case=case)
    assert invitation.status == "queued" and invitation.send_at == at(1, 8, 0)
    assert invitation.enqueued_at is None and not OutboxMessage.objects.exists()
    assert sms_sweep(now=at(1, 3, 0))["sent"] == 0
    assert sms_sweep(now=at(1, 8, 0, 30))["sent"] == 1
    assert sms_sweep(now=at(1, 8, 1))["sent"] == 0  # once
    assert deliver(at(1, 8, 1))["done"] == 1
    [text] = sent_texts(_file_backend)
    assert text["phone"] == "138****5678" and "食品经营许可" in text["text"]
    invitation.refresh_from_db()
    assert invitation.status == "sent" and invitation.sent_at == at(1, 8, 1)


def test_one_reminder_then_expiry(cast, api_for, _file_backend):
    morning = at(0, 10, 0)
    case = finish_at(cast, api_for, "SMS-IN-0002", morning)
    deliver(morning)
    invitation = SmsInvitation.objects.get(case=case)
    assert invitation.remind_at == morning + timedelta(hours=24)
    assert sms_sweep(now=morning + timedelta(hours=23))["reminded"] == 0
    assert sms_sweep(now=morning + timedelta(hours=24, minutes=1))["reminded"] == 1
    assert sms_sweep(now=morning + timedelta(hours=30))["reminded"] == 0
    assert sms_sweep(now=morning + timedelta(days=3))["reminded"] == 0
    deliver(morning + timedelta(hours=24, minutes=2))
    texts = [t["text"] for t in sent_texts(_file_backend)]
    assert len(texts) == 2 and texts[1].startswith("温馨提醒")
    invitation.refresh_from_db()
    assert invitation.status == "reminded" and invitation.remind_at is None
    assert sms_sweep(now=morning + timedelta(days=6))["expired"] == 0
    assert sms_sweep(now=morning + timedelta(days=7, minutes=1))["expired"] == 1
    invitation.refresh_from_db()
    assert invitation.status == "expired" and invitation.note == "有效期内未回复"
    history = list(invitation.events.values_list("from_status", "to_status"))
    assert history == [("", "queued"), ("queued", "sent"), ("sent", "reminded"), ("reminded", "expired")]


def test_a_reminder_never_goes_out_in_quiet_hours(cast, api_for, _file_backend):
    SmsPolicy.objects.create(region=cast.city, reminder_after_hours=2)
    evening = at(0, 19, 30)
    case = finish_at(cast, api_for, "SMS-IN-0003", evening)
    deliver(evening)
    invitation = SmsInvitation.objects.get(case=case)
    assert invitation.remind_at == at(1, 8, 0)  # 21:30 falls in the quiet hours
    assert sms_sweep(now=at(0, 23, 0))["reminded"] == 0
    # even a reminder already due is held while it is night
    SmsInvitation.objects.filter(pk=invitation.pk).update(remind_at=at(0, 21, 30))
    assert sms_sweep(now=at(0, 23, 0))["reminded"] == 0
    assert sms_sweep(now=at(1, 8, 5))["reminded"] == 1


def test_no_invitation_for_rated_old_phoneless_or_opted_out_cases(cast, api_for, _file_backend):
    now = at(0, 10, 0)
    SmsOptOut.objects.create(phone_hash=_hash("13900001111"), phone_masked="139****1111", created_at=now)
    finish_at(cast, api_for, "SMS-IN-0010", now, phone="13900001111")
    with clock.replay_at(now):
        register_case(
            api_for(cast.key_a),
            cast,
            "SMS-IN-0011",
            accepted_at=(now - timedelta(days=30)).isoformat(),
            finished_at=(now - timedelta(days=20)).isoformat(),  # a late report of an old case
        )
    finish_at(cast, api_for, "SMS-IN-0012", now, phone="")
    assert not SmsInvitation.objects.exists()
    # registering the same finished case again (an update) does not invite twice
    finish_at(cast, api_for, "SMS-IN-0013", now)
    finish_at(cast, api_for, "SMS-IN-0013", now + timedelta(minutes=1))
    assert SmsInvitation.objects.filter(case__case_no="SMS-IN-0013").count() == 1
    assert OutboxMessage.objects.filter(topic="sms.send").count() == 1


def test_a_case_rated_before_the_text_leaves_is_not_texted(cast, api_for, _file_backend):
    night = at(-2, 23, 0)  # in the past: the citizen rates now, after the case finished
    case = finish_at(cast, api_for, "SMS-IN-0020", night)
    r = api_for(cast.key_a).post("/ratings", {"case_no": case.case_no, "channel": "pc", "level": "satisfied"})
    assert r.status_code == 201
    counts = sms_sweep(now=at(-1, 8, 1))
    assert counts["sent"] == 0 and counts["closed"] == 1
    invitation = SmsInvitation.objects.get(case=case)
    assert invitation.status == "answered" and "PC端" in invitation.note
    assert sent_texts(_file_backend) == []


def test_regions_can_turn_invitations_off_and_edit_the_template(cast, api_for, _file_backend):
    SmsPolicy.objects.create(region=cast.yuelu, invitations_enabled=False)
    SmsPolicy.objects.create(
        region=cast.city, invitation_template="{department}提醒：「{item}」已办结，请回复1-5评价 {link}"
    )
    now = at(0, 10, 0)
    finish_at(cast, api_for, "SMS-IN-0030", now)
    deliver(now)
    [text] = sent_texts(_file_backend)
    assert (
        text["text"].startswith("长沙市市场监督管理局提醒：「食品经营许可」已办结") and "/r/" in text["text"]
    )
    with pytest.raises(ValidationError) as exc:
        SmsPolicy(region=cast.furong, invitation_template="您的{name}已办结").full_clean()
    assert "未知的占位符" in str(exc.value)


def test_transitions_are_guarded(cast, api_for):
    case = finish_at(cast, api_for, "SMS-IN-0040", at(0, 10, 0))
    invitation = SmsInvitation.objects.get(case=case)
    stale = SmsInvitation.objects.get(pk=invitation.pk)
    assert invitation_move(invitation, to="expired", note="测试")
    with pytest.raises(Conflict):
        invitation_move(invitation, to="reminded")  # nothing leaves a final state
    assert invitation_move(stale, to="sent") is False  # someone else moved it first
    invitation.refresh_from_db()
    assert invitation.status == "expired"


def _hash(phone: str) -> str:
    from haocha.core.identity import keyed_hash

    return keyed_hash("phone", phone)


def test_phone_is_stored_masked_hashed_and_encrypted(cast, api_for):
    case = finish_at(cast, api_for, "SMS-IN-0050", at(0, 10, 0))
    invitation = SmsInvitation.objects.get(case=case)
    assert invitation.phone_masked == "138****5678" and invitation.phone_hash == _hash(PHONE)
    assert PHONE not in invitation.phone_enc
    assert PHONE not in json.dumps(list(OutboxMessage.objects.values_list("payload", flat=True)))
