"""Case registration by approval systems: idempotent upsert on 办件编号, single or in bulk."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from haocha.accounts.access import Actor
from haocha.accounts.models import ApiClient
from haocha.catalogue.caseno import case_no_problem, normalise_case_no
from haocha.catalogue.models import ApplicantType, Case, ServiceItem
from haocha.catalogue.signals import cases_registered, cases_rewriting
from haocha.core import clock, identity
from haocha.core.errors import DomainError, Forbidden, InvalidInput, NotFound
from haocha.core.rawrows import insert_many
from haocha.organisations.codes import is_valid_credit_code
from haocha.organisations.models import Organisation, Region, Staff, Window

CASE_FIELDS = (
    "item_id",
    "department_id",
    "region_id",
    "hall_id",
    "window_id",
    "staff_id",
    "applicant_type",
    "applicant_name",
    "applicant_id_hash",
    "applicant_id_masked",
    "applicant_id_enc",
    "applicant_phone_hash",
    "applicant_phone_masked",
    "applicant_phone_enc",
    "apply_channel",
    "status",
    "accepted_at",
    "finished_at",
    "promised_at",
    "source_id",
)


@dataclass
class CaseInput:
    case_no: str
    item_code: str
    applicant_type: str
    applicant_name: str
    accepted_at: datetime
    status: str
    apply_channel: str = Case.ApplyChannel.ONLINE
    applicant_id_number: str = ""
    applicant_phone: str = ""
    department_code: str = ""
    region_code: str = ""
    window_code: str = ""
    staff_no: str = ""
    finished_at: datetime | None = None
    promised_at: datetime | None = None


@dataclass
class CaseResult:
    case_no: str
    status: str  # created | updated | rejected
    code: str = ""
    message: str = ""
    case: Case | None = None
    http_status: int = 0  # of a refusal: the status the single-case API answers with
    details: dict | None = None


# Choices' .values builds a list on every access: these are read once per case.
_APPLICANT_TYPES = frozenset(ApplicantType.values)
_STATUSES = frozenset(Case.Status.values)
_APPLY_CHANNELS = frozenset(Case.ApplyChannel.values)


def aware(value: datetime | None) -> datetime | None:
    """Times without an offset are Beijing time, as approval systems usually send them."""
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value, timezone.get_default_timezone())


class _Lookups:
    """Per-request caches of reference data, so a bulk of 1,000 cases costs a handful of queries."""

    def __init__(self):
        self.items: dict[str, ServiceItem | None] = {}
        self.departments: dict[str, Organisation | None] = {}
        self.regions: dict[str, Region | None] = {}
        self.windows: dict[str, Window | None] = {}
        self.staff: dict[str, Staff | None] = {}

    def prefetch(self, records: list[CaseInput]) -> None:
        codes = {r.item_code for r in records}
        self.items.update({c: None for c in codes})
        self.items.update(
            {i.code: i for i in ServiceItem.objects.filter(code__in=codes).select_related("department")}
        )
        wcodes = {r.window_code for r in records if r.window_code}
        self.windows.update({c: None for c in wcodes})
        self.windows.update({w.code: w for w in Window.objects.filter(code__in=wcodes)})
        snos = {r.staff_no for r in records if r.staff_no}
        self.staff.update({c: None for c in snos})
        self.staff.update({s.staff_no: s for s in Staff.objects.filter(staff_no__in=snos)})
        dcodes = {r.department_code for r in records if r.department_code}
        self.departments.update({c: None for c in dcodes})
        self.departments.update(
            {o.credit_code: o for o in Organisation.objects.filter(credit_code__in=dcodes)}
        )
        rcodes = {r.region_code for r in records if r.region_code}
        self.regions.update({c: None for c in rcodes})
        self.regions.update({g.code: g for g in Region.objects.filter(code__in=rcodes)})


def _resolve(actor: Actor, rec: CaseInput, lk: _Lookups) -> dict:
    problem = case_no_problem(rec.case_no)
    if problem:
        raise InvalidInput(problem, code="invalid_case_no")
    item = lk.items.get(rec.item_code)
    if item is None:
        raise NotFound(f"事项编码 {rec.item_code} 不存在", code="item_not_found")
    department = item.department
    if rec.department_code:
        department = lk.departments.get(rec.department_code)
        if department is None:
            raise NotFound(
                f"统一社会信用代码 {rec.department_code} 对应的部门不存在", code="department_not_found"
            )
    region_id = department.region_id
    if rec.region_code:
        region = lk.regions.get(rec.region_code)
        if region is None:
            raise NotFound(f"行政区划代码 {rec.region_code} 不存在", code="region_not_found")
        region_id = region.pk
    window = None
    if rec.window_code:
        window = lk.windows.get(rec.window_code)
        if window is None:
            raise NotFound(f"窗口编码 {rec.window_code} 不存在", code="window_not_found")
    staff = None
    if rec.staff_no:
        staff = lk.staff.get(rec.staff_no)
        if staff is None:
            raise NotFound(f"工号 {rec.staff_no} 不存在", code="staff_not_found")
    if not actor.can_see_org(department.pk):
        raise Forbidden(f"无权登记 {department.name} 的办件", code="department_out_of_scope")
    if window is not None:
        if window.department_id not in (None, department.pk):
            raise InvalidInput(f"窗口 {window.code} 不是 {department.name} 的窗口", code="window_mismatch")
        if not (actor.can_see_org(window.hall_id) or actor.can_see_org(department.pk)):
            raise Forbidden(f"无权使用窗口 {window.code}", code="window_out_of_scope")
    if (
        staff is not None
        and staff.department_id != department.pk
        and not (window is not None and staff.windows.filter(pk=window.pk).exists())
    ):
        raise InvalidInput(f"工号 {staff.staff_no} 不属于 {department.name} 或该窗口", code="staff_mismatch")
    if rec.applicant_type not in _APPLICANT_TYPES:
        raise InvalidInput(
            f"申请人类型 {rec.applicant_type} 不在 GB/T 39046 A.4 代码表中", code="invalid_applicant_type"
        )
    if not rec.applicant_name.strip():
        raise InvalidInput("申请人名称不能为空", code="applicant_name_required")
    if rec.applicant_id_number:
        if rec.applicant_type == ApplicantType.PERSON:
            if not identity.is_valid_resident_id(rec.applicant_id_number):
                raise InvalidInput("申请人身份证号码格式或校验位不正确", code="invalid_id_number")
        elif not is_valid_credit_code(rec.applicant_id_number):
            raise InvalidInput("申请单位统一社会信用代码格式或校验位不正确", code="invalid_credit_code")
    if rec.applicant_phone and not identity.is_valid_phone(rec.applicant_phone):
        raise InvalidInput("申请人手机号码格式不正确", code="invalid_phone")
    if rec.status not in _STATUSES:
        raise InvalidInput(f"办件状态 {rec.status} 无效", code="invalid_status")
    if rec.apply_channel not in _APPLY_CHANNELS:
        raise InvalidInput(f"申报渠道 {rec.apply_channel} 无效", code="invalid_apply_channel")
    for moment in (rec.accepted_at, rec.finished_at, rec.promised_at):
        if moment is not None and not 2000 <= moment.year <= 2100:
            raise InvalidInput("办件时间应在2000年至2100年之间", code="invalid_time")
    accepted_at, finished_at = aware(rec.accepted_at), aware(rec.finished_at)
    if rec.status == Case.Status.FINISHED and finished_at is None:
        raise InvalidInput("已办结的办件须提供办结时间", code="finished_at_required")
    if finished_at is not None and finished_at < accepted_at:
        raise InvalidInput("办结时间早于受理时间", code="finished_before_accepted")
    latest = clock.now() + timedelta(minutes=5)  # a sender's clock may run a little ahead
    if accepted_at > latest:
        raise InvalidInput("受理时间晚于当前时间", code="accepted_in_future")
    if finished_at is not None and finished_at > latest:
        raise InvalidInput("办结时间晚于当前时间", code="finished_in_future")
    ident = identity.Identity(
        name=rec.applicant_name, id_number=rec.applicant_id_number, phone=rec.applicant_phone
    )
    return {
        "item_id": item.pk,
        "department_id": department.pk,
        "region_id": region_id,
        "hall_id": window.hall_id if window else None,
        "window_id": window.pk if window else None,
        "staff_id": staff.pk if staff else None,
        "applicant_type": rec.applicant_type,
        "applicant_name": ident.name[:100],
        "applicant_id_hash": ident.id_hash,
        "applicant_id_masked": ident.id_masked,
        "applicant_id_enc": ident.id_enc,
        "applicant_phone_hash": ident.phone_hash,
        "applicant_phone_masked": ident.phone_masked,
        "applicant_phone_enc": ident.phone_enc,
        "apply_channel": rec.apply_channel,
        "status": rec.status,
        "accepted_at": accepted_at,
        "finished_at": finished_at,
        "promised_at": aware(rec.promised_at),
        "source_id": actor.client.pk if actor.client else None,
    }


def cases_upsert(*, actor: Actor, records: list[CaseInput], invite: bool = True) -> list[CaseResult]:
    """Create or update cases by 办件编号; each record gets its own result, bad ones never half-written.

    `invite`: the applicants of recently finished cases are invited to rate by SMS (办完即评); a history
    import turns it off unless its operator asks for it."""
    if actor.client is not None and ApiClient.Scope.CASES_WRITE not in actor.scopes:
        raise Forbidden("该接入系统没有登记办件的权限", code="scope_missing")
    if actor.client is None and not actor.all_access:
        raise Forbidden("只有接入系统或系统管理员可以登记办件", code="forbidden")
    for rec in records:
        rec.case_no = normalise_case_no(rec.case_no)
    lk = _Lookups()
    lk.prefetch(records)
    results: list[CaseResult] = []
    resolved: dict[str, tuple[int, dict]] = {}
    for index, rec in enumerate(records):
        result = CaseResult(case_no=rec.case_no, status="rejected")
        results.append(result)
        if rec.case_no in resolved:
            result.code, result.message = "duplicate_in_request", "同一请求中办件编号重复"
            continue
        try:
            resolved[rec.case_no] = (index, _resolve(actor, rec, lk))
        except DomainError as exc:
            result.code, result.message, result.http_status = exc.code, exc.message, exc.status
    for attempt in range(2):
        try:
            _write(actor, resolved, results, invite)
            break
        except IntegrityError:
            if attempt:
                raise
    return results


def _write(actor: Actor, resolved: dict, results: list[CaseResult], invite: bool) -> None:
    with transaction.atomic():
        existing = {c.case_no: c for c in Case.objects.filter(case_no__in=list(resolved))}
        to_create, to_update, rewrites = [], [], []
        now = timezone.now()
        for case_no, (index, fields) in resolved.items():
            case = existing.get(case_no)
            if case is not None:
                # Only the owning department's systems (or the system that registered it) may rewrite a case.
                if not (
                    actor.can_see_org(case.department_id)
                    or (actor.client and case.source_id == actor.client.pk)
                ):
                    results[index].status = "rejected"
                    results[index].code = "case_out_of_scope"
                    results[index].message = f"办件 {case_no} 已由其他单位登记，无权修改"
                    results[index].http_status = 403
                    continue
                rewrites.append((index, case, fields))
            else:
                case = Case(case_no=case_no, **fields)
                to_create.append(case)
                results[index].status, results[index].case = "created", case
        refused = {}
        if rewrites:
            for _receiver, answer in cases_rewriting.send(
                sender=Case, changes=[(case, fields) for _index, case, fields in rewrites]
            ):
                refused.update(answer or {})
        for index, case, fields in rewrites:
            refusal = refused.get(case.case_no)
            if refusal is not None:
                result = results[index]
                result.status, result.code, result.message = "rejected", refusal.code, refusal.message
                result.http_status, result.details = refusal.status, refusal.details
                continue
            for name, value in fields.items():
                setattr(case, name, value)
            case.updated_at = now
            to_update.append(case)
            results[index].status, results[index].case = "updated", case
        if to_create:
            insert_many(to_create)  # on SQLite ~2.7x faster than bulk_create (core/rawrows.py)
        if to_update:
            Case.objects.bulk_update(to_update, [*CASE_FIELDS, "updated_at"], batch_size=500)
        if to_create and to_create[0].pk is None:  # databases that do not return keys from bulk inserts
            ids = dict(
                Case.objects.filter(case_no__in=[c.case_no for c in to_create]).values_list("case_no", "pk")
            )
            for case in to_create:
                case.pk = ids[case.case_no]
        if invite:  # 办完即评: the SMS channel invites the applicant, in this transaction
            cases_registered.send(sender=Case, cases=to_create + to_update)
