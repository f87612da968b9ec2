"""The stand-in 12345 platform's own page moves a pushed 差评 order to 办结 with its buttons (a 12345 operator
at 1366×768); haocha's order page (a supervisor at 1440×900) shows the same steps in its timeline."""

import pytest

from haocha.core.outbox import outbox_process
from haocha.integrations.hotline12345.models import HotlinePlatform, PlatformOrder
from haocha.workorders.models import Status, WorkOrder
from tests.browser import chromium, login, new_page, screenshot
from tests.factories import PASSWORD, build_cast
from tests.hotline_helpers import external_platform
from tests.test_docking_processes import wait_for
from tests.test_hotline12345_processes import StandIn, a_bad_rating

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
OPERATOR_DESK = (1366, 768)
SUPERVISOR_DESK = (1440, 900)
# The stand-in's buttons, in the order a 12345 handles a 差评, and the step each becomes in haocha.
BUTTONS = (
    ("verify", "核实"),
    ("dispatch", "交办"),
    ("sign", "签收"),
    ("contact", "联系群众"),
    ("result", "反馈办理结果"),
    ("callback", "回访"),
    ("close", None),  # the platform's 办结 of an order haocha has closed on the 回访 already: no new step
)


def test_the_platforms_page_closes_the_order_and_haochas_timeline_shows_the_steps(live_server):
    cast = build_cast()
    platform = external_platform(cast)
    standin = StandIn(platform, live_server.url)
    HotlinePlatform.objects.filter(pk=platform.pk).update(base_url=standin.url)
    try:
        order = a_bad_rating(cast, "HB-1", 91)
        outbox_process()
        wait_for(lambda: PlatformOrder.objects.get(order=order).applied_seq >= 1, 30, "the 受理 callback")
        with chromium() as browser:
            page = new_page(browser, *OPERATOR_DESK)
            page.goto(standin.url + "/")
            row = f"tr[data-order='{order.number}']"
            page.wait_for_selector(row)
            for n, (step, _) in enumerate(BUTTONS, start=2):
                page.click(f"{row} button[data-step='{step}']")
                page.wait_for_selector(row)
                wait_for(
                    lambda n=n: PlatformOrder.objects.get(order=order).applied_seq >= n, 30, f"callback {n}"
                )
            assert "办结" in page.inner_text(f"{row} .status")
            screenshot(page, "hotline12345-standin-closed")
            assert page.js_errors == []

            order = WorkOrder.objects.get(pk=order.pk)
            assert order.status == Status.CLOSED
            desk = new_page(browser, *SUPERVISOR_DESK)
            login(desk, live_server.url, cast.supervisor.username, PASSWORD, f"/workorders/{order.number}/")
            desk.goto(f"{live_server.url}/workorders/{order.number}/")
            desk.wait_for_selector("#timeline")
            labels = desk.locator("#timeline li b").all_inner_texts()
            assert labels == ["生成工单", "12345受理", *(label for _, label in BUTTONS if label)], labels
            whos = set(desk.locator("#timeline li .who").all_inner_texts()[1:])
            assert whos == {"12345平台:长沙市12345政务服务便民热线"}, whos
            assert order.platform_number in desk.inner_text("#handled-by-platform")
            assert "已办结" in desk.inner_text("main")
            screenshot(desk, "hotline12345-order-timeline")
            assert desk.js_errors == []
    finally:
        standin.stop()
