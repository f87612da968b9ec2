"""haocha → the external 12345 platform: which platform a 差评's order goes to, the push through the outbox
(one PlatformOrder row per order with its state), and the reconciliation round.

A push carries the 差评 (content, reasons, level), the item, case and suggested department, rating time
and channel, the 1210 deadlines, the source "好差评", and the citizen's contact as the agreement allows:
the name and phone masked, the phone also SM4-encrypted with the platform's key (never in clear).
"""

import uuid
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q

from haocha.accounts.models import ApiClient
from haocha.core import clock, identity
from haocha.core.audit import audit_record
from haocha.core.models import AuditLog
from haocha.core.outbox import MAX_ATTEMPTS, PermanentError, handler, outbox_enqueue
from haocha.evaluations.models import Rating, ReasonOption
from haocha.integrations.docking import gm
from haocha.integrations.hotline12345.client import PlatformClient, PlatformDown, PlatformRefused
from haocha.integrations.hotline12345.models import HotlinePlatform, PlatformOrder
from haocha.integrations.hotline12345.protocol import format_time
from haocha.organisations.policies import nearest_policy
from haocha.workcalendar.services import workdays
from haocha.workorders.creation import may_have_order
from haocha.workorders.models import OPEN_STATUSES, Transition, WorkOrder
from haocha.workorders.policy import order_policy

TOPIC = "hotline12345.push"
MAX_REPUSHES = 3  # re-pushes by reconciliation of an order the platform does not know, before it is stuck
State = PlatformOrder.State


def platform_of(region) -> HotlinePlatform | None:
    """The region's external 12345 platform (nearest up the region tree); None: the built-in workbench."""
    row = nearest_policy(HotlinePlatform, region)
    if row is None or row.mode != HotlinePlatform.Mode.EXTERNAL or not row.is_active:
        return None
    return row


def platform_client(rating: Rating) -> ApiClient | None:
    """Registered with workorders.creation: the platform that verifies and dispatches this 差评's order."""
    region = rating.case.region if rating.case_id else rating.region
    platform = platform_of(region)
    return platform.client if platform else None


def on_rating_stored(*, rating: Rating, actor=None, **kwargs) -> None:
    """After a 差评 on a platform's order (a new order, a 追评 joining it, or a new cycle): queue the push."""
    if not may_have_order(rating):
        return
    order = WorkOrder.objects.filter(rating=rating, platform__isnull=False).first()
    if order is None and rating.kind == Rating.Kind.FOLLOW_UP and rating.is_bad and rating.case_id:
        order = (
            WorkOrder.objects.filter(case_id=rating.case_id, platform__isnull=False).order_by("-pk").first()
        )
    if order is None:
        return
    if order.rating_id == rating.pk and order.platform_number:
        # The platform's own order (a hotline rating named it): known there already, nothing to push.
        now = clock.now()
        PlatformOrder.objects.get_or_create(
            order=order,
            defaults={
                "platform": HotlinePlatform.objects.get(client_id=order.platform_id),
                "state": State.ACKNOWLEDGED,
                "platform_number": order.platform_number,
                "queued_at": now,
                "acknowledged_at": now,
                "last_news_at": now,
            },
        )
        return
    if order.rating_id == rating.pk:
        reason = "new"
    else:
        last = order.transitions.order_by("-at", "-id").values_list("action", flat=True).first()
        reason = "reopen" if last == "reopen" else "follow_up"
    queue(order, reason=reason, rating=rating)


# Steps taken here that the platform must hear of: a supervisor's 督办 and the sweep's 逾期督办 reach the
# department through the platform, with the order pushed again (reason "supervise").
SUPERVISION_STEPS = ("supervise", "escalate")


def on_step(order: WorkOrder, name: str, step) -> None:
    """Registered with the machine (on_platform_step): runs in the step's transaction."""
    if name in SUPERVISION_STEPS:
        queue(order, reason="supervise", step=step)


def queue(order: WorkOrder, *, reason: str, rating: Rating | None = None, step=None) -> PlatformOrder:
    """A PlatformOrder row (or a new version of it) and its outbox message, in the caller's transaction."""
    platform = HotlinePlatform.objects.get(client_id=order.platform_id)
    now = clock.now()
    push, created = PlatformOrder.objects.get_or_create(
        order=order, defaults={"platform": platform, "queued_at": now, "last_news_at": now}
    )
    if not created:
        PlatformOrder.objects.filter(pk=push.pk).update(version=F("version") + 1, queued_at=now, attempts=0)
        if reason == "reopen":  # a new cycle: the platform takes it in again
            PlatformOrder.objects.filter(pk=push.pk).update(acknowledged_at=None)
        PlatformOrder.objects.filter(pk=push.pk, acknowledged_at__isnull=True).update(state=State.QUEUED)
        push.refresh_from_db()
    outbox_enqueue(
        topic=TOPIC,
        key=f"hotline:{order.pk}:{push.version}",
        payload={
            "push": push.pk,
            "version": push.version,
            "reason": reason,
            "rating": rating.pk if rating else None,
            "step": step.pk if step is not None else None,
        },
    )
    return push


def requeue(push: PlatformOrder, *, reason: str = "retry") -> None:
    """重新推送 (by hand, or by reconciliation): the latest version again under a fresh outbox message, with
    what that version said (new, follow_up, reopen, supervise and its rating or step)."""
    from haocha.core.models import OutboxMessage

    last = (
        OutboxMessage.objects.filter(topic=TOPIC, key__startswith=f"hotline:{push.order_id}:")
        .order_by("-pk")
        .values_list("payload", flat=True)
        .first()
    )
    payload = {**(last or {"reason": "retry", "rating": None, "step": None}), "push": push.pk}
    payload["version"] = push.version
    with transaction.atomic():
        PlatformOrder.objects.filter(pk=push.pk).update(attempts=0, last_error="")
        PlatformOrder.objects.filter(pk=push.pk, acknowledged_at__isnull=True).update(state=State.QUEUED)
        outbox_enqueue(
            topic=TOPIC,
            key=f"hotline:{push.order_id}:{push.version}:{reason}:{uuid.uuid4().hex}",
            payload=payload,
        )


def _reason_texts(rating: Rating) -> list[str]:
    codes = list(rating.reason_codes or [])
    if not codes:
        return []
    texts = dict(
        ReasonOption.objects.filter(indicator_set_id=rating.indicator_set_id, code__in=codes).values_list(
            "code", "text"
        )
    )
    return [texts.get(code, code) for code in codes]


def contact_of(rating: Rating, platform: HotlinePlatform) -> dict:
    """The citizen's contact as the agreement allows: masked, and the phone SM4-encrypted under the
    platform's key (hex of IV + ciphertext); without a key the phone goes masked only."""
    phone = identity.decrypt(rating.evaluator_phone_enc)
    contact = {
        "name": identity.mask_name(rating.evaluator_name),
        "phoneMasked": rating.evaluator_phone_masked,
    }
    if phone and platform.contact_key:
        contact["phoneEnc"] = gm.sm4_encrypt(gm.sm4_key(platform.contact_key), phone.encode()).hex()
        contact["encryption"] = "SM4-CBC"
    return contact


def order_payload(push: PlatformOrder, reason: str, rating: Rating | None, step=None) -> dict:
    order = push.order
    first = order.rating
    policy = order_policy(order.region)
    department = order.department
    latest = rating or first
    payload = {
        "orderNo": order.number,
        "version": push.version,
        "reason": reason,  # new | follow_up | reopen | supervise | retry
        "source": "好差评",
        "title": f"{first.item.name if first.item_id else '政务服务'}差评",
        "content": latest.comment,
        "reasons": _reason_texts(latest),
        "level": latest.get_level_display(),
        "ratedAt": format_time(latest.rated_at),
        "channel": latest.get_channel_display(),
        "caseNo": order.case.case_no if order.case_id else "",
        "itemCode": first.item.code if first.item_id else "",
        "itemName": first.item.name if first.item_id else "",
        "department": {"code": department.credit_code, "name": department.name} if department else None,
        "regionCode": order.region.code,
        "deadlines": {
            "contactDays": policy.contact_days,
            "simpleDays": policy.simple_days,
            "complexDays": policy.complex_days,
            "contactDue": format_time(order.contact_due_at),
            "finishDue": format_time(order.finish_due_at),
        },
        "contact": contact_of(first, push.platform),
    }
    if reason == "follow_up" and rating is not None and rating.pk != first.pk:
        payload["followUp"] = {"content": rating.comment, "ratedAt": format_time(rating.rated_at)}
    if reason == "supervise" and step is not None:
        payload["supervision"] = {
            "kind": "逾期督办" if step.action == "escalate" else "督办",
            "level": order.escalation_level,
            "note": step.note,
            "at": format_time(step.at),
        }
    return payload


@handler(TOPIC)
def deliver(message: dict) -> None:
    push = PlatformOrder.objects.select_related(
        "order__rating__item", "order__case", "order__department", "order__region", "platform"
    ).get(pk=message["push"])
    if message["version"] < push.version and message.get("reason") in ("retry", "new"):
        return  # a newer version is queued and carries the order as it is now
    rating = Rating.objects.filter(pk=message.get("rating")).first() if message.get("rating") else None
    step = Transition.objects.filter(pk=message.get("step")).first() if message.get("step") else None
    payload = order_payload(push, message["reason"], rating, step)
    PlatformOrder.objects.filter(pk=push.pk).update(attempts=F("attempts") + 1)
    try:
        answer = PlatformClient(push.platform).push(payload)
    except PlatformRefused as exc:
        PlatformOrder.objects.filter(pk=push.pk).update(last_error=str(exc)[:300])
        PlatformOrder.objects.filter(pk=push.pk, acknowledged_at__isnull=True).update(state=State.STUCK)
        raise PermanentError(str(exc)) from exc
    except PlatformDown as exc:
        PlatformOrder.objects.filter(pk=push.pk).update(last_error=str(exc)[:300])
        raise
    number = str(answer.get("platformNo") or "")[:40]
    now = clock.now()
    with transaction.atomic():
        PlatformOrder.objects.filter(pk=push.pk, sent_version__lt=message["version"]).update(
            sent_version=message["version"]
        )
        PlatformOrder.objects.filter(pk=push.pk).update(sent_at=now, last_error="")
        if number:
            PlatformOrder.objects.filter(pk=push.pk, platform_number="").update(platform_number=number)
            # shown on the order at once, and a hotline rating naming it finds it before the 受理 arrives
            WorkOrder.objects.filter(pk=push.order_id, platform_number="").update(platform_number=number)
        PlatformOrder.objects.filter(pk=push.pk, acknowledged_at__isnull=True).update(state=State.SENT)
        PlatformOrder.objects.filter(pk=push.pk, acknowledged_at__isnull=False).update(
            state=State.ACKNOWLEDGED
        )
        if payload["contact"].get("phoneEnc"):
            audit_record(
                action=AuditLog.Action.PARTNER_SEND,
                actor_label="系统",
                obj=push.order.rating,
                summary=f"向{push.platform.name}推送工单 {push.order.number}（联系电话 SM4 加密）",
                detail={"platform": push.platform.name, "fields": ["evaluator_phone"]},
            )


# --- reconciliation ------------------------------------------------------------------------------------


def quiet(push: PlatformOrder, now) -> bool:
    """No news from the platform for its quiet_hours of office time."""
    since = push.last_news_at or push.sent_at or push.queued_at
    return workdays.working_hours_between(since, now) >= push.platform.quiet_hours


def reconcile(*, now=None, limit: int = 200) -> str | None:
    """Ask the platform about open orders without news; re-push what it never received; mark stuck what the
    outbox gave up on or the platform still does not know after MAX_REPUSHES."""
    from haocha.integrations.hotline12345.callbacks import receive_events

    now = now or clock.now()
    gave_up = PlatformOrder.objects.filter(state=State.QUEUED, attempts__gte=MAX_ATTEMPTS).update(
        state=State.STUCK, last_error="多次推送失败，已停止重试"
    )
    from haocha.integrations.hotline12345.callbacks import drain_waiting

    retried = drain_waiting()
    open_pushes = (
        PlatformOrder.objects.filter(
            Q(state__in=(State.SENT, State.ACKNOWLEDGED)) | Q(acknowledged_at__isnull=False)
        )
        .filter(platform__is_active=True)
        .filter(Q(checked_at__isnull=True) | Q(checked_at__lt=now - timedelta(minutes=30)))
        .filter(order__status__in=OPEN_STATUSES)
        .select_related("platform", "order")
        .order_by("last_news_at")[:limit]
    )
    asked = repushed = stuck = learned = 0
    for push in open_pushes:
        if not quiet(push, now):
            continue
        asked += 1
        PlatformOrder.objects.filter(pk=push.pk).update(checked_at=now)
        own = push.sent_version == 0 and bool(push.platform_number)  # the platform's own order: never pushed
        try:
            found = PlatformClient(push.platform).fetch(push.platform_number if own else push.order.number)
        except PlatformDown:
            continue  # asked again in the next round
        except PlatformRefused:
            found = None
        never_acknowledged = push.state == State.SENT and not (found or {}).get("events")
        if own and found is None:
            continue  # the platform's own order is not ours to push
        if found is None or never_acknowledged:  # unknown there, or never 受理'd: push again, then give up
            if push.repushes >= MAX_REPUSHES:
                PlatformOrder.objects.filter(pk=push.pk).update(
                    state=State.STUCK, last_error=f"对账{MAX_REPUSHES}次重推后平台仍未受理此工单"
                )
                stuck += 1
            else:
                PlatformOrder.objects.filter(pk=push.pk).update(repushes=F("repushes") + 1)
                requeue(push, reason="reconcile")
                repushed += 1
            continue
        events = found.get("events")
        results = receive_events(push.platform, events if isinstance(events, list) else [], via="reconcile")
        learned += sum(1 for r in results if r["status"] == "received")
    if not (asked or gave_up or retried):
        return None
    return f"12345对账：核查 {asked} 单，补收回调 {learned} 条，重推 {repushed} 单，推送失败 {stuck + gave_up} 单"
