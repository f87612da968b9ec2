"""The HTTP backend against the stand-in provider process: transient failures retry, permanent ones stop,
and a text is delivered once however often it is attempted."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from haocha.core.models import OutboxMessage
from haocha.core.outbox import outbox_process
from haocha.integrations.sms.models import SmsInvitation, SmsMessage
from tests.factories import finished_case
from tests.sms_helpers import PHONE, Gateway, use_gateway

pytestmark = pytest.mark.django_db


@pytest.fixture
def quiet_off(settings):
    settings.HAOCHA_SMS_QUIET_HOURS = "off"


def _row() -> OutboxMessage:
    return OutboxMessage.objects.get(topic="sms.send")


def test_gateway_down_then_up_delivers_once(cast, settings, quiet_off):
    gateway = Gateway()
    port = gateway.port
    gateway.stop()  # nothing listens on the port now
    use_gateway(settings, url=f"http://127.0.0.1:{port}/send")
    case = finished_case(cast, "SMS-GW-0001")
    invitation = SmsInvitation.objects.get(case=case)
    now = timezone.now()

    assert outbox_process(now=now) == {"done": 0, "retry": 1, "dead": 0}
    row = _row()
    assert "短信网关连接失败" in row.last_error and PHONE not in row.last_error
    assert PHONE not in json.dumps(row.payload)  # the phone travels encrypted

    gateway = Gateway(port=port)
    try:
        gateway.mode("down")  # up but answering 503
        assert outbox_process(now=now + timedelta(hours=1))["retry"] == 1
        assert "HTTP 503" in _row().last_error
        gateway.mode("lose")  # takes the text, the answer is lost: we must retry, it must not send twice
        assert outbox_process(now=now + timedelta(hours=2))["retry"] == 1
        invitation.refresh_from_db()
        assert invitation.status == "queued"
        gateway.mode("up")
        assert outbox_process(now=now + timedelta(hours=3)) == {"done": 1, "retry": 0, "dead": 0}
        assert outbox_process(now=now + timedelta(hours=4)) == {"done": 0, "retry": 0, "dead": 0}
        [sent] = gateway.messages()
        assert gateway.attempts() == 3 and sent["phone"] == PHONE
    finally:
        gateway.stop()
    invitation.refresh_from_db()
    assert invitation.status == "sent" and invitation.remind_at is not None
    message = SmsMessage.objects.get(invitation=invitation)
    assert (message.status, message.provider_message_id) == ("sent", sent["message_id"])
    assert _row().attempts == 4


def test_a_refused_text_is_not_retried_and_the_invitation_fails(cast, settings, quiet_off):
    gateway = Gateway()
    try:
        use_gateway(settings, gateway)
        gateway.mode("reject")  # HTTP 400: e.g. the number does not exist
        case = finished_case(cast, "SMS-GW-0002")
        assert outbox_process() == {"done": 0, "retry": 0, "dead": 1}
    finally:
        gateway.stop()
    row = _row()
    assert row.status == "dead" and "HTTP 400" in row.last_error
    assert PHONE not in row.last_error and "138****5678" in row.last_error  # the provider's echo is masked
    invitation = SmsInvitation.objects.get(case=case)
    assert invitation.status == "failed" and invitation.failed_at is not None
    assert SmsMessage.objects.get(invitation=invitation).status == "failed"


def test_a_slow_gateway_times_out_and_is_retried(cast, settings, quiet_off):
    gateway = Gateway()
    try:
        use_gateway(settings, gateway)  # timeout 1 s; the gateway takes 3 s
        gateway.mode("slow")
        finished_case(cast, "SMS-GW-0003")
        assert outbox_process()["retry"] == 1
        assert "短信网关连接失败" in _row().last_error
    finally:
        gateway.stop()


def test_a_wrong_key_is_permanent(cast, settings, quiet_off):
    gateway = Gateway()
    try:
        use_gateway(settings, gateway)
        settings.HAOCHA_SMS_HTTP_KEY = "not-the-key"
        finished_case(cast, "SMS-GW-0004")
        assert outbox_process()["dead"] == 1
        assert "HTTP 401" in _row().last_error and gateway.messages() == []
    finally:
        gateway.stop()


def test_a_provider_down_for_hours_loses_no_invitation(cast, settings, quiet_off):
    """The outbox gives up after its retries; the sweep puts the invitation text back until it expires."""
    from haocha.integrations.sms.invitations import sms_sweep

    gateway = Gateway()
    port = gateway.port
    gateway.stop()
    use_gateway(settings, url=f"http://127.0.0.1:{port}/send")
    case = finished_case(cast, "SMS-GW-0005")
    now = timezone.now()
    for minute in range(0, 120, 5):
        outbox_process(now=now + timedelta(minutes=minute))
    assert _row().status == "dead"
    assert sms_sweep(now=now + timedelta(hours=2))["retried"] == 1
    assert _row().status == "pending" and SmsInvitation.objects.get(case=case).status == "queued"
    gateway = Gateway(port=port)
    try:
        assert outbox_process(now=now + timedelta(hours=3))["done"] == 1
        assert len(gateway.messages()) == 1
    finally:
        gateway.stop()
    assert SmsInvitation.objects.get(case=case).status == "sent"


def test_an_invitation_never_sent_in_its_validity_fails(cast, settings, quiet_off):
    from haocha.integrations.sms.invitations import sms_sweep

    use_gateway(settings, url="http://127.0.0.1:9/send")  # discard port: nothing answers
    case = finished_case(cast, "SMS-GW-0006")
    now = timezone.now()
    for hour in range(12):
        outbox_process(now=now + timedelta(hours=hour))
    assert _row().status == "dead"
    counts = sms_sweep(now=now + timedelta(days=8))
    assert counts["failed"] == 1 and counts["retried"] == 0
    invitation = SmsInvitation.objects.get(case=case)
    assert invitation.status == "failed" and invitation.note == "有效期内未能发送"
    assert SmsMessage.objects.get(invitation=invitation).status == "failed"
