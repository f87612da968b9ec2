"""Group commit: writes waiting together share one transaction; each caller gets its own outcome, only
once the transaction is durable; one failing write does not fail the others."""

import threading

import pytest
from django.db import IntegrityError, connection

from haocha.core import groupcommit
from haocha.organisations.models import Region

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _region(code):
    return lambda: Region.objects.create(code=code, name=f"测试{code}", level=Region.Level.STREET).pk


def test_waiting_writes_share_one_commit_and_fail_alone(settings):
    settings.HAOCHA_GROUP_COMMIT = True
    Region.objects.create(code="439999001000", name="已有", level=Region.Level.STREET)
    gate, started = threading.Event(), threading.Event()

    def slow():  # holds the writer so that the next writes queue up behind it
        started.set()
        gate.wait(timeout=30)
        return "slow"

    outcomes = {}

    def call(name, fn):
        try:
            outcomes[name] = ("ok", groupcommit.run_grouped(fn))
        except Exception as exc:
            outcomes[name] = ("error", exc)
        finally:
            connection.close()

    first = threading.Thread(target=call, args=("slow", slow))
    first.start()
    assert started.wait(timeout=30)
    names = ["a", "b", "dup", "c"]
    fns = {
        "a": _region("439999002000"),
        "b": _region("439999003000"),
        "dup": _region("439999001000"),  # the code is unique: this one fails
        "c": _region("439999004000"),
    }
    threads = [threading.Thread(target=call, args=(n, fns[n])) for n in names]
    for t in threads:
        t.start()
    while groupcommit._writer("default").queue.qsize() < len(names):
        threading.Event().wait(0.01)
    assert not any(n in outcomes for n in names)  # nobody is answered before the commit
    gate.set()
    for t in [first, *threads]:
        t.join(timeout=60)
    after = groupcommit.stats()
    assert outcomes["slow"] == ("ok", "slow")
    assert outcomes["dup"][0] == "error" and isinstance(outcomes["dup"][1], IntegrityError)
    for n in ("a", "b", "c"):
        assert outcomes[n][0] == "ok"
        assert Region.objects.filter(pk=outcomes[n][1]).exists()
    # the slow write alone, then the four that queued behind it in one transaction
    assert after == {"batches": 2, "writes": 5}
    assert Region.objects.filter(code__startswith="439999").count() == 4


def test_inside_a_transaction_a_write_runs_inline(settings):
    from django.db import transaction

    settings.HAOCHA_GROUP_COMMIT = True
    with transaction.atomic():
        pk = groupcommit.run_grouped(_region("439998001000"))
        assert Region.objects.filter(pk=pk).exists()  # visible in the caller's own transaction
    assert groupcommit.stats() == {"batches": 0, "writes": 0}
