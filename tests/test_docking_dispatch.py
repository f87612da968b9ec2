"""Downward (下发): a 差评 made at this level about a child's case is kept read-only here and queued down; the
child stores what is sent down through its rule book and its own machine makes the work order."""

import orjson
import pytest

from haocha.accounts.access import Actor
from haocha.core.models import Message, OutboxMessage
from haocha.evaluations.models import Rating
from haocha.evaluations.rules import RatingInput
from haocha.evaluations.services import rating_submit
from haocha.integrations.docking import dispatch, signing, upload
from haocha.integrations.docking.models import RecordKind, Upload
from haocha.integrations.docking.services import child_register
from haocha.workorders.models import WorkOrder
from tests.factories import finished_case
from tests.test_docking_receive import post, service


@pytest.fixture
def child(cast):
    child, secret = child_register(name="岳麓区好差评系统", region_code="430104")
    child.raw_secret = secret
    return child


def bad(case_no: str, comment="窗口人员态度差") -> RatingInput:
    return RatingInput(channel="mobile", level="very_dissatisfied", case_no=case_no, comment=comment)


def test_a_bad_rating_here_about_a_childs_case_is_kept_read_only_and_sent_down(client, cast, child):
    post(client, child, [service(cast)])
    rating, created = rating_submit(
        actor=Actor(label="省级移动端", all_access=True), data=bad("YL2026120001")
    )
    assert created
    order = WorkOrder.objects.get(rating=rating)
    assert order.handled_by == child.client and order.status == "pending_verify"
    message = OutboxMessage.objects.get(topic=dispatch.TOPIC)
    assert message.payload == {"rating": rating.pk, "child": child.pk, "order": order.pk}
    # 12345 here is not asked to verify it: the child's 12345 will
    assert not Message.objects.filter(title__contains=order.number).exists()


def test_a_bad_rating_of_this_systems_own_case_is_handled_here(cast, child):
    finished_case(cast, "CITY-1")
    rating, _ = rating_submit(actor=Actor(label="省级移动端", all_access=True), data=bad("CITY-1"))
    order = WorkOrder.objects.get(rating=rating)
    assert order.handled_by is None
    assert not OutboxMessage.objects.filter(topic=dispatch.TOPIC).exists()


@pytest.fixture
def as_child(settings):
    settings.HAOCHA_PARENT_URL = "http://parent.invalid"
    settings.HAOCHA_PARENT_APP_ID = "hc-430104"
    settings.HAOCHA_PARENT_SECRET = "k" * 40


def send_down(client, records, secret="k" * 40, app="hc-430104"):
    body = orjson.dumps({"records": records})
    headers = signing.signed_headers(app, secret, "POST", dispatch.PATH, body)
    return client.generic("POST", dispatch.PATH, body, content_type="application/json", headers=headers)


def record(case_no="CS-0001", rid="p-1", **changes):
    data = {
        "projectNo": case_no,
        "pf": "2",
        "satisfaction": 1,
        "writingEvaluation": "在省级移动端评价：材料要求反复变化",
        "assessTime": "",
        "assessNumber": 1,
        "areaCode": "430100000000",
    }
    data.update(changes)
    return {"type": "rating", "id": rid, "version": 1, "data": data}


def test_the_child_stores_what_is_sent_down_and_its_machine_makes_the_order(client, cast, as_child):
    from django.utils import timezone

    finished_case(cast, "CS-0001")
    when = timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")
    answer = send_down(client, [record(assessTime=when)])
    assert answer.status_code == 200, answer.content
    assert [r["status"] for r in answer.json()["results"]] == ["accepted"]
    rating = Rating.objects.get(case__case_no="CS-0001")
    assert rating.source.name == dispatch.UPPER_CLIENT and rating.channel == "mobile" and rating.is_bad
    order = WorkOrder.objects.get(rating=rating)
    assert order.handled_by is None and order.status == "pending_verify"  # handled here, by 12345 here
    # sent down again (the parent's worker retried): stored once, one order
    again = send_down(client, [record(assessTime=when)])
    assert [r["status"] for r in again.json()["results"]] == ["accepted"]
    assert Rating.objects.filter(case__case_no="CS-0001").count() == 1 and WorkOrder.objects.count() == 1
    # going up: the order's handling data, not the rating the parent already has
    upload.collect()
    kinds = set(Upload.objects.values_list("kind", flat=True))
    assert RecordKind.ORDER in kinds and RecordKind.RATING not in kinds


def test_what_the_rule_book_refuses_is_answered_with_its_rule(client, cast, as_child):
    finished_case(cast, "CS-0001")
    answer = send_down(client, [record(writingEvaluation="", assessTime="2026-01-01 00:00:00")])
    [result] = answer.json()["results"]
    assert result["status"] == "rejected" and result["code"]
    assert not Rating.objects.exists()


@pytest.mark.parametrize(
    "secret, app, code", [("x" * 40, "hc-430104", "signature_invalid"), ("k" * 40, "other", "unknown_system")]
)
def test_a_forged_send_down_is_refused(client, cast, as_child, secret, app, code):
    finished_case(cast, "CS-0001")
    answer = send_down(client, [record()], secret=secret, app=app)
    assert answer.status_code == 403 and answer.json()["code"] == code
    assert not Rating.objects.exists()


def test_without_a_parent_nothing_can_be_sent_down(client, cast, settings):
    settings.HAOCHA_PARENT_SECRET = ""
    answer = send_down(client, [record()])
    assert answer.status_code == 403 and answer.json()["code"] == "unknown_system"


def test_a_child_that_cannot_take_the_bad_rating_gives_it_back_to_12345_here(client, cast, child):
    from haocha.core.outbox import outbox_process

    post(client, child, [service(cast)])
    rating, _ = rating_submit(actor=Actor(label="省级移动端", all_access=True), data=bad("YL2026120001"))
    outbox_process()  # the child has no address: it cannot be sent down
    outbox_process()  # the message to 12345 here
    order = WorkOrder.objects.get(rating=rating)
    assert order.handled_by is None and order.status == "pending_verify"
    assert order.transitions.filter(action="dispatch", note__contains="转由本级").exists()
    assert Message.objects.filter(user=cast.operator, title__contains="下发失败").exists()


def test_the_default_sweep_here_leaves_a_childs_cases_to_the_child(client, cast, child):
    from haocha.evaluations.defaults import default_ratings_sweep
    from haocha.evaluations.models import RatingPolicy
    from tests.test_docking_receive import when

    RatingPolicy.objects.create(
        region=cast.city,
        default_rating_enabled=True,
        default_rating_days=7,
        default_rating_level="basically_satisfied",
    )
    old = service(cast, "YL-OLD", acceptDate=when(24 * 12), resultDate=when(24 * 10))
    post(client, child, [old])
    assert default_ratings_sweep()["created"] == 0
    assert not Rating.objects.exists()


def test_a_follow_up_bad_rating_here_goes_down_to_the_order_the_child_handles(client, cast, child):
    from haocha.evaluations.services import rating_follow_up

    post(client, child, [service(cast)])
    actor = Actor(label="省级移动端", all_access=True)
    first, _ = rating_submit(actor=actor, data=bad("YL2026120001"))
    order = WorkOrder.objects.get(rating=first)
    follow, _ = rating_follow_up(
        actor=actor, case_no="YL2026120001", data=bad("YL2026120001", "还是没有解决")
    )
    message = OutboxMessage.objects.get(key=f"dispatch:{follow.public_id}")
    assert message.payload == {"rating": follow.pk, "child": child.pk, "order": order.pk}
    assert WorkOrder.objects.count() == 1  # no second order here: the child's handles it


def test_the_child_takes_a_follow_up_sent_down_into_its_order(client, cast, as_child):
    from django.utils import timezone

    finished_case(cast, "CS-0001")
    when = timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")
    send_down(client, [record(assessTime=when)])
    follow = record(rid="p-2", assessNumber=2, writingEvaluation="追评：仍未解决", assessTime=when)
    answer = send_down(client, [follow])
    assert [r["status"] for r in answer.json()["results"]] == ["accepted"], answer.json()
    assert Rating.objects.filter(case__case_no="CS-0001", kind=2).exists()
    order = WorkOrder.objects.get()
    assert order.transitions.filter(action="follow_up").exists()


def look_up(client, case_no, secret="k" * 40):
    from urllib.parse import quote

    headers = signing.signed_headers("hc-430104", secret, "GET", f"/api/docking/cases/{case_no}", b"")
    return client.get(f"/api/docking/cases/{quote(case_no, safe='')}", headers=headers)


def test_the_parent_can_look_a_case_up_by_its_number(client, cast, as_child):
    from django.utils import timezone

    finished_case(cast, "CS-0001")
    send_down(client, [record(assessTime=timezone.localtime().strftime("%Y-%m-%d %H:%M:%S"))])
    answer = look_up(client, "CS-0001")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["service"]["projectNo"] == "CS-0001" and body["service"]["userName"] == "王**"
    assert "13812345678" not in answer.content.decode() and "certKey" not in body["service"]
    assert [r["satisfaction"] for r in body["ratings"]] == [1]
    assert body["orders"][0]["status"] == "pending_verify" and body["orders"][0]["steps"]
    missing = look_up(client, "NO-SUCH")
    assert missing.status_code == 404 and missing.json()["code"] == "case_not_found"
    forged = look_up(client, "CS-0001", secret="x" * 40)
    assert forged.status_code == 403 and forged.json()["code"] == "signature_invalid"


def test_a_bad_rating_the_outbox_gave_up_sending_down_is_taken_back(client, cast, child):
    from haocha.integrations.docking.models import ChildSystem

    ChildSystem.objects.filter(pk=child.pk).update(base_url="http://127.0.0.1:9/")  # nobody answers there
    post(client, child, [service(cast)])
    rating, _ = rating_submit(actor=Actor(label="省级移动端", all_access=True), data=bad("YL2026120001"))
    message = OutboxMessage.objects.get(topic=dispatch.TOPIC)
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxMessage.Status.DEAD, last_error="refused")
    assert WorkOrder.objects.get(rating=rating).handled_by is not None
    assert dispatch.take_back_undelivered() == 1
    order = WorkOrder.objects.get(rating=rating)
    assert order.handled_by is None and order.transitions.filter(note__contains="多次下发未成功").exists()
    assert dispatch.take_back_undelivered() == 0  # once


def test_the_order_page_of_a_childs_order_looks_its_case_up_at_the_child(client, cast, child, monkeypatch):
    from tests.workorder_helpers import staff

    post(client, child, [service(cast)])
    rating, _ = rating_submit(actor=Actor(label="省级移动端", all_access=True), data=bad("YL2026120001"))
    order = WorkOrder.objects.get(rating=rating)
    asked = []

    def fetch(child_, case_no):
        asked.append((child_.pk, case_no))
        return {
            "service": {"projectNo": case_no, "proStatus": "3"},
            "ratings": [{"satisfaction": 1}],
            "orders": [],
        }

    monkeypatch.setattr(dispatch, "fetch_case", fetch)
    supervisor = staff(cast.supervisor)
    assert 'id="case-lookup"' in supervisor.get(f"/workorders/{order.number}/").content.decode()
    page = supervisor.get(f"/docking/lookup/{order.number}/")
    assert page.status_code == 200 and asked == [(child.pk, "YL2026120001")]
    assert "proStatus" in page.content.decode() and "岳麓区好差评系统" in page.content.decode()
    # The child not answering: said on the page.
    monkeypatch.setattr(
        dispatch, "fetch_case", lambda c, n: (_ for _ in ()).throw(OSError("connection refused"))
    )
    down = supervisor.get(f"/docking/lookup/{order.number}/")
    assert down.status_code == 502 and "下级系统无应答" in down.content.decode()
    # Outsiders and orders handled here get nothing.
    from haocha.accounts.models import Role
    from tests.factories import make_user

    furong = make_user("furong_supervisor", Role.SUPERVISOR, region=cast.furong)  # another district's
    assert staff(furong).get(f"/docking/lookup/{order.number}/").status_code == 404
    assert staff(cast.handler_a).get(f"/docking/lookup/{order.number}/").status_code == 403
    from tests.workorder_helpers import bad_rating

    own = bad_rating(cast, "OWN-1")
    assert supervisor.get(f"/docking/lookup/{own.number}/").status_code == 404
