"""The docking page and the monitor through HTTP: who sees what, the figures computed independently,
重新上报, and alerts that reach the supervisors once."""

from datetime import timedelta

import orjson
import pytest
from django.utils import timezone

from haocha.core.models import Message
from haocha.core.outbox import outbox_process
from haocha.integrations.docking import monitor, signing
from haocha.integrations.docking.models import Alert, ChildSystem, Upload
from haocha.integrations.docking.services import child_register
from tests.test_docking_receive import PATH, post, rating, service


@pytest.fixture
def child(cast):
    child, secret = child_register(name="岳麓区好差评系统", region_code="430104")
    child.raw_secret = secret
    return child


def login(client, user):
    client.force_login(user)
    return client


def test_supervisor_sees_the_child_with_figures_and_definitions(client, cast, child):
    records = [service(cast, f"YL-{n}") for n in range(4)] + [rating(f"YL-{n}", f"r-{n}") for n in range(3)]
    records.append(service(cast, "YL-BAD", taskCode="NOPE"))
    post(client, child, records)
    page = login(client, cast.supervisor).get("/docking/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "岳麓区好差评系统" in html and "口径" in html and 'id="children-chart"' in html
    figures = monitor.child_figures(ChildSystem.objects.get())
    # independently: 4 finished cases accepted, 3 of them rated; 7 accepted records, 1 refused
    assert figures["rating_rate"] == round(100 * 3 / 4, 2) and figures["unrated_rate"] == 25.0
    assert (figures["accepted_24h"], figures["rejected_24h"]) == (7, 1)
    assert figures["reject_rate"] == round(100 * 1 / 8, 2)
    assert figures["lag_p95_seconds"] >= 0 and figures["received_last_hour"] == 3
    detail = client.get(f"/docking/children/{child.pk}/")
    assert detail.status_code == 200 and "拒收原因" in detail.content.decode()


def test_outsiders_get_403_or_404(client, cast, child):
    for user in (cast.handler_a, cast.clerk, cast.operator):
        c = login(client, user)
        assert c.get("/docking/").status_code == 403
        assert c.get(f"/docking/children/{child.pk}/").status_code == 403
        assert c.post("/docking/requeue/", {"all": "1"}).status_code == 403
    other, _ = child_register(name="芙蓉区好差评系统", region_code="430102")
    c = login(client, cast.outsider)  # a supervisor of 岳麓区 only
    assert c.get(f"/docking/children/{other.pk}/").status_code == 404
    assert "芙蓉区好差评系统" not in c.get("/docking/").content.decode()
    assert c.get(f"/docking/children/{child.pk}/").status_code == 200
    client.logout()
    assert client.get("/docking/").status_code == 302


def test_requeue_puts_refused_records_back_in_the_queue(client, cast):
    row = Upload.objects.create(
        kind="service",
        record_id="CS-1",
        object_id=1,
        status=Upload.Status.REJECTED,
        reject_code="item_not_found",
        reject_reason="事项编码不存在",
    )
    c = login(client, cast.supervisor)
    assert "事项编码不存在" in c.get("/docking/").content.decode()
    answer = c.post("/docking/requeue/", {"id": [str(row.pk)]})
    assert answer.status_code == 302
    row.refresh_from_db()
    assert row.status == Upload.Status.QUEUED and row.reject_code == ""


def test_a_silent_child_is_alerted_once_and_the_supervisor_told(client, cast, child, settings):
    settings.HAOCHA_DOCKING_SILENT_MINUTES = 30
    working = timezone.make_aware(timezone.datetime(2026, 12, 2, 10, 0))  # a Wednesday, 10:00
    ChildSystem.objects.filter(pk=child.pk).update(last_upload_at=working - timedelta(hours=2))
    assert monitor.check_alerts(working) == 1
    assert monitor.check_alerts(working) == 0  # once a day
    alert = Alert.objects.get()
    assert alert.kind == "silent" and "120 分钟" in alert.detail
    outbox_process()
    assert Message.objects.filter(user=cast.supervisor, title__contains="岳麓区好差评系统").count() == 1
    ChildSystem.objects.filter(pk=child.pk).update(last_upload_at=working)
    monitor.check_alerts(working)
    alert.refresh_from_db()
    assert alert.cleared_at is not None


def test_no_silence_alert_at_night(cast, child):
    night = timezone.make_aware(timezone.datetime(2026, 12, 2, 23, 0))
    ChildSystem.objects.filter(pk=child.pk).update(last_upload_at=night - timedelta(hours=6))
    assert monitor.check_alerts(night) == 0


def test_daily_counts_that_disagree_raise_an_alert(client, cast, child):
    post(client, child, [service(cast, "YL-1"), rating("YL-1", "r-1")])
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    body = orjson.dumps({"records": [service(cast, "YL-2")], "counts": {"rating": {yesterday: 5}}})
    headers = signing.signed_headers(child.app_id, child.raw_secret, "POST", PATH, body)
    assert (
        client.generic("POST", PATH, body, content_type="application/json", headers=headers).status_code
        == 200
    )
    monitor.check_alerts()
    alert = Alert.objects.get(kind="counts")
    assert "申报评价 5 条" in alert.detail


def test_only_this_levels_supervisors_see_and_requeue_its_own_uploads(client, cast):
    Upload.objects.create(kind="service", record_id="CS-1", object_id=1, status=Upload.Status.REJECTED)
    c = login(client, cast.outsider)  # a 岳麓区 supervisor at the city's system
    page = c.get("/docking/")
    assert page.status_code == 200 and 'id="upstream"' not in page.content.decode()
    assert c.post("/docking/requeue/", {"all": "1"}).status_code == 403
    assert Upload.objects.get().status == Upload.Status.REJECTED
    c = login(client, cast.supervisor)  # the city's
    assert 'id="upstream"' in c.get("/docking/").content.decode()


def test_the_childs_rectification_rates_on_the_monitor(client, cast, child):
    from tests.test_docking_receive import order, when

    records = [service(cast, "YL-A"), service(cast, "YL-B"), service(cast, "YL-C")]
    for no in ("YL-A", "YL-B", "YL-C"):
        records.append(rating(no, f"r-{no}", satisfaction=1, writingEvaluation="态度差"))
    post(client, child, records)
    closed = order(2, "closed", projectNo="YL-A", closedAt=when(1), finishOverMinutes=0)
    late = order(2, "handling", projectNo="YL-B", dueAt=when(5))  # its deadline passed 5 hours ago
    invalid = order(2, "invalid", projectNo="YL-C")
    for rec, rid in ((closed, "r-YL-A"), (late, "r-YL-B"), (invalid, "r-YL-C")):
        rec["id"] = rid
    post(client, child, [closed, late, invalid])
    f = monitor.child_figures(ChildSystem.objects.get())
    # independently: 3 orders, 1 invalid → 2 to rectify, 1 closed; on time: 1 closed in time, 1 open and late
    assert f["orders"] == 3
    assert f["rectify_rate"] == round(100 * 1 / 2, 2)
    assert f["on_time_rate"] == round(100 * 1 / (1 + 1), 2)
    assert "整改率" in login(client, cast.supervisor).get("/docking/").content.decode()
