"""The platform → haocha callbacks: each event stored once (its eventId) and applied once, in seq order,
through the ordinary services of the work order (workorders/actions.py, citizen.py) as the platform's actor,
at the time the step happened there. An event that arrives before those it follows waits for them."""

import dataclasses
import hashlib
import logging
from datetime import datetime, timedelta

import orjson
from django.db import IntegrityError, OperationalError, transaction
from django.http import HttpRequest

from haocha.accounts.access import Actor, actor_for_client
from haocha.core import clock
from haocha.core.errors import DomainError, InvalidInput
from haocha.integrations.docking import signing
from haocha.integrations.hotline12345 import protocol
from haocha.integrations.hotline12345.models import (
    HotlinePlatform,
    PlatformEvent,
    PlatformNonce,
    PlatformOrder,
)
from haocha.organisations.models import Organisation
from haocha.workorders import actions, citizen, machine
from haocha.workorders.models import Status, WorkOrder

E = PlatformEvent.State
log = logging.getLogger(__name__)


def platform_for_request(request: HttpRequest) -> HotlinePlatform:
    """The registered platform that signed this request (its scheme); a bad, stale or replayed one is refused.
    A region switched back to the built-in workbench still hears from its platform about the orders it has."""

    def secret_of(app):
        platform = (
            HotlinePlatform.objects.select_related("client", "region")
            .filter(app_id=app, is_active=True, client__is_active=True)
            .first()
        )
        return (platform.secret, platform, signing.scheme(platform.signing)) if platform else None

    platform, nonce = signing.verified_request(request, secret_of)
    now = clock.now()
    signing.record_nonce(lambda: PlatformNonce.objects.create(platform=platform, nonce=nonce, at=now))
    PlatformNonce.objects.filter(at__lt=now - timedelta(seconds=2 * signing.MAX_SKEW_SECONDS)).delete()
    return platform


def platform_actor(platform: HotlinePlatform) -> Actor:
    return dataclasses.replace(actor_for_client(platform.client), label=f"12345平台:{platform.name}")


def _result(raw, status: str, code: str = "", message: str = "", state: str = "") -> dict:
    event_id = raw.get("eventId") if isinstance(raw, dict) else None
    return {
        "eventId": event_id if isinstance(event_id, str) else None,
        "status": status,  # received | duplicate | refused
        "state": state,  # applied | unchanged | waiting | failed (received and duplicate)
        "code": code,
        "message": message,
    }


def _digest(event: protocol.Event) -> str:
    return hashlib.sha256(orjson.dumps(protocol.event_json(event), option=orjson.OPT_SORT_KEYS)).hexdigest()


def receive_events(platform: HotlinePlatform, raw_events: list, *, via: str = "callback") -> list[dict]:
    return [receive_event(platform, raw, via=via) for raw in raw_events]


def order_of(platform: HotlinePlatform, order_no: str) -> WorkOrder | None:
    """The platform's order by haocha's number, or by the platform's own for an order it started (a hotline
    rating named it)."""
    mine = WorkOrder.objects.filter(platform_id=platform.client_id)
    return mine.filter(number=order_no).first() or mine.filter(platform_number=order_no).first()


def receive_event(platform: HotlinePlatform, raw, *, via: str = "callback") -> dict:
    """Store one event once and apply what is due. An event that names its order and place (eventId, orderNo,
    seq) but is malformed otherwise is refused and kept as failed: its seq is used, so the order's later events
    are not held up behind it for ever."""
    try:
        event_id, order_no, seq = protocol.parse_envelope(raw)
    except DomainError as exc:
        return _result(raw, "refused", exc.code, exc.message)
    order = order_of(platform, order_no)
    if order is None:
        return _result(raw, "refused", "unknown_order", f"没有推送给本平台的工单 {order_no}")
    try:
        event, refusal = protocol.parse_event(raw), None
        digest = _digest(event)
    except DomainError as exc:
        event, refusal = None, exc
        digest = hashlib.sha256(orjson.dumps(raw, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()

    def known() -> dict | None:
        seen = PlatformEvent.objects.filter(platform=platform, event_id=event_id).first()
        if seen is None:
            return None
        if seen.digest != digest:
            return _result(raw, "refused", "event_id_reused", "该 eventId 已用于内容不同的回调")
        if refusal is not None:
            return _result(raw, "refused", seen.code, seen.message, seen.state)
        return _result(raw, "duplicate", seen.code, seen.message, seen.state)

    answer = known()
    if answer is not None:
        drain(order, platform)  # a resend may find its order's turn come (an earlier event arrived since)
        return answer
    if PlatformEvent.objects.filter(order=order, seq=seq).exists():
        return _result(raw, "refused", "seq_taken", f"该工单序号 {seq} 已有另一条回调")
    now = clock.now()
    row = {
        "platform": platform,
        "order": order,
        "event_id": event_id,
        "seq": seq,
        "digest": digest,
        "via": via,
        "received_at": now,
    }
    if refusal is None:
        row.update(kind=event.kind, happened_at=event.at, payload=protocol.event_json(event))
    else:
        row.update(
            kind=str(raw.get("type"))[:12],
            happened_at=now,
            payload=orjson.loads(orjson.dumps(raw, default=str)),
            state=E.FAILED,
            code=refusal.code,
            message=refusal.message[:300],
        )
    try:
        with transaction.atomic():
            PlatformEvent.objects.create(**row)
    except IntegrityError:  # the same event, or the same seq, stored by a concurrent call
        return known() or _result(raw, "refused", "seq_taken", f"该工单序号 {seq} 已有另一条回调")
    drain(order, platform)
    if refusal is not None:
        return _result(raw, "refused", refusal.code, refusal.message, E.FAILED)
    stored = PlatformEvent.objects.get(platform=platform, event_id=event_id)
    return _result(raw, "received", stored.code, stored.message, stored.state)


def drain(order: WorkOrder, platform: HotlinePlatform) -> int:
    """Apply the order's waiting events whose turn it is, one transaction each; returns how many."""
    applied = 0
    while True:
        with transaction.atomic():
            push, _ = PlatformOrder.objects.select_for_update().get_or_create(
                order=order,
                defaults={"platform": platform, "queued_at": clock.now(), "state": PlatformOrder.State.SENT},
            )
            row = PlatformEvent.objects.filter(order=order, seq=push.applied_seq + 1).first()
            if row is None:
                waiting = PlatformEvent.objects.filter(order=order, state=E.WAITING).order_by("seq")
                waiting.update(code="waiting", message=f"等待序号 {push.applied_seq + 1} 的回调")
                return applied
            if row.state == E.FAILED:  # refused on arrival (malformed): its seq is used, nothing to apply
                state, code, message = row.state, row.code, row.message
            else:
                outcome = apply(platform, row)
                if outcome is None:  # a passing failure: it waits, and is tried again (reconciliation)
                    PlatformEvent.objects.filter(pk=row.pk).update(
                        code="retry", message="与其他操作同时发生，稍后重试"
                    )
                    return applied
                state, code, message = outcome
            now = clock.now()
            PlatformEvent.objects.filter(pk=row.pk).update(
                state=state, code=code, message=message[:300], applied_at=now
            )
            changes = {"applied_seq": push.applied_seq + 1, "last_news_at": now}
            if row.kind == "accept" and state != E.FAILED:
                changes.update(
                    state=PlatformOrder.State.ACKNOWLEDGED,
                    acknowledged_at=push.acknowledged_at or now,
                    platform_number=row.payload["data"]["platformNo"],
                )
            PlatformOrder.objects.filter(pk=push.pk).update(**changes)
            applied += 1


def _department(code: str) -> Organisation:
    org = Organisation.objects.filter(credit_code=code.strip(), is_active=True).first()
    if org is None:
        raise InvalidInput(f"本系统没有统一社会信用代码为 {code} 的部门", code="unknown_department")
    return org


def _time(data: dict, name: str) -> datetime | None:
    value = data.get(name)
    return protocol.parse_time(value, name) if value else None


def _dispatch(order, actor, d):
    department = _department(d["departmentCode"])
    if order.status == Status.PENDING_VERIFY:
        return actions.work_order_verify(
            order=order,
            actor=actor,
            department=department,
            complexity=d.get("complexity", ""),
            note=d.get("note", ""),
        )
    return actions.work_order_assign(
        order=order,
        actor=actor,
        department=department,
        complexity=d.get("complexity", ""),
        note=d.get("note", ""),
    )


def _result_of(order, actor, d):
    if d["result"] == "refused":
        return actions.work_order_return(order=order, actor=actor, reason=d["text"])
    return actions.work_order_feedback(
        order=order,
        actor=actor,
        result=f"{protocol.RESULTS[d['result']]}：{d['text']}",
        measures=d.get("measures", ""),
    )


def _extension(order, actor, d):
    actions.work_order_request_extension(order=order, actor=actor, days=d["days"], reason=d["reason"])
    order.refresh_from_db()
    return actions.work_order_decide_extension(
        order=order, actor=actor, approve=d["approved"], note=d.get("note", "")
    )


def _callback(order, actor, d):
    if not d["success"]:
        return actions.work_order_callback_failed(
            order=order, actor=actor, note=d.get("reason") or "回访未成功"
        )
    if d.get("solved") is None or not d.get("satisfaction"):
        raise InvalidInput("回访成功时须有 solved 和 satisfaction", code="field_required")
    return citizen.work_order_callback(
        order=order,
        actor=actor,
        solved=d["solved"],
        satisfaction=d["satisfaction"],
        comment=d.get("reason", ""),
    )


def _close(order, actor, d):
    if order.status == Status.CLOSED:
        raise machine.AlreadyDone("工单已办结")
    return actions.work_order_close(order=order, actor=actor, note=d.get("note") or "12345平台办结")


# The platform's step → the work order's service (the machine guards each as for anyone).
APPLY = {
    "accept": lambda o, a, d: actions.work_order_acknowledge(order=o, actor=a, platform_number=d["platformNo"]),
    "verify": lambda o, a, d: actions.work_order_verify(
        order=o, actor=a, complexity=d.get("complexity", ""), note=d.get("note", "")
    ),
    "invalid": lambda o, a, d: actions.work_order_invalidate(order=o, actor=a, reason=d["reason"], note=d["note"]),
    "dispatch": _dispatch,
    "sign": lambda o, a, d: actions.work_order_accept(order=o, actor=a),
    "contact": lambda o, a, d: actions.work_order_contact(
        order=o, actor=a, method=d["method"], outcome=d["outcome"], reached=d.get("reached", True),
        contacted_at=_time(d, "contactTime"),
    ),
    "result": _result_of,
    "extension": _extension,
    "return": lambda o, a, d: actions.work_order_return(order=o, actor=a, reason=d["reason"]),
    "reassign": lambda o, a, d: actions.work_order_assign(
        order=o, actor=a, department=_department(d["departmentCode"]), note=d.get("note", "")
    ),
    "callback": _callback,
    "close": _close,
}  # fmt: skip


def apply(platform: HotlinePlatform, row: PlatformEvent) -> tuple[str, str, str] | None:
    """One event through the machine, at the time it happened on the platform (never before the order's
    previous step — a 逾期督办 the sweep made meanwhile aside: the platform is the record of when its steps
    happened — never after now); (state, code, message), or None when it met a passing failure (another
    writer moved the order at the same moment, the database busy): then it waits and is tried again."""
    order = (
        WorkOrder.objects.select_for_update(of=("self",))
        .select_related("rating", "department", "region")
        .get(pk=row.order_id)
    )
    previous = machine.previous_step_at(order, clock_steps=False)
    at = min(max(row.happened_at, previous or row.happened_at), clock.now())
    try:
        with clock.replay_at(at), transaction.atomic():
            APPLY[row.kind](order, platform_actor(platform), row.payload.get("data") or {})
    except machine.AlreadyDone as exc:
        return E.UNCHANGED, exc.code, exc.message
    except DomainError as exc:
        if exc.code == "concurrent_update":
            return None
        return E.FAILED, exc.code, exc.message
    except OperationalError:
        log.warning(
            "12345 callback %s of order %s: database busy, tried again later", row.event_id, row.order_id
        )
        return None
    except Exception:  # a fault of ours: recorded, the order's later events go on, the log has the trace
        log.exception("12345 callback %s of order %s could not be applied", row.event_id, row.order_id)
        return E.FAILED, "internal_error", "本系统处理该回调时出错，已记录，请联系系统管理员"
    return E.APPLIED, "", f"已{protocol.KINDS[row.kind].label}"


def drain_waiting(limit: int = 200) -> int:
    """Orders with an event waiting whose turn has come (it met a passing failure): applied now."""
    due = (
        PlatformEvent.objects.filter(state=E.WAITING, code="retry")
        .values_list("order_id", "platform_id")
        .distinct()[:limit]
    )
    n = 0
    for order_id, platform_id in due:
        n += drain(WorkOrder.objects.get(pk=order_id), HotlinePlatform.objects.get(pk=platform_id))
    return n
