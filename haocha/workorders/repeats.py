"""重复差评: a window, staff member or item whose 差评 reach the policy's threshold within its period is flagged
for a spot check (抽查)."""

from datetime import datetime, timedelta

from django.db import connection

from haocha.accounts.models import Role
from haocha.evaluations.models import Rating
from haocha.workorders.models import RepeatFlag, Status, WorkOrder
from haocha.workorders.notifications import notify
from haocha.workorders.policy import OrderPolicy


def _join_repeat_flags(order: WorkOrder, subjects: list, since: datetime) -> set:
    """Add the order to the flags its subjects already have in this period; return those subjects.

    Once a subject is flagged, every later 差评 of the period joins the flag and adds one to its count, so
    the count is the number of 差评 the flag has gathered; an order merged or a rating found invalid later
    is not subtracted (the spot check looks at each linked order). Constant work per 差评 however many
    orders a flag holds (a busy item can have thousands), in four hand-written statements: this runs inside
    the intake's write transaction.
    """
    qn = connection.ops.quote_name
    through = RepeatFlag.orders.through
    flags, links, orders = (qn(m._meta.db_table) for m in (RepeatFlag, through, WorkOrder))
    f_id, f_subject, f_subject_id, f_at, f_count = (
        qn(RepeatFlag._meta.get_field(n).column)
        for n in ("id", "subject", "subject_id", "flagged_at", "count")
    )
    l_flag, l_order = (qn(through._meta.get_field(n).column) for n in ("repeatflag", "workorder"))
    o_id, o_flag = (qn(WorkOrder._meta.get_field(n).column) for n in ("id", "repeat_flag"))
    match = " OR ".join([f"({f_subject} = %s AND {f_subject_id} = %s)"] * len(subjects))
    params = [connection.ops.adapt_datetimefield_value(since)]
    for subject, subject_id, _field in subjects:
        params += [str(subject), subject_id]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {f_id}, {f_subject}, {f_subject_id} FROM {flags} "
            f"WHERE {f_at} >= %s AND ({match}) ORDER BY {f_at} DESC",
            params,
        )
        found: dict = {}
        for pk, subject, subject_id in cursor.fetchall():
            found.setdefault((subject, subject_id), pk)  # the latest flag of each subject
        if not found:
            return set()
        ids = list(found.values())
        marks = ", ".join(["%s"] * len(ids))
        cursor.execute(f"UPDATE {flags} SET {f_count} = {f_count} + 1 WHERE {f_id} IN ({marks})", ids)
        values = ", ".join(["(%s, %s)"] * len(ids))
        cursor.execute(
            f"INSERT INTO {links} ({l_flag}, {l_order}) VALUES {values} ON CONFLICT DO NOTHING",
            [v for pk in ids for v in (pk, order.pk)],
        )
        cursor.execute(f"UPDATE {orders} SET {o_flag} = %s WHERE {o_id} = %s", [True, order.pk])
    return set(found)


def check_repeats(order: WorkOrder, rating: Rating, policy: OrderPolicy, now: datetime) -> None:
    """Flag each subject of the rating whose 差评 reach the threshold within the period."""
    since = now - timedelta(days=policy.repeat_window_days)
    subjects = [
        (subject, subject_id, field)
        for subject, subject_id, field in (
            (RepeatFlag.Subject.WINDOW, rating.window_id, "window_id"),
            (RepeatFlag.Subject.STAFF, rating.staff_id, "staff_id"),
            (RepeatFlag.Subject.ITEM, rating.item_id, "item_id"),
        )
        if subject_id is not None
    ]
    if not subjects:
        return
    flagged = _join_repeat_flags(order, subjects, since)
    for subject, subject_id, field in subjects:
        if (subject, subject_id) in flagged:
            continue
        orders = list(
            WorkOrder.objects.filter(
                **{f"rating__{field}": subject_id}, received_at__gte=since, rating__is_valid=True
            )
            .exclude(status=Status.MERGED)
            .values_list("pk", flat=True)
        )
        if len(orders) < policy.repeat_threshold:
            continue
        flag = RepeatFlag.objects.create(
            subject=subject,
            subject_id=subject_id,
            subject_label=str(getattr(rating, subject)),
            count=len(orders),
            window_start=since,
            flagged_at=now,
        )
        notify(
            order,
            key=f"repeat-{subject}-{subject_id}",
            title=f"重复差评：{flag}",
            body="请组织抽查",
            org_ids=[order.department_id],
            roles=(Role.SUPERVISOR,),
        )
        flag.orders.add(*orders)
        WorkOrder.objects.filter(pk__in=orders).update(repeat_flag=True)
