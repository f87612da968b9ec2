"""The landing page, the admin and the API docs in headless Chromium, with local assets only."""

import pytest
from django.test import Client

from tests.browser import browser_page, screenshot
from tests.factories import PASSWORD, finished_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _no_external_requests(page, base):
    external = []
    page.on(
        "request",
        lambda req: (
            None if req.url.startswith(base) or req.url.startswith("data:") else external.append(req.url)
        ),
    )
    return external


def test_home_page_shows_the_city_and_a_chart(live_server):
    from tests.factories import build_cast

    cast = build_cast()
    for i, level in enumerate(["very_satisfied"] * 6 + ["satisfied"] * 3 + ["basically_satisfied"]):
        finished_case(cast, f"BR-{i}", seq=i)
        api = Client()
        body = {"case_no": f"BR-{i}", "channel": "pc", "level": level}
        assert (
            api.post(
                "/api/ratings", body, content_type="application/json", headers={"X-Api-Key": cast.key_a}
            ).status_code
            == 201
        )
    from haocha.analytics.services import rollups_apply_all

    rollups_apply_all()  # the landing page reads the rollups
    with browser_page() as page:
        external = _no_external_requests(page, live_server.url)
        page.goto(live_server.url + "/")
        assert "长沙市政务服务“好差评”" in page.locator("h1").inner_text()
        assert page.locator("#districts tbody tr").count() == 2
        assert "90.00%" in page.locator(".cards").inner_text()  # 好评率 9/10
        page.wait_for_selector("#level-mix canvas")
        screenshot(page, "home")
        assert external == [] and page.js_errors == []


def test_admin_login_and_index(live_server):
    from tests.factories import build_cast

    build_cast()
    with browser_page() as page:
        page.goto(live_server.url + "/admin/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_selector("#site-name")
        assert "系统管理" in page.content()
        screenshot(page, "admin-index")
        page.goto(live_server.url + "/admin/evaluations/rating/")
        assert "评价" in page.locator("h1").inner_text()


def test_api_docs_render_from_local_assets(live_server):
    with browser_page() as page:
        external = _no_external_requests(page, live_server.url)
        page.goto(live_server.url + "/api/docs")
        page.wait_for_selector(".swagger-ui .info .title")
        assert "好差评" in page.locator(".swagger-ui .info .title").inner_text()
        page.wait_for_selector('span.opblock-summary-path[data-path="/api/ratings"]')
        screenshot(page, "api-docs")
        assert external == []
