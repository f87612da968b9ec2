"""The worker loop: a failing job is logged and retried next round; the other jobs still run."""

from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command


class _Stop(Exception):
    pass


def test_a_failing_job_does_not_stop_the_others(db):
    calls = []
    err = StringIO()
    with (
        mock.patch("haocha.analytics.services.rollups_apply", side_effect=RuntimeError("断开")),
        mock.patch(
            "haocha.core.management.commands.worker.outbox_process",
            side_effect=lambda: calls.append("outbox") or {"done": 0, "retry": 0, "dead": 0},
        ),
        mock.patch("haocha.core.management.commands.worker.time.sleep", side_effect=_Stop),
        pytest.raises(_Stop),
    ):
        call_command("worker", stderr=err, stdout=StringIO())
    assert calls == ["outbox"]
    assert "统计汇总" in err.getvalue()


def test_every_app_registers_its_periodic_jobs_and_the_worker_runs_them(db):
    from haocha.core.jobs import registered

    sweeps = [
        "系统默认评价",
        "逾期扫描",
        "渠道清理",
        "短信邀评",
        "下级监测",
        "12345对账",
        "成效管理系统月度推送",
    ]
    assert [j.name for j in registered(sweep=True)] == sweeps
    assert [j.name for j in registered(sweep=False)] == [
        "上报上级",
        "推送成效管理系统",
        "统计汇总",
        "差评挖掘",
    ]
    ran = []
    with mock.patch(
        "haocha.workorders.sweep.work_orders_sweep",
        side_effect=lambda: ran.append("sweep") or {"level1": 1, "level2": 0, "nearing": 0},
    ):
        out = StringIO()
        call_command("worker", "--once", stdout=out)
    assert ran == ["sweep"] and "逾期扫描：一级督办 1" in out.getvalue()


def test_once_stops_with_the_error(db):
    with (
        mock.patch("haocha.analytics.services.rollups_apply", side_effect=RuntimeError("断开")),
        pytest.raises(RuntimeError),
    ):
        call_command("worker", "--once", stdout=StringIO())
