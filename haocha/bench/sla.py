"""`haocha bench sla`: working-day deadlines for 1,000,000 receipts and the overdue sweep over 100,000 open orders."""

import random
import time
from datetime import datetime, timedelta

from django.core.management import call_command
from django.db import connection, transaction

from haocha.workcalendar.arithmetic import SHANGHAI, end_of_day, local_date
from haocha.workcalendar.services import workdays


def due_rates(receipts: int = 1_000_000, baseline_sample: int = 100_000, seed: int = 2026) -> dict:
    """Deadlines through the indexed calendar, against a day-by-day walk over the same calendar."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=SHANGHAI)
    span = int((datetime(2026, 12, 1, tzinfo=SHANGHAI) - start).total_seconds())
    moments = [start + timedelta(seconds=rng.randrange(span)) for _ in range(receipts)]
    days = [rng.choice((1, 2, 10)) for _ in range(receipts)]
    workdays.refresh()
    workdays.index()  # build once, outside the timing
    t0 = time.perf_counter()
    due = [workdays.due(m, d) for m, d in zip(moments, days, strict=True)]
    fast_s = time.perf_counter() - t0

    calendar = workdays.calendar()
    sample = range(min(baseline_sample, receipts))
    t0 = time.perf_counter()
    slow = []
    for i in sample:
        day, count = local_date(moments[i]), 0
        while count < days[i]:
            day += timedelta(days=1)
            count += calendar.is_workday(day)
        slow.append(end_of_day(day))
    slow_s = time.perf_counter() - t0
    mismatches = sum(1 for i in sample if slow[i] != due[i])
    fast_rate = receipts / fast_s
    slow_rate = len(sample) / slow_s
    return {
        "due_receipts": receipts,
        "due_per_s": round(fast_rate),
        "due_baseline_day_walk_per_s": round(slow_rate),
        "due_ratio": round(fast_rate / slow_rate, 2),
        "due_mismatches": mismatches,
    }


def sweep_rates(open_orders: int = 100_000, overdue_share: float = 0.05, seed: int = 2026) -> dict:
    """Build `open_orders` open work orders (a share of them late) in the current (bench) database and time
    one overdue sweep, against a bare SQL query that finds the same late orders."""
    from haocha.evaluations.models import IndicatorSet, Rating
    from haocha.organisations.models import Organisation, Region
    from haocha.organisations.services import organisation_save, region_save
    from haocha.workorders.models import DEPARTMENT_STATUSES, Status, Supervision, WorkOrder
    from haocha.workorders.sweep import work_orders_sweep

    call_command("migrate", interactive=False, verbosity=0)
    rng = random.Random(seed)
    now = datetime.now(SHANGHAI)
    with transaction.atomic():
        province = Region.objects.filter(code="430000").first() or region_save(
            Region(code="430000", name="湖南省", level=Region.Level.PROVINCE)
        )
        city = Region.objects.filter(code="430100").first() or region_save(
            Region(code="430100", name="长沙市", level=Region.Level.CITY, parent=province)
        )
        dept = organisation_save(
            Organisation(name="压测部门", kind=Organisation.Kind.DEPARTMENT, region=city)
        )
        ind_set = IndicatorSet.objects.get(code="offline", is_active=True)
        t0 = time.perf_counter()
        ratings = [
            Rating(
                region=city,
                department=dept,
                level="dissatisfied",
                is_bad=True,
                indicator_set=ind_set,
                channel="tablet",
                rated_at=now - timedelta(days=rng.randint(1, 30)),
                comment="压测差评",
            )
            for _ in range(open_orders)
        ]
        Rating.objects.bulk_create(ratings, batch_size=2000)
        if ratings[0].pk is None:
            ids = list(Rating.objects.filter(department=dept).order_by("pk").values_list("pk", flat=True))
            for rating, pk in zip(ratings, ids, strict=True):
                rating.pk = pk
        orders = []
        statuses = list(DEPARTMENT_STATUSES)
        for i, rating in enumerate(ratings):
            # Assigned some hours ago (a share long enough ago to be late), clocks as the services compute them.
            late = rng.random() < overdue_share
            assigned = now - timedelta(hours=rng.randint(60, 260) if late else rng.randint(0, 20))
            contact_due = workdays.due(assigned, 1)
            orders.append(
                WorkOrder(
                    number=f"BENCH{i:09d}",
                    rating_id=rating.pk,
                    region=city,
                    department=dept,
                    status=rng.choice(statuses),
                    complexity="simple",
                    received_at=assigned,
                    assigned_at=assigned,
                    clock_started_at=assigned,
                    contact_due_at=contact_due,
                    finish_due_at=workdays.due(assigned, 2),
                    due_at=contact_due,
                    next_escalation_at=contact_due,
                )
            )
        WorkOrder.objects.bulk_create(orders, batch_size=2000)
        build_s = time.perf_counter() - t0
    table = connection.ops.quote_name(WorkOrder._meta.db_table)
    placeholders = ", ".join(["%s"] * len(DEPARTMENT_STATUSES))
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT id FROM {table} WHERE status IN ({placeholders}) AND next_escalation_at <= %s",
            [*DEPARTMENT_STATUSES, now],
        )
        late_ids = cur.fetchall()
    select_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    counts = work_orders_sweep(now=now)
    sweep_s = time.perf_counter() - t0
    escalated = counts["level1"] + counts["level2"]
    t0 = time.perf_counter()
    work_orders_sweep(now=now + timedelta(minutes=1))  # steady state: the next sweep finds nothing new
    steady_s = time.perf_counter() - t0
    supervisions = Supervision.objects.count()
    return {
        "sweep_open_orders": WorkOrder.objects.filter(
            status__in=[*DEPARTMENT_STATUSES, Status.PENDING_CALLBACK]
        ).count(),
        "sweep_overdue_found": len(late_ids),
        "sweep_escalations": escalated,
        "sweep_nearing_notices": counts["nearing"],
        "sweep_seconds": round(sweep_s, 3),
        "sweep_open_orders_per_s": round(open_orders / sweep_s),
        "sweep_escalations_per_s": round(escalated / sweep_s) if escalated else 0,
        "sweep_baseline_select_seconds": round(select_s, 4),
        "sweep_steady_seconds": round(steady_s, 4),
        "sweep_supervisions_written": supervisions,
        "sweep_build_seconds": round(build_s, 1),
        "database": connection.vendor,
    }
