"""The closed loop in headless Chromium: a 差评 from the API reaches the 12345 queue, is verified and
assigned, accepted, contacted and reported back by the department, answered by the citizen through the
signed link, and closes with every step on the timeline. Screenshots of each workbench are saved."""

import json
import urllib.request

import pytest

from haocha.workorders.models import Status, WorkOrder
from tests.browser import chromium, login, new_page, screenshot
from tests.factories import PASSWORD, build_cast, finished_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def post_json(url, body, key):
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "X-Api-Key": key},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, json.loads(resp.read())


def test_the_closed_loop_in_the_browser(live_server):
    cast = build_cast()
    finished_case(cast, "BRW-2026-0001")
    status, rating = post_json(
        live_server.url + "/api/ratings",
        {
            "case_no": "BRW-2026-0001",
            "channel": "mobile",
            "level": "very_dissatisfied",
            "reasons": ["ON504"],
            "comment": "材料清单写得不清楚，来回跑了三次",
        },
        cast.key_city,
    )
    assert status == 201 and rating["is_bad"]
    number = WorkOrder.objects.get().number
    base = live_server.url

    with chromium() as browser:
        operator = new_page(browser)
        login(operator, base, "operator", PASSWORD, "/workorders/queue/operator/")
        operator.wait_for_selector(f"#row-{number}")
        assert "待核实" in operator.locator(f"#row-{number}").inner_text()
        screenshot(operator, "wo-1-operator-queue")
        operator.click(f"#row-{number} a")
        operator.select_option("#form-verify select[name=complexity]", "simple")
        operator.select_option("#form-verify select[name=department]", str(cast.dept_a.pk))
        operator.fill("#form-verify input[name=note]", "经核实，窗口未一次性告知所需材料")
        operator.click("#form-verify button[type=submit]")
        operator.wait_for_selector("#order-status:has-text('待签收')")
        assert "长沙市市场监督管理局" in operator.locator("#order-department").inner_text()
        screenshot(operator, "wo-2-operator-assigned")
        link = operator.input_value("#citizen-link")

        handler = new_page(browser)
        login(handler, base, "handler_a", PASSWORD, "/workorders/queue/department/")
        handler.wait_for_selector(f"#row-{number}")
        assert handler.locator(f"#row-{number} .left").count() == 1  # time left, coloured
        screenshot(handler, "wo-3-department-queue")
        handler.click(f"#row-{number} a")
        handler.click("#form-accept button")
        handler.wait_for_selector("#order-status:has-text('已签收')")
        handler.select_option("#form-contact select[name=method]", "phone")
        handler.fill("#form-contact textarea[name=outcome]", "已电话联系王先生，说明补正材料要求并致歉")
        handler.click("#form-contact button")
        handler.wait_for_selector("#order-status:has-text('办理中')")
        handler.fill("#form-feedback textarea[name=result]", "已安排专人一次性办结，并修订办事指南材料清单")
        handler.fill("#form-feedback textarea[name=measures]", "窗口实行一次性告知制度，每周抽查")
        handler.click("#form-feedback button")
        handler.wait_for_selector("#order-status:has-text('待回访')")
        screenshot(handler, "wo-4-department-reported")
        assert handler.js_errors == []

        citizen = new_page(browser, 360, 640)
        citizen.goto(link)
        citizen.wait_for_selector("#callback-form")
        assert "13812345678" not in citizen.content()  # no personal data on the citizen page
        screenshot(citizen, "wo-5-citizen-callback")
        citizen.check("input[name=solved][value='1']")
        citizen.check("input[name=satisfaction][value=satisfied]")
        citizen.fill("textarea[name=comment]", "处理及时，谢谢")
        citizen.click("#callback-form button")
        citizen.wait_for_selector("#thanks")
        assert "已办结" in citizen.locator("#citizen-status").inner_text()
        screenshot(citizen, "wo-6-citizen-done")

        operator.reload()
        operator.wait_for_selector("#order-status:has-text('已办结')")
        steps = operator.locator("#timeline li").evaluate_all("els => els.map(e => e.dataset.action)")
        assert steps == ["create", "verify", "assign", "accept", "contact", "feedback", "callback"]
        screenshot(operator, "wo-7-order-timeline")

        supervisor = new_page(browser)
        login(supervisor, base, "supervisor", PASSWORD, "/workorders/board/")
        supervisor.wait_for_selector("#section-late")
        screenshot(supervisor, "wo-8-supervisor-board")
        assert operator.js_errors == [] and supervisor.js_errors == [] and citizen.js_errors == []
    assert WorkOrder.objects.get().status == Status.CLOSED


def _reported_order(cast, case_no):
    from tests.workorder_helpers import act, bad_rating, refresh

    order = bad_rating(cast, case_no)
    assert (
        act(cast.operator, order, "verify", complexity="simple", department=cast.dept_a.pk).status_code == 302
    )
    assert act(cast.handler_a, order, "accept").status_code == 302
    assert (
        act(cast.handler_a, order, "contact", method="phone", outcome="已联系", reached="1").status_code
        == 302
    )
    assert act(cast.handler_a, order, "feedback", result="已整改").status_code == 302
    return refresh(order)


def test_a_tap_on_submit_alone_records_no_callback(live_server):
    """Issue 13.15: the 回访 forms start unanswered; tapping 提交 (or 登记回访) records nothing — the browser asks
    for the answers, and with the browser's check removed the server refuses and says what is missing."""
    from haocha.workorders.citizen import citizen_link_token
    from tests.workorder_helpers import refresh

    cast = build_cast()
    by_link = _reported_order(cast, "BRW-CB-1")
    by_phone = _reported_order(cast, "BRW-CB-2")
    base = live_server.url
    with chromium() as browser:
        citizen = new_page(browser, 360, 640)
        citizen.goto(f"{base}/c/{citizen_link_token(by_link)}/")
        citizen.wait_for_selector("#callback-form")
        assert citizen.locator("#callback-form input[type=radio]:checked").count() == 0
        screenshot(citizen, "wo-callback-unanswered-phone")
        citizen.click("#callback-form button[type=submit]")
        citizen.wait_for_timeout(300)
        assert citizen.locator("#thanks").count() == 0
        assert citizen.evaluate("document.querySelector('input[name=solved]').validity.valueMissing")
        assert refresh(by_link).status == Status.PENDING_CALLBACK
        # without the browser's check the server refuses, and keeps the answer given
        citizen.check("input[name=solved][value='0']")
        citizen.evaluate(
            "document.querySelectorAll('[required]').forEach(e => e.removeAttribute('required'))"
        )
        citizen.click("#callback-form button[type=submit]")
        citizen.wait_for_selector(".error[role=alert]")
        assert "请选择对处理情况是否满意" in citizen.locator(".error[role=alert]").inner_text()
        assert citizen.is_checked("input[name=solved][value='0']")
        assert refresh(by_link).status == Status.PENDING_CALLBACK and not refresh(by_link).callback_token_used
        screenshot(citizen, "wo-callback-refused-phone")
        citizen.check("input[name=satisfaction][value=dissatisfied]")
        citizen.click("#callback-form button[type=submit]")
        citizen.wait_for_selector("#thanks")
        assert refresh(by_link).status == Status.HANDLING  # 未解决: back to the department

        operator = new_page(browser, 1440, 900)
        login(operator, base, "operator", PASSWORD, f"/workorders/{by_phone.number}/")
        operator.wait_for_selector("#form-callback")
        assert operator.locator("#form-callback input[type=radio]:checked").count() == 0
        operator.click("#form-callback button[type=submit]")
        operator.wait_for_timeout(300)
        assert operator.locator("#action-error").count() == 0
        assert refresh(by_phone).status == Status.PENDING_CALLBACK
        operator.evaluate(
            "document.querySelectorAll('#form-callback [required]').forEach(e => e.removeAttribute('required'))"
        )
        operator.click("#form-callback button[type=submit]")
        operator.wait_for_selector("#action-error")
        assert "请选择问题是否已解决" in operator.locator("#action-error").inner_text()
        assert refresh(by_phone).status == Status.PENDING_CALLBACK
        screenshot(operator, "wo-callback-refused-desk")
        operator.check("#form-callback input[name=solved][value='1']")
        operator.check("#form-callback input[name=satisfaction][value=satisfied]")
        operator.click("#form-callback button[type=submit]")
        operator.wait_for_selector("#order-status:has-text('已办结')")
        assert citizen.js_errors == [] and operator.js_errors == []
    assert refresh(by_phone).status == Status.CLOSED
