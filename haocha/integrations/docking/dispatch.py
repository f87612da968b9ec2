"""Downward (下发): a 差评 made at this level about a case that came from a child system is sent down to it.

Here the 差评's work order is kept read-only (handled_by the child: workorders/creation.py asks
`remote_client` who handles it); the outbox posts the rating to the child's /api/docking/dispatch, signed
with the child's secret. The child stores it through its rule book as a rating from 上级系统 and its own
machine makes the work order; the order's handling data comes back up with its ordinary uploads and
replaces the read-only copy here.
"""

import urllib.error
import urllib.request
from datetime import timedelta

import orjson
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from haocha.accounts.models import ApiClient, Role
from haocha.catalogue.models import Case
from haocha.core import clock
from haocha.core.errors import DomainError, InvalidInput
from haocha.core.outbox import handler, outbox_enqueue
from haocha.evaluations.importer import RatingImporter
from haocha.evaluations.importfiles import ImportSummary
from haocha.evaluations.models import Rating
from haocha.evaluations.policy import policy_for_region
from haocha.integrations.docking import national, signing
from haocha.integrations.docking.client import no_redirect_opener
from haocha.integrations.docking.models import ChildSystem, ParentNonce
from haocha.workorders.creation import may_have_order
from haocha.workorders.models import Transition, WorkOrder
from haocha.workorders.notifications import notify

TOPIC = "docking.dispatch"


_OPENER = no_redirect_opener()
PATH = "/api/docking/dispatch"
UPPER_CLIENT = "上级系统"


def remote_client(rating: Rating):
    """The ApiClient of the child system whose case this rating is about (None: handled here)."""
    if not rating.case_id:
        return None
    source_id = Case.objects.filter(pk=rating.case_id).values_list("source_id", flat=True).first()
    if source_id is None or source_id == rating.source_id:
        return None  # this system's own case, or the child's own rating of it (uploaded, handled there)
    child = ChildSystem.objects.filter(client_id=source_id, is_active=True).select_related("client").first()
    return child.client if child else None


def on_rating_stored(*, rating: Rating, actor=None, **kwargs) -> None:
    """After a 差评 whose order is handled by a child — its own order, or for a 追评 差评 the case's order —
    queue it to be sent down (in the same transaction). Only a 差评 has an order: other ratings cost nothing
    here (this runs in every rating's write transaction; the query was a third of the intake's CPU)."""
    if not may_have_order(rating):
        return
    order = WorkOrder.objects.filter(rating=rating, handled_by__isnull=False).only("handled_by_id").first()
    if order is None and rating.kind == Rating.Kind.FOLLOW_UP and rating.is_bad and rating.case_id:
        order = (
            WorkOrder.objects.filter(case_id=rating.case_id, handled_by__isnull=False)
            .only("handled_by_id")
            .order_by("-pk")
            .first()
        )
    if order is None:
        return
    child = ChildSystem.objects.filter(client_id=order.handled_by_id).first()
    if child is None:
        return
    outbox_enqueue(
        topic=TOPIC,
        key=f"dispatch:{rating.public_id}",
        payload={"rating": rating.pk, "child": child.pk, "order": order.pk},
    )


def _take_back(order: WorkOrder, child: ChildSystem, reason: str) -> None:
    """The child cannot take the 差评: it is handled here after all, from 12345 核实, so none is left unhandled."""
    WorkOrder.objects.filter(pk=order.pk).update(handled_by=None, remote_number="", updated_at=clock.now())
    _note(order, "下发失败", f"{child.name} 未能接收（{reason}），转由本级 12345 核实办理")
    notify(
        order,
        key="dispatch-failed",
        title=f"差评工单 {order.number} 下发失败，转本级核实",
        body=reason,
        org_ids=[order.department_id],
        roles=(Role.OPERATOR_12345,),
    )


def take_back_undelivered() -> int:
    """差评 the outbox gave up sending down (the child unreachable through every retry): taken back, handled
    here, so none is left with nobody handling it. Run by the monitor's sweep; returns how many."""
    from haocha.core.models import OutboxMessage

    dead = OutboxMessage.objects.filter(topic=TOPIC, status=OutboxMessage.Status.DEAD)
    taken = 0
    for message in dead.order_by("pk")[:200]:
        order = (
            WorkOrder.objects.filter(pk=message.payload.get("order"), handled_by__isnull=False)
            .select_related("rating")
            .first()
        )
        child = ChildSystem.objects.filter(pk=message.payload.get("child")).first()
        if order is not None and child is not None and order.handled_by_id == child.client_id:
            with transaction.atomic():
                _take_back(order, child, f"多次下发未成功：{message.last_error[:120]}")
            taken += 1
        OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxMessage.Status.DONE)
    return taken


def _note(order: WorkOrder, label: str, note: str) -> None:
    Transition.objects.create(
        order=order,
        action="dispatch",
        from_status=order.status,
        to_status=order.status,
        actor_label="系统",
        at=clock.now(),
        note=note,
        data={"remote": True, "label": label},
    )


@handler(TOPIC)
def deliver_dispatch(payload: dict) -> None:
    rating = Rating.objects.select_related("case", "region", "staff").get(pk=payload["rating"])
    child = ChildSystem.objects.get(pk=payload["child"])
    order = (
        WorkOrder.objects.get(pk=payload["order"])
        if "order" in payload
        else WorkOrder.objects.get(rating=rating)
    )
    if not order.handled_by_id:
        return  # taken back already
    if not child.base_url:
        _take_back(order, child, "未登记下级系统地址")
        return
    table = policy_for_region(rating.region).channel_codes or None
    record = {
        "type": "rating",
        "id": str(rating.public_id),
        "version": 1,
        "data": national.rating_record(rating, table),
    }
    body = orjson.dumps({"records": [record]})
    headers = {
        "Content-Type": "application/json",
        **signing.signed_headers(child.app_id, child.secret, "POST", PATH, body),
    }
    request = urllib.request.Request(
        child.base_url.rstrip("/") + PATH, data=body, headers=headers, method="POST"
    )
    try:
        with _OPENER.open(request, timeout=settings.HAOCHA_DOCKING_TIMEOUT) as response:
            [result] = orjson.loads(response.read())["results"]
    except urllib.error.HTTPError as exc:
        if 400 <= exc.code < 500 and exc.code not in (401, 408, 409, 429):
            _take_back(order, child, f"HTTP {exc.code} {exc.read()[:200].decode('utf-8', 'replace')}")
            return
        raise  # retried with backoff
    if result.get("status") in ("accepted", "duplicate"):
        _note(order, "已下发", f"已下发至 {child.name}，由其按处置规则办理")
    else:
        _take_back(order, child, f"{result.get('message', '')}（{result.get('code', '')}）")


# --- the child side ---------------------------------------------------------------------------------


def parent_for_request(request: HttpRequest) -> None:
    """The call is this system's parent's, signed with the secret it issued; replays are refused."""

    def secret_of(app):
        configured = settings.HAOCHA_PARENT_SECRET and app == settings.HAOCHA_PARENT_APP_ID
        return (settings.HAOCHA_PARENT_SECRET, None) if configured else None

    _, nonce = signing.verified_request(request, secret_of)
    now = clock.now()
    signing.record_nonce(lambda: ParentNonce.objects.create(nonce=nonce, at=now))
    ParentNonce.objects.filter(at__lt=now - timedelta(seconds=2 * signing.MAX_SKEW_SECONDS)).delete()


def upper_client() -> ApiClient:
    client = ApiClient.objects.filter(name=UPPER_CLIENT).first()
    if client is None:
        client = ApiClient(name=UPPER_CLIENT, scopes=[ApiClient.Scope.RATINGS_WRITE])
        client.set_new_key()
        client.save()
    return client


def receive_dispatch(records: list) -> list[dict]:
    """Ratings sent down: stored through the rule book as 上级系统's, each making a work order here."""
    if not isinstance(records, list) or not records or len(records) > 100:
        raise InvalidInput("records 应为1至100条记录的数组", code="invalid_records")
    results, batch = [], []
    for i, rec in enumerate(records):
        ok = isinstance(rec, dict) and rec.get("type") == "rating" and isinstance(rec.get("data"), dict)
        ok = ok and isinstance(rec.get("id"), str) and 0 < len(rec["id"]) <= 64
        results.append(
            {"type": "rating", "id": rec.get("id") if isinstance(rec, dict) else None, "version": 1,
             "status": "accepted" if ok else "rejected", "code": "" if ok else "invalid_record",
             "message": "" if ok else "记录应为 type=rating 且带 id 与 data 的对象"}
        )  # fmt: skip
        if ok:
            batch.append((i + 1, national.import_record(rec["data"], rec["id"]), None))
    if batch:
        rejects = RatingImporter(client=upper_client(), work_orders=True).run_batch(
            batch, ImportSummary("ratings")
        )
        for line, code, message, *_ in rejects:
            results[line - 1].update(status="rejected", code=code, message=message)
    return results


def case_details(case_no: str) -> dict:
    """The reverse lookup a parent makes (GET /api/docking/cases/<办件编号>): the case as it is uploaded, its
    ratings and its orders' handling data — no more personal data than the upload carries."""
    from haocha.catalogue.caseno import normalise_case_no
    from haocha.core.errors import NotFound

    case = (
        Case.objects.select_related("item", "department", "region", "hall")
        .filter(case_no=normalise_case_no(case_no))
        .first()
    )
    if case is None:
        raise NotFound(f"办件 {case_no[:50]} 不存在", code="case_not_found")
    table = policy_for_region(case.region).channel_codes or None
    ratings = Rating.objects.filter(case=case).select_related("case", "region", "staff").order_by("kind")
    orders = (
        WorkOrder.objects.filter(case=case)
        .select_related("case", "rating", "department")
        .prefetch_related("transitions__actor__roles")
        .order_by("pk")
    )
    return {
        "service": national.service_record(case),
        "ratings": [national.rating_record(r, table) for r in ratings],
        "orders": [national.order_record(o) for o in orders],
    }


def fetch_case(child: ChildSystem, case_no: str) -> dict:
    """The parent side of the reverse lookup: ask the child for a case by its number (signed GET)."""
    from urllib.parse import quote

    path = f"/api/docking/cases/{case_no}"  # signed as the receiver reads it (request.path, decoded)
    headers = signing.signed_headers(child.app_id, child.secret, "GET", path, b"")
    url = child.base_url.rstrip("/") + f"/api/docking/cases/{quote(case_no, safe='')}"
    request = urllib.request.Request(url, headers=headers, method="GET")
    try:
        with _OPENER.open(request, timeout=settings.HAOCHA_DOCKING_TIMEOUT) as response:
            return orjson.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            answer = orjson.loads(exc.read())
        except orjson.JSONDecodeError:
            answer = {"code": "http_error", "message": f"HTTP {exc.code}"}
        raise DomainError(
            answer.get("message", ""), code=answer.get("code", "http_error"), status=exc.code
        ) from exc
