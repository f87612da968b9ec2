"""A window's QR code: a signed, non-expiring link to rate the visit (一次一评) or find one's own case."""

import uuid

import pytest
from django.test import Client

from haocha.channels import qr
from haocha.evaluations.models import Rating
from tests.channel_helpers import clerk_is_staff
from tests.factories import finished_case

pytestmark = pytest.mark.django_db


def visit(client, path, level, **extra):
    return client.post(path, {"action": "visit", "level": level, "key": str(uuid.uuid4()), **extra})


def test_a_forged_or_closed_window_link_is_refused(cast, client):
    assert client.get("/w/abc/").status_code == 404
    path = qr.window_path(cast.window_a.code)
    assert client.get(path).status_code == 200
    cast.window_a.is_active = False
    cast.window_a.save()
    r = client.get(path)
    assert r.status_code == 404 and "窗口已停用" in r.content.decode()


def test_a_visit_rating_and_the_interval_per_address(cast, settings):
    staff = clerk_is_staff(cast)
    clerk = Client()
    clerk.force_login(cast.clerk)
    clerk.post("/desk/duty/", {"action": "start", "window": cast.window_a.code})
    path = qr.window_path(cast.window_a.code)
    citizen = Client()
    page = citizen.get(path).content.decode()
    assert "长沙市民之家政务服务大厅" in page and "<b>A01</b>号窗口" in page and "李娜（工号 SJ0001）" in page
    r = visit(citizen, path, "basically_satisfied", reasons=["OF301"])
    assert r.status_code == 302 and r["Location"].endswith("?done=visit")
    rating = Rating.objects.get()
    assert (rating.channel, rating.window, rating.staff, rating.case) == (
        "qrcode",
        cast.window_a,
        staff,
        None,
    )
    r = visit(citizen, path, "very_satisfied")
    assert r.status_code == 429 and "请勿重复评价" in r.content.decode()
    settings.HAOCHA_QR_VISIT_INTERVAL_SECONDS = 0
    assert visit(citizen, path, "very_satisfied").status_code == 302
    assert Rating.objects.count() == 2


def test_finding_ones_case_needs_the_last_four_characters(cast, client):
    case = finished_case(cast, "QRC-1", window=cast.window_a)
    path = qr.window_path(cast.window_a.code)
    wrong = client.post(path, {"action": "case", "case_no": "QRC-1", "last4": "0000"})
    unknown = client.post(path, {"action": "case", "case_no": "NOPE", "last4": "5678"})
    assert wrong.status_code == unknown.status_code == 404
    assert (
        "办件编号或验证信息不正确" in wrong.content.decode()
        and "办件编号或验证信息不正确" in unknown.content.decode()
    )
    ok = client.post(path, {"action": "case", "case_no": "QRC-1", "last4": "5678"})  # phone 138****5678
    assert ok.status_code == 302
    target_page = client.get(ok["Location"]).content.decode()
    assert "QRC-1" in target_page
    id_tail = case.applicant_id_masked[-4:]
    assert client.post(path, {"action": "case", "case_no": "QRC-1", "last4": id_tail}).status_code == 302


def test_the_case_being_served_can_be_picked(cast, client):
    finished_case(cast, "QRC-2", window=cast.window_a)
    clerk_is_staff(cast)
    clerk = Client()
    clerk.force_login(cast.clerk)
    clerk.post("/desk/duty/", {"action": "start", "window": cast.window_a.code})
    clerk.post("/desk/serving/", {"case_no": "QRC-2"})
    path = qr.window_path(cast.window_a.code)
    page = client.get(path).content.decode()
    assert "本窗口正在办理：<b>食品经营许可</b>" in page and "QRC-2" not in page
    r = client.post(path, {"action": "case", "served": "1", "last4": "5678"})
    assert r.status_code == 302 and "QRC-2" in client.get(r["Location"]).content.decode()


def test_failed_lookups_are_throttled(cast, client):
    finished_case(cast, "QRC-3")
    path = qr.window_path(cast.window_a.code)
    for _ in range(25):  # a busy terminal or a shared address: successful look-ups are not counted
        assert client.post(path, {"action": "case", "case_no": "QRC-3", "last4": "5678"}).status_code == 302
    statuses = [
        client.post(path, {"action": "case", "case_no": "QRC-3", "last4": f"Z{i:03d}"}).status_code
        for i in range(21)
    ]
    assert statuses[:20] == [404] * 20 and statuses[20] == 429
    r = client.post(path, {"action": "case", "case_no": "QRC-3", "last4": "5678"})
    assert r.status_code == 429 and "失败次数过多" in r.content.decode()
