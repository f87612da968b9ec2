"""The 政务服务成效管理系统 push, end to end: the stand-in system as its own process on loopback (started as
`haocha performance standin`), this system's queue, the outbox and the signed client. The stand-in down for
a while (stopped, then refusing with 503) loses and doubles nothing; a changed figure goes as a new version,
an unchanged one not at all; a refused record is listed and 重新推送 from the page."""

import json
import select
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import date, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from haocha.analytics.services import rollups_apply_all
from haocha.assessment import publish
from haocha.core.clock import replay_at
from haocha.core.models import OutboxMessage
from haocha.core.outbox import outbox_process
from haocha.integrations.docking import signing
from haocha.integrations.performance import delivery
from haocha.integrations.performance.models import PerformanceRecord
from tests.servers import free_port
from tests.test_assessment import rated, year_of  # noqa: F401  the fixture
from tests.workorder_helpers import staff

pytestmark = pytest.mark.django_db
APP_ID = "hc-430100"
SECRET = "performance-shared-secret-for-tests"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
S = PerformanceRecord.Status


class StandIn:
    """`haocha performance standin` in its own process."""

    def __init__(self, port: int = 0):
        ARTIFACTS.mkdir(exist_ok=True)
        self.log = open(ARTIFACTS / "performance-standin.log", "ab")  # noqa: SIM115  closed in stop()
        command = [str(Path(sys.executable).parent / "haocha"), "performance", "standin"]
        self.proc = subprocess.Popen(
            [*command, "--port", str(port), "--app-id", APP_ID, "--secret", SECRET],
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            start_new_session=True,
        )
        ready, _, _ = select.select([self.proc.stdout], [], [], 60)
        line = self.proc.stdout.readline() if ready else ""
        if not line.startswith("PORT "):
            self.stop()
            pytest.fail(f"the stand-in did not start: {line!r}")
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def _post(self, path: str, body: bytes, headers=None) -> tuple[int, dict]:
        request = urllib.request.Request(self.url + path, data=body, headers=headers or {}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def control(self, **command) -> dict:
        return self._post("/control", json.dumps(command).encode())[1]

    def received(self) -> dict:
        with urllib.request.urlopen(self.url + "/received", timeout=30) as r:
            return json.loads(r.read())

    def page(self) -> str:
        with urllib.request.urlopen(self.url + "/", timeout=30) as r:
            return r.read().decode()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture
def system(settings):
    standin = StandIn()
    settings.HAOCHA_PERFORMANCE_URL = standin.url
    settings.HAOCHA_PERFORMANCE_APP_ID = APP_ID
    settings.HAOCHA_PERFORMANCE_SECRET = SECRET
    yield standin
    standin.stop()


def rounds(n: int = 3, *, at=None) -> None:
    """What the worker does: claim due records into batches, deliver the outbox (as of `at`, later than now)."""
    for _ in range(n):
        if at is None:
            delivery.run_round()
            outbox_process()
        else:
            with replay_at(at):
                delivery.run_round()
                outbox_process(now=at)


def states() -> dict:
    return {s: PerformanceRecord.objects.filter(status=s).count() for s in S.values}


def push(year: int, *args: str) -> str:
    out = StringIO()
    call_command("performance", "push", "--year", str(year), *args, stdout=out)
    return out.getvalue()


def test_a_push_reaches_the_system_once_per_version_and_carries_no_personal_data(cast, year_of, system):  # noqa: F811
    month = timezone.localdate().month
    out = push(year_of, "--month", str(month), "--assessment")
    records = PerformanceRecord.objects.all()
    n = records.count()
    kinds = set(records.values_list("kind", "unit_kind").distinct())
    assert {
        ("monthly", "department"),
        ("monthly", "item"),
        ("assessment", "district"),
    } <= kinds
    assert ("assessment", "department") in kinds
    assert f"新增 {n} 条" in out and records.filter(status=S.ACCEPTED).count() == n
    got = system.received()
    assert len(got["records"]) == n and all(v == [1] for v in got["versions"].values())
    assert got["outcomes"] == {"accepted": n, "duplicate": 0, "rejected": 0}
    a = records.get(kind="assessment", unit_kind="department", unit_id=cast.dept_a.pk)
    held = got["records"][a.record_id]
    assert (
        held["data"]["rule"]["weights"]["truthfulness"] == 15 and held["data"]["total"] == a.payload["total"]
    )
    month_row = records.get(kind="monthly", unit_kind="department", unit_id=cast.dept_a.pk)
    assert got["records"][month_row.record_id]["data"]["figures"]["n"] == 9
    text = json.dumps(got, ensure_ascii=False)
    for personal in ("王小明", "13812345678", "4301021985"):
        assert personal not in text  # units and figures only
    assert "政务服务成效管理系统（模拟）" in system.page()

    # the same figures again: nothing is sent
    out = push(year_of, "--month", str(month), "--assessment")
    assert f"未变化 {n} 条" in out and system.received()["batches"] == got["batches"]
    # one more rating for 市场监管局: its figures change, so do the rankings they enter; those go again
    rated(cast, "A-LATE", item=cast.item_a, seq=900, level="satisfied")
    rollups_apply_all()
    push(year_of, "--month", str(month), "--assessment")
    month_row.refresh_from_db()
    assert month_row.version == 2 and month_row.status == S.ACCEPTED
    after = system.received()
    assert after["versions"][month_row.record_id] == [1, 2]
    assert after["records"][month_row.record_id]["data"]["figures"]["n"] == 10
    changed = PerformanceRecord.objects.filter(version=2).count()
    assert after["outcomes"]["accepted"] == n + changed and after["outcomes"]["duplicate"] == 0
    assert PerformanceRecord.objects.filter(version__gt=2).count() == 0


def test_the_system_down_for_a_while_loses_and_doubles_nothing(cast, year_of, system, settings):  # noqa: F811
    port = system.port
    system.stop()  # not running at all: connection refused
    publish.push(year=year_of, month=timezone.localdate().month, assessment=True)
    n = PerformanceRecord.objects.count()
    rounds()
    assert (
        states()[S.RETRYING] == n and "无法连接成效管理系统" in PerformanceRecord.objects.first().last_error
    )
    assert not OutboxMessage.objects.filter(
        topic=delivery.TOPIC, status=OutboxMessage.Status.PENDING
    ).exists()
    rounds()  # not yet due: backoff
    assert states()[S.RETRYING] == n and PerformanceRecord.objects.filter(attempts=1).count() == n

    back = StandIn(port)  # up again on the same address, but refusing (maintenance) for a while
    try:
        back.control(down=True)
        rounds(at=timezone.now() + timedelta(minutes=1))
        assert states()[S.RETRYING] == n and "HTTP 503" in PerformanceRecord.objects.first().last_error
        assert back.received()["records"] == {}
        back.control(down=False)
        rounds(at=timezone.now() + timedelta(hours=1))
        assert states()[S.ACCEPTED] == n
        got = back.received()
        assert len(got["records"]) == n and all(v == [1] for v in got["versions"].values())
        assert got["outcomes"]["accepted"] == n and got["outcomes"]["duplicate"] == 0

        # a batch posted twice (the worker killed after posting, before recording the answer): the system
        # answers duplicate for what it holds, nothing doubles
        ids = list(PerformanceRecord.objects.values_list("pk", flat=True))
        assert delivery.requeue(ids) == n
        rounds(at=timezone.now() + timedelta(hours=2))
        assert states()[S.ACCEPTED] == n
        again = back.received()
        assert again["outcomes"] == {"accepted": n, "duplicate": n, "rejected": 0}
        assert all(v == [1] for v in again["versions"].values())
    finally:
        back.stop()


def test_a_refused_record_is_listed_and_pushed_again_from_the_page(cast, year_of, system):  # noqa: F811
    publish.push(year=year_of, assessment=True)
    a = PerformanceRecord.objects.get(kind="assessment", unit_kind="department", unit_id=cast.dept_a.pk)
    system.control(reject=[a.record_id])
    rounds()
    a.refresh_from_db()
    assert a.status == S.REJECTED and a.reject_code == "unit_unknown"
    page = staff(cast.admin).get("/assessment/performance/?status=rejected")
    assert page.status_code == 200
    html = page.content.decode()
    assert "单位未在本系统登记" in html and "重新推送所选" in html and cast.dept_a.name in html
    system.control(reject=[])
    assert staff(cast.outsider).get("/assessment/performance/").status_code == 403
    assert staff(cast.supervisor).get("/assessment/performance/").status_code == 200
    assert staff(cast.handler_a).post("/assessment/performance/repush/", {"id": a.pk}).status_code == 403
    outsider = staff(cast.outsider).post("/assessment/performance/repush/", {"id": a.pk})
    assert outsider.status_code == 403  # a district's supervisor does not push the city's results
    r = staff(cast.admin).post("/assessment/performance/repush/", {"id": a.pk})
    assert r.status_code == 302
    rounds()
    a.refresh_from_db()
    assert a.status == S.ACCEPTED and a.version == 1
    assert system.received()["versions"][a.record_id] == [1]
    # the admins' button queues the year's assessment: unchanged, nothing new
    r = staff(cast.admin).post("/assessment/performance/push/", {"year": year_of, "what": "assessment"})
    assert r.status_code == 302 and not PerformanceRecord.objects.filter(status=S.QUEUED).exists()


def test_the_monthly_job_queues_the_month_that_ended_and_in_january_the_year(cast, year_of, system):  # noqa: F811
    publish._last_check.clear()
    line = publish.queue_due(today=date(year_of + 1, 1, 5))
    assert "新增" in line
    periods = set(PerformanceRecord.objects.values_list("kind", "period").distinct())
    assert periods == {("monthly", f"{year_of}-12"), ("assessment", str(year_of))}
    assert publish.queue_due(today=date(year_of + 1, 1, 5)) is None  # once a day
    rounds()
    assert states()[S.ACCEPTED] == PerformanceRecord.objects.count()


def test_nothing_is_pushed_without_the_address(cast, year_of, settings):  # noqa: F811
    settings.HAOCHA_PERFORMANCE_URL = ""
    publish._last_check.clear()
    assert publish.queue_due(today=date(year_of + 1, 1, 5)) is None
    assert delivery.run_round() is None
    with pytest.raises(CommandError, match="未配置成效管理系统"):
        push(year_of, "--assessment")
    assert not PerformanceRecord.objects.exists()
    page = staff(cast.admin).get("/assessment/performance/")
    assert "未配置成效管理系统" in page.content.decode()
    r = staff(cast.admin).post("/assessment/performance/push/", {"year": year_of, "what": "assessment"})
    assert r.status_code == 422 and not PerformanceRecord.objects.exists()


def test_the_stand_in_refuses_forged_stale_and_replayed_requests(system):
    body = json.dumps({"records": [{"id": "x", "version": 1}]}).encode()
    path = "/api/performance/records"
    good = signing.signed_headers(APP_ID, SECRET, "POST", path, body)
    assert system._post(path, body, good)[0] == 200
    status, answer = system._post(path, body, good)
    assert status == 409 and answer["code"] == "replayed"
    forged = signing.signed_headers(APP_ID, "another-secret", "POST", path, body)
    assert system._post(path, body, forged)[1]["code"] == "signature_invalid"
    stale = {**signing.signed_headers(APP_ID, SECRET, "POST", path, body), "X-Hc-Timestamp": "1000"}
    assert system._post(path, body, stale)[1]["code"] == "signature_expired"
    assert system._post(path, body, {})[0] == 401
    other = signing.signed_headers("hc-other", SECRET, "POST", path, body)
    assert system._post(path, body, other)[1]["code"] == "unknown_system"


def test_the_stand_in_starts_on_a_free_port_as_a_module_too():
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "haocha.integrations.performance.standin",
            "--port",
            str(port),
            "--app-id",
            "a",
            "--secret",
            "s",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready and proc.stdout.readline().strip() == f"PORT {port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_a_figure_changed_while_its_older_version_is_being_posted_is_sent_after_it(cast, year_of, system):  # noqa: F811
    """The answer about version 1 must not mark version 2 (queued meanwhile) as received: it would be lost."""
    from dataclasses import replace

    from haocha.integrations.performance.client import PerformanceClient

    publish.push(year=year_of, assessment=True)
    a = PerformanceRecord.objects.get(kind="assessment", unit_kind="department", unit_id=cast.dept_a.pk)
    [result] = [
        r
        for r in publish.assessment_results(year_of)
        if r.unit_id == cast.dept_a.pk and r.unit_kind == "department"
    ]

    class ChangedMeanwhile(PerformanceClient):
        def push(self, records):
            delivery.record_queue([replace(result, payload={**result.payload, "total": 1.0})])
            return super().push(records)

    delivery.send()
    [message] = OutboxMessage.objects.filter(topic=delivery.TOPIC, status=OutboxMessage.Status.PENDING)
    delivery.deliver(message.payload, client=ChangedMeanwhile())
    a.refresh_from_db()
    assert a.version == 2 and a.status == S.QUEUED
    assert (
        PerformanceRecord.objects.exclude(pk=a.pk).filter(status=S.ACCEPTED).count()
        == PerformanceRecord.objects.count() - 1
    )
    OutboxMessage.objects.filter(pk=message.pk).update(status=OutboxMessage.Status.DONE)
    rounds()
    a.refresh_from_db()
    assert a.status == S.ACCEPTED and system.received()["versions"][a.record_id] == [1, 2]
    assert system.received()["records"][a.record_id]["data"]["total"] == 1.0


def test_a_batch_without_an_answer_is_sent_again(cast, year_of, system):  # noqa: F811
    publish.push(year=year_of, assessment=True)
    delivery.send()
    OutboxMessage.objects.filter(topic=delivery.TOPIC).delete()  # the message lost (a dead worker, a restore)
    n = PerformanceRecord.objects.filter(status=S.SENT).count()
    assert n and delivery.release_stuck() == 0  # not yet: it may still be answered
    later = timezone.now() + timedelta(minutes=11)
    assert delivery.release_stuck(now=later) == n
    rounds(at=later)
    assert PerformanceRecord.objects.filter(status=S.ACCEPTED).count() == n
    assert system.received()["outcomes"]["accepted"] == n
