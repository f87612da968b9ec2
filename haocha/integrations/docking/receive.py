"""The parent side: a child system's signed batch, each record applied once through the ordinary write paths.

Service records go through `cases_upsert` (as any approval system's cases), ratings through the rating
importer and so the rule book, validity changes through `rating_flag`. A record is idempotent on (child,
kind, record id, version): the same again answers `duplicate` without touching anything. A rating whose
service record has not arrived is refused with `service_record_missing`; the child sends it again later.
"""

from datetime import timedelta

from django.db import transaction
from django.http import HttpRequest

from haocha.accounts.access import Actor, actor_for_client
from haocha.catalogue.models import Case
from haocha.catalogue.services import cases_upsert
from haocha.core import clock
from haocha.core.errors import Conflict, DomainError, InvalidInput
from haocha.evaluations.importer import RatingImporter
from haocha.evaluations.importfiles import ImportSummary
from haocha.evaluations.models import Rating, RatingFlag
from haocha.evaluations.services import rating_flag
from haocha.integrations.docking import national, signing
from haocha.integrations.docking.models import (
    ChildSystem,
    ReceivedRecord,
    RecordKind,
    RejectedRecord,
    SeenNonce,
)
from haocha.organisations.models import Organisation, Region
from haocha.workorders.creation import order_number
from haocha.workorders.models import Status, Transition, WorkOrder

MAX_RECORDS = 2000
ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"
VALIDITY_KINDS = (RatingFlag.Kind.INVALID, RatingFlag.Kind.RESTORE)


def child_for_request(request: HttpRequest) -> ChildSystem:
    """The registered child that signed this request; a bad, stale or replayed signature is refused."""

    def secret_of(app):
        child = (
            ChildSystem.objects.select_related("region", "client").filter(app_id=app, is_active=True).first()
        )
        return (child.secret, child) if child else None

    child, nonce = signing.verified_request(request, secret_of)
    now = clock.now()
    signing.record_nonce(lambda: SeenNonce.objects.create(child=child, nonce=nonce, at=now))
    SeenNonce.objects.filter(at__lt=now - timedelta(seconds=2 * signing.MAX_SKEW_SECONDS)).delete()
    return child


def _good_version(version) -> bool:
    return isinstance(version, int) and not isinstance(version, bool) and 0 < version < 2**62


def child_label(child: ChildSystem) -> str:
    return f"下级系统:{child.name}"


def _result(rec: dict, status: str, code: str = "", message: str = "") -> dict:
    """One record's answer; what the record gave is echoed only when it has the right type."""
    kind, rid, version = rec.get("type"), rec.get("id"), rec.get("version")
    return {
        "type": kind if isinstance(kind, str) and len(kind) <= 20 else None,
        "id": rid if isinstance(rid, str) and len(rid) <= 64 else None,
        "version": version if _good_version(version) else None,
        "status": status,
        "code": code,
        "message": message,
    }


def _shape_error(rec) -> str:
    if not isinstance(rec, dict):
        return "记录应为对象"
    if rec.get("type") not in RecordKind.values:
        return "type 应为 service、rating、validity 或 order"
    if not isinstance(rec.get("id"), str) or not 0 < len(rec["id"]) <= 64:
        return "id 应为1至64个字符的字符串"
    if not _good_version(rec.get("version")):
        return "version 应为正整数"
    if not isinstance(rec.get("data"), dict):
        return "data 应为对象"
    return ""


def receive_batch(child: ChildSystem, records: list) -> list[dict]:
    """Apply a batch; one result per record, in order."""
    if not isinstance(records, list) or not records:
        raise InvalidInput("records 应为非空数组", code="invalid_records")
    if len(records) > MAX_RECORDS:
        raise InvalidInput(f"每批最多 {MAX_RECORDS} 条记录", code="batch_too_large")
    results: list[dict | None] = [None] * len(records)
    todo: dict[str, list[int]] = {kind: [] for kind in RecordKind.values}
    for i, rec in enumerate(records):
        problem = _shape_error(rec)
        if problem:
            results[i] = _result(rec if isinstance(rec, dict) else {}, REJECTED, "invalid_record", problem)
        else:
            todo[rec["type"]].append(i)
    seen = _already_received(child, records, [i for idx in todo.values() for i in idx])
    for kind in todo:
        todo[kind] = [i for i in todo[kind] if not _mark_seen(i, records, seen, results)]
    actor = actor_for_client(child.client)
    now = clock.now()
    accepted: list[ReceivedRecord] = []
    _services(child, actor, records, todo[RecordKind.SERVICE], results, accepted, now)
    _ratings(child, records, todo[RecordKind.RATING], results, accepted, now)
    _validity(child, records, todo[RecordKind.VALIDITY], results, accepted, now)
    _orders(child, records, todo[RecordKind.ORDER], results, accepted, now)
    _remember(child, records, results, accepted, now)
    return results


def _already_received(child, records, indexes) -> set[tuple]:
    keys = {(records[i]["type"], records[i]["id"], records[i]["version"]) for i in indexes}
    if not keys:
        return set()
    rows = ReceivedRecord.objects.filter(child=child, record_id__in={k[1] for k in keys}).values_list(
        "kind", "record_id", "version"
    )
    return set(rows) & keys


def _mark_seen(i, records, seen, results) -> bool:
    rec = records[i]
    if (rec["type"], rec["id"], rec["version"]) in seen:
        results[i] = _result(rec, DUPLICATE, "already_received", "该记录此前已接收")
        return True
    return False


def _in_subtree(child: ChildSystem, region_code: str, known: dict) -> bool:
    """The region lies in the child's subtree (`known`: the answers so far in this batch, by code)."""
    if region_code not in known:
        region = Region.objects.filter(code=region_code).only("path").first()
        known[region_code] = region is not None and region.path.startswith(child.region.path)
    return known[region_code]


def _services(child, actor: Actor, records, indexes, results, accepted, now) -> None:
    inputs, where, owners, regions = [], [], {}, {}
    for i in indexes:
        rec = records[i]
        try:
            data = national.case_input(rec["data"])
        except DomainError as exc:
            results[i] = _result(rec, REJECTED, exc.code, exc.message)
            continue
        if data.case_no != rec["id"]:
            results[i] = _result(rec, REJECTED, "id_mismatch", "记录 id 应为办件编号 projectNo")
            continue
        if not _in_subtree(child, data.region_code, regions):
            results[i] = _result(
                rec, REJECTED, "outside_region", f"区划 {data.region_code} 不在本下级系统的覆盖范围内"
            )
            continue
        owners[data.case_no] = i
        inputs.append(data)
        where.append(i)
    foreign = set(
        Case.objects.filter(case_no__in=list(owners))
        .exclude(source=child.client)
        .values_list("case_no", flat=True)
    )
    if foreign:  # the parent's own cases, or another system's: a child never rewrites them
        for no in foreign:
            i = owners[no]
            results[i] = _result(
                records[i],
                REJECTED,
                "case_owned_elsewhere",
                f"办件 {no} 已由其他系统登记，不能由下级系统改写",
            )
        kept = [(i, data) for i, data in zip(where, inputs, strict=True) if data.case_no not in foreign]
        where, inputs = [i for i, _ in kept], [data for _, data in kept]
    if not inputs:
        return
    for i, outcome in zip(where, cases_upsert(actor=actor, records=inputs, invite=False), strict=True):
        rec = records[i]
        if outcome.status == "rejected":
            results[i] = _result(rec, REJECTED, outcome.code, outcome.message)
        else:
            results[i] = _result(rec, ACCEPTED)
            accepted.append(_received(child, rec, outcome.case.pk, outcome.case.updated_at, now))


def _received(child, rec, object_id, happened_at, now) -> ReceivedRecord:
    return ReceivedRecord(
        child=child,
        kind=rec["type"],
        record_id=rec["id"],
        version=rec["version"],
        object_id=object_id,
        happened_at=happened_at,
        received_at=now,
    )


def _case_sources(case_nos) -> dict[str, int | None]:
    """The system (ApiClient id) that registered each of these cases here."""
    return dict(Case.objects.filter(case_no__in=list(case_nos)).values_list("case_no", "source_id"))


def _ratings(child, records, indexes, results, accepted, now) -> None:
    if not indexes:
        return
    sources = _case_sources({national.text(records[i]["data"], "projectNo") for i in indexes})
    batch, where = [], {}
    for i in indexes:
        rec = records[i]
        case_no = national.text(rec["data"], "projectNo")
        if case_no not in sources:
            results[i] = _result(
                rec, REJECTED, "service_record_missing", f"没有对应的服务数据：办件 {case_no} 尚未上报"
            )
            continue
        if sources[case_no] != child.client_id:
            results[i] = _result(
                rec, REJECTED, "case_not_from_child", f"办件 {case_no} 不是本下级系统上报的办件"
            )
            continue
        line = len(batch) + 1
        batch.append((line, national.import_record(rec["data"], rec["id"]), None))
        where[line] = i
    if not batch:
        return
    importer = RatingImporter(client=child.client, defaults=True)
    rejects = importer.run_batch(batch, ImportSummary("ratings"))
    refused = {line: (code, message) for line, code, message, *_ in rejects}
    keys = {national.text(records[i]["data"], "projectNo"): i for i in where.values()}
    stored = {
        (no, kind): (pk, rated_at)
        for no, kind, pk, rated_at in Rating.objects.filter(
            case__case_no__in=list(keys), source=child.client
        ).values_list("case__case_no", "kind", "pk", "rated_at")
    }
    for line, i in where.items():
        rec = records[i]
        if line in refused:
            results[i] = _result(rec, REJECTED, *refused[line])
            continue
        data = rec["data"]
        kind = national.assess_number(data)
        pk, rated_at = stored.get((national.text(data, "projectNo"), kind), (None, None))
        results[i] = _result(rec, ACCEPTED)
        accepted.append(_received(child, rec, pk, rated_at, now))


def _validity(child, records, indexes, results, accepted, now) -> None:
    actor = Actor(label=child_label(child), all_access=True, client=child.client)
    for i in indexes:
        rec, data = records[i], records[i]["data"]
        kind = national.text(data, "kind")
        if kind not in VALIDITY_KINDS:
            results[i] = _result(rec, REJECTED, "invalid_validity_kind", "kind 应为 invalid 或 restore")
            continue
        try:
            number = national.assess_number(data)
        except DomainError as exc:
            results[i] = _result(rec, REJECTED, exc.code, exc.message)
            continue
        # the child's own rating, or one sent down to it (its case is the child's either way)
        rating = (
            Rating.objects.filter(
                case__case_no=national.text(data, "projectNo"), kind=number, case__source=child.client
            )
            .select_related("case")
            .first()
        )
        if rating is None:
            results[i] = _result(rec, REJECTED, "rating_missing", "对应的评价尚未上报")
            continue
        if kind == RatingFlag.Kind.RESTORE and _invalidated_here(rating, child):
            results[i] = _result(
                rec, REJECTED, "invalidated_here", "该评价由本级认定无效，下级系统不能恢复其有效性"
            )
            continue
        if rating.is_valid == (kind == RatingFlag.Kind.RESTORE):  # already as the child says: applied before
            results[i] = _result(rec, ACCEPTED)
            accepted.append(_received(child, rec, rating.pk, now, now))
            continue
        try:
            rating_flag(
                actor=actor, rating=rating, kind=kind, reason=national.text(data, "reason") or "下级系统更正"
            )
        except DomainError as exc:
            results[i] = _result(rec, REJECTED, exc.code, exc.message)
            continue
        results[i] = _result(rec, ACCEPTED)
        accepted.append(_received(child, rec, rating.pk, now, now))


def _orders(child, records, indexes, results, accepted, now) -> None:
    """A child's work order, mirrored read-only (handled_by = the child): the parent's figures, board and
    order page cover it; a newer version replaces the fields and the timeline, an older one changes nothing."""
    statuses = frozenset(Status.values)
    for i in indexes:
        rec, data = records[i], records[i]["data"]
        if rec["version"] >= 2**31:
            results[i] = _result(rec, REJECTED, "invalid_record", "处置数据的 version 应小于 2147483648")
            continue
        try:
            fields = national.order_fields(data, statuses)
            number = national.assess_number(data)
        except DomainError as exc:
            results[i] = _result(rec, REJECTED, exc.code, exc.message)
            continue
        steps = data.get("steps") or []
        if not isinstance(steps, list) or len(steps) > 500 or not all(isinstance(s, dict) for s in steps):
            results[i] = _result(rec, REJECTED, "invalid_steps", "steps 应为对象数组（最多500步）")
            continue
        # the child's own 差评 uploaded, or one made here (or above) about the child's case and sent down
        rating = (
            Rating.objects.filter(
                case__case_no=national.text(data, "projectNo"), kind=number, case__source=child.client
            )
            .select_related("case")
            .first()
        )
        if rating is None:
            results[i] = _result(rec, REJECTED, "rating_missing", "对应的差评尚未上报")
            continue
        code = national.text(data, "deptCode")
        department = (  # only a department of the child's own region; else the rated one
            Organisation.objects.filter(credit_code=code, region__path__startswith=child.region.path).first()
            if code
            else None
        ) or rating.department
        try:
            order = _mirror(child, rating, department, fields, rec, steps, now)
        except DomainError as exc:
            results[i] = _result(rec, REJECTED, exc.code, exc.message)
            continue
        results[i] = _result(rec, ACCEPTED)
        accepted.append(_received(child, rec, order.pk, now, now))


def _mirror(child, rating, department, fields, rec, steps, now) -> WorkOrder:
    with transaction.atomic():
        order = WorkOrder.objects.select_for_update().filter(rating=rating).first()
        if order is not None and order.handled_by_id != child.client_id:
            raise Conflict("该差评在本级已有工单，不能由下级系统覆盖", code="order_handled_here")
        if order is not None and order.version >= rec["version"]:
            return order  # an older version arriving late
        values = {
            **fields,
            "case_id": rating.case_id,
            "region_id": rating.case.region_id,
            "department_id": department.pk if department else None,
            "summary": rating.comment or "",
            "handled_by_id": child.client_id,
            "remote_number": national.text(rec["data"], "orderNo")[:40],
            "version": rec["version"],
            "updated_at": now,
        }
        if order is None:
            order = WorkOrder.objects.create(number=order_number(rating, now), rating=rating, **values)
        else:
            WorkOrder.objects.filter(pk=order.pk).update(**values)
        Transition.objects.filter(order=order).delete()
        Transition.objects.bulk_create(
            [
                Transition(
                    order=order,
                    action=str(step.get("action") or "")[:24],
                    from_status=str(step.get("from") or "")[:20],
                    to_status=str(step.get("to") or "")[:20],
                    actor_label=f"{child.name}·{step.get('actor') or ''!s}"[:150],
                    at=national.parse_time(national.text(step, "at"), "at") or now,
                    stated_at=national.parse_time(national.text(step, "statedAt"), "statedAt"),
                    note=str(step.get("note") or "")[:2000],
                    data={"label": str(step.get("label") or "")[:40], "remote": True},
                )
                for step in steps
            ]
        )
    return order


def _invalidated_here(rating, child) -> bool:
    """The rating's latest invalidation was made at this level (not by the child): the child cannot undo it."""
    last = rating.flags.filter(kind=RatingFlag.Kind.INVALID).order_by("-pk").first()
    return last is not None and last.actor_label != child_label(child)


def _remember(child, records, results, accepted, now) -> None:
    with transaction.atomic():
        ReceivedRecord.objects.bulk_create(accepted, ignore_conflicts=True)
        if accepted:
            for kind in {r.kind for r in accepted}:
                ids = {r.record_id for r in accepted if r.kind == kind}
                RejectedRecord.objects.filter(child=child, kind=kind, record_id__in=ids).delete()
        refused = [
            RejectedRecord(
                child=child,
                kind=r["type"] or "",
                record_id=str(r["id"] or "")[:64],
                code=r["code"][:64],
                message=r["message"][:500],
                at=now,
            )
            for r in results
            if r["status"] == REJECTED and r["type"] in RecordKind.values and r["id"]
        ]
        if refused:
            RejectedRecord.objects.bulk_create(
                refused,
                update_conflicts=True,
                unique_fields=["child", "kind", "record_id"],
                update_fields=["code", "message", "at"],
            )
        ChildSystem.objects.filter(pk=child.pk).update(last_upload_at=now)
