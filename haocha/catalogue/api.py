"""Cases (办件) API for approval systems: upsert by 办件编号, bulk, get."""

from datetime import datetime

from django.conf import settings
from django.utils.timezone import localtime
from ninja import Field, Router, Schema, Status

from haocha.accounts.models import ApiClient
from haocha.catalogue.models import Case
from haocha.catalogue.selectors import get_case_for_actor
from haocha.catalogue.services import CaseInput, cases_upsert
from haocha.core.errors import DomainError, Forbidden, InvalidInput

router = Router(tags=["办件"])


class CaseIn(Schema):
    item_code: str = Field(..., max_length=64, description="事项编码")
    department_code: str = Field(
        "", max_length=18, description="办理部门统一社会信用代码（默认为事项实施部门）"
    )
    region_code: str = Field("", max_length=12, description="办理地行政区划代码（默认为部门所在区划）")
    window_code: str = Field("", max_length=40, description="窗口编码")
    staff_no: str = Field("", max_length=32, description="经办人工号")
    applicant_type: str = Field(..., description="申请人类型（GB/T 39046 A.4：1自然人 2企业法人 …）")
    applicant_name: str = Field(..., max_length=100)
    applicant_id_number: str = Field("", max_length=32, description="证件号码；只保存散列、掩码和密文")
    applicant_phone: str = Field("", max_length=20)
    apply_channel: str = Field("online", description="申报渠道：online/mobile/hall/terminal/mail/other")
    status: str = Field(..., description="accepted/processing/finished/rejected/withdrawn")
    accepted_at: datetime = Field(..., description="受理时间（ISO 8601；无时区视为北京时间）")
    finished_at: datetime | None = None
    promised_at: datetime | None = None


class CaseUpsertIn(CaseIn):
    case_no: str = Field(..., min_length=1, max_length=50, description="办件编号")


class BulkIn(Schema):
    cases: list[CaseUpsertIn]


class CaseOut(Schema):
    case_no: str
    item_code: str
    item_name: str
    department_id: int
    department_name: str
    region_code: str
    hall_id: int | None
    window_code: str | None
    staff_no: str | None
    applicant_type: str
    applicant_name: str
    applicant_id_masked: str
    applicant_phone_masked: str
    apply_channel: str
    status: str
    status_name: str
    accepted_at: datetime
    finished_at: datetime | None
    promised_at: datetime | None
    updated_at: datetime


class BulkResultOut(Schema):
    case_no: str
    result: str
    code: str = ""
    message: str = ""


class BulkOut(Schema):
    total: int
    created: int
    updated: int
    rejected: int
    results: list[BulkResultOut]


def case_out(case: Case) -> dict:
    return {
        "case_no": case.case_no,
        "item_code": case.item.code,
        "item_name": case.item.name,
        "department_id": case.department_id,
        "department_name": case.department.name,
        "region_code": case.region.code,
        "hall_id": case.hall_id,
        "window_code": case.window.code if case.window_id else None,
        "staff_no": case.staff.staff_no if case.staff_id else None,
        "applicant_type": case.applicant_type,
        "applicant_name": case.applicant_name,
        "applicant_id_masked": case.applicant_id_masked,
        "applicant_phone_masked": case.applicant_phone_masked,
        "apply_channel": case.apply_channel,
        "status": case.status,
        "status_name": case.get_status_display(),
        "accepted_at": localtime(case.accepted_at) if case.accepted_at else None,
        "finished_at": localtime(case.finished_at) if case.finished_at else None,
        "promised_at": localtime(case.promised_at) if case.promised_at else None,
        "updated_at": localtime(case.updated_at) if case.updated_at else None,
    }


def to_input(case_no: str, payload: CaseIn) -> CaseInput:
    data = payload.dict()
    data.pop("case_no", None)
    return CaseInput(case_no=case_no, **data)


@router.post("/bulk", response=BulkOut, summary="批量登记办件（每次最多1000件，逐件返回结果）")
def bulk_upsert(request, payload: BulkIn):
    limit = settings.BULK_MAX_RECORDS
    if not payload.cases:
        raise InvalidInput("cases 不能为空", code="bulk_empty")
    if len(payload.cases) > limit:
        raise InvalidInput(f"每次最多提交{limit}件，本次{len(payload.cases)}件", code="bulk_too_large")
    results = cases_upsert(actor=request.auth, records=[to_input(c.case_no, c) for c in payload.cases])
    counts = {"created": 0, "updated": 0, "rejected": 0}
    for r in results:
        counts[r.status] += 1
    return {
        "total": len(results),
        **counts,
        "results": [
            {"case_no": r.case_no, "result": r.status, "code": r.code, "message": r.message} for r in results
        ],
    }


@router.put("/{case_no}", response={200: CaseOut, 201: CaseOut}, summary="登记或更新办件（按办件编号幂等）")
def upsert_case(request, case_no: str, payload: CaseIn):
    [result] = cases_upsert(actor=request.auth, records=[to_input(case_no, payload)])
    if result.status == "rejected":
        status = result.http_status or 422
        raise DomainError(result.message, code=result.code, status=status, details=result.details)
    return Status(
        201 if result.status == "created" else 200, case_out(get_case_for_actor(request.auth, case_no))
    )


@router.get("/{case_no}", response=CaseOut, summary="查询办件")
def get_case(request, case_no: str):
    if not request.auth.has_scope(ApiClient.Scope.CASES_WRITE, ApiClient.Scope.RATINGS_READ):
        raise Forbidden("该接入系统没有查询办件的权限", code="scope_missing")
    return case_out(get_case_for_actor(request.auth, case_no))
