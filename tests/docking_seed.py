"""Data for a docking instance of its own (a process with its own DATABASE_URL), for the multi-process tests.

python -m tests.docking_seed cast                      reference data (regions, departments, items, users)
python -m tests.docking_seed child NAME REGION         register a child system; prints app id and secret
python -m tests.docking_seed ratings PREFIX START N     N finished 岳麓区 cases with a rating each
"""

import os
import sys
from datetime import timedelta


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "haocha.settings")
    import django

    django.setup()
    action = argv[0]
    if action == "cast":
        from tests.factories import build_cast

        build_cast()
    elif action == "child":
        from haocha.integrations.docking.services import child_register

        child, secret = child_register(
            name=argv[1], region_code=argv[2], base_url=argv[3] if len(argv) > 3 else ""
        )
        print(child.app_id, secret)
    elif action == "ratings":
        ratings(argv[1], int(argv[2]), int(argv[3]))
    elif action == "cases":
        ratings(argv[1], int(argv[2]), int(argv[3]), rate=False)
    elif action == "bad":
        bad(argv[1])
    elif action == "progress":
        progress(argv[1])
    else:
        raise SystemExit(f"unknown action {action}")


def bad(case_no: str) -> None:
    from haocha.accounts.access import Actor
    from haocha.evaluations.rules import RatingInput
    from haocha.evaluations.services import rating_submit

    data = RatingInput(
        channel="mobile", level="very_dissatisfied", case_no=case_no, comment="省级移动端：材料反复补交"
    )
    rating_submit(actor=Actor(label="省级移动端", all_access=True), data=data)


def progress(case_no: str) -> None:
    from haocha.accounts.access import Actor
    from haocha.workorders.actions import work_order_assign, work_order_verify
    from haocha.workorders.models import WorkOrder

    order = WorkOrder.objects.select_related("rating", "region", "department").get(case__case_no=case_no)
    operator = Actor(label="岳麓区12345话务员", all_access=True)
    order = work_order_verify(order=order, actor=operator, note="核实属实")
    work_order_assign(order=order, actor=operator, note="交办岳麓区行政审批服务局")


def ratings(prefix: str, start: int, n: int, rate: bool = True) -> None:
    from django.utils import timezone

    from haocha.accounts.access import actor_for_client
    from haocha.accounts.models import ApiClient
    from haocha.catalogue.models import Case, ServiceItem
    from haocha.catalogue.services import CaseInput, cases_upsert
    from haocha.evaluations.models import IndicatorSet, Rating

    item = ServiceItem.objects.select_related("department").get(code="11430104MB1C03-001")
    actor = actor_for_client(ApiClient.objects.get(name="一体化平台"))
    now = timezone.now()
    aset = IndicatorSet.objects.get(code="offline", is_active=True)
    for first in range(start, start + n, 500):
        numbers = [f"{prefix}{i:07d}" for i in range(first, min(start + n, first + 500))]
        records = [
            CaseInput(
                case_no=no,
                item_code=item.code,
                applicant_type="1",
                applicant_name="王小明",
                accepted_at=now - timedelta(days=1, hours=3),
                finished_at=now - timedelta(hours=3),
                status="finished",
                apply_channel="hall",
            )
            for no in numbers
        ]
        results = cases_upsert(actor=actor, records=records, invite=False)
        assert all(r.status == "created" for r in results), results[:3]
        if not rate:
            continue
        cases = Case.objects.filter(case_no__in=numbers)
        Rating.objects.bulk_create(
            [
                Rating(
                    case=case,
                    department_id=case.department_id,
                    item_id=case.item_id,
                    region_id=case.region_id,
                    level="satisfied" if i % 50 else "very_dissatisfied",
                    is_bad=not i % 50,
                    comment="" if i % 50 else "窗口排队太久，等了两个小时",
                    indicator_set=aset,
                    channel="tablet",
                    rated_at=now - timedelta(minutes=5),
                )
                for i, case in enumerate(cases)
            ]
        )


if __name__ == "__main__":
    main(sys.argv[1:])
