"""The window tablet over HTTP: only a registered device bound to the window may rate; ratings go to the
staff member on duty and the case being served; a resend is stored once; the minimum interval holds; the
clerk's screen says only that a rating arrived."""

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from haocha.channels.models import Device, ServedCase, WindowDuty
from haocha.evaluations.levels import ORDERED
from haocha.evaluations.models import Rating
from haocha.organisations.models import Staff
from tests.channel_helpers import activate, clerk_is_staff, rate_on_tablet, tablet_client
from tests.factories import finished_case, make_user

pytestmark = pytest.mark.django_db


def key():
    return str(uuid.uuid4())


def on_duty(cast):
    staff = clerk_is_staff(cast)
    clerk = Client()
    clerk.force_login(cast.clerk)
    r = clerk.post("/desk/duty/", {"action": "start", "window": cast.window_a.code})
    assert r.status_code == 302, r.content.decode()
    return staff, clerk


def test_an_unregistered_browser_cannot_open_or_post(cast):
    anyone = Client()
    r = anyone.get(f"/tablet/{cast.window_a.code}/")
    assert r.status_code == 403 and "尚未登记" in r.content.decode()
    r = rate_on_tablet(anyone, cast.window_a, key=key(), level="satisfied")
    assert r.status_code == 403 and r.json()["code"] == "device_not_registered"
    anyone.cookies["hc_device"] = "guessed-secret"
    assert rate_on_tablet(anyone, cast.window_a, key=key(), level="satisfied").status_code == 403
    assert Rating.objects.count() == 0


def test_a_tablet_rates_only_its_own_window_and_stops_when_stopped(cast):
    tablet, device = tablet_client(cast, cast.window_a)
    assert tablet.get(f"/tablet/{cast.window_a.code}/").status_code == 200
    r = rate_on_tablet(tablet, cast.window_b, key=key(), level="satisfied")
    assert r.status_code == 403 and r.json()["code"] == "device_not_registered"
    clerk = Client()
    clerk.force_login(cast.clerk)
    assert clerk.post(f"/channels/devices/{device.code}/stop/").status_code == 302
    r = rate_on_tablet(tablet, cast.window_a, key=key(), level="satisfied")
    assert r.status_code == 403
    assert Rating.objects.count() == 0


def test_activation_links_are_single_use_and_expire(cast):
    clerk = Client()
    clerk.force_login(cast.clerk)
    page = clerk.post(f"/channels/windows/{cast.window_a.code}/tablet/", follow=True).content.decode()
    assert "激活 PJQ-430100-H1-A01" in page
    code = page.split("/devices/activate/")[1].split("/")[0]
    tablet = Client()
    shown = tablet.get(f"/devices/activate/{code}/").content.decode()
    assert "A01号窗口 评价器" in shown  # GET only shows; link previews do not spend it
    assert activate(tablet, code).status_code == 302
    r = activate(Client(), code)
    assert r.status_code == 404 and "无效或已使用" in r.content.decode()
    # a fresh link for the same device, left to expire
    page = clerk.post("/channels/devices/PJQ-430100-H1-A01/reissue/", follow=True).content.decode()
    code = page.split("/devices/activate/")[1].split("/")[0]
    Device.objects.update(activation_expires_at=timezone.now() - timedelta(seconds=1))
    r = activate(Client(), code)
    assert r.status_code == 410 and "已过期" in r.content.decode()


def test_only_the_halls_staff_register_tablets(cast):
    supervisor = Client()
    supervisor.force_login(cast.supervisor)
    r = supervisor.post(f"/channels/windows/{cast.window_a.code}/tablet/")
    assert r.status_code == 403 and "窗口人员或部门管理员" in r.content.decode()
    outsider = Client()
    outsider.force_login(cast.outsider)
    assert outsider.post(f"/channels/windows/{cast.window_a.code}/tablet/").status_code == 404
    assert not Device.objects.exists()


def test_a_visit_rating_goes_to_the_staff_on_duty_and_a_resend_is_stored_once(cast):
    staff, _clerk = on_duty(cast)
    tablet, device = tablet_client(cast, cast.window_a)
    k = key()
    first = rate_on_tablet(tablet, cast.window_a, key=k, level="very_satisfied")
    assert first.status_code == 201 and first.json()["created"] is True
    again = rate_on_tablet(tablet, cast.window_a, key=k, level="very_satisfied", age_ms=5000)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    rating = Rating.objects.get()
    assert (rating.channel, rating.window, rating.staff, rating.device_id) == (
        "tablet",
        cast.window_a,
        staff,
        device.code,
    )
    assert rating.case is None and rating.hall == cast.hall and rating.department == cast.dept_a
    assert rating.client_ip == "127.0.0.1"


def test_the_minimum_interval_between_two_ratings_on_one_device(cast):
    tablet, _device = tablet_client(cast, cast.window_a, interval=30)
    assert rate_on_tablet(tablet, cast.window_a, key=key(), level="satisfied").status_code == 201
    r = rate_on_tablet(tablet, cast.window_a, key=key(), level="very_satisfied")
    assert r.status_code == 429 and r.json()["code"] == "too_soon" and "30秒" in r.json()["message"]
    # pressed a minute earlier (kept while offline, sent now): far enough from the other one
    assert (
        rate_on_tablet(tablet, cast.window_a, key=key(), level="satisfied", age_ms=60_000).status_code == 201
    )
    assert Rating.objects.count() == 2


def test_a_late_rating_goes_to_whoever_was_on_duty_when_it_was_pressed(cast):
    staff, clerk = on_duty(cast)
    tablet, _device = tablet_client(cast, cast.window_a)
    WindowDuty.objects.update(started_at=timezone.now() - timedelta(hours=1))
    assert clerk.post("/desk/duty/", {"action": "end"}).status_code == 302
    assert (
        rate_on_tablet(tablet, cast.window_a, key=key(), level="satisfied", age_ms=600_000).status_code == 201
    )
    assert rate_on_tablet(tablet, cast.window_a, key=key(), level="satisfied").status_code == 201
    pressed_on_duty, pressed_after = Rating.objects.order_by("rated_at")
    assert pressed_on_duty.staff == staff and pressed_after.staff is None


def test_the_case_being_served_is_rated_once(cast):
    case = finished_case(cast, "TAB-1", window=cast.window_a)
    _staff, clerk = on_duty(cast)
    assert clerk.post("/desk/serving/", {"case_no": "TAB-1"}).status_code == 302
    tablet, _device = tablet_client(cast, cast.window_a)
    state = tablet.get(f"/tablet/{cast.window_a.code}/state").json()
    assert state["case"] == {
        "case_no": "TAB-1",
        "item": "食品经营许可",
        "department": "长沙市市场监督管理局",
        "applicant": "王**",
    }
    assert state["staff"]["staff_no"] == "SJ0001" and state["staff"]["photo"] == ""
    r = rate_on_tablet(
        tablet, cast.window_a, key=key(), level="dissatisfied", reasons=["OF402"], case_no="TAB-1"
    )
    assert r.status_code == 201
    rating = Rating.objects.get()
    assert rating.case == case and rating.is_bad and rating.reason_codes == ["OF402"]
    assert rating.work_order.status == "pending_verify"
    assert ServedCase.objects.get().cleared_at is not None
    assert tablet.get(f"/tablet/{cast.window_a.code}/state").json()["case"] is None
    # the clerk cannot offer it again
    r = clerk.post("/desk/serving/", {"case_no": "TAB-1"})
    assert r.status_code == 409 and "已评价" in r.content.decode()


def test_a_tablet_cannot_rate_a_case_its_window_is_not_serving(cast):
    finished_case(cast, "TAB-2", window=cast.window_a)
    tablet, _device = tablet_client(cast, cast.window_a)
    r = rate_on_tablet(tablet, cast.window_a, key=key(), level="satisfied", case_no="TAB-2")
    assert r.status_code == 404 and r.json()["code"] == "case_not_served"
    assert not Rating.objects.exists()


def test_bad_input_from_a_tablet_is_refused_whole(cast):
    tablet, _device = tablet_client(cast, cast.window_a)
    cases = [
        ({"key": "short", "level": "satisfied"}, 422, "invalid_key"),
        ({"key": key(), "level": "great"}, 422, "unknown_level"),
        ({"key": key(), "level": "very_dissatisfied"}, 422, "bad_rating_needs_reason"),
        ({"key": key(), "level": "dissatisfied", "reasons": ["OF999"]}, 422, "unknown_reason"),
        ({"key": key(), "level": "satisfied", "age_ms": 4 * 24 * 3600 * 1000}, 422, "rating_too_old"),
    ]
    for body, status, code in cases:
        r = rate_on_tablet(tablet, cast.window_a, **body)
        assert (r.status_code, r.json()["code"]) == (status, code), body
    r = tablet.post(f"/tablet/{cast.window_a.code}/ratings", "not json", content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "invalid_json"
    assert not Rating.objects.exists()


def test_the_clerk_sees_that_a_rating_arrived_but_never_which(cast):
    _staff, clerk = on_duty(cast)
    tablet, _device = tablet_client(cast, cast.window_a, interval=0)
    for level, reasons in (("very_dissatisfied", ["OF501"]), ("satisfied", [])):
        assert (
            rate_on_tablet(tablet, cast.window_a, key=key(), level=level, reasons=reasons).status_code == 201
        )
    for path in ("/desk/", "/desk/feed/"):
        page = clerk.get(path).content.decode()
        assert page.count("已收到评价 ") == 2
        for level in ORDERED:
            assert level.label not in page, (path, level.label)
        assert "OF501" not in page and "推诿" not in page


def test_one_person_on_duty_per_window(cast):
    on_duty(cast)
    other = Staff.objects.create(staff_no="SJ0002", name="赵敏", department=cast.dept_a)
    other.windows.add(cast.window_a)
    other.user = make_user("clerk2")
    other.save()
    c = Client()
    c.force_login(other.user)
    r = c.post("/desk/duty/", {"action": "start", "window": cast.window_a.code})
    assert r.status_code == 409 and "李娜（SJ0001）正在该窗口上岗" in r.content.decode()
    # a window the staff member does not serve
    r = c.post("/desk/duty/", {"action": "start", "window": cast.window_b.code})
    assert r.status_code == 422
    # an account without a staff record
    c2 = Client()
    c2.force_login(cast.supervisor)
    assert c2.get("/desk/").status_code == 403


def test_the_queue_system_pushes_the_case_served(cast, api_for):
    finished_case(cast, "Q-1", window=cast.window_a)
    queue = api_for(key=cast.key_a)
    r = queue.put(f"/channels/windows/{cast.window_a.code}/serving", {"case_no": "Q-1"})
    assert r.status_code == 200 and r.json()["case_no"] == "Q-1" and r.json()["source"] == "queue"
    tablet, _device = tablet_client(cast, cast.window_a)
    assert tablet.get(f"/tablet/{cast.window_a.code}/state").json()["case"]["case_no"] == "Q-1"
    # another department's system cannot see the window
    r = api_for(key=cast.key_b).put(f"/channels/windows/{cast.window_a.code}/serving", {"case_no": "Q-1"})
    assert r.status_code == 404 and r.json()["code"] == "window_not_found"
    # a case that is not finished is rated later (QR code, SMS); this visit as 一次一评
    open_case = finished_case(cast, "Q-2", window=cast.window_a)
    open_case.status, open_case.finished_at = "processing", None
    open_case.save()
    r = queue.put(f"/channels/windows/{cast.window_a.code}/serving", {"case_no": "Q-2"})
    assert r.status_code == 409 and r.json()["code"] == "case_not_finished"
    r = queue.client.delete(
        f"/api/channels/windows/{cast.window_a.code}/serving", headers={"X-Api-Key": cast.key_a}
    )
    assert r.status_code == 200 and r.json()["case_no"] is None
    assert (
        api_for().put(f"/channels/windows/{cast.window_a.code}/serving", {"case_no": "Q-1"}).status_code
        == 401
    )


def _tablet_config(html: str) -> dict:
    import json

    return json.loads(html.split('id="tablet-config" type="application/json">')[1].split("</script>")[0])


def test_the_offline_copy_leaves_out_who_is_on_duty_and_the_case_served(cast):
    """The copy the service worker keeps for a start during an outage: by then the staff on duty and the
    case being served may have changed, so the copy has neither; the rest of the page is the same."""
    finished_case(cast, "TAB-OFF", window=cast.window_a)
    _staff, clerk = on_duty(cast)
    assert clerk.post("/desk/serving/", {"case_no": "TAB-OFF"}).status_code == 302
    tablet, _device = tablet_client(cast, cast.window_a)
    online = tablet.get(f"/tablet/{cast.window_a.code}/")
    copy = tablet.get(f"/tablet/{cast.window_a.code}/", {"copy": "offline"})
    assert online.status_code == copy.status_code == 200
    live, kept = _tablet_config(online.content.decode()), _tablet_config(copy.content.decode())
    assert live["state"]["staff"]["staff_no"] == "SJ0001" and live["state"]["case"]["case_no"] == "TAB-OFF"
    assert kept["state"]["staff"] is None and kept["state"]["case"] is None
    assert kept["state"]["offline_copy"] is True and "offline_copy" not in live["state"]
    assert kept["levels"] == live["levels"] and kept["reasons"] == live["reasons"]
    assert kept["serviceWorkerUrl"] == live["serviceWorkerUrl"] == "/tablet/sw.js"
    assert "SJ0001" not in copy.content.decode() and "TAB-OFF" not in copy.content.decode()
    assert "网络恢复后显示上岗人员" in copy.content.decode()
    # only the registered tablet gets either
    assert Client().get(f"/tablet/{cast.window_a.code}/", {"copy": "offline"}).status_code == 403


def test_the_service_worker_script_is_served_under_tablet(cast):
    r = Client().get("/tablet/sw.js")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/javascript")
    assert r["Cache-Control"] == "no-cache"
    body = r.content.decode()
    assert 'addEventListener("fetch"' in body and "copy=offline" in body
    assert Client().post("/tablet/sw.js").status_code == 405
