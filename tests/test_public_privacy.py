"""The privacy crawl: every public page (followed from /public/) and every public Excel download carries no
evaluator name, ID number or phone — neither the stored values nor anything that looks like one."""

import re
import zipfile
from io import BytesIO

from django.test import Client

from haocha.accounts.access import actor_for_user
from haocha.evaluations.models import Rating
from haocha.evaluations.services import rating_flag
from haocha.mining.services import mining_refresh_all
from haocha.workorders.models import WorkOrder
from tests.factories import resident_id
from tests.publication_helpers import build_month, last_month_start, rate
from tests.workorder_helpers import staff

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
RESIDENT_ID = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")
HREF = re.compile(r'href="(/public/[^"#]*)"')


def _text_of(response) -> str:
    body = response.content
    if response["Content-Type"].startswith("application/vnd.openxmlformats"):
        with zipfile.ZipFile(BytesIO(body)) as z:
            return "\n".join(z.read(name).decode("utf-8") for name in z.namelist() if name.endswith(".xml"))
    return body.decode("utf-8")


def test_public_pages_and_exports_carry_no_personal_data(cast):
    secrets = build_month(cast)
    # a hidden text, and a handler's result naming the citizen
    hidden_id = rate(cast, "PB-HIDDEN", "dissatisfied", seq=60, item=cast.item_b, comment="再也不来了孙悟空")
    hidden = Rating.objects.get(public_id=hidden_id)
    rating_flag(actor=actor_for_user(cast.supervisor), rating=hidden, kind="hide_text", reason="含个人信息")
    secrets += ["孙悟空", resident_id(60)]
    order = WorkOrder.objects.filter(rating__is_bad=True).exclude(rating=hidden).first()
    WorkOrder.objects.filter(pk=order.pk).update(
        status="closed", result="已电话联系王小明（13812345678）并当场办结"
    )
    mining_refresh_all()
    assert (
        staff(cast.supervisor)
        .post(f"/notices/{cast.city.code}/{last_month_start():%Y-%m}/publish/")
        .status_code
        == 302
    )

    client = Client()
    seen, queue, pages = set(), ["/public/"], 0
    kinds = set()
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        r = client.get(url)
        assert r.status_code == 200, url
        pages += 1
        text = _text_of(r)
        kinds.add("xlsx" if url.endswith(".xlsx") else url.split("/")[2] or "index")
        for secret in secrets:
            assert secret not in text, (url, secret)
        assert not MOBILE.search(text), (url, MOBILE.search(text).group(0))
        assert not RESIDENT_ID.search(text), (url, RESIDENT_ID.search(text).group(0))
        if not url.endswith(".xlsx"):
            queue.extend(u.replace("&amp;", "&") for u in HREF.findall(text) if u not in seen)
        assert pages < 300
    assert {"index", "notices", "departments", "reviews", "xlsx"} <= kinds, kinds
    # what is published is there, in its anonymised form
    reviews = client.get("/public/reviews/").content.decode()
    assert "再也不来了" not in reviews  # hidden text is never shown
    assert (
        "排了两个小时队" in reviews
        and "补了三次材料" in reviews
        and "某某" in reviews
        and "已电话联系某某" in reviews
    )
