"""The smaller things the walk through the pages found (issue 13.21), each through HTTP."""

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from haocha.analytics.services import rollups_apply_all
from haocha.channels import links
from haocha.channels.models import Device
from tests.channel_helpers import clerk_is_staff
from tests.factories import finished_case
from tests.workorder_helpers import act, bad_rating, frozen, refresh, staff

pytestmark = pytest.mark.django_db


def test_the_timeline_names_people_and_units_and_the_department_of_each_assignment(cast):
    cast.operator.display_name = "陈静"
    cast.operator.save(update_fields=["display_name"])
    order = bad_rating(cast, "SF-1")
    assert act(cast.operator, order, "verify", valid="1", department=cast.dept_a.pk).status_code == 302
    act(cast.handler_a, refresh(order), "return", reason="属于社保业务，非本部门职责")
    assert act(cast.operator, refresh(order), "assign", department=cast.dept_b.pk).status_code == 302
    html = staff(cast.supervisor).get(f"/workorders/{order.number}/").content.decode()
    timeline = html.split('id="timeline"')[1].split("</ol>")[0]
    who = re.findall(r'<span class="who">([^<]*)</span>', timeline)
    assert "陈静 · 12345话务员（长沙市）" in who and "handler_a · 差评处理人员（长沙市市场监督管理局）" in who
    assert "operator" not in who  # the login name is not how staff know each other
    details = re.findall(r'<div class="detail">([^<]*)</div>', timeline)
    assert "交办给 长沙市市场监督管理局" in details
    assert "由 长沙市市场监督管理局 改派给 长沙市人力资源和社会保障局" in details


def test_the_home_page_reports_the_same_figures_over_the_same_period_as_public(cast):
    long_ago = datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(days=400)
    with frozen(long_ago):
        bad_rating(cast, "SF-OLD", level="very_dissatisfied")  # more than twelve months ago
    finished_case(cast, "SF-NEW", seq=2)
    body = {"case_no": "SF-NEW", "channel": "pc", "level": "very_satisfied"}
    r = Client().post(
        "/api/ratings", body, content_type="application/json", headers={"X-Api-Key": cast.key_city}
    )
    assert r.status_code == 201
    rollups_apply_all()
    home = Client().get("/").content.decode()
    public = Client().get("/public/").content.decode()
    cards = dict(
        (label, value)
        for value, label in re.findall(r'<div class="card"><b>([^<]*)</b><span>([^<]*)</span>', home)
    )
    figures = dict(
        re.findall(
            r'<tr data-key="[^"]+"><td class="label">([^<]*)</td><td class="num value">([^<]*)</td>', public
        )
    )
    assert cards["评价数"] == figures["评价数"] == "1"
    assert cards["好评率"] == figures["好评率"] and cards["差评率"] == figures["差评率"] == "0.00%"
    period = re.search(r"(\d{4}-\d\d-\d\d 至 \d{4}-\d\d-\d\d)", public.split('id="public-period"')[1]).group(
        1
    )
    assert period in home.split('id="home-period"')[1].split("</p>")[0]


def test_the_citizens_page_shows_no_channel_and_folds_the_follow_up_after_a_bad_rating(cast):
    case = finished_case(cast, "SF-3")
    path = links.rating_link_path(case, channel="pc")
    c = Client()
    data = {"action": "rate", "level": "very_dissatisfied", "key": str(uuid.uuid4()), "comment": "要求不清楚"}
    r = c.post(path, data)
    assert r.status_code == 302
    html = c.get(r["Location"]).content.decode()
    assert "差评已转12345热线核实" in html
    assert "评价渠道" not in html and "PC端" not in html
    card = re.search(
        r'<details class="card follow-up" id="follow-up-card"([^>]*)>(.*?)</details>', html, re.S
    )
    assert card and "open" not in card.group(1)  # folded: nothing reads as "rate again"
    assert "追评（可选）" in card.group(2) and "您的评价已经收到，无需重新评价" in card.group(2)
    # a 追评 refused opens the fold again, with the error on top
    r = c.post(path, {"action": "follow_up", "level": "very_dissatisfied", "key": str(uuid.uuid4())})
    html = r.content.decode()
    assert r.status_code in (400, 422) and 'id="form-error"' in html
    assert re.search(r'id="follow-up-card" open>', html)


def test_api_refusals_of_django_ninja_are_chinese_with_a_code(cast):
    r = Client().post(
        "/api/ratings", "{not json", content_type="application/json", headers={"X-Api-Key": cast.key_city}
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_body" and "无法解析" in r.json()["message"]
    session = Client(enforce_csrf_checks=True)
    session.force_login(cast.operator)
    r = session.post("/api/ratings", {"case_no": "X"}, content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "csrf_failed"
    assert "X-CSRFToken" in r.json()["message"] and "CSRF check" not in r.content.decode()


def test_a_form_with_a_stale_csrf_token_is_refused_in_chinese(cast):
    c = Client(enforce_csrf_checks=True)
    c.force_login(cast.supervisor)
    r = c.post("/logout/")
    html = r.content.decode()
    assert r.status_code == 403 and "CSRF 校验失败" in html and "请刷新页面后重新提交" in html
    assert "csrf_failed" in html and "Forbidden" not in html


def test_an_unactivated_terminal_and_tablet_say_how_to_activate(cast):
    for path, what in (("/terminal/", "自助服务终端"), (f"/tablet/{cast.window_a.code}/", "该窗口的评价器")):
        r = Client().get(path)
        html = r.content.decode()
        assert r.status_code == 403 and f"本设备尚未激活为{what}" in html, path
        assert "评价渠道" in html and "确认激活" in html and "device_not_registered" in html
        assert ">403<" not in html and "403 ·" not in html


def test_the_notices_index_says_which_region_and_month_each_link_is(cast):
    html = staff(cast.supervisor).get("/notices/").content.decode()
    texts = [t.strip() for t in re.findall(r'<a href="/notices/\d+/\d{4}-\d\d/"[^>]*>([^<]*)</a>', html)]
    assert len(texts) == 3 * 12  # 长沙市, 芙蓉区 and 岳麓区, which the supervisor sees; twelve months each
    assert "查看" not in texts
    assert all(re.fullmatch(r"\S+ \d{4}年\d{1,2}月通报", t) for t in texts), texts[:3]
    assert "长沙市 " in " ".join(texts) and "芙蓉区 " in " ".join(texts)


def test_my_cases_dates_stay_whole_and_the_phone_field_brings_up_the_phone_keypad(cast):
    login = Client().get("/my/login/").content.decode()
    field = re.search(r'<input type="text" name="value" id="value"[^>]*>', login, re.S).group(0)
    assert 'data-inputmode-phone="tel"' in field and 'inputmode="text"' in field  # ID numbers may end in X
    r = Client().post("/my/login/", {"kind": "phone", "value": "123"})
    field = re.search(r'<input type="text" name="value" id="value"[^>]*>', r.content.decode(), re.S).group(0)
    assert 'inputmode="tel"' in field


def test_generating_an_activation_link_redirects_so_a_reload_does_not_post_again(cast):
    clerk_is_staff(cast)
    c = staff(cast.clerk)
    r = c.post(f"/channels/windows/{cast.window_a.code}/tablet/")
    assert r.status_code == 302 and r["Location"] == f"/channels/?hall={cast.hall.pk}"
    device = Device.objects.get()
    first = c.get(r["Location"]).content.decode()
    code = first.split("/devices/activate/")[1].split("/")[0]
    again = c.get(r["Location"]).content.decode()  # a reload: the same link, nothing posted
    assert f"/devices/activate/{code}/" in again
    assert Device.objects.get().activation_hash == device.activation_hash and Device.objects.count() == 1
    Client().post(f"/devices/activate/{code}/")  # spent on the tablet: the page stops showing it
    assert "/devices/activate/" not in c.get(r["Location"]).content.decode()
    r = c.post(f"/channels/devices/{device.code}/reissue/")
    assert r.status_code == 302 and "/devices/activate/" in c.get(r["Location"]).content.decode()
