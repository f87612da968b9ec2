"""Seed version 1 of the online and offline indicator sets and their content options (reasons)."""

from django.db import migrations

ONLINE = [
    ("overall", "整体满意度", True),
    ("efficiency", "办事效率", False),
    ("guide_accuracy", "办事指南精确度", False),
    ("convenience", "办事便捷度", False),
    ("usability", "平台操作性", False),
]
OFFLINE = [
    ("overall", "整体满意度", True),
    ("efficiency", "服务效率", False),
    ("service_level", "服务水平", False),
    ("attitude", "服务态度", False),
]
REASONS_ONLINE = {
    "very_satisfied": [("ON101", "全程网办，不用跑腿"), ("ON102", "办理速度快"), ("ON103", "办事指南清晰准确"),
                       ("ON104", "材料精简，一次办成")],
    "satisfied": [("ON201", "办理比较顺利"), ("ON202", "页面操作方便"), ("ON203", "进度查询及时")],
    "basically_satisfied": [("ON301", "审核时间偏长"), ("ON302", "页面操作有些复杂"), ("ON303", "指南个别内容不清楚")],
    "dissatisfied": [("ON401", "办理时间过长"), ("ON402", "办事指南不准确"), ("ON403", "系统操作不便、经常出错"),
                     ("ON404", "材料反复补正"), ("ON405", "网上办理后仍需到现场")],
    "very_dissatisfied": [("ON501", "超过承诺时限未办结"), ("ON502", "无故退回、不予受理"), ("ON503", "系统无法使用"),
                          ("ON504", "要求提供指南外材料"), ("ON505", "咨询无人答复")],
}
REASONS_OFFLINE = {
    "very_satisfied": [("OF101", "服务热情周到"), ("OF102", "办事效率高"), ("OF103", "一次办成、不用再跑"),
                       ("OF104", "业务熟练、讲解清楚")],
    "satisfied": [("OF201", "服务态度好"), ("OF202", "等候时间短"), ("OF203", "引导清楚")],
    "basically_satisfied": [("OF301", "等候时间较长"), ("OF302", "指引不够清楚"), ("OF303", "需补充材料")],
    "dissatisfied": [("OF401", "服务态度差"), ("OF402", "等候时间过长"), ("OF403", "一次性告知不到位"),
                     ("OF404", "多次跑动"), ("OF405", "业务不熟练")],
    "very_dissatisfied": [("OF501", "推诿扯皮、刁难群众"), ("OF502", "吃拿卡要"), ("OF503", "超时办理"),
                          ("OF504", "窗口无人、脱岗"), ("OF505", "要求提供不必要的材料")],
}


def seed(apps, schema_editor):
    IndicatorSet = apps.get_model("evaluations", "IndicatorSet")
    Indicator = apps.get_model("evaluations", "Indicator")
    ReasonOption = apps.get_model("evaluations", "ReasonOption")
    for code, name, indicators, reasons in (
        ("online", "线上评价指标", ONLINE, REASONS_ONLINE),
        ("offline", "线下评价指标", OFFLINE, REASONS_OFFLINE),
    ):
        ind_set, created = IndicatorSet.objects.get_or_create(
            code=code, version=1, defaults={"name": name, "is_active": True}
        )
        if not created:
            continue
        for order, (icode, iname, overall) in enumerate(indicators):
            Indicator.objects.create(indicator_set=ind_set, code=icode, name=iname, is_overall=overall, order=order)
        for level, options in reasons.items():
            for order, (rcode, text) in enumerate(options):
                ReasonOption.objects.create(indicator_set=ind_set, level=level, code=rcode, text=text, order=order)


class Migration(migrations.Migration):
    dependencies = [("evaluations", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
