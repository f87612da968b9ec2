"""Docking with every level a process of its own on loopback: 岳麓区 (SQLite) → 长沙市 (the test database:
SQLite or PostgreSQL) → 湖南省 (SQLite). Ratings made at the county reach the province; the city down for a
while loses and doubles nothing; the county's worker killed with SIGKILL in mid-upload doubles nothing."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from haocha.catalogue.models import Case
from haocha.evaluations.models import Rating
from haocha.integrations.docking.models import ReceivedRecord
from haocha.integrations.docking.services import child_register
from haocha.workorders import machine
from haocha.workorders.models import WorkOrder
from tests.conftest import url_of_test_database
from tests.factories import build_cast
from tests.servers import ARTIFACTS, ProductionServer

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
ROOT = Path(__file__).resolve().parent.parent
HAOCHA = str(Path(sys.executable).parent / "haocha")


def env_for(database_url: str, **extra) -> dict:
    return {**os.environ, "DATABASE_URL": database_url, "HAOCHA_LOG_LEVEL": "ERROR", **extra}


def run(database_url: str, *args, **extra) -> str:
    done = subprocess.run(
        args, env=env_for(database_url, **extra), cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def new_instance(path: Path) -> str:
    url = f"sqlite:///{path}"
    run(url, HAOCHA, "migrate", "--noinput", "-v", "0")
    run(url, sys.executable, "-m", "tests.docking_seed", "cast")
    return url


def count(path: Path, sql: str) -> int:
    with sqlite3.connect(path, timeout=30) as db:
        return db.execute(sql).fetchone()[0]


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout} s: {what}")


class Worker:
    def __init__(self, name: str, database_url: str, **extra):
        self.log = open(ARTIFACTS / f"docking-{name}-worker.log", "ab")  # noqa: SIM115
        self.env = env_for(database_url, **extra)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [HAOCHA, "worker", "--interval", "0.3", "--sweep-every", "3600"],
            env=self.env,
            cwd=ROOT,
            stdout=self.log,
            stderr=self.log,
            start_new_session=True,
        )

    def kill(self, sig=signal.SIGKILL):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(timeout=30)


def test_county_city_province(tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    cast = build_cast()  # the city's reference data, committed (a transactional test)
    county_db, province_db = tmp_path / "county.sqlite3", tmp_path / "province.sqlite3"
    county_url, province_url = new_instance(county_db), new_instance(province_db)
    city = ProductionServer(url_of_test_database(), log_name="docking-city-server.log")
    province = ProductionServer(province_url, log_name="docking-province-server.log")
    county = ProductionServer(county_url, log_name="docking-county-server.log")
    county_child, county_secret = child_register(
        name="岳麓区好差评系统", region_code="430104", base_url=county.url
    )
    city_app, city_secret = run(
        province_url,
        sys.executable,
        "-m",
        "tests.docking_seed",
        "child",
        "长沙市好差评系统",
        "430100",
        city.url,
    ).split()
    to_city = {
        "HAOCHA_PARENT_URL": city.url,
        "HAOCHA_PARENT_APP_ID": county_child.app_id,
        "HAOCHA_PARENT_SECRET": county_secret,
    }
    to_province = {
        "HAOCHA_PARENT_URL": province.url,
        "HAOCHA_PARENT_APP_ID": city_app,
        "HAOCHA_PARENT_SECRET": city_secret,
    }
    county.env.update(to_city)  # the county's and the city's servers check what is sent down to them
    city.env.update(to_province)
    for server in (city, province, county):
        server.start()
    county_worker = Worker("county", county_url, HAOCHA_DOCKING_BATCH="200", **to_city)
    city_worker = Worker("city", url_of_test_database(), **to_province)
    province_worker = Worker("province", province_url)
    try:
        run(county_url, sys.executable, "-m", "tests.docking_seed", "ratings", "YL", "0", "3000")
        county_worker.start()
        city_worker.start()
        province_worker.start()
        # SIGKILL the county's worker in mid-upload, then start it again
        wait_for(lambda: ReceivedRecord.objects.filter(kind="service").count() >= 200, 120, "first batch")
        county_worker.kill()
        county_worker.start()
        wait_for(
            lambda: Rating.objects.filter(source=cast_child_client(county_child)).count() == 3000, 600, "3000"
        )

        # the city stops while the county keeps rating
        city.stop()
        run(county_url, sys.executable, "-m", "tests.docking_seed", "ratings", "YL", "3000", "500")
        wait_for(
            lambda: count(county_db, "select count(*) from docking_upload where status='retrying'") > 0,
            60,
            "county sees the city down",
        )
        city.start()
        wait_for(
            lambda: Rating.objects.filter(source=cast_child_client(county_child)).count() == 3500, 600, "3500"
        )

        # nothing lost, nothing doubled at the city
        assert Case.objects.filter(source=cast_child_client(county_child)).count() == 3500
        assert ReceivedRecord.objects.filter(child=county_child, kind="rating").count() == 3500
        # the batch whose answer the killed worker never stored goes again once its message's lock
        # expires (60 s); the city answers `duplicate`
        wait_for(
            lambda: count(county_db, "select count(*) from docking_upload where status <> 'accepted'") == 0,
            180,
            "every county record accepted",
        )
        assert Rating.objects.filter(source=cast_child_client(county_child)).count() == 3500
        # ... and all of it at the province, through the city
        wait_for(
            lambda: (
                count(province_db, "select count(*) from evaluations_rating where source_id is not null")
                == 3500
            ),
            600,
            "3500 at the province",
        )
        assert count(province_db, "select count(*) from catalogue_case where case_no like 'YL%'") == 3500
        bad = count(province_db, "select count(*) from evaluations_rating where is_bad")
        assert bad == 3500 // 50
        # the city's own 差评 arrive with their words; no identity beyond the masked name
        assert count(province_db, "select count(*) from catalogue_case where applicant_name <> '王**'") == 0
        assert count(province_db, "select count(*) from catalogue_case where applicant_id_masked <> ''") == 0

        # downward: a 差评 made at the province about a county case is handled at the county, and its
        # handling shows at the city and the province
        run(county_url, sys.executable, "-m", "tests.docking_seed", "cases", "YLD", "0", "1")
        case_no = "YLD0000000"
        wait_for(
            lambda: count(province_db, f"select count(*) from catalogue_case where case_no = '{case_no}'"),
            120,
            "the new case at the province",
        )
        run(province_url, sys.executable, "-m", "tests.docking_seed", "bad", case_no)
        order_at = (
            "select o.status from workorders_workorder o join catalogue_case c on c.id = o.case_id "
            f"where c.case_no = '{case_no}'"
        )

        def status(db):
            with sqlite3.connect(db, timeout=30) as conn:
                row = conn.execute(order_at).fetchone()
            return row[0] if row else None

        wait_for(lambda: status(county_db) == "pending_verify", 120, "the order made at the county")
        run(county_url, sys.executable, "-m", "tests.docking_seed", "progress", case_no)
        wait_for(lambda: status(province_db) == "pending_accept", 180, "the county's 交办 at the province")
        mirrored = WorkOrder.objects.get(case__case_no=case_no)
        assert mirrored.status == "pending_accept" and mirrored.handled_by == county_child.client
        labels = [machine.step_label(t) for t in mirrored.transitions.order_by("at", "pk")]
        assert "核实" in labels and "交办" in labels, labels
        # the county's rating came from above: not uploaded back as a second rating
        assert Rating.objects.filter(case__case_no=case_no).count() == 1
        assert (
            count(
                province_db,
                f"select count(*) from evaluations_rating r join catalogue_case c on c.id = r.case_id where c.case_no = '{case_no}'",
            )
            == 1
        )
    finally:
        for worker in (county_worker, city_worker, province_worker):
            worker.kill()
        for server in (city, province, county):
            server.stop()
    del cast


def cast_child_client(child):
    return child.client
