"""Issue 13, items 3, 11 and 12, through the public interfaces: personal data of every kind and formula
payloads planted in 差评 comments (rating API), a department's reply (API) and its result and measures
(workbench) are absent from every public page and workbook, the ordinary words beside them are there
exactly as written, the pages say where text was masked, and no workbook cell is a formula."""

import re
from io import BytesIO

from django.test import Client
from openpyxl import load_workbook

from haocha.analytics.services import rollups_apply_all
from haocha.evaluations.models import Rating
from haocha.mining.services import mining_refresh_all
from haocha.workorders.models import WorkOrder
from tests.publication_helpers import last_month_start, rate
from tests.workorder_helpers import act, refresh, staff

HYPERLINK = '=HYPERLINK("http://evil.example/x","点此查看")'
CMD = "=cmd|' /C calc'!A0"
# (comment, personal data in it, ordinary words beside them that must be published as written)
# Eight 差评 at most, so that every one is among the notice's typical cases whatever the database's order.
PLANTED = [
    (
        "工作人员查了电脑说没记录，TEL13812345679，等了3个小时，工号wangyj的工作人员一直玩手机",
        ["13812345679", "wangyj"],
        ["工作人员查了电脑说没记录", "等了3个小时", "的工作人员一直玩手机"],
    ),
    (
        "电话138.1234.5670，跑了5趟，窗口人员设置不合理；手机138-1234-5670或者138 1234 5670，交了200元",
        ["138.1234.5670", "1234.5670", "138-1234-5670", "138 1234 5670"],
        ["跑了5趟", "窗口人员设置不合理", "交了200元"],
    ),
    (
        "我电话一三八一二三四五六七八，2026年11月3日上午9点来的",
        ["一三八一二三四五六七八"],
        ["2026年11月3日上午9点来的"],
    ),
    (
        "加我wx13874512365，微信号abc_123，QQ 12345678，邮箱zhanglei1988@163.com，办件编号CS202611010001",
        ["13874512365", "abc_123", "12345678", "zhanglei1988", "163.com"],
        ["办件编号CS202611010001"],
    ),
    (
        "刘建军帮我代办的，窗口的张伟态度差，王先生说去高新区白沙路的分中心",
        ["刘建军", "张伟", "王先生"],
        ["帮我代办的", "态度差", "先生说去高新区白沙路的分中心"],
    ),
    (
        "身份证430102198503121024，座机0731-88886666，长沙市市场监督管理局周末也不开门",
        ["430102198503121024", "88886666"],
        ["长沙市市场监督管理局周末也不开门"],
    ),
    ("窗口的李娜说材料不全", ["李娜"], ["说材料不全"]),
    (HYPERLINK, [], []),
]
REPLY = "已联系刘建军（13874125698）核实，承诺3个工作日内办结"
RESULT = CMD + " 联系人王先生TEL13907318888，已当场办结"
MEASURES = "+SUM(1,2) 对窗口人员设置重新调整"
NOTE = "（已隐去个人信息）"
HREF = re.compile(r'href="(/public/[^"#]*)"')


def _plant(cast) -> WorkOrder:
    for i, (comment, _, _) in enumerate(PLANTED):
        rate(
            cast,
            f"PD-{i}",
            "very_dissatisfied",
            seq=40 + i,
            item=cast.item_a,
            window=cast.window_a,
            comment=comment,
        )
    order = WorkOrder.objects.get(rating__comment=PLANTED[0][0])
    return order


def _handle(cast, order, api_for):
    assert (
        act(
            cast.operator,
            order,
            "verify",
            valid="1",
            complexity="simple",
            department=cast.dept_a.pk,
            note="属实",
        ).status_code
        == 302
    )
    assert act(cast.handler_a, refresh(order), "accept").status_code == 302
    contact = act(cast.handler_a, refresh(order), "contact", method="phone", outcome="已联系", reached="1")
    assert contact.status_code == 302
    feedback = act(cast.handler_a, refresh(order), "feedback", result=RESULT, measures=MEASURES)
    assert feedback.status_code == 302
    page = staff(cast.operator).get(f"/workorders/{order.number}/").content.decode()
    link = re.search(r'value="(http[^"]+/c/[^"]+/)"', page).group(1)
    callback = Client().post("/c/" + link.split("/c/")[1], {"solved": "1", "satisfaction": "satisfied"})
    assert callback.status_code == 200 and refresh(order).status == "closed"
    rating_id = Rating.objects.get(pk=order.rating_id).public_id
    reply = api_for(user=cast.handler_a).post(f"/ratings/{rating_id}/reply", {"text": REPLY})
    assert reply.status_code == 201, reply.content


def _crawl(client) -> dict[str, object]:
    """Every page reachable from /public/ (and each notice's workbook): url → text or workbook."""
    seen, queue, out = set(), ["/public/", "/public/reviews/"], {}
    while queue:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        r = client.get(url)
        assert r.status_code == 200, url
        if url.endswith(".xlsx"):
            out[url] = load_workbook(BytesIO(r.content))
            continue
        text = r.content.decode()
        out[url] = text
        queue.extend(u.replace("&amp;", "&") for u in HREF.findall(text) if u not in seen)
        assert len(seen) < 300
    return out


def _cells(wb):
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            yield from row


def test_planted_personal_data_never_reaches_a_public_page_or_workbook(cast, api_for):
    for i in range(20):  # a month of good ratings beside the planted 差评
        rate(
            cast,
            f"PD-GOOD-{i}",
            "satisfied",
            seq=i,
            item=cast.item_b,
            window=cast.window_b,
            comment="服务很好",
        )
    order = _plant(cast)
    _handle(cast, order, api_for)
    rollups_apply_all()
    mining_refresh_all()
    month = f"{last_month_start():%Y-%m}"
    assert staff(cast.supervisor).post(f"/notices/{cast.city.code}/{month}/publish/").status_code == 302

    pages = _crawl(Client())
    workbooks = {u: wb for u, wb in pages.items() if u.endswith(".xlsx")}
    texts = {u: t for u, t in pages.items() if isinstance(t, str)}
    assert (
        workbooks and any("/public/departments/" in u for u in texts) and any("/notices/" in u for u in texts)
    )
    secrets = [s for _, planted, _ in PLANTED for s in planted] + ["13874125698", "13907318888", "wangyj"]
    for url, wb in workbooks.items():
        values = [str(c.value) for c in _cells(wb) if c.value is not None]
        assert not [c.coordinate for c in _cells(wb) if c.data_type == "f"], url  # no formula anywhere
        texts[url] = "\n".join(values)
        assert HYPERLINK in values, "the formula text is kept, as text"
        assert any(v.startswith(CMD) for v in values) and any(v.startswith("+SUM(1,2)") for v in values)
    for url, text in texts.items():
        for secret in secrets:
            assert secret not in text, (url, secret)

    reviews = texts["/public/reviews/"]
    notice = next(t for u, t in texts.items() if re.fullmatch(rf"/public/notices/\w+/{month}/", u))
    workbook = next(iter(texts[u] for u in workbooks))
    everything = "\n".join(texts.values())
    for _, _, words in PLANTED:
        for word in words:
            assert word in everything, word
    in_workbook = 0
    for _, _, words in PLANTED:
        assert all(word in reviews for word in words), words
        present = [word in workbook for word in words]
        assert all(present) or not any(present), words  # a typical case in the workbook is whole
        in_workbook += all(present) and bool(words)
    assert in_workbook >= 4, in_workbook
    assert "承诺3个工作日内办结" in notice and "已当场办结" in notice and "对窗口人员设置重新调整" in notice
    assert NOTE in reviews and NOTE in notice, "the pages say where text was masked"
    blocks = reviews.split('<div class="review">')[1:]
    [masked] = [b for b in blocks if "工作人员查了电脑说没记录" in b]
    [plain] = [b for b in blocks if "点此查看" in b]
    assert NOTE in masked and NOTE not in plain, "the note stands only beside masked text"
