"""Outgoing SMS: written to the outbox in the caller's transaction, sent by the worker at least once.

The phone number travels encrypted in the outbox row (staff can read outbox rows in the admin). Each
text also gets an SmsMessage row (masked phone, no text) that the send and the delivery receipt update.
An invitation or reminder is checked again just before it goes out: a case rated or a phone opted out
in the meantime cancels it.
"""

from django.conf import settings
from django.db import IntegrityError, transaction

from haocha.core import clock, identity
from haocha.core.outbox import PermanentError, handler, outbox_enqueue

TOPIC = "sms.send"
# Purposes whose texts are invitations to rate: they respect opt-outs and the invitation's state.
INVITATION = "invitation"
REMINDER = "reminder"


def sms_enqueue(*, phone: str, text: str, key: str, purpose: str, invitation=None) -> None:
    """Queue one text to a phone; the same key is sent once however often this is called."""
    from haocha.integrations.sms.models import SmsMessage

    ident = identity.Identity(phone=phone)
    try:
        with transaction.atomic():
            SmsMessage.objects.create(
                key=key[:128],
                purpose=purpose[:32],
                invitation=invitation,
                phone_hash=ident.phone_hash,
                phone_masked=ident.phone_masked,
            )
    except IntegrityError:
        pass  # queued before: the outbox key below is the same, so nothing is sent twice
    payload = {"phone_enc": identity.encrypt(phone), "text": text, "purpose": purpose, "key": key}
    if invitation is not None:
        payload["invitation_id"] = invitation.pk
    outbox_enqueue(topic=TOPIC, key=f"sms:{key}", payload=payload)


@handler(TOPIC)
def deliver_sms(payload: dict) -> None:
    from haocha.integrations.sms import invitations
    from haocha.integrations.sms.backends import get_backend
    from haocha.integrations.sms.models import SmsMessage

    key = payload["key"]
    invitation_id = payload.get("invitation_id")
    purpose = payload.get("purpose", "")
    if (
        invitation_id
        and purpose in (INVITATION, REMINDER)
        and not invitations.still_wanted(invitation_id, purpose)
    ):
        SmsMessage.objects.filter(key=key, status=SmsMessage.Status.QUEUED).update(
            status=SmsMessage.Status.CANCELLED
        )
        return
    try:
        message_id = get_backend().send(
            phone=identity.decrypt(payload["phone_enc"]), text=payload["text"], key=key
        )
    except PermanentError as exc:
        now = clock.now()
        with transaction.atomic():
            SmsMessage.objects.filter(key=key).exclude(status=SmsMessage.Status.DELIVERED).update(
                status=SmsMessage.Status.FAILED, failed_at=now, error=str(exc)[:500]
            )
            if invitation_id and purpose == INVITATION:
                invitations.invitation_failed(invitation_id, note=str(exc)[:255], now=now)
        raise
    now = clock.now()
    with transaction.atomic():
        # A receipt may have come first (it matches on our key): never move a message back.
        SmsMessage.objects.filter(
            key=key, status__in=[SmsMessage.Status.QUEUED, SmsMessage.Status.FAILED]
        ).update(status=SmsMessage.Status.SENT, sent_at=now, error="")
        SmsMessage.objects.filter(key=key, provider_message_id="").update(
            provider=settings.HAOCHA_SMS_PROVIDER, provider_message_id=str(message_id or "")[:64]
        )
        if invitation_id and purpose == INVITATION:
            invitations.invitation_sent(invitation_id, now=now)
