"""Identity reveal has a ceiling (issue 13.8): a purpose for every look, stored in the audit; a daily quota per
member of staff (the nearest 个人信息查看规则 up the region tree); past it a 429 with a code and a Chinese message,
and one in-app message a day to the supervisors over the data."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from haocha.accounts.disclosure import DEFAULT_DAILY_LIMIT
from haocha.accounts.models import DisclosurePolicy
from haocha.core.models import AuditLog, Message, OutboxMessage
from haocha.core.outbox import outbox_process
from haocha.evaluations.models import Rating
from tests.factories import finished_case
from tests.workorder_helpers import frozen

pytestmark = pytest.mark.django_db


def session(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def bad(cast, case_no, *, seq, item=None):
    finished_case(cast, case_no, seq=seq, item=item)
    r = Client().post(
        "/api/ratings",
        {"case_no": case_no, "channel": "pc", "level": "dissatisfied", "comment": "材料要求前后不一致"},
        content_type="application/json",
        headers={"X-Api-Key": cast.key_city},
    )
    assert r.status_code == 201, r.content
    return Rating.objects.get(public_id=r.json()["id"])


def reveal(client, rating, purpose="差评回访"):
    return client.post(
        f"/api/ratings/{rating.public_id}/identity", {"purpose": purpose}, content_type="application/json"
    )


def test_the_daily_quota_stops_a_bulk_reveal_and_tells_the_supervisor(cast):
    DisclosurePolicy.objects.create(region=cast.city, daily_limit=3)
    ratings = [bad(cast, f"DQ-{n}", seq=n) for n in range(1, 6)]
    operator = session(cast.operator)
    answers = [reveal(operator, r, purpose=f"回访核实第{n}件") for n, r in enumerate(ratings, 1)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    refused = answers[3]
    assert refused.json()["code"] == "disclosure_quota_exceeded"
    assert "已达上限" in refused.json()["message"] and "3次" in refused.json()["message"]
    assert 0 < int(refused["Retry-After"]) <= 24 * 3600
    assert "13812345678" not in refused.content.decode()
    looks = AuditLog.objects.filter(action="identity_read").order_by("at", "id")
    assert [e.detail["purpose"] for e in looks] == ["回访核实第1件", "回访核实第2件", "回访核实第3件"]
    assert all(e.actor == cast.operator and "回访核实" in e.summary for e in looks)
    # one message a day about this operator, to the supervisor over the data, delivered by the worker
    queued = OutboxMessage.objects.filter(key__startswith="disclosure-quota:")
    assert queued.count() == 1 and queued.get().payload["user_ids"] == [cast.supervisor.pk]
    outbox_process()
    message = Message.objects.get(user=cast.supervisor, key__startswith="disclosure-quota:")
    assert "operator" in message.body and "3 次" in message.body and "回访核实第4件" in message.body
    assert not Message.objects.filter(user=cast.operator, key__startswith="disclosure-quota:").exists()


def test_without_a_policy_the_default_quota_applies(cast):
    rating = bad(cast, "DQ-D", seq=1)
    operator = session(cast.operator)
    codes = [reveal(operator, rating).status_code for _ in range(DEFAULT_DAILY_LIMIT + 2)]
    assert codes == [200] * DEFAULT_DAILY_LIMIT + [429, 429]
    assert AuditLog.objects.filter(action="identity_read").count() == DEFAULT_DAILY_LIMIT


def test_the_nearest_policy_up_the_region_tree_sets_the_quota(cast):
    DisclosurePolicy.objects.create(region=cast.province, daily_limit=2)
    DisclosurePolicy.objects.create(region=cast.yuelu, daily_limit=0)
    city = bad(cast, "DQ-C", seq=1)
    yuelu = bad(cast, "DQ-Y", seq=2, item=cast.item_yuelu)
    supervisor = session(cast.supervisor)
    r = reveal(supervisor, yuelu)
    assert r.status_code == 429 and "每日0次" in r.json()["message"]  # 岳麓区 allows none
    assert [reveal(supervisor, city).status_code for _ in range(3)] == [200, 200, 429]  # the province's 2


def test_the_quota_is_per_user_and_per_day(cast):
    DisclosurePolicy.objects.create(region=cast.city, daily_limit=1)
    rating = bad(cast, "DQ-P", seq=1)
    start = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0)
    with frozen(start):
        assert reveal(session(cast.operator), rating).status_code == 200
        assert reveal(session(cast.operator), rating).status_code == 429
        assert reveal(session(cast.supervisor), rating).status_code == 200  # another user's own quota
    with frozen(start + timedelta(days=1)):
        assert reveal(session(cast.operator), rating).status_code == 200  # a new day


def test_every_look_needs_a_purpose(cast):
    rating = bad(cast, "DQ-U", seq=1)
    operator = session(cast.operator)
    for purpose in ("", "   ", "x"):
        r = reveal(operator, rating, purpose=purpose)
        assert r.status_code == 422 and r.json()["code"] == "purpose_required", purpose
        assert "用途" in r.json()["message"]
    r = reveal(operator, rating, purpose="回" * 201)
    assert r.status_code == 422
    assert not AuditLog.objects.filter(action="identity_read").exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_looks_cannot_pass_the_quota_together():
    """Twelve reveals by one operator at the same moment with a quota of 3: exactly three are answered."""
    import threading

    from django.db import connection

    from tests.factories import build_cast

    cast = build_cast()
    DisclosurePolicy.objects.create(region=cast.city, daily_limit=3)
    rating = bad(cast, "DQ-X", seq=1)
    n = 12
    barrier = threading.Barrier(n)
    codes = [None] * n

    def look(i):
        try:
            client = session(cast.operator)
            barrier.wait(timeout=30)
            codes[i] = reveal(client, rating, purpose=f"并发回访{i}").status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=look, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(codes) == [200] * 3 + [429] * (n - 3), codes
    assert AuditLog.objects.filter(action="identity_read").count() == 3
