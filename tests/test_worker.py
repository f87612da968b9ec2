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
        mock.patch("haocha.core.management.commands.worker.rollups_apply", side_effect=RuntimeError("断开")),
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


def test_once_stops_with_the_error(db):
    with (
        mock.patch("haocha.core.management.commands.worker.rollups_apply", side_effect=RuntimeError("断开")),
        pytest.raises(RuntimeError),
    ):
        call_command("worker", "--once", stdout=StringIO())
