"""Comment mining: the dictionary, the theme rules, anonymising, incremental == rebuild, the fragment's scope."""

from django.test import Client

from haocha.accounts.access import actor_for_user
from haocha.analytics.services import rollups_apply_all
from haocha.evaluations.models import Rating
from haocha.evaluations.services import rating_flag
from haocha.mining.classifier import classify
from haocha.mining.models import MinedComment, TermCount, ThemeCount
from haocha.mining.services import mining_rebuild, mining_refresh, mining_refresh_all
from haocha.mining.text import content_words, tokenise
from tests.workorder_helpers import bad_rating, staff

COMPLAINTS = [
    "每次来都说还差一样材料，不能一次性告知吗",
    "排了两个多小时的队，叫号系统卡顿",
    "窗口人员态度冷淡，问了两遍都不耐烦",
    "经办人张伟说不清楚，让我来回跑了三次，我电话13912345678",
    "系统老是登录不上，提交了好几次都失败",
]


def test_dictionary_keeps_government_terms_whole():
    assert "一次性告知" in tokenise("不能一次性告知吗")
    assert "容缺受理" in tokenise("希望推行容缺受理")
    assert "一网通办" in tokenise("说是一网通办结果还要跑")
    words = content_words("每次来都说还差一样，不能一次性告知吗")
    assert "一次性告知" in words and "的" not in words and "一样" not in words


def test_dictionary_keeps_units_systems_and_documents_whole_and_merges_synonyms():
    for term, text in (
        ("人社局", "去人社局问了"),
        ("叫号机", "叫号机坏了"),
        ("号贩子", "门口有号贩子"),
        ("渝快办", "渝快办登录不上"),
        ("不动产登记中心", "不动产登记中心要求先缴税"),
    ):
        assert term in tokenise(text), term
    words = content_words("社保卡办了一个月，社保局说社保系统无法办理，只能等")
    assert words.count("社保") == 3
    assert not {"办理", "无法", "只能", "工作人员", "业务", "大厅"} & set(
        content_words("工作人员说业务在大厅无法办理只能等")
    )


def main(text, reasons=()):
    return classify(text, reasons, fallback=False).main


def test_classifier_reads_like_a_person():
    # a bare 咨询 decides nothing: the phone line, staff on their phones, parking, the app
    assert main("想咨询一下，窗口的工作人员都在看手机，没人理我") == "discipline"
    assert main("来咨询业务的，停车场没位置，绕了好几圈") == "parking"
    assert main("拨打社保卡服务热线连续一个月均提示'正在通话中'，无法咨询") == "phone"
    assert main("等了半年还没拿到新卡") == "slow"
    assert classify("退休职工跑上百公里，来回3次拿不到卡", fallback=False).themes
    assert set(classify("退休职工跑上百公里，来回3次拿不到卡", fallback=False).themes) >= {"trips"}
    # praise mixed in is not a complaint
    assert classify("工作人员态度很好，就是等了两个小时", fallback=False).themes == ("queue",)
    # the reasons the citizen ticked are evidence
    ticked = classify("不满意", ["等候时间过长", "服务态度差"], fallback=False)
    assert set(ticked.themes) == {"queue", "attitude"} and ticked.source == "reasons"
    assert classify("很满意", fallback=False).themes == ()
    # a suggestion first, the problem behind it after
    assert classify("建议多开几个窗口，每次都要排很久", fallback=False).themes[:2] == ("suggest", "queue")


def test_mined_comments_are_stored_without_personal_data_and_say_so(cast):
    bad_rating(cast, "MN-PD-1", seq=1, comment="工号wangyj的工作人员查了电脑说没记录，我电话138-1234-5670")
    bad_rating(cast, "MN-PD-2", seq=2, comment="工号wangyj的工作人员一直玩手机")
    bad_rating(cast, "MN-PD-3", seq=3, comment="窗口人员设置不合理")
    mining_refresh_all()
    texts = dict(MinedComment.objects.values_list("text", "masked"))
    assert texts == {
        "工号＊＊＊的工作人员查了电脑说没记录，我电话＊＊＊": "handle,phone",
        "工号＊＊＊的工作人员一直玩手机": "handle",
        "窗口人员设置不合理": "",
    }
    assert not TermCount.objects.filter(term__icontains="wangyj").exists()
    page = staff(cast.supervisor).get("/mining/themes/").content.decode()
    assert "wangyj" not in page and "1234" not in page and "工作人员" in page


def test_keywords_counted_before_a_handle_was_known_are_not_shown(cast):
    from haocha.mining.models import TermCount as T
    from haocha.mining.selectors import is_publishable_term

    assert not is_publishable_term("wangyj") and not is_publishable_term("工号·wangyj")
    assert is_publishable_term("工作人员") and is_publishable_term("窗口·态度") and is_publishable_term("app")
    month = __import__("django.utils.timezone", fromlist=["x"]).localdate().replace(day=1)
    T.objects.create(
        month=month, department_id=cast.dept_a.pk, item_id=0, kind=T.Kind.WORD, term="wangyj", n=9
    )
    T.objects.create(month=month, department_id=cast.dept_a.pk, item_id=0, kind=T.Kind.WORD, term="排队", n=3)
    page = staff(cast.supervisor).get("/mining/themes/").content.decode()
    assert "wangyj" not in page and "排队" in page


def snapshot():
    return {
        "terms": sorted(
            TermCount.objects.filter(n__gt=0).values_list(
                "month", "department_id", "item_id", "kind", "term", "n"
            )
        ),
        "themes": sorted(
            ThemeCount.objects.filter(n__gt=0).values_list("month", "department_id", "item_id", "theme", "n")
        ),
        "comments": sorted(MinedComment.objects.values_list("rating_id", "text", "themes")),
    }


def test_incremental_refresh_equals_full_rebuild(cast):
    orders = [bad_rating(cast, f"MN-{i}", seq=i, comment=text) for i, text in enumerate(COMPLAINTS[:3])]
    mining_refresh(batch=2)  # in small steps, with more ratings and flags arriving between passes
    mining_refresh(batch=2)
    orders += [bad_rating(cast, f"MN-{i}", seq=i, comment=text) for i, text in enumerate(COMPLAINTS[3:], 3)]
    supervisor = actor_for_user(cast.supervisor)
    rating_flag(actor=supervisor, rating=orders[0].rating, kind="hide_text", reason="含个人信息")
    mining_refresh(batch=2)
    rating_flag(actor=supervisor, rating=orders[1].rating, kind="invalid", reason="恶意差评，申诉成立")
    mining_refresh_all(batch=2)
    incremental = snapshot()
    assert len(incremental["comments"]) == 3  # one hidden, one invalid
    mining_rebuild()
    assert snapshot() == incremental
    texts = " ".join(t for _, t, _ in incremental["comments"])
    assert "13912345678" not in texts and "张伟" not in texts
    # restoring the invalid rating puts its comment back
    rating_flag(
        actor=supervisor, rating=Rating.objects.get(pk=orders[1].rating_id), kind="restore", reason="复核"
    )
    mining_refresh_all()
    assert MinedComment.objects.filter(rating_id=orders[1].rating_id).exists()
    restored = snapshot()
    mining_rebuild()
    assert snapshot() == restored


def test_fragment_lists_themes_in_scope(cast):
    for i, text in enumerate(COMPLAINTS):
        bad_rating(cast, f"MF-{i}", seq=i, comment=text)
    rollups_apply_all()
    mining_refresh_all()
    r = staff(cast.supervisor).get("/mining/themes/", {"department": cast.dept_a.pk})
    assert r.status_code == 200
    html = r.content.decode()
    assert (
        'id="mining-themes"' in html
        and "排队时间长/取号难" in html
        and "一次性告知" in html
        and 'class="trend"' in html
    )
    assert "13912345678" not in html and "张伟" not in html
    whole = staff(cast.handler_a).get("/mining/themes/?start=2020-01-01&end=2022-12-31")
    assert whole.status_code == 200 and "暂无差评文本" in whole.content.decode()


def test_fragment_refuses_outsiders_and_bad_input(cast):
    assert staff(cast.outsider).get("/mining/themes/", {"department": cast.dept_a.pk}).status_code == 404
    assert staff(cast.handler_b).get("/mining/themes/", {"department": cast.dept_a.pk}).status_code == 404
    assert (
        staff(cast.clerk).get("/mining/themes/", {"department": cast.dept_a.pk}).status_code == 403
    )  # no department
    assert staff(cast.supervisor).get("/mining/themes/", {"start": "2026-13-01"}).status_code == 422
    assert (
        staff(cast.supervisor)
        .get("/mining/themes/", {"start": "2026-05-01", "end": "2026-01-01"})
        .status_code
        == 422
    )
    assert staff(cast.supervisor).get("/mining/themes/", {"department": "x"}).status_code == 422
    anonymous = Client().get("/mining/themes/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


MIXED = [
    "排了两个多小时的队，态度还很差",  # queue, attitude
    "电话一直占线，打了一上午",  # phone
    "停车场没车位，排队又排了一个钟头",  # parking, queue
    "排队排到中午",  # queue
    "不满意",  # no theme
]


def _mined(cast):
    for i, text in enumerate(MIXED):
        bad_rating(cast, f"MX-{i}", seq=i, comment=text)
    mining_refresh_all()


def test_counts_are_of_comments_and_the_unthemed_are_shown(cast):
    _mined(cast)
    html = staff(cast.supervisor).get("/mining/themes/").content.decode()
    assert '<b class="total">5</b>' in html and '<b class="themed">4</b>' in html
    assert "theme=-" in html and "“不满意”" in html  # the unthemed count links to them, with a sample
    rows = {r.theme: (r.n, r.n_main) for r in ThemeCount.objects.all()}
    assert rows == {"queue": (3, 2), "attitude": (1, 0), "phone": (1, 1), "parking": (1, 1)}


def test_click_through_lists_a_themes_comments_for_a_unit(cast):
    _mined(cast)
    client = staff(cast.supervisor)
    r = client.get("/mining/comments/", {"theme": "queue", "department": cast.dept_a.pk})
    assert r.status_code == 200
    html = r.content.decode()
    assert '<b class="count">3</b>' in html and "电话一直占线" not in html
    assert "不满意" in html and ("待核实" in html or "待签收" in html)  # the rating level, the order status
    unthemed = client.get("/mining/comments/", {"theme": "-"}).content.decode()
    assert '<b class="count">1</b>' in unthemed and "“不满意”" in unthemed
    assert client.get("/mining/comments/", {"theme": "nope"}).status_code == 422
    assert client.get("/mining/comments/", {"theme": "queue", "offset": "x"}).status_code == 422
    assert (
        staff(cast.handler_b)
        .get("/mining/comments/", {"theme": "queue", "department": cast.dept_a.pk})
        .status_code
        == 404
    )
    outside = staff(cast.handler_b).get("/mining/comments/", {"theme": "queue"}).content.decode()
    assert "排队排到中午" not in outside  # another department's comments stay out of scope


def test_excel_export_for_the_monthly_notice(cast):
    from io import BytesIO

    from openpyxl import load_workbook

    bad_rating(cast, "MX-F", seq=1, comment='=HYPERLINK("x") 排了两个小时的队')
    mining_refresh_all()
    r = staff(cast.supervisor).get("/mining/export.xlsx")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(BytesIO(r.content))
    assert wb.sheetnames == ["概况", "主题", "典型评价", "按部门", "按事项", "关键词"]
    themes = [row for row in wb["主题"].iter_rows(min_row=2, values_only=True)]
    assert themes[0][:3] == ("排队时间长/取号难", 1, 1)
    example = wb["典型评价"]["B2"]
    assert example.value.startswith("=HYPERLINK") and example.data_type == "s"


def test_a_region_adds_its_own_theme(cast):
    from django.core.exceptions import ValidationError

    from haocha.mining.models import RegionTheme

    theme = RegionTheme.objects.create(
        region=cast.city, name="充电桩", definition="新能源车充电设施问题", phrases="充电桩…(坏|不能用|没有)"
    )
    bad_rating(cast, "MX-R", seq=1, comment="停车场的充电桩全是坏的")
    mining_refresh_all()
    assert MinedComment.objects.get().themes.split(",")[0] in {theme.code, "parking"}
    assert theme.code in MinedComment.objects.get().themes.split(",")
    html = staff(cast.supervisor).get("/mining/themes/").content.decode()
    assert "充电桩" in html
    bad = RegionTheme(region=cast.city, name="坏", definition="x", phrases="(未闭合")
    try:
        bad.full_clean()
        raise AssertionError("an invalid phrase was accepted")
    except ValidationError as exc:
        assert "识别短语" in str(exc)


def test_classify_command_reads_json_lines(capsys, monkeypatch, db):
    import io
    import json

    from django.core.management import CommandError, call_command

    lines = [
        {"text": "拨打热线连续一个月均提示正在通话中"},
        {"text": "不满意", "reasons": ["OF402"]},
        {"text": "很满意", "channel": "sms"},
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(json.dumps(x, ensure_ascii=False) for x in lines)))
    call_command("mining", "classify", "--no-embedding")
    out = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert out[0]["themes"] == ["咨询电话打不通"] and out[0]["confidence"] > 0.5
    assert out[1]["themes"] == ["排队时间长/取号难"]  # the reason's code, read as its text
    assert out[2] == {"themes": [], "confidence": 0.0}
    monkeypatch.setattr("sys.stdin", io.StringIO('{"txt": 1}\n'))
    try:
        call_command("mining", "classify", "--no-embedding")
        raise AssertionError("a line without text was accepted")
    except CommandError as exc:
        assert "第 1 行" in str(exc)


def test_replies_that_miss_the_complaints_theme_are_flagged(cast):
    from haocha.workorders.models import WorkOrder

    queue = bad_rating(cast, "MQ-1", seq=1, comment="排了两个多小时的队")
    phone = bad_rating(cast, "MQ-2", seq=2, comment="热线电话一直占线，打不通")
    bad_rating(cast, "MQ-3", seq=3, comment="窗口让我来回跑了三次")  # still open: not judged
    mining_refresh_all()
    # closed orders with their replies (the workbench flow is tested in test_workorders_flow)
    WorkOrder.objects.filter(pk=queue.pk).update(status="closed", result="已增开两个窗口分流高峰时段的群众")
    WorkOrder.objects.filter(pk=phone.pk).update(status="closed", result="已向群众解释相关政策，群众表示理解")
    r = staff(cast.supervisor).get("/mining/replies/")
    assert r.status_code == 200
    html = r.content.decode()
    assert '<b class="closed">2</b>' in html and '<b class="flagged">1</b>' in html
    assert phone.number in html and queue.number not in html
    assert "咨询电话打不通" in html and cast.dept_a.name in html
    assert staff(cast.outsider).get("/mining/replies/", {"department": cast.dept_a.pk}).status_code == 404
