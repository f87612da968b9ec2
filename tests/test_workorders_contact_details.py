"""查看联系方式 in the workbench (issue 13.19): the handler of the department an order is assigned to sees the
citizen's phone number to make the 1-working-day contact — with a purpose, an audit entry and the same daily
quota as the identity reveal; nobody else, and not once contact is no longer due."""

import pytest

from haocha.accounts.models import DisclosurePolicy, Role
from haocha.core.models import AuditLog
from tests.factories import make_user
from tests.workorder_helpers import act, bad_rating, error_code, refresh, staff

pytestmark = pytest.mark.django_db

PHONE = "13812345678"


def assigned(cast, case_no="CD-1", **extra):
    order = bad_rating(cast, case_no, **extra)
    r = act(cast.operator, order, "verify", complexity="simple", department=cast.dept_a.pk, note="属实")
    assert r.status_code == 302, r.content
    return refresh(order)


def look(user, order, purpose="电话联系群众核实差评情况"):
    return staff(user).post(f"/workorders/{order.number}/contact-details/", {"purpose": purpose})


def test_the_assigned_departments_handler_sees_the_phone_number_with_a_purpose(cast):
    order = assigned(cast)
    page = staff(cast.handler_a).get(f"/workorders/{order.number}/").content.decode()
    assert 'id="form-contact-details"' in page and PHONE not in page and "138****5678" in page
    r = look(cast.handler_a, order)
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    html = r.content.decode()
    assert 'id="contact-details"' in html and PHONE in html and "王小明" in html
    entry = AuditLog.objects.get(action="identity_read")
    assert entry.actor == cast.handler_a and entry.object_id == str(order.rating_id)
    assert entry.detail["purpose"] == "电话联系群众核实差评情况" and entry.detail["fields"] == [
        "name",
        "phone",
    ]
    assert order.number in entry.summary
    # the number is not kept on the page: opening it again shows it masked, and offers the form again
    again = staff(cast.handler_a).get(f"/workorders/{order.number}/").content.decode()
    assert PHONE not in again and 'id="form-contact-details"' in again


def test_a_purpose_is_required(cast):
    order = assigned(cast)
    for purpose in ("", "  ", "看"):
        r = look(cast.handler_a, order, purpose=purpose)
        assert r.status_code == 422 and error_code(r) == "purpose_required", purpose
        assert PHONE not in r.content.decode()
    assert not AuditLog.objects.filter(action="identity_read").exists()


def test_only_the_handler_of_the_assigned_department(cast):
    order = assigned(cast, window=cast.window_a)
    dept_admin = make_user("dept_admin_a", Role.DEPARTMENT_ADMIN, organisation=cast.dept_a)
    # handler of another department who is also the clerk of the hall where the 差评 was made
    mixed = make_user("mixed", Role.HANDLER, organisation=cast.dept_b)
    mixed.roles.create(role=Role.WINDOW_CLERK, organisation=cast.hall)
    for user in (cast.operator, cast.supervisor, cast.clerk, dept_admin, mixed):
        page = staff(user).get(f"/workorders/{order.number}/")
        assert page.status_code == 200 and 'id="form-contact-details"' not in page.content.decode(), user
        r = look(user, order)
        assert r.status_code == 403 and error_code(r) == "contact_details_not_allowed", user
        assert PHONE not in r.content.decode()
    assert look(cast.handler_b, order).status_code == 404  # cannot see the order at all
    assert not AuditLog.objects.filter(action="identity_read").exists()


def test_only_while_contact_is_due(cast):
    order = bad_rating(cast, "CD-S")  # 待核实: not yet in the department's hands
    page = staff(cast.handler_a).get(f"/workorders/{order.number}/").content.decode()
    assert 'id="form-contact-details"' not in page
    r = look(cast.handler_a, order)
    assert r.status_code == 409 and error_code(r) == "contact_not_due"
    order = assigned(cast, "CD-T", seq=2)
    assert act(cast.handler_a, order, "accept").status_code == 302
    assert (
        act(cast.handler_a, order, "contact", method="phone", outcome="已联系", reached="1").status_code
        == 302
    )
    assert look(cast.handler_a, order).status_code == 200  # still handling: may call again
    assert act(cast.handler_a, order, "feedback", result="已整改，补正清单已统一").status_code == 302
    assert look(cast.handler_a, order).status_code == 409  # 待回访: 12345 calls back, not the department


def test_the_same_quota_as_the_identity_reveal(cast):
    DisclosurePolicy.objects.create(region=cast.city, daily_limit=2)
    order = assigned(cast)
    api = staff(cast.handler_a)
    r = api.post(
        f"/api/ratings/{order.rating.public_id}/identity",
        {"purpose": "差评回访"},
        content_type="application/json",
    )
    assert r.status_code == 200
    assert look(cast.handler_a, order).status_code == 200
    refused = look(cast.handler_a, order)
    assert refused.status_code == 429 and error_code(refused) == "disclosure_quota_exceeded"
    assert "已达上限" in refused.content.decode() and PHONE not in refused.content.decode()
    assert refused["Retry-After"]
    assert AuditLog.objects.filter(action="identity_read").count() == 2
