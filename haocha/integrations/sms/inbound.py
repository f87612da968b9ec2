"""Replies and delivery receipts from the SMS provider, each applied once.

A reply is tied to the latest open invitation of the phone (by its keyed hash) and submitted through the
one rating intake (`rating_submit`, channel `sms`, the case's applicant as evaluator). A 差评 without a
reason is not stored yet: the intake requires a reason, so the level waits on the invitation, the
citizen is asked once for the reason, and the next free-text reply completes the rating. Replies that
cannot be read get one explanatory text back.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction

from haocha.channels.links import actor_for_case
from haocha.core import clock, identity
from haocha.core.errors import DomainError
from haocha.evaluations.channels import Channel
from haocha.evaluations.levels import Level
from haocha.evaluations.rules import RatingInput
from haocha.evaluations.services import rating_submit
from haocha.integrations.sms import invitations as inv_services
from haocha.integrations.sms import outgoing, texts
from haocha.integrations.sms.models import SmsInbound, SmsInvitation, SmsMessage, SmsOptOut
from haocha.integrations.sms.parser import parse_reply

S = SmsInvitation.Status
Outcome = SmsInbound.Outcome


@dataclass
class InboundResult:
    inbound: SmsInbound
    replayed: bool


def sms_reply_receive(
    *, provider: str, message_id: str, phone: str, text: str, received_at: datetime | None = None
) -> InboundResult:
    """Apply one reply; the same (provider, message id) again returns the first result unchanged."""
    now = clock.now()
    ident = identity.Identity(phone=phone)
    with transaction.atomic():
        try:
            with transaction.atomic():
                inbound = SmsInbound.objects.create(
                    provider=provider,
                    message_id=message_id,
                    phone_hash=ident.phone_hash,
                    phone_masked=ident.phone_masked,
                    text=text,
                    received_at=received_at or now,
                    outcome=Outcome.UNPARSED,
                )
        except IntegrityError:
            existing = SmsInbound.objects.get(provider=provider, message_id=message_id)
            return InboundResult(existing, replayed=True)
        _apply(inbound, phone=identity.normalise_phone(phone), now=now)
        inbound.save()
    return InboundResult(inbound, replayed=False)


def _reply(phone: str, text: str, key: str, invitation=None) -> None:
    outgoing.sms_enqueue(phone=phone, text=text, key=key, purpose="reply", invitation=invitation)


def _latest_open(phone_hash: str) -> SmsInvitation | None:
    return (
        SmsInvitation.objects.select_related("case")
        .filter(phone_hash=phone_hash, status__in=inv_services.OPEN)
        .order_by("-sent_at", "-pk")
        .first()
    )


def _apply(inbound: SmsInbound, *, phone: str, now: datetime) -> None:
    reply = parse_reply(inbound.text)
    if reply.kind == "opt_out":
        _opt_out(inbound, phone, now)
        return
    inv = _latest_open(inbound.phone_hash)
    inbound.invitation = inv
    if inv is None:
        inbound.outcome, inbound.code = Outcome.NO_INVITATION, "no_open_invitation"
        # at most one such answer a day per phone, however often it writes
        _reply(phone, texts.NO_INVITATION, f"no-invitation:{inbound.phone_hash[:32]}:{now:%Y%m%d}")
        return
    level, comment = reply.level, reply.comment
    if reply.kind == "unknown":
        if not inv.pending_level:
            inbound.outcome, inbound.code = Outcome.UNPARSED, "unparsed"
            if SmsInvitation.objects.filter(pk=inv.pk, help_sent_at__isnull=True).update(help_sent_at=now):
                _reply(phone, texts.HELP, f"invitation:{inv.pk}:help", inv)
            return
        level = Level(inv.pending_level)  # the reason we asked for
    _submit(inbound, inv, level, comment, phone, now)


def _ask_reason(inbound, inv, level, phone, now) -> None:
    inbound.outcome, inbound.code = Outcome.REASON_REQUESTED, "bad_rating_needs_reason"
    first = not inv.pending_level
    SmsInvitation.objects.filter(pk=inv.pk).update(pending_level=level, pending_at=now)
    if first:
        _reply(phone, texts.ASK_REASON.format(level=level.label), f"invitation:{inv.pk}:ask-reason", inv)


def _submit(inbound, inv, level, comment, phone, now) -> None:
    case = inv.case
    data = RatingInput(
        channel=Channel.SMS,
        level=level,
        case_no=case.case_no,
        comment=comment,
        idempotency_key=f"sms:{inbound.provider}:{inbound.message_id}"[:64],
    )
    try:
        # another reply (its own key) to a rated case is refused as a second rating by the rule book
        rating, _created = rating_submit(actor=actor_for_case(case, label="短信评价"), data=data)
    except DomainError as exc:
        if exc.code == "bad_rating_needs_reason":  # the rule book's: a 差评 without a reason asks for one
            _ask_reason(inbound, inv, level, phone, now)
            return
        inbound.outcome, inbound.code = Outcome.REFUSED, exc.code
        if exc.code in ("already_rated", "rating_period_over") and not inv_services.close_if_rated(inv, now):
            inv_services.try_move(inv, to=S.EXPIRED, now=now, note=exc.message)
        _reply(phone, texts.REFUSED.format(message=exc.message), f"inbound:{inbound.pk}:refused", inv)
        return
    inbound.outcome, inbound.code, inbound.rating = Outcome.RATED, "", rating
    inv_services.try_move(
        inv, to=S.ANSWERED, now=now, changes={"rating": rating, "pending_level": "", "remind_at": None}
    )
    if rating.is_bad:
        _reply(phone, texts.BAD_RECEIVED, f"invitation:{inv.pk}:bad-received", inv)


def _opt_out(inbound: SmsInbound, phone: str, now: datetime) -> None:
    inbound.outcome, inbound.code = Outcome.OPTED_OUT, ""
    _obj, created = SmsOptOut.objects.get_or_create(
        phone_hash=inbound.phone_hash,
        defaults={"phone_masked": inbound.phone_masked, "created_at": now, "source": "短信回复退订"},
    )
    for inv in SmsInvitation.objects.filter(
        phone_hash=inbound.phone_hash, status__in=inv_services.UNFINISHED
    ):
        inv_services.try_move(inv, to=S.OPTED_OUT, now=now, note="短信回复退订", changes={"remind_at": None})
    if created:
        _reply(phone, texts.OPTED_OUT, f"opt-out:{inbound.phone_hash[:32]}")


@dataclass
class Receipt:
    message_id: str
    out_id: str
    delivered: bool
    error: str = ""
    at: datetime | None = None


def sms_receipts_apply(*, provider: str, receipts: list[Receipt]) -> dict:
    """Delivery receipts: matched on our key (out_id) or the provider's id; unknown ones are counted."""
    counts = {"applied": 0, "unknown": 0}
    now = clock.now()
    for receipt in receipts:
        with transaction.atomic():
            qs = SmsMessage.objects.select_for_update(of=("self",)).select_related("invitation")
            message = None
            if receipt.out_id:
                message = qs.filter(key=receipt.out_id).first()
            if message is None and receipt.message_id:
                message = qs.filter(provider=provider, provider_message_id=receipt.message_id).first()
            if message is None:
                counts["unknown"] += 1
                continue
            at = receipt.at or now
            fields = {}
            if not message.provider_message_id and receipt.message_id:
                fields.update(provider=provider, provider_message_id=receipt.message_id[:64])
            if receipt.delivered and message.status != SmsMessage.Status.DELIVERED:
                fields.update(status=SmsMessage.Status.DELIVERED, delivered_at=at, error="")
            elif not receipt.delivered and message.status in (
                SmsMessage.Status.QUEUED,
                SmsMessage.Status.SENT,
            ):
                fields.update(status=SmsMessage.Status.FAILED, failed_at=at, error=receipt.error[:500])
            if fields:
                SmsMessage.objects.filter(pk=message.pk).update(**fields)
                inv_services.invitation_receipt(
                    message, delivered=receipt.delivered, now=at, error=receipt.error
                )
            counts["applied"] += 1
    return counts
