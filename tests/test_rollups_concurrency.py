"""A case changed by the approval system while its first rating arrives is counted once, under its new
values (PostgreSQL: the rating's trigger waits for the case's change and then sees it)."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test import Client

from haocha.analytics.services import rollups_apply_all, rollups_rebuild
from haocha.catalogue.models import Case
from tests.factories import build_cast, finished_case
from tests.test_rollups import snapshot


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_case_moved_while_it_is_rated_counts_once_under_its_new_day():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: no two transactions overlap")
    cast = build_cast()
    case = finished_case(cast, "CR-0001", finished_ago=timedelta(days=1))
    rollups_apply_all()
    moved = threading.Event()
    errors = []

    def move_case():
        try:
            with transaction.atomic():
                Case.objects.filter(pk=case.pk).update(finished_at=F("finished_at") - timedelta(days=3))
                moved.set()
                time.sleep(1.5)  # the rating arrives meanwhile
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    mover = threading.Thread(target=move_case)
    mover.start()
    assert moved.wait(10)
    r = Client().post(
        "/api/ratings",
        {"case_no": "CR-0001", "channel": "pc", "level": "satisfied"},
        content_type="application/json",
        headers={"X-Api-Key": cast.key_city},
    )
    mover.join(30)
    assert not errors and r.status_code == 201, (errors, r.content)
    rollups_apply_all()
    incremental = snapshot()
    rollups_rebuild()
    assert snapshot() == incremental
