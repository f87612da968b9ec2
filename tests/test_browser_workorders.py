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
        citizen.select_option("select[name=solved]", "1")
        citizen.select_option("select[name=satisfaction]", "satisfied")
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
