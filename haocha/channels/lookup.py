"""Finding a case from what the citizen types: its 办件编号 plus the last four characters of the applicant's
phone or ID number (printed receipts carry the number; the four characters show it is theirs)."""

from haocha.catalogue.caseno import normalise_case_no
from haocha.catalogue.models import Case
from haocha.channels.throttle import throttle_check, throttle_hit
from haocha.core.errors import NotFound

FAILURES_PER_10_MINUTES = 20


def case_by_number(*, case_no: str, last4: str, requester: str) -> Case:
    """The case if the four characters match; one answer for every failure, so nothing is revealed. Failed
    look-ups are counted per requester (a terminal, an address): guessing stops, busy terminals do not."""
    key = f"case-lookup-failed:{requester}"
    message = "查询失败次数过多，请10分钟后再试"
    throttle_check(key, limit=FAILURES_PER_10_MINUTES, seconds=600, message=message)
    case_no = normalise_case_no(case_no)[:50]
    last4 = (last4 or "").strip().upper()
    case = (
        Case.objects.select_related("item", "department", "region", "hall", "window")
        .filter(case_no=case_no)
        .first()
        if case_no
        else None
    )
    if case is None or len(last4) != 4 or last4 not in _tails(case):
        throttle_hit(key, limit=FAILURES_PER_10_MINUTES, seconds=600, message=message)
        raise NotFound("办件编号或验证信息不正确，请核对后重试", code="case_lookup_failed")
    return case


def _tails(case: Case) -> set:
    return {v[-4:].upper() for v in (case.applicant_phone_masked, case.applicant_id_masked) if len(v) >= 4}
