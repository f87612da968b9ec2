"""The external 12345 platform as a process of its own (the stand-in) and haocha's server as another: a 差评 is
pushed, the platform's callbacks close the order (one duplicated, two out of order, one lost and fetched by
reconciliation); the platform down for a while loses and doubles nothing; a forged callback is refused."""

import json
import select
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import orjson
import pytest
from django.test import Client

from haocha.core.outbox import outbox_process
from haocha.integrations.docking import signing
from haocha.integrations.hotline12345.models import HotlinePlatform, PlatformEvent, PlatformOrder
from haocha.integrations.hotline12345.protocol import CALLBACK_PATH
from haocha.integrations.hotline12345.push import reconcile
from haocha.workorders.models import Status, WorkOrder
from tests.factories import build_cast, finished_case
from tests.hotline_helpers import external_platform
from tests.servers import ARTIFACTS, ProductionServer
from tests.test_docking_processes import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


class StandIn:
    """`haocha hotline12345 standin`, calling back the haocha at `haocha_url`."""

    def __init__(self, platform, haocha_url: str):
        ARTIFACTS.mkdir(exist_ok=True)
        self.log = open(ARTIFACTS / "hotline12345-standin.log", "ab")  # noqa: SIM115  closed in stop()
        command = [str(Path(sys.executable).parent / "haocha"), "hotline12345", "standin"]
        self.proc = subprocess.Popen(
            [*command, "--port", "0", "--app-id", platform.app_id, "--secret", platform.raw_secret,
             "--signing", platform.signing, "--haocha", haocha_url],
            stdout=subprocess.PIPE, stderr=self.log, text=True, start_new_session=True,
        )  # fmt: skip
        ready, _, _ = select.select([self.proc.stdout], [], [], 60)
        line = self.proc.stdout.readline() if ready else ""
        if not line.startswith("PORT "):
            self.stop()
            pytest.fail(f"the stand-in 12345 did not start: {line!r}")
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"

    def call(self, path: str, data: dict | None = None) -> dict:
        body = None if data is None else json.dumps(data).encode()
        request = urllib.request.Request(
            self.url + path, data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as r:
            return json.loads(r.read())

    def act(self, order, kind, data=None) -> dict:
        return self.call("/act", {"orderNo": order.number, "type": kind, "data": data or {}})

    def control(self, **flags) -> dict:
        return self.call("/control", flags)

    def received(self) -> dict:
        return self.call("/received")

    def order(self, number: str) -> dict:
        return next(o for o in self.received()["orders"] if o["orderNo"] == number)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)
        self.log.close()


def a_bad_rating(cast, case_no: str, seq: int) -> WorkOrder:
    finished_case(cast, case_no, seq=seq)
    r = Client().post(
        "/api/ratings",
        {
            "case_no": case_no,
            "channel": "pc",
            "level": "very_dissatisfied",
            "comment": "材料被退回三次，没人说明原因",
        },
        content_type="application/json",
        headers={"X-Api-Key": cast.key_city},
    )
    assert r.status_code == 201, r.content
    return WorkOrder.objects.get(rating__public_id=r.json()["id"])


def pushes_done() -> int:
    from haocha.core.models import OutboxMessage

    return OutboxMessage.objects.filter(topic="hotline12345.push", status=OutboxMessage.Status.DONE).count()


def applied(order, n: int) -> bool:
    return PlatformOrder.objects.get(order=order).applied_seq >= n


@pytest.fixture
def running(tmp_path):
    cast = build_cast()
    platform = external_platform(cast)
    server = ProductionServer(log_name="hotline12345-haocha-server.log")
    server.start()
    standin = StandIn(platform, server.url)
    HotlinePlatform.objects.filter(pk=platform.pk).update(base_url=standin.url, quiet_hours=0)
    try:
        yield cast, platform, server, standin
    finally:
        standin.stop()
        server.stop()


def test_a_bad_rating_goes_to_the_platform_and_comes_back_closed(running):
    cast, platform, server, standin = running
    order = a_bad_rating(cast, "HP-1", 71)
    outbox_process()  # the push (and the rating's own messages)
    assert pushes_done() == 1
    got = standin.order(order.number)
    assert got["payload"]["source"] == "好差评"
    assert got["payload"]["content"] == "材料被退回三次，没人说明原因"
    assert got["payload"]["department"]["code"] == cast.dept_a.credit_code
    contact = got["payload"]["contact"]
    assert "phoneEnc" in contact and contact["encryption"] == "SM4-CBC"
    assert "13812345678" not in json.dumps(got["payload"])  # the phone never in clear
    # 受理 is the stand-in's own first callback.
    wait_for(lambda: applied(order, 1), 30, "the 受理 callback")
    push = PlatformOrder.objects.get(order=order)
    assert push.state == PlatformOrder.State.ACKNOWLEDGED and push.platform_number == got["platformNo"]
    assert WorkOrder.objects.get(pk=order.pk).platform_number == got["platformNo"]

    standin.act(order, "verify", {"complexity": "simple", "note": "经核实属实"})
    standin.act(order, "dispatch", {"note": "请按时限办理"})
    # A lost callback: made on the platform, never sent; the ones after it wait for it.
    standin.control(drop=1)
    standin.act(order, "sign")
    standin.act(order, "contact", {"method": "phone", "reached": True, "outcome": "已电话联系群众"})
    wait_for(lambda: PlatformEvent.objects.filter(order=order, seq=5).exists(), 30, "the contact callback")
    assert PlatformEvent.objects.get(order=order, seq=5).state == "waiting"
    assert WorkOrder.objects.get(pk=order.pk).status == Status.PENDING_ACCEPT
    assert "补收回调 1 条" in reconcile()  # asks the platform: the lost 签收 comes in, the 联系 follows
    assert WorkOrder.objects.get(pk=order.pk).status == Status.HANDLING

    # Two callbacks in the wrong order: the 回访 arrives before the 办理结果 it follows.
    standin.control(hold=True)
    standin.act(order, "result", {"result": "solved", "text": "已为群众说明并补办", "measures": "一次性告知"})
    standin.act(order, "callback", {"success": True, "solved": True, "satisfaction": "basically_satisfied"})
    standin.control(release=True, reverse=True)
    wait_for(lambda: applied(order, 7), 30, "the held callbacks")
    # One duplicated: the platform sends its 回访 again.
    callback = standin.order(order.number)["events"][-1]
    wire = {k: v for k, v in callback.items() if k != "answer"}
    body = orjson.dumps({"events": [wire]})
    headers = signing.signed_headers(platform.app_id, platform.raw_secret, "POST", CALLBACK_PATH, body)
    request = urllib.request.Request(
        server.url + CALLBACK_PATH, data=body, headers={"Content-Type": "application/json", **headers}
    )
    with urllib.request.urlopen(request, timeout=30) as r:
        assert json.loads(r.read())["results"][0]["status"] == "duplicate"
    order = WorkOrder.objects.get(pk=order.pk)
    assert order.status == Status.CLOSED
    assert order.callback_solved is True and order.callback_satisfaction == "basically_satisfied"
    assert list(order.transitions.values_list("action", flat=True)) == [
        "create", "acknowledge", "verify", "assign", "accept", "contact", "feedback", "callback",
    ]  # fmt: skip
    # Every event the platform sent was received (none refused); the lost one came in by reconciliation.
    answers = [e["answer"] for e in standin.order(order.number)["events"]]
    assert [a["status"] for a in answers].count("lost") == 1
    assert {a["status"] for a in answers if a["status"] != "lost"} == {"received"}, answers
    assert set(PlatformEvent.objects.filter(order=order).values_list("state", flat=True)) == {"applied"}

    # A forged callback is refused and changes nothing.
    forged = signing.signed_headers(platform.app_id, "a-guess", "POST", CALLBACK_PATH, body)
    request = urllib.request.Request(
        server.url + CALLBACK_PATH, data=body, headers={"Content-Type": "application/json", **forged}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 403
    assert order.transitions.count() == 8


def test_the_platform_down_for_a_while_loses_and_doubles_nothing(running):
    from datetime import timedelta

    from django.utils import timezone

    cast, _platform, server, standin = running
    standin.control(down=True)
    orders = [a_bad_rating(cast, f"HP-D{i}", 80 + i) for i in range(3)]
    outbox_process()
    assert pushes_done() == 0
    assert set(PlatformOrder.objects.values_list("state", flat=True)) == {"queued"}
    assert all("503" in p.last_error for p in PlatformOrder.objects.all())
    later = timezone.now() + timedelta(minutes=5)
    assert outbox_process(now=later)["retry"] == 3  # still down: retried again later
    standin.control(down=False)
    outbox_process(now=later + timedelta(minutes=5))
    assert pushes_done() == 3
    held = standin.received()["orders"]
    assert sorted(o["orderNo"] for o in held) == sorted(o.number for o in orders)
    assert all(len(o["pushes"]) == 1 for o in held)  # each pushed once, when the platform was back
    for order in orders:
        wait_for(lambda order=order: applied(order, 1), 30, "the 受理 callbacks")
    assert set(PlatformOrder.objects.values_list("state", flat=True)) == {"acknowledged"}
    # haocha down while the platform calls back: the platform keeps the callback and sends it again.
    server.stop()
    standin.act(orders[0], "verify", {"note": "属实"})
    assert standin.received()["unsent"] == 1
    server.start()
    wait_for(lambda: applied(orders[0], 2), 30, "the callback sent again")
    assert WorkOrder.objects.get(pk=orders[0].pk).verified_at is not None
    assert PlatformEvent.objects.filter(order=orders[0]).count() == 2
