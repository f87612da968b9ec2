"""Every text a workbench step takes has one declared limit; longer text is refused with the limit stated,
never cut."""

import pytest

from haocha.workorders.models import ContactRecord, Extension, Transition
from tests.workorder_helpers import act, bad_rating, error_code, refresh

pytestmark = pytest.mark.django_db


def test_a_verification_note_of_200000_characters_is_refused(cast):
    order = bad_rating(cast, "TL-1")
    r = act(cast.operator, order, "verify", valid="1", note="核" * 200_000)
    assert r.status_code == 422 and error_code(r) == "text_too_long"
    assert "不能超过2000个字" in r.content.decode()
    assert list(Transition.objects.filter(order=order).values_list("action", flat=True)) == ["create"]


def test_a_long_contact_record_is_refused_not_cut(cast):
    order = bad_rating(cast, "TL-2")
    act(cast.operator, order, "verify", valid="1", department=cast.dept_a.pk)
    r = act(cast.handler_a, order, "contact", method="phone", outcome="联" * 501)
    assert r.status_code == 422 and error_code(r) == "text_too_long"
    assert "联系结果不能超过500个字" in r.content.decode()
    assert not ContactRecord.objects.exists()
    assert act(cast.handler_a, order, "contact", method="phone", outcome="联" * 500).status_code == 302
    assert ContactRecord.objects.get().outcome == "联" * 500


def test_a_long_extension_reason_is_refused_not_cut(cast):
    order = bad_rating(cast, "TL-3")
    act(cast.operator, order, "verify", valid="1", department=cast.dept_a.pk)
    act(cast.handler_a, order, "contact", method="phone", outcome="已联系")
    r = act(cast.handler_a, refresh(order), "request_extension", days="3", reason="延" * 501)
    assert r.status_code == 422 and "延期理由不能超过500个字" in r.content.decode()
    assert not Extension.objects.exists()


# (action, field, its limit, what else the form needs, who sends it): the limits are stated here, not computed.
LIMITS = [
    ("verify", "note", 2000, {}, "operator"),
    ("invalidate", "note", 500, {"reason": "mistaken"}, "operator"),
    ("assign", "note", 2000, {}, "operator"),
    ("set_complexity", "reason", 2000, {"complexity": "complex"}, "operator"),
    ("merge", "note", 2000, {"into": "spare"}, "operator"),
    ("decide_extension", "note", 500, {"approve": "1"}, "operator"),
    ("callback", "comment", 500, {"solved": "1", "satisfaction": "satisfied"}, "operator"),
    ("return", "reason", 2000, {}, "handler_a"),
    ("contact", "outcome", 500, {"method": "phone"}, "handler_a"),
    ("request_extension", "reason", 500, {"days": "2"}, "handler_a"),
    ("feedback", "result", 2000, {}, "handler_a"),
    ("feedback", "measures", 2000, {"result": "已处理"}, "handler_a"),
    ("on_the_spot", "result", 2000, {}, "handler_a"),
    ("appeal", "statement", 2000, {"ground": "mistaken"}, "handler_a"),
    ("review_appeal", "note", 500, {"uphold": "0"}, "supervisor"),
    ("supervise", "note", 500, {}, "supervisor"),
]


@pytest.mark.parametrize("action, field, limit, extra, who", LIMITS, ids=[f"{a}.{f}" for a, f, *_ in LIMITS])
def test_every_workbench_text_states_its_limit(cast, action, field, limit, extra, who):
    order = bad_rating(cast, "TL-9")
    if extra.get("into") == "spare":
        extra = {**extra, "into": bad_rating(cast, "TL-9b", seq=2).number}
    before = list(Transition.objects.values_list("pk", flat=True))
    r = act(getattr(cast, who), order, action, **extra, **{field: "字" * (limit + 1)})
    assert r.status_code == 422 and error_code(r) == "text_too_long"
    assert f"不能超过{limit}个字" in r.content.decode()
    assert list(Transition.objects.values_list("pk", flat=True)) == before


def test_the_citizen_page_states_the_limit_of_its_comment(cast):
    from django.test import Client

    from haocha.workorders.citizen import citizen_link_token

    order = bad_rating(cast, "TL-10", window=cast.window_a)
    act(cast.clerk, order, "on_the_spot", result="当场办结")
    path = f"/c/{citizen_link_token(refresh(order))}/"
    r = Client().post(path, {"solved": "1", "satisfaction": "satisfied", "comment": "谢" * 501})
    assert r.status_code == 422 and "回访意见不能超过500个字" in r.content.decode()
    assert refresh(order).status == "pending_callback"
