"""Outgoing SMS: written to the outbox in the caller's transaction, sent by the worker at least once.

The phone number travels encrypted in the outbox row (staff can read outbox rows in the admin).
"""

from haocha.core import identity
from haocha.core.outbox import handler, outbox_enqueue

TOPIC = "sms.send"


def sms_enqueue(*, phone: str, text: str, key: str, purpose: str) -> None:
    """Queue one text to a phone; the same key is sent once however often this is called."""
    outbox_enqueue(
        topic=TOPIC,
        key=f"sms:{key}",
        payload={"phone_enc": identity.encrypt(phone), "text": text, "purpose": purpose, "key": key},
    )


@handler(TOPIC)
def deliver_sms(payload: dict) -> None:
    from haocha.integrations.sms.backends import get_backend

    get_backend().send(phone=identity.decrypt(payload["phone_enc"]), text=payload["text"], key=payload["key"])
