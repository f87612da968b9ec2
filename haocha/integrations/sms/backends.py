"""SMS senders. The file backend (default) appends each message to a JSON-lines file under VAR_DIR."""

import json
import threading
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

_lock = threading.Lock()


class SmsBackend:
    def send(self, *, phone: str, text: str, key: str) -> str:
        """Send one text; return the provider's message id. Raise to have the outbox retry."""
        raise NotImplementedError


class FileBackend(SmsBackend):
    """Development and demo: the 'sent' texts are lines in var/sms/outbox.jsonl (phone masked)."""

    def send(self, *, phone: str, text: str, key: str) -> str:
        from haocha.core.identity import mask_phone

        path = Path(settings.VAR_DIR) / "sms" / "outbox.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        message_id = f"file-{uuid.uuid4().hex[:16]}"
        line = {"id": message_id, "key": key, "phone": mask_phone(phone), "text": text}
        line["sent_at"] = timezone.now().isoformat()
        with _lock, path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        return message_id


def get_backend() -> SmsBackend:
    return import_string(settings.HAOCHA_SMS_BACKEND)()
