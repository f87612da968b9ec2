"""短信邀评: invite the applicant of a finished case by SMS, remind once, expire; a guarded state machine.

queued → sent → delivered → reminded → answered / expired / opted_out, and failed when the text cannot
be sent. Every change is a conditional UPDATE on the old status plus an SmsInvitationEvent row.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef

from haocha.catalogue.models import Case, ServiceItem
from haocha.channels.links import rating_link_url
from haocha.core import clock, identity
from haocha.core.errors import Conflict
from haocha.core.models import OutboxMessage
from haocha.evaluations.models import Rating
from haocha.integrations.sms import outgoing
from haocha.integrations.sms.models import SmsInvitation, SmsInvitationEvent, SmsMessage, SmsOptOut
from haocha.integrations.sms.policy import EffectiveSmsPolicy, sms_policy_for
from haocha.organisations.models import Organisation, Region

S = SmsInvitation.Status
ALLOWED = {
    S.QUEUED: {S.SENT, S.DELIVERED, S.ANSWERED, S.EXPIRED, S.OPTED_OUT, S.FAILED},
    S.SENT: {S.DELIVERED, S.REMINDED, S.ANSWERED, S.EXPIRED, S.OPTED_OUT, S.FAILED},
    S.DELIVERED: {S.REMINDED, S.ANSWERED, S.EXPIRED, S.OPTED_OUT},
    S.REMINDED: {S.ANSWERED, S.EXPIRED, S.OPTED_OUT},
    S.ANSWERED: set(),
    S.EXPIRED: set(),
    S.OPTED_OUT: set(),
    S.FAILED: set(),
}
# A reply can answer an invitation the citizen has received.
OPEN = (S.SENT, S.DELIVERED, S.REMINDED)
UNFINISHED = (S.QUEUED, S.SENT, S.DELIVERED, S.REMINDED)
# How long an invitation text the outbox gave up on waits before it is tried again.
RETRY_DEAD_AFTER = timedelta(minutes=15)
STAMP = {
    S.SENT: "sent_at",
    S.DELIVERED: "delivered_at",
    S.REMINDED: "reminded_at",
    S.ANSWERED: "answered_at",
    S.EXPIRED: "expired_at",
    S.OPTED_OUT: "opted_out_at",
    S.FAILED: "failed_at",
}


def invitation_move(
    inv: SmsInvitation, *, to: str, now: datetime | None = None, note: str = "", changes: dict | None = None
) -> bool:
    """Apply one transition. Raises Conflict if `to` is not allowed from the status read; returns False
    if the row changed meanwhile (someone else got there first)."""
    now = now or clock.now()
    if to not in ALLOWED[inv.status]:
        raise Conflict(
            f"短信邀评当前为“{inv.get_status_display()}”，不能变为“{S(to).label}”", code="illegal_transition"
        )
    fields = {"status": to, STAMP[to]: now, **(changes or {})}
    if note:
        fields["note"] = note[:255]
    with transaction.atomic():
        if not SmsInvitation.objects.filter(pk=inv.pk, status=inv.status).update(**fields):
            return False
        SmsInvitationEvent.objects.create(
            invitation=inv, from_status=inv.status, to_status=to, at=now, note=note[:255]
        )
    for name, value in fields.items():
        setattr(inv, name, value)
    return True


def try_move(inv: SmsInvitation, **kwargs) -> bool:
    """invitation_move for sweeps and callbacks, where losing a race or a late duty is not an error."""
    try:
        return invitation_move(inv, **kwargs)
    except Conflict:
        return False


def render(template: str, case: Case, *, item: ServiceItem, department: Organisation | None) -> str:
    values = {
        "item": item.name,
        "link": rating_link_url(case, channel="sms"),
        "department": department.name if department else "",
        "case_no": case.case_no,
    }
    return template.format_map(values)


def _enqueue_invitation(inv: SmsInvitation, case: Case, policy: EffectiveSmsPolicy) -> None:
    """Hand the invitation text to the outbox; the caller has set `enqueued_at` in the same transaction."""
    text = render(policy.invitation_template, case, item=case.item, department=case.department)
    outgoing.sms_enqueue(
        phone=identity.decrypt(inv.phone_enc),
        text=text,
        key=f"invitation:{inv.pk}",
        purpose=outgoing.INVITATION,
        invitation=inv,
    )


def sms_invitations_for_cases(*, cases: list[Case]) -> int:
    """The hook of case registration (same transaction): invite the applicant of each case that is
    finished, recent, has a phone, is not rated, not invited before and whose phone has not opted out."""
    now = clock.now()
    oldest = now - timedelta(hours=settings.HAOCHA_SMS_INVITE_MAX_AGE_HOURS)
    fresh = [
        c
        for c in cases
        if c.pk
        and c.status == Case.Status.FINISHED
        and c.finished_at is not None
        and oldest <= c.finished_at <= now + timedelta(minutes=5)
        and c.applicant_phone_hash
        and c.applicant_phone_enc
    ]
    if not fresh:
        return 0
    ids = [c.pk for c in fresh]
    skip = set(SmsInvitation.objects.filter(case_id__in=ids).values_list("case_id", flat=True))
    skip |= set(
        Rating.objects.filter(case_id__in=ids, kind=Rating.Kind.FIRST).values_list("case_id", flat=True)
    )
    opted = set(
        SmsOptOut.objects.filter(phone_hash__in={c.applicant_phone_hash for c in fresh}).values_list(
            "phone_hash", flat=True
        )
    )
    regions = Region.objects.in_bulk({c.region_id for c in fresh})
    items = ServiceItem.objects.in_bulk({c.item_id for c in fresh})
    departments = Organisation.objects.in_bulk({c.department_id for c in fresh})
    created = 0
    for case in fresh:
        if case.pk in skip or case.applicant_phone_hash in opted:
            continue
        policy = sms_policy_for(regions[case.region_id])
        if not policy.invitations_enabled:
            continue
        send_at = policy.next_send_time(now)
        try:
            with transaction.atomic():
                inv = SmsInvitation.objects.create(
                    case=case,
                    phone_hash=case.applicant_phone_hash,
                    phone_masked=case.applicant_phone_masked,
                    phone_enc=case.applicant_phone_enc,
                    created_at=now,
                    send_at=send_at,
                    enqueued_at=now if send_at <= now else None,
                    expires_at=send_at + timedelta(days=policy.expire_after_days),
                )
                note = "" if send_at == now else "免打扰时段，次日发送"
                SmsInvitationEvent.objects.create(invitation=inv, to_status=S.QUEUED, at=now, note=note)
                if send_at <= now:
                    case.item, case.department = items[case.item_id], departments[case.department_id]
                    _enqueue_invitation(inv, case, policy)
        except IntegrityError:
            continue  # invited by a concurrent registration of the same case
        created += 1
    return created


def _case_rated(case_id: int) -> Rating | None:
    return Rating.objects.filter(case_id=case_id, kind=Rating.Kind.FIRST).first()


def close_if_rated(inv: SmsInvitation, now: datetime) -> bool:
    """An invitation whose case got rated another way (a link, a tablet, the default rule) is closed."""
    rating = _case_rated(inv.case_id)
    if rating is None:
        return False
    if rating.is_default:
        try_move(inv, to=S.EXPIRED, now=now, note="已生成系统默认评价")
    else:
        try_move(
            inv,
            to=S.ANSWERED,
            now=now,
            note=f"已通过“{rating.get_channel_display()}”评价",
            changes={"rating": rating},
        )
    return True


def _opted_out(phone_hash: str) -> bool:
    return SmsOptOut.objects.filter(phone_hash=phone_hash).exists()


def still_wanted(invitation_id: int, purpose: str) -> bool:
    """Just before an invitation or reminder leaves: is it still to be sent?"""
    inv = SmsInvitation.objects.filter(pk=invitation_id).first()
    if inv is None:
        return False
    now = clock.now()
    expected = S.QUEUED if purpose == outgoing.INVITATION else S.REMINDED
    if inv.status != expected:
        return False
    if close_if_rated(inv, now):
        return False
    if inv.expires_at <= now:
        try_move(inv, to=S.EXPIRED, now=now, note="未能在有效期内发送")
        return False
    if _opted_out(inv.phone_hash):
        try_move(inv, to=S.OPTED_OUT, now=now, note="号码已退订")
        return False
    return True


def invitation_sent(invitation_id: int, *, now: datetime) -> None:
    inv = SmsInvitation.objects.select_related("case__region").filter(pk=invitation_id).first()
    if inv is None or inv.status != S.QUEUED:
        return
    policy = sms_policy_for(inv.case.region)
    changes = {"expires_at": now + timedelta(days=policy.expire_after_days)}
    if policy.reminder_after_hours:
        changes["remind_at"] = policy.next_send_time(now + timedelta(hours=policy.reminder_after_hours))
    try_move(inv, to=S.SENT, now=now, changes=changes)


def invitation_failed(invitation_id: int, *, note: str, now: datetime) -> None:
    inv = SmsInvitation.objects.filter(pk=invitation_id).first()
    if inv is not None and inv.status in (S.QUEUED, S.SENT):
        try_move(inv, to=S.FAILED, now=now, note=note)


def invitation_receipt(message: SmsMessage, *, delivered: bool, now: datetime, error: str = "") -> None:
    """A delivery receipt of an invitation text moves the invitation to delivered (or failed)."""
    inv = message.invitation
    if inv is None or message.purpose != outgoing.INVITATION:
        return
    inv.refresh_from_db()
    if delivered:
        if inv.status in (S.QUEUED, S.SENT):
            changes = {}
            if inv.sent_at is None:
                changes["sent_at"] = message.sent_at or now
            try_move(inv, to=S.DELIVERED, now=now, changes=changes)
        elif inv.delivered_at is None:
            SmsInvitation.objects.filter(pk=inv.pk, delivered_at__isnull=True).update(delivered_at=now)
    elif inv.status in (S.QUEUED, S.SENT):
        try_move(inv, to=S.FAILED, now=now, note=f"运营商回执：发送失败 {error}".strip())


def sms_sweep(*, now: datetime | None = None, batch: int = 200) -> dict:
    """The worker's periodic duty: send deferred invitations, remind once, expire, mark failures."""
    now = now or clock.now()
    counts = {"sent": 0, "reminded": 0, "expired": 0, "closed": 0, "failed": 0, "retried": 0}
    _send_deferred(now, batch, counts)
    _remind(now, batch, counts)
    _expire(now, batch, counts)
    _mark_failed(now, counts)
    return counts


def _invitations(**filters):
    return SmsInvitation.objects.select_related("case__region", "case__item", "case__department").filter(
        **filters
    )


def _send_deferred(now, batch, counts):
    due = _invitations(status=S.QUEUED, enqueued_at__isnull=True, send_at__lte=now).order_by("send_at")
    for inv in due[:batch]:
        with transaction.atomic():
            if close_if_rated(inv, now):
                counts["closed"] += 1
                continue
            if inv.expires_at <= now:
                if try_move(inv, to=S.EXPIRED, now=now, note="未能在有效期内发送"):
                    counts["expired"] += 1
                continue
            if _opted_out(inv.phone_hash):
                try_move(inv, to=S.OPTED_OUT, now=now, note="号码已退订")
                continue
            policy = sms_policy_for(inv.case.region)
            if policy.is_quiet(now):
                continue  # the worker was down through the morning: wait for the next one
            # claim it: only one worker enqueues (the outbox key would also keep the text single)
            if SmsInvitation.objects.filter(pk=inv.pk, enqueued_at__isnull=True).update(enqueued_at=now):
                _enqueue_invitation(inv, inv.case, policy)
                counts["sent"] += 1


def _remind(now, batch, counts):
    due = (
        _invitations(status__in=[S.SENT, S.DELIVERED], remind_at__lte=now, pending_level="")
        .filter(~Exists(SmsOptOut.objects.filter(phone_hash=OuterRef("phone_hash"))))
        .order_by("remind_at")
    )
    for inv in due[:batch]:
        with transaction.atomic():
            if close_if_rated(inv, now):
                counts["closed"] += 1
                continue
            policy = sms_policy_for(inv.case.region)
            if policy.is_quiet(now):
                continue
            if not try_move(inv, to=S.REMINDED, now=now, changes={"remind_at": None}):
                continue
            text = render(
                policy.reminder_template, inv.case, item=inv.case.item, department=inv.case.department
            )
            outgoing.sms_enqueue(
                phone=identity.decrypt(inv.phone_enc),
                text=text,
                key=f"invitation:{inv.pk}:reminder",
                purpose=outgoing.REMINDER,
                invitation=inv,
            )
            counts["reminded"] += 1


def _expire(now, batch, counts):
    due = _invitations(status__in=UNFINISHED, expires_at__lte=now).order_by("expires_at")
    for inv in due[:batch]:
        with transaction.atomic():
            if close_if_rated(inv, now):
                counts["closed"] += 1
                continue
            if inv.status == S.QUEUED and inv.enqueued_at is not None:
                # handed to the outbox but never sent in the whole validity: the provider kept failing
                if try_move(inv, to=S.FAILED, now=now, note="有效期内未能发送"):
                    counts["failed"] += 1
                continue
            note = "差评未补充原因" if inv.pending_level else "有效期内未回复"
            if try_move(inv, to=S.EXPIRED, now=now, note=note, changes={"remind_at": None}):
                counts["expired"] += 1


def _mark_failed(now, counts):
    """Texts the outbox gave up on (dead). An invitation is not lost to a provider that is down longer
    than the outbox's retries: its text goes back to the queue until the invitation expires, and only
    then is the invitation failed. Other texts (replies, codes) are failed at once: late, they are no use."""
    queued = list(
        SmsMessage.objects.filter(status=SmsMessage.Status.QUEUED, created_at__lte=now - timedelta(minutes=1))
        .order_by()
        .values_list("pk", "key", "invitation_id", "purpose")[:1000]
    )
    if not queued:
        return
    dead = dict(
        OutboxMessage.objects.filter(
            topic=outgoing.TOPIC,
            status=OutboxMessage.Status.DEAD,
            key__in=[f"sms:{k}" for _, k, _, _ in queued],
        ).values_list("key", "last_error")
    )
    for pk, key, invitation_id, purpose in queued:
        error = dead.get(f"sms:{key}")
        if error is None:
            continue
        with transaction.atomic():
            if invitation_id and purpose == outgoing.INVITATION:
                inv = SmsInvitation.objects.filter(pk=invitation_id, status=S.QUEUED).first()
                if inv is not None and inv.expires_at > now:
                    OutboxMessage.objects.filter(key=f"sms:{key}", status=OutboxMessage.Status.DEAD).update(
                        status=OutboxMessage.Status.PENDING,
                        attempts=0,
                        next_attempt_at=now + RETRY_DEAD_AFTER,
                    )
                    counts["retried"] += 1
                    continue
            SmsMessage.objects.filter(pk=pk, status=SmsMessage.Status.QUEUED).update(
                status=SmsMessage.Status.FAILED, failed_at=now, error=error[:500]
            )
