"""The mobile page a QR code or an SMS link opens (/r/<token>/): rate once, 追评 once, the reply, a 差评's
progress and 回访 link; forged, expired and second ratings refused clearly; the embeddable snippet."""

import re
import uuid

import pytest
from django.core import signing

from haocha.accounts.access import actor_for_user
from haocha.channels import links
from haocha.evaluations.models import Rating
from haocha.evaluations.services import rating_reply
from haocha.workorders.models import WorkOrder
from tests.factories import finished_case

pytestmark = pytest.mark.django_db


def rate(client, path, level, **extra):
    data = {"action": "rate", "level": level, "key": str(uuid.uuid4()), **extra}
    return client.post(path, data)


def test_forged_expired_and_foreign_links_are_refused(cast, client, settings):
    case = finished_case(cast, "M-1")
    assert client.get("/r/not-a-token/").status_code == 404
    forged = signing.dumps({"c": "M-1", "ch": "sms"}, salt="another")
    r = client.get(f"/r/{forged}/")
    assert r.status_code == 404 and "评价链接无效" in r.content.decode()
    tablet_link = links.rating_link_path(case, channel="tablet")  # tablets rate at the counter only
    assert client.get(tablet_link).status_code == 404
    settings.HAOCHA_RATING_LINK_DAYS = -1
    r = client.get(links.rating_link_path(case, channel="sms"))
    assert r.status_code == 410 and "已过期" in r.content.decode()
    r = rate(client, links.rating_link_path(case, channel="sms"), "satisfied")
    assert r.status_code == 410 and not Rating.objects.exists()


def test_the_page_shows_the_case_and_the_channels_indicator_set(cast, client):
    case = finished_case(cast, "M-2")
    page = client.get(links.rating_link_path(case, channel="qrcode")).content.decode()
    assert (
        "食品经营许可" in page
        and "长沙市市场监督管理局" in page
        and case.finished_at.strftime("%Y年") in page
    )
    for word in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"):
        assert f"<span>{word}</span>" in page
    assert "服务态度" in page and "平台操作性" not in page  # offline set for a QR code
    assert "推诿扯皮、刁难群众" in page
    online = client.get(links.rating_link_path(case, channel="pc")).content.decode()
    assert "平台操作性" in online and "服务态度" not in online
    # nothing personal beyond what the citizen needs
    assert "13812345678" not in page and "王小明" not in page


def test_a_one_tap_link_preselects_the_level(cast, client):
    case = finished_case(cast, "M-3")
    path = links.rating_link_path(case, channel="sms", level="very_satisfied")
    page = client.get(path).content.decode()
    assert "您已选择“非常满意”" in page
    assert re.search(r'value="very_satisfied" required checked', page)
    assert not Rating.objects.exists()  # opening a link never rates (SMS previews open links too)
    r = rate(client, path, "very_satisfied")
    assert r.status_code == 302 and r["Location"].endswith("?done=rated")
    rating = Rating.objects.get()
    assert (rating.channel, rating.level, rating.case) == ("sms", "very_satisfied", case)
    assert rating.evaluator_name == "王小明"  # the applicant, as the intake defaults


def test_rate_then_see_it_and_a_second_rating_is_refused(cast, client):
    case = finished_case(cast, "M-4")
    path = links.rating_link_path(case, channel="qrcode")
    key = str(uuid.uuid4())
    body = {
        "action": "rate",
        "level": "satisfied",
        "ind_attitude": "very_satisfied",
        "comment": "讲解清楚",
        "key": key,
    }
    assert client.post(path, body).status_code == 302
    assert client.post(path, body).status_code == 302  # the same form sent twice: still one rating
    assert Rating.objects.count() == 1
    page = client.get(path + "?done=rated").content.decode()
    assert "评价成功" in page and "您的评价" in page and "讲解清楚" in page and "服务态度：非常满意" in page
    # a second rating through another link (another channel) is refused, and the page shows the first
    r = rate(client, links.rating_link_path(case, channel="sms"), "very_dissatisfied", reasons=["OF501"])
    assert r.status_code == 409
    page = r.content.decode()
    assert "该办件已评价，每笔办件只能评价一次（一事一评）" in page and "讲解清楚" in page
    assert Rating.objects.count() == 1


def test_follow_up_reply_and_a_bad_ratings_progress(cast, client):
    case = finished_case(cast, "M-5")
    path = links.rating_link_path(case, channel="sms")
    r = rate(client, path, "dissatisfied", reasons=["OF402"], comment="排队太久")
    assert r.status_code == 302 and r["Location"].endswith("?done=bad")
    order = WorkOrder.objects.get()
    page = client.get(path + "?done=bad").content.decode()
    assert "您的差评已转12345热线核实" in page
    assert order.number in page and "待核实" in page and "/c/" in page
    first = Rating.objects.get()
    rating_reply(actor=actor_for_user(cast.handler_a), rating=first, text="已安排增加窗口，减少等候")
    page = client.get(path).content.decode()
    assert "部门回复" in page and "已安排增加窗口" in page and "追评" in page
    r = client.post(path, {"action": "follow_up", "level": "satisfied", "comment": "后来很快办好了"})
    assert r.status_code == 302 and r["Location"].endswith("?done=follow_up")
    follow = Rating.objects.get(kind=Rating.Kind.FOLLOW_UP)
    assert follow.first_rating == first and follow.channel == "sms"
    page = client.get(path).content.decode()
    assert "您的追评" in page and "后来很快办好了" in page and 'id="follow-up-form"' not in page
    r = client.post(path, {"action": "follow_up", "level": "very_satisfied", "key": str(uuid.uuid4())})
    assert r.status_code == 409 and "只能追评一次" in r.content.decode()


def test_bad_rating_without_reason_keeps_the_form(cast, client):
    case = finished_case(cast, "M-6")
    path = links.rating_link_path(case, channel="qrcode")
    r = rate(client, path, "very_dissatisfied", comment="")
    assert r.status_code == 422
    page = r.content.decode()
    assert "差评须选择至少一项评价内容或填写文字评价" in page
    assert re.search(r'value="very_dissatisfied" required checked', page)
    assert client.post(path, {"action": "rate", "key": "x"}).status_code == 422  # no level
    assert not Rating.objects.exists()


def test_an_unfinished_case_cannot_be_rated_yet(cast, client):
    case = finished_case(cast, "M-7")
    case.status, case.finished_at = "processing", None
    case.save()
    path = links.rating_link_path(case, channel="sms")
    page = client.get(path).content.decode()
    assert "办件尚未办结，办结后方可评价" in page and 'id="rate-form"' not in page
    assert rate(client, path, "satisfied").status_code == 409


def test_the_embeddable_snippet(cast, client):
    case = finished_case(cast, "M-8")
    token = links.rating_link_token(case, channel="pc")
    r = client.get(f"/embed/{token}/")
    assert r.status_code == 200 and "X-Frame-Options" not in r  # meant for other platforms' pages
    page = r.content.decode()
    taps = re.findall(r'href="(/r/[^"]+/)"', page)
    assert len(taps) == 5
    target = links.target_from_token(taps[1].split("/")[2])
    assert (target.case, target.channel, target.level) == (case, "pc", "satisfied")
    assert client.get(f"/r/{token}/")["X-Frame-Options"] == "DENY"  # the page itself is not framed
    rate(client, f"/r/{token}/", "satisfied")
    page = client.get(f"/embed/{token}/").content.decode()
    assert "已评价" in page and "满意" in page and "去追评" in page
    script = client.get("/static/channels/embed.js")
    assert script.status_code == 200
