"""Menus, landing pages and errors per role in headless Chromium (issue 13.18), with screenshots at the sizes
the users have: the desk (1440×900) for staff, a phone (360×640) for citizens."""

import pytest

from haocha.workcalendar.models import CalendarYear
from tests.browser import browser_page, chromium, login, new_page, screenshot
from tests.channel_helpers import clerk_is_staff
from tests.factories import PASSWORD, build_cast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DESK = (1440, 900)
PHONE = (360, 640)


def _menu(page) -> list[str]:
    return [t.strip() for t in page.locator("#menu a").all_inner_texts()]


def test_each_role_lands_on_its_own_page_with_its_own_menu(live_server):
    cast = build_cast()
    clerk_is_staff(cast)
    CalendarYear.objects.filter(year__gte=2026).delete()  # the banner is due: only the administrator sees it
    landings = {
        "clerk": ("/desk/", "窗口上岗"),
        "handler_a": ("/workorders/queue/department/", "部门差评工单"),
        "operator": ("/workorders/queue/operator/", "12345"),
        "supervisor": ("/workorders/board/", "监管"),
        "admin": ("/admin/", None),
    }
    with chromium() as browser:
        for username, (path, heading) in landings.items():
            page = new_page(browser, *DESK)
            login(page, live_server.url, username, PASSWORD, next_url="")
            assert page.url == live_server.url + path, username
            if heading:
                assert heading in page.locator("h1").first.inner_text(), username
                menu = _menu(page)
                assert "接口文档" not in menu and "管理后台" not in menu
                assert page.locator("#calendar-warning").count() == 0
                # the menu fits the top bar in at most two rows at the desk
                assert page.locator(".topbar").bounding_box()["height"] <= 110
                screenshot(page, f"menu-{username}-landing-desk")
            assert page.js_errors == [], username
            page.context.close()


def test_a_clerk_refused_a_page_is_told_why_and_a_panel_error_shows_the_servers_message(live_server):
    cast = build_cast()
    clerk_is_staff(cast)
    with chromium() as browser:
        page = new_page(browser, *DESK)
        login(page, live_server.url, "clerk", PASSWORD, next_url="")
        page.goto(live_server.url + "/stats/")
        text = page.locator("#page-error").inner_text()
        assert "403 · 无权访问" in text and "“统计分析”仅向监管人员、部门管理员、差评处理人员开放" in text
        assert "窗口人员（长沙市民之家政务服务大厅）" in text
        screenshot(page, "error-403-clerk-stats-desk")
        page.context.close()

        page = new_page(browser, *DESK)
        # The themes panel asks for a period the server refuses: its own message is shown, not "暂不可用".
        page.route(
            "**/mining/themes/*",
            lambda route: route.continue_(url=route.request.url.replace("start=", "start=2026-13-01&x=")),
        )
        login(page, live_server.url, "supervisor", PASSWORD, next_url="/stats/")
        page.wait_for_selector("#themes .error")
        themes = page.locator("#themes").inner_text()
        assert "日期格式应为 YYYY-MM-DD" in themes and "暂不可用" not in themes
        screenshot(page, "error-htmx-fragment-desk")
        page.unroute("**/mining/themes/*")
        # A server failure (5xx) is said so in the panel too.
        page.route("**/mining/themes/*", lambda route: route.fulfill(status=500, body="x"))
        page.reload()
        page.wait_for_selector("#themes .error")
        assert "加载失败（500）" in page.locator("#themes").inner_text()
        page.context.close()


def test_a_citizen_on_a_phone_sees_the_citizens_menu(live_server):
    build_cast()
    with browser_page(*PHONE) as page:
        page.goto(live_server.url + "/")
        assert _menu(page) == ["首页", "结果公开", "我的办件"]
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE[0], width  # nothing wider than the phone
        screenshot(page, "menu-citizen-home-phone")
        assert page.js_errors == []
