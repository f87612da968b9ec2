"""Demo SMS ledger: the invitations the last ten days of finished cases would have had, in every state.

Deterministic for a seed and a day (like the rest of the demo). History only: no outbox rows, so nothing
is sent when the demo is built; the worker's sweep then reminds and expires as it would in production.
"""

import random
from datetime import datetime, timedelta

from haocha.catalogue.models import Case
from haocha.evaluations.channels import Channel
from haocha.evaluations.levels import to_satisfaction
from haocha.evaluations.models import Rating
from haocha.integrations.sms.models import (
    SmsInbound,
    SmsInvitation,
    SmsInvitationEvent,
    SmsMessage,
    SmsOptOut,
)
from haocha.integrations.sms.policy import EffectiveSmsPolicy, settings_policy

S = SmsInvitation.Status
MAX_INVITATIONS = 400


class _Built:
    def __init__(self, inv: SmsInvitation, message: SmsMessage):
        self.inv, self.message = inv, message
        self.trail: list[tuple[str, datetime, str]] = []
        self.reply: SmsInbound | None = None


def build_sms_demo(*, seed, anchor: datetime) -> int:
    """Invitations for cases finished in the ten days before `anchor`; returns how many."""
    rng = random.Random(f"{seed}:sms")
    policy = settings_policy()
    pool = list(
        Case.objects.filter(
            status=Case.Status.FINISHED, finished_at__gte=anchor - timedelta(days=10), finished_at__lt=anchor
        )
        .exclude(applicant_phone_hash="")
        .order_by("finished_at", "case_no")
    )
    cases = sorted(
        rng.sample(pool, min(MAX_INVITATIONS, len(pool))), key=lambda c: (c.finished_at, c.case_no)
    )
    ratings = {r.case_id: r for r in Rating.objects.filter(case__in=cases, kind=Rating.Kind.FIRST)}
    built = [
        _invitation(rng, n, case, ratings.get(case.pk), anchor, policy) for n, case in enumerate(cases, 1)
    ]
    SmsInvitation.objects.bulk_create([b.inv for b in built], batch_size=500)
    if built and built[0].inv.pk is None:  # backends that do not return ids from bulk inserts
        ids = dict(SmsInvitation.objects.filter(case__in=cases).values_list("case_id", "pk"))
        for b in built:
            b.inv.pk = ids[b.inv.case_id]
    events, messages, replies, opt_outs = [], [], [], {}
    for b in built:
        previous = ""
        for to, at, note in b.trail:
            events.append(
                SmsInvitationEvent(invitation=b.inv, from_status=previous, to_status=to, at=at, note=note)
            )
            previous = to
        b.message.invitation = b.inv
        messages.append(b.message)
        if b.reply is not None:
            b.reply.invitation = b.inv
            replies.append(b.reply)
        if b.inv.status == S.OPTED_OUT:
            opt_outs[b.inv.phone_hash] = SmsOptOut(
                phone_hash=b.inv.phone_hash,
                phone_masked=b.inv.phone_masked,
                created_at=b.inv.opted_out_at,
                source="短信回复退订",
            )
    SmsInvitationEvent.objects.bulk_create(events, batch_size=1000)
    SmsMessage.objects.bulk_create(messages, batch_size=500)
    SmsInbound.objects.bulk_create(replies, batch_size=500)
    SmsOptOut.objects.bulk_create(opt_outs.values(), ignore_conflicts=True)
    return len(built)


def _invitation(rng, n: int, case: Case, rating, anchor: datetime, policy: EffectiveSmsPolicy) -> _Built:
    send_at = policy.next_send_time(case.finished_at + timedelta(seconds=rng.randint(5, 90)))
    sent_at = send_at + timedelta(seconds=rng.randint(1, 20))
    inv = SmsInvitation(
        case=case,
        phone_hash=case.applicant_phone_hash,
        phone_masked=case.applicant_phone_masked,
        phone_enc=case.applicant_phone_enc,
        status=S.DELIVERED,
        created_at=case.finished_at,
        send_at=send_at,
        enqueued_at=send_at,
        sent_at=sent_at,
        expires_at=sent_at + timedelta(days=policy.expire_after_days),
    )
    message = SmsMessage(
        key=f"invitation:demo-{n}",
        purpose="invitation",
        phone_hash=inv.phone_hash,
        phone_masked=inv.phone_masked,
        status=SmsMessage.Status.DELIVERED,
        provider="demo",
        provider_message_id=f"demo-{n:06d}",
        sent_at=sent_at,
    )
    b = _Built(inv, message)
    b.trail = [(S.QUEUED, case.finished_at, ""), (S.SENT, sent_at, "")]
    if rng.random() < 0.03:
        inv.status, inv.failed_at, inv.note = (
            S.FAILED,
            sent_at + timedelta(seconds=30),
            "运营商回执：发送失败 UNDELIV",
        )
        message.status, message.failed_at, message.error = SmsMessage.Status.FAILED, inv.failed_at, "UNDELIV"
        b.trail.append((S.FAILED, inv.failed_at, inv.note))
        return b
    inv.delivered_at = message.delivered_at = sent_at + timedelta(seconds=rng.randint(2, 60))
    b.trail.append((S.DELIVERED, inv.delivered_at, ""))
    remind = policy.next_send_time(sent_at + timedelta(hours=policy.reminder_after_hours))
    if rating is not None:
        answered = max(rating.rated_at, inv.delivered_at + timedelta(seconds=30))
        if policy.reminder_after_hours and answered > remind:
            _move(b, S.REMINDED, remind)
        note = "" if rating.channel == Channel.SMS else f"已通过“{rating.get_channel_display()}”评价"
        _move(b, S.ANSWERED, answered, note)
        inv.rating = rating
        if rating.channel == Channel.SMS:
            b.reply = SmsInbound(
                provider="demo",
                message_id=f"demo-mo-{n:06d}",
                phone_hash=inv.phone_hash,
                phone_masked=inv.phone_masked,
                text=f"{to_satisfaction(rating.level)} {rating.comment}".strip()[:300],
                received_at=answered,
                outcome=SmsInbound.Outcome.RATED,
                rating=rating,
            )
        return b
    if rng.random() < 0.02:
        _move(b, S.OPTED_OUT, inv.delivered_at + timedelta(minutes=rng.randint(1, 600)), "短信回复退订")
        return b
    if policy.reminder_after_hours and remind < anchor:
        _move(b, S.REMINDED, remind)
    elif policy.reminder_after_hours:
        inv.remind_at = remind
    if inv.expires_at < anchor:
        _move(b, S.EXPIRED, inv.expires_at, "有效期内未回复")
    return b


def _move(b: _Built, to: str, at: datetime, note: str = "") -> None:
    stamp = {
        S.REMINDED: "reminded_at",
        S.ANSWERED: "answered_at",
        S.EXPIRED: "expired_at",
        S.OPTED_OUT: "opted_out_at",
    }[to]
    b.inv.status = to
    setattr(b.inv, stamp, at)
    if note:
        b.inv.note = note
    b.trail.append((to, at, note))
