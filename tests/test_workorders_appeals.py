"""申诉: an upheld appeal marks the rating invalid through the rating rules (rating_flag), once."""

import pytest

from haocha.core.models import AuditLog
from haocha.evaluations.models import Rating, RatingFlag
from haocha.workorders.models import Status
from tests.workorder_helpers import act, bad_rating, refresh

pytestmark = pytest.mark.django_db


def appealed(cast, case_no):
    order = bad_rating(cast, case_no)
    act(cast.operator, order, "verify", valid="1", department=cast.dept_a.pk)
    r = act(cast.handler_a, order, "appeal", ground="malicious", statement="该群众当日未到窗口办理")
    assert r.status_code == 302
    return refresh(order)


def test_an_upheld_appeal_flags_the_rating_once_with_its_audit_entry(cast):
    order = appealed(cast, "AP-1")
    assert act(cast.supervisor, order, "review_appeal", uphold="1", note="经调取监控核实").status_code == 302
    rating = Rating.objects.get(pk=order.rating_id)
    assert not rating.is_valid and rating.invalid_reason.startswith("申诉成立（恶意差评）")
    flag = RatingFlag.objects.get(rating=rating)
    assert flag.kind == "invalid" and flag.actor == cast.supervisor
    audit = AuditLog.objects.get(action=AuditLog.Action.RATING_FLAG)
    assert audit.object_id == str(rating.pk) and "申诉成立" in audit.summary


def test_an_appeal_upheld_on_a_rating_already_found_invalid_adds_no_second_flag(cast, api_for):
    order = appealed(cast, "AP-2")
    rating = Rating.objects.get(pk=order.rating_id)
    r = api_for(user=cast.supervisor).post(
        f"/ratings/{rating.public_id}/flags", {"kind": "invalid", "reason": "监管抽查：恶意差评"}
    )
    assert r.status_code == 201, r.content
    assert act(cast.supervisor, order, "review_appeal", uphold="1", note="经核实").status_code == 302
    assert refresh(order).status == Status.INVALID
    assert RatingFlag.objects.filter(rating=rating).count() == 1
    assert Rating.objects.get(pk=rating.pk).invalid_reason == "监管抽查：恶意差评"
