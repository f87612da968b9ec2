"""Outgoing SMS go through the outbox: queued once per key, phone encrypted in the row, sent by the worker."""

import json

from haocha.core.models import OutboxMessage
from haocha.core.outbox import outbox_process
from haocha.integrations.sms.outgoing import sms_enqueue


def test_sms_is_queued_once_and_written_by_the_file_backend(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    sms_enqueue(phone="13812345678", text="验证码 123456", key="otp:1", purpose="terminal_code")
    sms_enqueue(phone="13812345678", text="验证码 123456", key="otp:1", purpose="terminal_code")
    row = OutboxMessage.objects.get()
    assert "13812345678" not in json.dumps(row.payload)
    assert outbox_process()["done"] == 1
    lines = (tmp_path / "sms" / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    sent = json.loads(lines[0])
    assert sent["phone"] == "138****5678" and sent["text"] == "验证码 123456"


def test_a_text_handed_over_again_after_a_crash_is_not_sent_twice(db, settings, tmp_path):
    """The worker dies after the backend took the text but before it recorded that: the retry hands the
    same key over again, and the provider (here the file backend, as real ones do on out_id) sends once."""
    from datetime import timedelta
    from unittest import mock

    from django.utils import timezone

    from haocha.integrations.sms.models import SmsMessage

    settings.VAR_DIR = tmp_path
    sms_enqueue(phone="13812345678", text="您的办件已办结", key="inv:9", purpose="notice")
    real_now = timezone.now
    with mock.patch("haocha.integrations.sms.outgoing.clock.now", side_effect=RuntimeError("worker killed")):
        assert outbox_process()["retry"] == 1
    lines = (tmp_path / "sms" / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    assert outbox_process(now=real_now() + timedelta(hours=2))["done"] == 1
    lines = (tmp_path / "sms" / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1  # handed over twice, sent once
    message = SmsMessage.objects.get(key="inv:9")
    assert (
        message.status == SmsMessage.Status.SENT and message.provider_message_id == json.loads(lines[0])["id"]
    )
