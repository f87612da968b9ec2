"""Records in the national interface's field format (docs/interface.md), both ways.

Up: a case becomes a service record (addEvaluateService), a rating a rating record (addEvaluate), a flag a
validity record. Down (at the parent): the same records read back into the inputs of the ordinary write
paths — `cases_upsert` for service records, the rating importer (and so the rule book) for ratings.

Personal data goes up only as the interface carries it: the applicant's name masked (张*), no certificate
number and no phone; a rating carries no evaluator identity (the evaluator is the case's applicant).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings

from haocha.catalogue.models import Case, ServiceItem
from haocha.catalogue.services import CaseInput
from haocha.core import identity
from haocha.core.anonymise import anonymise
from haocha.core.errors import InvalidInput
from haocha.evaluations.channels import channel_code
from haocha.evaluations.levels import to_satisfaction
from haocha.workorders.machine import step_actor, step_label

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

# proStatus (办件状态) as the interface codes it; a regional table may replace it (HAOCHA_DOCKING_STATUS_CODES).
STATUS_CODES = {
    Case.Status.ACCEPTED: "1",
    Case.Status.PROCESSING: "2",
    Case.Status.FINISHED: "3",
    Case.Status.REJECTED: "4",
    Case.Status.WITHDRAWN: "5",
}
# promiseTime: 1 即办件, 2 承诺件; proChannel: 1 线上, 2 线下.
HANDLING_CODES = {ServiceItem.HandlingKind.IMMEDIATE: "1", ServiceItem.HandlingKind.PROMISED: "2"}
ONLINE_APPLY = frozenset({Case.ApplyChannel.ONLINE, Case.ApplyChannel.MOBILE})


def status_codes() -> dict:
    return getattr(settings, "HAOCHA_DOCKING_STATUS_CODES", None) or STATUS_CODES


def area_code(code: str) -> str:
    """GB/T 2260 code padded to the interface's 12 digits."""
    return (code or "").ljust(12, "0")


def region_code_of(area: str) -> str:
    """A 12-digit areaCode back to the region code stored here (6 digits when the rest is zeros)."""
    area = (area or "").strip()
    if len(area) == 12 and area.isdigit():
        if area.endswith("000000"):
            return area[:6]
        if area.endswith("000"):
            return area[:9]
    return area


def _time(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(settings.TIME_ZONE)).strftime(TIME_FORMAT)


def parse_time(text: str, label: str) -> datetime | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        naive = datetime.strptime(text, TIME_FORMAT)  # noqa: DTZ007  Beijing time, made aware below
    except ValueError as exc:
        raise InvalidInput(f"{label}“{text}”格式应为 YYYY-MM-DD HH:MM:SS", code="invalid_time") from exc
    return naive.replace(tzinfo=ZoneInfo(settings.TIME_ZONE))


# --- up ------------------------------------------------------------------------------------------


def service_record(case: Case) -> dict:
    item, dept = case.item, case.department
    return {
        "projectNo": case.case_no,
        "projectName": f"{item.name}（{identity.mask_name(case.applicant_name)}）",
        "taskCode": item.code,
        "taskName": item.name,
        "taskType": item.item_type,
        "areaCode": area_code(case.region.code),
        "deptCode": dept.credit_code,
        "deptName": dept.name,
        "proDepartCode": dept.credit_code,
        "proDepart": dept.name,
        "proStatus": status_codes()[case.status],
        "userProp": case.applicant_type,
        "userName": identity.mask_name(case.applicant_name),
        "acceptDate": _time(case.accepted_at),
        "resultDate": _time(case.finished_at),
        "anticipateDate": _time(case.promised_at),
        "promiseTime": HANDLING_CODES.get(item.handling_kind, "2"),
        "promiseDay": item.promised_days,
        "promiseType": "1",
        "proChannel": "1" if case.apply_channel in ONLINE_APPLY else "2",
        "orgName": case.hall.name if case.hall_id else "",
        "orgCode": case.hall.credit_code if case.hall_id else "",
    }


def rating_record(rating, channel_table: dict | None = None) -> dict:
    staff = rating.staff
    return {
        "projectNo": rating.case.case_no,
        "pf": channel_code(rating.channel, channel_table) or rating.channel,
        "satisfaction": to_satisfaction(rating.level),
        "evalDetail": ",".join(rating.reason_codes or []),
        # hidden here: not sent up; otherwise the citizen's words with any personal data in them masked
        "writingEvaluation": "" if rating.is_hidden else _public(rating.comment, rating.evaluator_name),
        "assessTime": _time(rating.rated_at),
        "assessNumber": rating.kind,
        "areaCode": area_code(rating.region.code),
        "evaluatedPersonInfo": f"{staff.name}（{staff.staff_no}）" if staff else "",
        "indicators": dict(rating.indicator_levels or {}),
        "isDefault": 1 if rating.is_default else 0,
        "version": 1,
    }


def validity_record(flag) -> dict:
    """A flag that changes a rating's validity (invalid: an upheld appeal; restore)."""
    return {
        "projectNo": flag.rating.case.case_no,
        "assessNumber": flag.rating.kind,
        "kind": flag.kind,
        "reason": flag.reason,
        "changedAt": _time(flag.created_at),
    }


# --- down (at the parent) ------------------------------------------------------------------------


def text(data: dict, name: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value).strip()


def case_input(data: dict) -> CaseInput:
    """A service record read into the input of cases_upsert (which checks it as it checks any system's)."""
    codes = {code: status for status, code in status_codes().items()}
    status = codes.get(text(data, "proStatus"))
    if status is None:
        raise InvalidInput(
            f"办件状态 proStatus“{text(data, 'proStatus')}”不在代码表中", code="invalid_status"
        )
    accepted = parse_time(text(data, "acceptDate"), "受理时间 acceptDate")
    if accepted is None:
        raise InvalidInput("须提供受理时间 acceptDate", code="accepted_at_required")
    return CaseInput(
        case_no=text(data, "projectNo"),
        item_code=text(data, "taskCode"),
        applicant_type=text(data, "userProp"),
        applicant_name=text(data, "userName"),
        department_code=text(data, "proDepartCode"),
        region_code=region_code_of(text(data, "areaCode")),
        status=status,
        apply_channel=Case.ApplyChannel.ONLINE if text(data, "proChannel") == "1" else Case.ApplyChannel.HALL,
        accepted_at=accepted,
        finished_at=parse_time(text(data, "resultDate"), "办结时间 resultDate"),
        promised_at=parse_time(text(data, "anticipateDate"), "承诺办结时间 anticipateDate"),
    )


def import_record(data: dict, key: str) -> dict:
    """A rating record as the rating importer reads it (the same national field names), keyed for replays."""
    return {
        "projectNo": text(data, "projectNo"),
        "assessNumber": text(data, "assessNumber") or "1",
        "pf": text(data, "pf"),
        "satisfaction": text(data, "satisfaction"),
        "evalDetail": text(data, "evalDetail"),
        "writingEvaluation": data.get("writingEvaluation") or "",
        "assessTime": text(data, "assessTime"),
        "regionCode": region_code_of(text(data, "areaCode")),
        "indicators": data.get("indicators") or {},
        "isDefault": text(data, "isDefault"),
        "submissionId": key,
    }


# --- work orders (处置数据) -------------------------------------------------------------------------

ORDER_TIMES = {
    "receivedAt": "received_at",
    "verifiedAt": "verified_at",
    "assignedAt": "assigned_at",
    "acceptedAt": "accepted_at",
    "contactedAt": "contacted_at",
    "feedbackAt": "feedback_at",
    "closedAt": "closed_at",
    "contactDueAt": "contact_due_at",
    "finishDueAt": "finish_due_at",
    "dueAt": "due_at",
}
ORDER_NUMBERS = {
    "extensionDays": "extension_days",
    "cycle": "cycle",
    "reopenCount": "reopen_count",
    "contactMinutes": "contact_minutes",
    "contactOverMinutes": "contact_over_minutes",
    "finishMinutes": "finish_minutes",
    "finishOverMinutes": "finish_over_minutes",
}
ORDER_TEXTS = {
    "status": "status",
    "complexity": "complexity",
    "invalidReason": "invalid_reason",
    "invalidNote": "invalid_note",
    "result": "result",
    "measures": "measures",
    "callbackSatisfaction": "callback_satisfaction",
    "callbackComment": "callback_comment",
}


def _public(text: str, *names: str) -> str:
    """Free text as it goes up: personal data masked (the evaluator's name, phones, ID numbers …)."""
    if not text:
        return ""
    return anonymise(text, names=[n for n in names if n]).text


ORDER_FREE_TEXT = ("invalidNote", "result", "measures", "callbackComment")


def order_record(order) -> dict:
    """A work order's handling data as it stands, with its timeline (核实, 交办, 联系, 反馈, 回访, 办结 …);
    free text with personal data masked. Load the order with prefetch_related("transitions__actor__roles")."""
    steps = sorted(order.transitions.all(), key=lambda t: (t.at, t.pk))
    who = order.rating.evaluator_name
    data = {
        "projectNo": order.case.case_no,
        "assessNumber": order.rating.kind,
        "orderNo": order.number,
        "deptCode": order.department.credit_code if order.department_id else "",
        "deptName": order.department.name if order.department_id else "",
        "overdue": 1 if order.overdue else 0,
        "callbackSolved": None if order.callback_solved is None else int(order.callback_solved),
    }
    data.update({key: _time(getattr(order, name)) for key, name in ORDER_TIMES.items()})
    data.update({key: getattr(order, name) for key, name in ORDER_NUMBERS.items()})
    data.update({key: getattr(order, name) or "" for key, name in ORDER_TEXTS.items()})
    for key in ORDER_FREE_TEXT:
        data[key] = _public(data[key], who)
    data["steps"] = [
        {
            "action": step.action,
            "label": step_label(step),
            "from": step.from_status,
            "to": step.to_status,
            "at": _time(step.at),
            "statedAt": _time(step.stated_at),
            "actor": step_actor(step),
            "note": _public(step.note, who),
        }
        for step in steps
    ]
    return data


def order_fields(data: dict, statuses) -> dict:
    """A handling-data record read into WorkOrder fields (checked: times, numbers, a known status)."""
    fields = {}
    for key, name in ORDER_TIMES.items():
        fields[name] = parse_time(text(data, key), key)
    for key, name in ORDER_NUMBERS.items():
        value = data.get(key)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 10**7
        ):
            raise InvalidInput(f"{key} 应为非负整数", code="invalid_number")
        fields[name] = value
    for key, name in ORDER_TEXTS.items():
        fields[name] = text(data, key)[:2000]
    if fields["status"] not in statuses:
        raise InvalidInput(f"工单状态 status“{fields['status']}”无效", code="invalid_order_status")
    if fields["received_at"] is None:
        raise InvalidInput("须提供 receivedAt", code="received_at_required")
    for name in ("extension_days", "cycle", "reopen_count"):
        fields[name] = fields[name] or (1 if name == "cycle" else 0)
    solved = data.get("callbackSolved")
    fields["callback_solved"] = None if solved in (None, "") else str(solved).strip() in ("1", "True", "true")
    fields["overdue"] = bool(data.get("overdue"))
    fields["invalid_note"] = fields["invalid_note"][:500]
    fields["callback_comment"] = fields["callback_comment"][:500]
    return fields


def assess_number(data: dict) -> int:
    """assessNumber as 1 (first) or 2 (追评); anything else refused."""
    value = text(data, "assessNumber") or "1"
    if value not in ("1", "2"):
        raise InvalidInput(
            f"评价次数 assessNumber“{value[:10]}”无效（1 首次评价，2 追评）", code="invalid_assess_number"
        )
    return int(value)
