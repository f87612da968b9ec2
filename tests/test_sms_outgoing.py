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
