"""Staff pages: the ratings list and detail with channel and device (masked evaluators, scoped, outsiders
refused), the 评价渠道 page, QR codes as PNG and SVG, the A5 stand sign and the 办结通知."""

import uuid
from unittest import mock

import pytest
import qrcode
import qrcode.image.svg
from django.test import Client
from django.utils import timezone

from haocha.channels import links, qr
from haocha.evaluations.models import Rating
from tests.channel_helpers import rate_on_tablet, tablet_client
from tests.factories import finished_case, make_user

pytestmark = pytest.mark.django_db


def logged_in(user):
    c = Client()
    c.force_login(user)
    return c


def some_ratings(cast):
    """Four ratings: SMS and PC (city departments), QR code (岳麓区), a tablet visit rating at window A01."""
    sms = finished_case(cast, "S-1", seq=1)
    pc = finished_case(cast, "S-2", seq=2, item=cast.item_b)
    yuelu = finished_case(cast, "S-Y", seq=3, item=cast.item_yuelu)
    citizen = Client()
    citizen.post(links.rating_link_path(sms, channel="sms"), {"level": "satisfied"})
    citizen.post(
        links.rating_link_path(pc, channel="pc"), {"level": "very_dissatisfied", "reasons": ["ON501"]}
    )
    citizen.post(links.rating_link_path(yuelu, channel="qrcode"), {"level": "satisfied"})
    tablet, device = tablet_client(cast, cast.window_a)
    assert (
        rate_on_tablet(tablet, cast.window_a, key=str(uuid.uuid4()), level="very_satisfied").status_code
        == 201
    )
    assert Rating.objects.count() == 4
    return device


def test_supervisors_see_channel_device_and_masked_evaluators(cast):
    device = some_ratings(cast)
    page = logged_in(cast.supervisor).get("/ratings/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "共 4 条" in html  # the city supervisor's region holds 岳麓区 too
    for text in ("短信", "PC端", "政务大厅平板电脑", device.code, "王**", "138****5678"):
        assert text in html, text
    assert "王小明" not in html and "13812345678" not in html


def test_filters(cast):
    device = some_ratings(cast)
    sup = logged_in(cast.supervisor)

    def count(**params):
        html = sup.get("/ratings/", params).content.decode()
        return int(html.split("共 ")[1].split(" 条")[0])

    assert count(channel="tablet") == 1 and count(device=device.code) == 1
    assert count(level="very_dissatisfied") == 1
    assert count(department=cast.dept_b.pk) == 1
    assert count(hall=cast.hall.pk) == 1 and count(window=cast.window_a.code) == 1
    assert count(**{"from": "2000-01-01", "to": "2000-01-31"}) == 0
    r = sup.get("/ratings/", {"from": "2026-13-01"})
    assert r.status_code == 422 and "起始日期格式应为" in r.content.decode()
    r = sup.get("/ratings/", {"channel": "carrier-pigeon"})
    assert r.status_code == 422
    # the statistics drill-down links here with ids and start/end
    today = str(timezone.localdate())
    assert count(window=cast.window_a.pk, start=today, end=today) == 1
    assert count(window=cast.window_a.pk, start="2000-01-01", end="2000-01-31") == 0
    assert count(staff=cast.staff_a.pk) == Rating.objects.filter(staff=cast.staff_a).count()
    for bad in ({"staff": "x"}, {"staff": "9" * 30}, {"window": "9" * 30}):
        assert sup.get("/ratings/", bad).status_code == 422


def test_the_count_is_capped_on_large_lists(cast):
    """Past the cap the list says so and asks for narrower filters; the count query reads cap + 1 rows."""
    from django.db import connection

    from haocha.channels.views import ratings as view

    some_ratings(cast)
    sup = logged_in(cast.supervisor)
    with mock.patch.object(view, "COUNT_CAP", 3), mock.patch.object(view, "PAGE", 2):
        seen = []

        def record(execute, sql, params, many, context):
            seen.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):  # (request_started empties connection.queries)
            first = sup.get("/ratings/").content.decode()
        second = sup.get("/ratings/", {"page": 2}).content.decode()
        beyond = sup.get("/ratings/", {"page": 3}).content.decode()
        narrowed = sup.get("/ratings/", {"channel": "tablet"}).content.decode()
    assert "超过 3 条，只列出最近的 3 条" in first and "第 1 / 2 页" in first
    counts = [sql for sql in seen if "COUNT(" in sql.upper() and "evaluations_rating" in sql]
    assert len(counts) == 1 and "LIMIT 4" in counts[0], counts
    rows = [html.count('<tr data-id="') for html in (first, second)]
    assert rows == [2, 1]  # the three newest; the oldest of the four is not reachable
    assert beyond.count('<tr data-id="') == 1 and "第 2 / 2 页" in beyond  # clamped to the last page
    assert "共 1 条" in narrowed and "超过" not in narrowed
    newest = Rating.objects.order_by("-rated_at", "-id")[:3]
    shown = {r.public_id.hex for r in newest}
    listed = {chunk.split('"')[0] for chunk in (first + second).split('<tr data-id="')[1:]}
    assert {x.replace("-", "") for x in listed} == shown


def test_a_wide_scope_lists_the_same_ratings_walking_by_time(cast):
    """A city supervisor's list is filtered so that the database walks ratings by time (no organisation
    index can serve the test); the rows are the same as with the plain filter. A narrow scope keeps it."""
    from haocha.accounts.access import actor_for_user
    from haocha.evaluations.access import ratings_for as ratings_visible_to

    some_ratings(cast)
    finished_case(cast, "S-X", seq=9, item=cast.item_yuelu)
    for user, wide in ((cast.supervisor, True), (cast.handler_b, False), (cast.outsider, False)):
        actor = actor_for_user(user)
        listed = ratings_visible_to(actor, newest_first=True)
        plain = ratings_visible_to(actor)
        assert set(listed.values_list("pk", flat=True)) == set(plain.values_list("pk", flat=True))
        assert ("+ 0)" in str(listed.query)) is wide, user.username
    assert ratings_visible_to(actor_for_user(cast.supervisor)).count() == 4


def test_scope_and_outsiders(cast):
    some_ratings(cast)
    handler_b = logged_in(cast.handler_b).get("/ratings/").content.decode()
    assert "共 1 条" in handler_b and "社会保障卡申领" in handler_b
    outsider = logged_in(cast.outsider)
    html = outsider.get("/ratings/").content.decode()
    assert "共 1 条" in html and "个体工商户登记" in html
    city_rating = Rating.objects.get(case__case_no="S-1")
    assert outsider.get(f"/ratings/{city_rating.public_id}/").status_code == 404
    assert logged_in(cast.handler_b).get(f"/ratings/{city_rating.public_id}/").status_code == 404
    assert logged_in(cast.clerk).get("/ratings/").status_code == 403  # window staff do not see presses
    assert logged_in(make_user("nobody")).get("/ratings/").status_code == 403
    assert Client().get("/ratings/")["Location"].startswith("/login/")


def test_the_detail_page(cast):
    device = some_ratings(cast)
    sup = logged_in(cast.supervisor)
    tablet_rating = Rating.objects.get(channel="tablet")
    html = sup.get(f"/ratings/{tablet_rating.public_id}/").content.decode()
    assert "政务大厅平板电脑（代码 4）" in html and device.code in html and "A01号窗口" in html
    bad = Rating.objects.get(case__case_no="S-2")
    html = sup.get(f"/ratings/{bad.public_id}/").content.decode()
    assert "超过承诺时限未办结" in html and bad.work_order.number in html and "138****5678" in html
    assert "13812345678" not in html
    assert sup.get("/ratings/not-a-uuid/").status_code == 404


def test_the_channels_page_lists_windows_with_tablet_qr_and_sign(cast):
    some_ratings(cast)
    html = logged_in(cast.clerk).get("/channels/").content.decode()
    assert "长沙市民之家政务服务大厅" in html and "A01" in html and "B01" in html
    assert "已激活" in html and f"/tablet/{cast.window_a.code}/" in html
    assert f"/channels/windows/{cast.window_a.code}/sign/" in html and "登记评价器" in html
    sup = logged_in(cast.supervisor).get("/channels/").content.decode()
    assert "A01" in sup and "登记评价器" not in sup  # supervisors see, the hall manages
    outsider = logged_in(cast.outsider).get("/channels/").content.decode()
    assert "A01" not in outsider
    assert logged_in(make_user("nobody")).get("/channels/").status_code == 403


def _qr_matrix_png(data):
    import io

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=2)
    code.add_data(data)
    code.make(fit=True)
    buf = io.BytesIO()
    code.make_image().save(buf)
    return buf.getvalue()


def test_window_and_case_qr_codes(cast):
    case = finished_case(cast, "S-QR", window=cast.window_a)
    clerk = logged_in(cast.clerk)
    # the links are signed with a timestamp: the page and the expected code must share the second
    with mock.patch("django.core.signing.time.time", return_value=1_800_000_000.0):
        png = clerk.get(f"/channels/windows/{cast.window_a.code}/qr.png")
        assert png.status_code == 200 and png["Content-Type"] == "image/png"
        assert png.content == _qr_matrix_png(qr.window_url(cast.window_a.code))  # the window's signed page
    svg = clerk.get(f"/channels/windows/{cast.window_a.code}/qr.svg")
    assert svg["Content-Type"] == "image/svg+xml" and svg.content.decode().lstrip().startswith("<?xml")
    with mock.patch("django.core.signing.time.time", return_value=1_800_000_000.0):
        assert clerk.get(f"/channels/cases/{case.case_no}/qr.png").content == _qr_matrix_png(
            links.rating_link_url(case, channel="qrcode")
        )
    assert clerk.get(f"/channels/cases/{case.case_no}/qr.svg").status_code == 200
    outsider = logged_in(cast.outsider)
    assert outsider.get(f"/channels/windows/{cast.window_a.code}/qr.png").status_code == 404
    assert outsider.get(f"/channels/cases/{case.case_no}/qr.png").status_code == 404
    assert Client().get(f"/channels/cases/{case.case_no}/qr.png").status_code == 302  # to the login page


def test_the_stand_sign_and_the_notice(cast):
    case = finished_case(cast, "S-N", window=cast.window_a)
    clerk = logged_in(cast.clerk)
    sign = clerk.get(f"/channels/windows/{cast.window_a.code}/sign/").content.decode()
    assert "长沙市民之家政务服务大厅" in sign and "<b>A01</b>号窗口" in sign and "扫一扫" in sign
    assert "<svg" in sign and "size: A5" in sign
    notice = clerk.get(f"/channels/cases/{case.case_no}/notice/").content.decode()
    assert "办结通知" in notice and "S-N" in notice and "王**" in notice and "<svg" in notice
    assert "王小明" not in notice
    assert clerk.get("/channels/notice/", {"case_no": "S-N"})["Location"] == "/channels/cases/S-N/notice/"
    assert logged_in(cast.outsider).get(f"/channels/cases/{case.case_no}/notice/").status_code == 404
