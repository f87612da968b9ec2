"""Menus, landing pages and refusals per role (issue 13.18): each role sees the pages it may open and no
other, starts where its work is, and a refusal says which role the page needs and which one the user has."""

import re

import pytest
from django.test import Client

from haocha.workcalendar.models import CalendarYear
from haocha.workcalendar.services import missing_years
from tests.channel_helpers import clerk_is_staff
from tests.factories import PASSWORD
from tests.workorder_helpers import bad_rating, staff

pytestmark = pytest.mark.django_db

# Written out by hand from the walk through the pages, not read from haocha/accounts/menu.py.
EXPECTED_MENUS = {
    None: ["首页", "结果公开", "我的办件"],
    "admin": ["首页", "结果公开", "差评工单", "评价记录", "统计分析", "通报", "年度考核", "差评挖掘", "评价渠道",
              "上下级对接", "12345平台对接", "消息", "接口文档", "管理后台"],
    "supervisor": ["首页", "结果公开", "差评工单", "评价记录", "统计分析", "通报", "年度考核", "差评挖掘", "评价渠道",
                   "上下级对接", "12345平台对接", "消息"],
    "operator": ["首页", "结果公开", "差评工单", "评价记录", "12345平台对接", "消息"],
    "handler_a": ["首页", "结果公开", "差评工单", "评价记录", "统计分析", "差评挖掘", "消息"],
    "clerk": ["首页", "结果公开", "窗口上岗", "差评工单", "评价渠道", "消息"],
}  # fmt: skip
LANDING = {
    "admin": "/admin/",
    "supervisor": "/workorders/board/",
    "operator": "/workorders/queue/operator/",
    "handler_a": "/workorders/queue/department/",
    "clerk": "/desk/",
}


def _client(cast, username):
    return (
        Client() if username is None else staff(getattr(cast, username if username != "admin" else "admin"))
    )


def _menu(html: str) -> list[tuple[str, str]]:
    nav = re.search(r'<nav id="menu"[^>]*>(.*?)</nav>', html, re.S).group(1)
    return [
        (href, re.sub(r"<[^>]+>", "", label).strip().rstrip("0123456789"))
        for href, label in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', nav, re.S)
    ]


@pytest.mark.parametrize("username", list(EXPECTED_MENUS))
def test_each_role_sees_its_own_menu_and_every_entry_opens(cast, username):
    clerk_is_staff(cast)
    c = _client(cast, username)
    entries = _menu(c.get("/public/").content.decode())
    assert [label for _, label in entries] == EXPECTED_MENUS[username]
    for href, label in entries:
        r = c.get(href, follow=True)
        assert r.status_code == 200, (username, label, href, r.status_code)


def test_citizens_are_not_offered_staff_pages_or_the_api_documentation(cast):
    html = Client().get("/").content.decode()
    nav = re.search(r'<nav id="menu".*?</nav>', html, re.S).group(0)
    for staff_only in ("接口文档", "差评工单", "统计分析", "评价渠道", "管理后台"):
        assert staff_only not in nav
    assert 'href="/login/"' in html  # staff sign in from the top bar and land on their own page


@pytest.mark.parametrize("username", list(LANDING))
def test_signing_in_lands_each_role_where_its_work_is(cast, username):
    clerk_is_staff(cast)
    c = Client()
    r = c.post("/login/", {"username": username, "password": PASSWORD}, follow=True)
    assert r.status_code == 200
    assert r.redirect_chain[-1][0] == LANDING[username]


def test_the_clerk_lands_on_the_desk_and_sees_the_halls_orders_to_settle_on_the_spot(cast):
    clerk_is_staff(cast)
    order = bad_rating(cast, "MENU-1", window=cast.window_a)
    assert order.rating.hall_id == cast.hall.pk
    c = Client()
    r = c.post("/login/", {"username": "clerk", "password": PASSWORD}, follow=True)
    assert r.redirect_chain[-1][0] == "/desk/" and "窗口上岗" in r.content.decode()
    queue = c.get("/workorders/", follow=True)
    html = queue.content.decode()
    assert queue.redirect_chain[-1][0] == "/workorders/queue/department/"
    assert "本大厅差评工单" in html and order.number in html and "当场处置" in html


def test_a_page_not_for_the_role_says_which_role_it_needs_and_which_the_user_has(cast):
    r = staff(cast.clerk).get("/stats/")
    html = r.content.decode()
    assert r.status_code == 403
    assert "“统计分析”仅向监管人员、部门管理员、差评处理人员开放" in html
    assert "您的账号角色：窗口人员" in html and "role_required" in html
    assert "无权访问" in html and "长沙市民之家政务服务大厅" in html  # the user's role and where it is held
    for path, page in (("/notices/", "通报"), ("/mining/", "差评挖掘"), ("/ratings/", "评价记录")):
        r = staff(cast.clerk).get(path)
        assert r.status_code == 403 and f"“{page}”仅向" in r.content.decode(), path
    r = staff(cast.operator).get("/channels/")
    assert r.status_code == 403 and "“评价渠道”仅向窗口人员、部门管理员、监管人员开放" in r.content.decode()


def test_django_refusals_and_missing_pages_are_chinese_pages_of_the_site(cast):
    r = staff(cast.supervisor).get("/no-such-page/")
    assert r.status_code == 404 and "未找到" in r.content.decode() and 'id="menu"' in r.content.decode()
    r = Client().get("/api/no-such-endpoint")
    assert r.status_code == 404 and r.json()["code"] in ("not_found", "error")


def test_an_htmx_fragment_error_is_the_servers_own_message_not_a_page(cast):
    """The dashboard's themes panel once turned every refusal into "暂不可用，请稍后再试"."""
    r = staff(cast.supervisor).get("/mining/themes/", {"start": "2026-13-01"}, headers={"HX-Request": "true"})
    body = r.content.decode()
    assert r.status_code == 422 and "日期格式应为 YYYY-MM-DD" in body and "invalid_date" in body
    assert "<html" not in body and "<nav" not in body  # the error alone, swapped in where the panel goes
    r = staff(cast.clerk).get("/mining/themes/", headers={"HX-Request": "true"})
    assert r.status_code == 403 and "“差评挖掘”仅向" in r.content.decode()
    dashboard = staff(cast.supervisor).get("/stats/").content.decode()
    assert "暂不可用" not in dashboard


def test_the_calendar_banner_is_shown_to_those_who_can_enter_the_calendar(cast, monkeypatch):
    CalendarYear.objects.filter(year__gte=2026).delete()  # a year nobody has entered
    assert missing_years()
    assert 'id="calendar-warning"' in staff(cast.admin).get("/public/").content.decode()
    for user in (cast.supervisor, cast.operator, cast.handler_a, cast.clerk):
        assert 'id="calendar-warning"' not in staff(user).get("/public/").content.decode(), user


def test_the_top_bar_names_the_person_their_role_and_unit(cast):
    html = staff(cast.handler_a).get("/public/").content.decode()
    who = re.search(r'<span class="who" id="who">(.*?)</span>', html, re.S).group(1)
    assert "handler_a" in who and "差评处理人员（长沙市市场监督管理局）" in who


def test_the_ratings_page_opens_to_exactly_the_roles_the_api_lets_read_ratings():
    # accounts/menu.py (a lower layer) cannot import evaluations.access: the two lists must agree.
    from haocha.accounts.menu import page_roles
    from haocha.evaluations import access

    assert set(page_roles("ratings")) == set(access.READ.roles)
