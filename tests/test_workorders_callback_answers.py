"""回访 answers are the citizen's (issue 13.15): the citizen page and the 12345 operator's phone form start with
both questions unanswered, and a missing answer is refused with a clear error — a tap on 提交 alone records
nothing (it used to record 已解决 and 满意)."""

import re

import pytest
from django.test import Client

from haocha.workorders.citizen import citizen_link_token
from haocha.workorders.models import Status
from tests.workorder_helpers import act, bad_rating, error_code, refresh

pytestmark = pytest.mark.django_db


def reported(cast, case_no="CB-1"):
    order = bad_rating(cast, case_no)
    assert (
        act(cast.operator, order, "verify", complexity="simple", department=cast.dept_a.pk).status_code == 302
    )
    assert act(cast.handler_a, order, "accept").status_code == 302
    assert (
        act(cast.handler_a, order, "contact", method="phone", outcome="已联系", reached="1").status_code
        == 302
    )
    assert act(cast.handler_a, order, "feedback", result="已整改").status_code == 302
    order = refresh(order)
    assert order.status == Status.PENDING_CALLBACK
    return order


def checked(html: str, name: str) -> list[str]:
    """The answers the field `name` starts with, as a browser would send them untouched."""
    radios = re.findall(rf'<input[^>]*name="{name}"[^>]*>', html)
    chosen = [re.search(r'value="([^"]*)"', r).group(1) for r in radios if re.search(r"\bchecked\b", r)]
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    if select:  # a select without a selected option shows (and sends) its first one
        options = re.findall(r'<option value="([^"]*)"([^>]*)>', select.group(1))
        picked = [v for v, attrs in options if re.search(r"\bselected\b", attrs)] or [options[0][0]]
        chosen += [v for v in picked if v]
    assert radios or select, f"no field {name}"
    return chosen


def test_the_citizen_page_starts_unanswered_and_refuses_a_missing_answer(cast):
    order = reported(cast)
    path = f"/c/{citizen_link_token(order)}/"
    citizen = Client()
    page = citizen.get(path).content.decode()
    assert checked(page, "solved") == [] and checked(page, "satisfaction") == []
    for data, code_text in (
        ({}, "请选择"),
        ({"satisfaction": "satisfied"}, "是否已解决"),
        ({"solved": "1"}, "是否满意"),
        ({"solved": "", "satisfaction": ""}, "请选择"),
        ({"solved": "yes", "satisfaction": "satisfied"}, "是否已解决"),
    ):
        r = citizen.post(path, data)
        assert r.status_code == 422, data
        assert code_text in r.content.decode(), data
        assert refresh(order).status == Status.PENDING_CALLBACK and not refresh(order).callback_token_used
    # what was answered is kept on the page, the rest still unanswered
    r = citizen.post(path, {"solved": "0"})
    assert (
        checked(r.content.decode(), "solved") == ["0"] and checked(r.content.decode(), "satisfaction") == []
    )
    r = citizen.post(path, {"solved": "0", "satisfaction": "dissatisfied", "comment": "没解决"})
    assert r.status_code == 200 and refresh(order).status == Status.HANDLING


def test_the_operators_phone_form_starts_unanswered_and_refuses_a_missing_answer(cast):
    order = reported(cast, "CB-2")
    page = Client()
    page.force_login(cast.operator)
    html = page.get(f"/workorders/{order.number}/").content.decode()
    form = html[html.index('id="form-callback"') :]
    form = form[: form.index("</form>")]
    assert checked(form, "solved") == [] and checked(form, "satisfaction") == []
    r = act(cast.operator, order, "callback")
    assert r.status_code == 422 and error_code(r) == "solved_required"
    r = act(cast.operator, order, "callback", solved="1")
    assert r.status_code == 422 and error_code(r) == "satisfaction_required"
    r = act(cast.operator, order, "callback", satisfaction="satisfied")
    assert r.status_code == 422 and error_code(r) == "solved_required"
    assert refresh(order).status == Status.PENDING_CALLBACK and refresh(order).callback_satisfaction == ""
    assert act(cast.operator, order, "callback", solved="1", satisfaction="satisfied").status_code == 302
    assert refresh(order).status == Status.CLOSED
