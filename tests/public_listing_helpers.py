"""A city with as many departments as Changsha's (the walk met 68), each with a month of rollup figures."""

from haocha.analytics.models import Dim
from haocha.organisations.models import Organisation
from tests.factories import make_org
from tests.publication_helpers import last_month_start
from tests.test_stats_rankings import month_rows

NAMES = [
    "发展和改革委员会", "教育局", "科学技术局", "工业和信息化局", "公安局", "民政局", "司法局", "财政局",
    "人力资源和社会保障局分中心", "自然资源和规划局", "生态环境局", "住房和城乡建设局", "城市管理和综合执法局",
    "交通运输局", "水利局", "农业农村局", "商务局", "文化旅游广电局", "卫生健康委员会", "退役军人事务局",
    "应急管理局", "审计局", "国有资产监督管理委员会", "统计局", "医疗保障局", "林业局", "体育局",
    "人民防空办公室", "机关事务管理局", "信访局", "数据资源管理局", "行政审批服务局", "住房公积金管理中心",
    "不动产登记中心", "税务局", "烟草专卖局", "气象局", "消防救援支队", "公共资源交易中心", "地方金融监督管理局",
    "残疾人联合会", "红十字会", "邮政管理局", "通信管理办公室", "供销合作总社",
]  # fmt: skip


def many_departments(cast, n: int | None = None) -> list[Organisation]:
    """`n` more departments of 长沙市 with last month's figures (40 to 84 ratings, scores spread)."""
    month = last_month_start()
    out = []
    for i, name in enumerate(NAMES[:n] if n else NAMES):
        org = make_org(f"长沙市{name}", Organisation.Kind.DEPARTMENT, cast.city, code_seq=100 + i)
        month_rows(Dim.DEPARTMENT, org.pk, month.year, month.month, vs=30 + i % 7 * 5, s=8 + i % 5, d=i % 4)
        out.append(org)
    month_rows(Dim.REGION, cast.city.pk, month.year, month.month, vs=1500, s=400, d=60)
    return out
