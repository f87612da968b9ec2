"""The docking monitor in Chromium at a supervisor's desk (1440×900), at the city and at the province: one
child keeps up, one lags and is alerted; the charts draw every child, the lagging one is marked."""

from datetime import timedelta

import pytest
from django.utils import timezone

from haocha.accounts.models import Role
from haocha.integrations.docking import monitor
from haocha.integrations.docking.models import ChildSystem, ReceivedRecord, RecordKind
from haocha.integrations.docking.services import child_register
from haocha.organisations.models import Region
from tests.browser import chromium, login, new_page, screenshot
from tests.factories import PASSWORD, build_cast, make_region, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
DESK = (1440, 900)


def arrivals(child, n, lag_seconds):
    now = timezone.now()
    ReceivedRecord.objects.bulk_create(
        [
            ReceivedRecord(
                child=child,
                kind=RecordKind.RATING,
                record_id=f"{child.pk}-{i}",
                version=1,
                happened_at=now - timedelta(minutes=i % 50, seconds=lag_seconds + i % 7),
                received_at=now - timedelta(minutes=i % 50),
            )
            for i in range(n)
        ]
    )


def test_the_monitor_with_a_lagging_child_and_its_alert(live_server):
    cast = build_cast()
    make_region("430111", "雨花区", Region.Level.COUNTY, cast.city)
    keeping_up, _ = child_register(name="芙蓉区好差评系统", region_code="430102")
    lagging, _ = child_register(name="岳麓区好差评系统", region_code="430104")
    rural, _ = child_register(name="雨花区好差评系统", region_code="430111")
    now = timezone.now()
    ChildSystem.objects.filter(pk=keeping_up.pk).update(last_upload_at=now - timedelta(seconds=20))
    ChildSystem.objects.filter(pk=lagging.pk).update(last_upload_at=now - timedelta(hours=3))
    ChildSystem.objects.filter(pk=rural.pk).update(last_upload_at=now - timedelta(minutes=2))
    arrivals(keeping_up, 120, 3)
    arrivals(lagging, 40, 2400)
    arrivals(rural, 60, 8)
    working = timezone.make_aware(timezone.datetime(2026, 12, 2, 10, 0))  # a Wednesday morning
    ChildSystem.objects.filter(pk=lagging.pk).update(last_upload_at=working - timedelta(hours=3))
    assert monitor.check_alerts(working) >= 1

    province_supervisor = make_user("province_supervisor", Role.SUPERVISOR, region=cast.province)
    with chromium() as browser:
        for user, name in ((cast.supervisor, "city"), (province_supervisor, "province")):
            page = new_page(browser, *DESK)
            login(page, live_server.url, user.username, PASSWORD, "/docking/")
            page.goto(f"{live_server.url}/docking/")
            page.wait_for_selector("#children-chart svg")
            rows = page.locator("#children-table tbody tr")
            assert rows.count() == 3
            lagging_row = page.locator("#children-table tbody tr", has_text="岳麓区好差评系统")
            assert "工作时间内长时间未上报" in lagging_row.inner_text()
            drawn = "".join(
                page.eval_on_selector_all("#children-chart svg text", "els => els.map(e => e.textContent)")
            )
            for child in ("芙蓉区好差评系统", "岳麓区好差评系统", "雨花区好差评系统"):
                assert child in drawn
            assert "口径" in page.inner_text("#children")
            screenshot(page, f"docking-monitor-{name}")
            page.click("#children-table a:has-text('岳麓区好差评系统')")
            page.wait_for_selector("#days-chart svg")
            assert "工作时间内长时间未上报" in page.inner_text("#alerts")
            screenshot(page, f"docking-child-{name}")
            assert not page.js_errors, page.js_errors
            page.context.close()
