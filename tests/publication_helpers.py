"""A month of ratings with personal data in them (names, ID numbers, phones, some typed into comments)."""

from datetime import timedelta

from django.test import Client
from django.utils import timezone

from haocha.analytics.services import rollups_apply_all
from haocha.mining.services import mining_refresh_all
from tests.factories import finished_case, resident_id

LEVELS = ["very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"]
# The applicant of every case (tests/factories.finished_case) rates it; these are the values to hide.
APPLICANT_NAME, APPLICANT_PHONE = "王小明", "13812345678"
TYPED = ["赵志强", "13911112222", "430102198503121024", "钱美玲", "15088889999", "李娜"]
SECRET_COMMENTS = [
    "我是赵志强，电话13911112222，排了两个小时队，窗口态度很差",
    "身份证430102198503121024补了三次材料，不能一次性告知吗？找钱美玲女士也没用",
    "经办人李娜说不清楚，让我来回跑，联系我15088889999",
]


def last_month_start():
    return (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)


def rate(cast, case_no, level, *, comment="", seq=1, item=None, window=None, days_ago=None):
    days_ago = days_ago if days_ago is not None else (timezone.localdate() - last_month_start()).days - 3
    rated_at = timezone.now() - timedelta(days=days_ago)
    finished_case(
        cast, case_no, seq=seq, item=item, window=window, finished_ago=timedelta(days=days_ago, hours=2)
    )
    body = {
        "case_no": case_no,
        "channel": "tablet" if window else "pc",
        "level": level,
        "comment": comment,
        "rated_at": rated_at.isoformat(),
    }
    r = Client().post(
        "/api/ratings", body, content_type="application/json", headers={"X-Api-Key": cast.key_city}
    )
    assert r.status_code == 201, r.content
    return r.json()["id"]


def secrets(seqs) -> list[str]:
    return [APPLICANT_NAME, APPLICANT_PHONE, *TYPED, *(resident_id(s) for s in seqs)]


def build_month(cast, n=30) -> list[str]:
    """n ratings last month over two departments and two windows, three 差评 carrying personal data;
    returns the personal values that must never be published."""
    for i in range(n):
        item, window = [(cast.item_a, cast.window_a), (cast.item_b, cast.window_b)][i % 2]
        rate(
            cast,
            f"PB-{i}",
            LEVELS[i % 3],
            seq=i,
            item=item,
            window=window,
            comment="服务很好" if i % 4 else "",
        )
    for i, text in enumerate(SECRET_COMMENTS):
        rate(
            cast,
            f"PB-BAD-{i}",
            "very_dissatisfied",
            seq=50 + i,
            item=cast.item_a,
            window=cast.window_a,
            comment=text,
        )
    rollups_apply_all()
    mining_refresh_all()
    return secrets([*range(n), 50, 51, 52])
