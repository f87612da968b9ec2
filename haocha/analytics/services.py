"""Applying the rollup queues (incrementally, in batches) and rebuilding the rollups from the raw tables.

Every pass first updates the one `RollupState` row: that serialises passes (two workers never apply
the same queue rows), and the rows a pass applies are deleted in its own transaction.
"""

from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.utils import timezone

from haocha.analytics.models import Dim, RollupState
from haocha.core import clock
from haocha.organisations.models import Region
from haocha.workorders.models import OPEN_STATUSES, Status

BATCH = 200_000
LEVEL_COLUMNS = (
    ("n_vs", "very_satisfied"),
    ("n_s", "satisfied"),
    ("n_b", "basically_satisfied"),
    ("n_d", "dissatisfied"),
    ("n_vd", "very_dissatisfied"),
)
RATING_MEASURES = (
    "n",
    "n_case",
    *(c for c, _ in LEVEL_COLUMNS),
    "n_default",
    "n_comment",
    "n_follow",
    "n_follow_bad",
)
ORDER_MEASURES = (
    "n_orders",
    "n_invalid",
    "n_merged",
    "n_closed",
    "n_closed_on_time",
    "n_open",
    "n_open_late",
    "n_callback",
    "n_callback_satisfied",
    "n_contacted",
    "contact_minutes",
    "finish_minutes",
    "n_reopened",
)
# Where each dimension's member comes from on a rating (r), a case queue row (c) or an order (o).
_MEMBER = {
    Dim.REGION: "rc.ancestor_id",
    Dim.DEPARTMENT: "{t}.department_id",
    Dim.HALL: "{t}.hall_id",
    Dim.WINDOW: "{t}.window_id",
    Dim.STAFF: "{t}.staff_id",
    Dim.ITEM: "{t}.item_id",
}


def _local_offset_hours() -> int:
    """Shanghai time has had no daylight saving since 1991: a fixed offset serves SQLite's date()."""
    offset = timezone.localtime(timezone.now()).utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 3600)


def day_sql(col: str) -> str:
    if connection.vendor == "postgresql":
        return f"(({col}) AT TIME ZONE '{timezone.get_current_timezone_name()}')::date"
    return f"date({col}, '{_local_offset_hours():+d} hours')"


def month_sql(col: str) -> str:
    if connection.vendor == "postgresql":
        return f"date_trunc('month', {col})::date"
    return f"strftime('%%Y-%%m-01', {col})"


def _lock_state(cursor) -> None:
    RollupState.objects.get_or_create(pk=1)
    cursor.execute("UPDATE analytics_rollupstate SET last_run_at = %s WHERE id = 1", [timezone.now()])


def _refresh_region_closure(cursor) -> None:
    regions = list(Region.objects.values_list("pk", "path"))
    by_path = {path: pk for pk, path in regions}
    rows = []
    for pk, path in regions:
        parts = [p for p in path.split("/") if p]
        for i in range(1, len(parts) + 1):
            ancestor = by_path.get("/" + "/".join(parts[:i]) + "/")
            if ancestor is not None:
                rows.append((pk, ancestor))
    cursor.execute("DELETE FROM analytics_regionclosure")
    cursor.executemany("INSERT INTO analytics_regionclosure (region_id, ancestor_id) VALUES (%s, %s)", rows)


def _rating_select(dim: int, source: str, sign: str, where: str) -> str:
    member = _MEMBER[dim].format(t="r")
    join = " JOIN analytics_regionclosure rc ON rc.region_id = r.region_id" if dim == Dim.REGION else ""
    levels = ", ".join(
        f"SUM(CASE WHEN r.kind = 1 AND r.level = '{value}' THEN {sign} ELSE 0 END)"
        for _, value in LEVEL_COLUMNS
    )
    return (
        f"SELECT {dim}, {day_sql('r.rated_at')}, {member}, r.channel, "
        f"SUM(CASE WHEN r.kind = 1 THEN {sign} ELSE 0 END), "
        f"SUM(CASE WHEN r.kind = 1 AND r.case_id IS NOT NULL THEN {sign} ELSE 0 END), {levels}, "
        f"SUM(CASE WHEN r.kind = 1 AND r.is_default THEN {sign} ELSE 0 END), "
        f"SUM(CASE WHEN r.kind = 1 AND r.comment <> '' THEN {sign} ELSE 0 END), "
        f"SUM(CASE WHEN r.kind = 2 THEN {sign} ELSE 0 END), "
        f"SUM(CASE WHEN r.kind = 2 AND r.is_bad THEN {sign} ELSE 0 END) "
        f"FROM {source}{join} WHERE {member} IS NOT NULL AND {where} GROUP BY 2, 3, 4"
    )


def _upsert(table: str, key: tuple, measures: tuple, select: str) -> str:
    cols = ", ".join((*key, *measures))
    sets = ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in measures)
    return f"INSERT INTO {table} ({cols}) {select} ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}"


def _fold_deltas(cursor) -> None:
    """Add the pass's day-grain deltas to the day rows and, summed by month, to the month rows."""
    m = ", ".join(RATING_MEASURES)
    key = ("dim", "grain", "period", "member_id", "channel")
    sums = ", ".join(f"SUM({x})" for x in RATING_MEASURES)
    cursor.execute(
        _upsert(
            "analytics_ratingrollup",
            key,
            RATING_MEASURES,
            f"SELECT dim, 'd', period, member_id, channel, {m} FROM analytics_rollupdelta WHERE 1 = 1",
        ),
        [],
    )
    cursor.execute(
        _upsert(
            "analytics_ratingrollup",
            key,
            RATING_MEASURES,
            f"SELECT dim, 'm', {month_sql('period')}, member_id, channel, {sums} "
            "FROM analytics_rollupdelta WHERE 1 = 1 GROUP BY 1, 2, 3, 4, 5",
        ),
        [],  # always parameters: '%%' in the SQL is then read as '%' on both databases
    )
    cursor.execute("DELETE FROM analytics_rollupdelta")


def _delta_insert(select: str) -> str:
    cols = ", ".join(("dim", "period", "member_id", "channel", *RATING_MEASURES))
    return f"INSERT INTO analytics_rollupdelta ({cols}) {select}"


def _case_select(dim: int, source: str, sign: str, grain: str, where: str) -> str:
    member = _MEMBER[dim].format(t="c")
    join = " JOIN analytics_regionclosure rc ON rc.region_id = c.region_id" if dim == Dim.REGION else ""
    period = day_sql("c.finished_at")
    if grain == "m":
        period = month_sql(period)
    return (
        f"SELECT {dim}, '{grain}', {period}, {member}, SUM({sign}) FROM {source}{join} "
        f"WHERE {member} IS NOT NULL AND {where} GROUP BY 3, 4"
    )


def _apply_cases(cursor, source: str, sign: str, where: str, params: list) -> None:
    for dim in Dim.values:
        for grain in ("d", "m"):
            cursor.execute(
                _upsert(
                    "analytics_caserollup",
                    ("dim", "grain", "period", "member_id"),
                    ("n_finished",),
                    _case_select(dim, source, sign, grain, where),
                ),
                params,
            )


def rollups_apply(*, batch: int = BATCH) -> dict:
    """Apply queued rating and case changes (up to `batch` of each) and refresh work-order facts."""
    with transaction.atomic(), connection.cursor() as cursor:
        _lock_state(cursor)
        _refresh_region_closure(cursor)
        cursor.execute(
            "SELECT MAX(id), COUNT(*) FROM (SELECT id FROM analytics_ratingpending ORDER BY id LIMIT %s) q",
            [batch],
        )
        max_rating, n_ratings = cursor.fetchone()
        if max_rating is not None:
            source = "analytics_ratingpending p JOIN evaluations_rating r ON r.id = p.rating_id"
            for dim in Dim.values:
                cursor.execute(
                    _delta_insert(_rating_select(dim, source, "p.sign", "p.id <= %s")), [max_rating]
                )
            _fold_deltas(cursor)
            cursor.execute("DELETE FROM analytics_ratingpending WHERE id <= %s", [max_rating])
        cursor.execute(
            "SELECT MAX(id), COUNT(*) FROM (SELECT id FROM analytics_casepending ORDER BY id LIMIT %s) q",
            [batch],
        )
        max_case, n_cases = cursor.fetchone()
        if max_case is not None:
            _apply_cases(cursor, "analytics_casepending c", "c.sign", "c.id <= %s", [max_case])
            cursor.execute("DELETE FROM analytics_casepending WHERE id <= %s", [max_case])
        months = _dirty_order_months(cursor)
        for month in months:
            _recompute_order_month(cursor, month)
        cursor.execute(
            "UPDATE analytics_rollupstate SET applied_ratings = applied_ratings + %s, "
            "applied_cases = applied_cases + %s WHERE id = 1",
            [n_ratings or 0, n_cases or 0],
        )
    return {"ratings": n_ratings or 0, "cases": n_cases or 0, "order_months": len(months)}


def rollups_apply_all(*, batch: int = BATCH) -> dict:
    """Apply every queued change (loops over batches); returns the totals."""
    total = {"ratings": 0, "cases": 0, "order_months": 0}
    while True:
        done = rollups_apply(batch=batch)
        for k in total:
            total[k] += done[k]
        if done["ratings"] < batch and done["cases"] < batch:
            return total


def rollups_rebuild() -> dict:
    """Recompute every rollup from the raw ratings, cases and work orders; empties the queues.

    On PostgreSQL the ratings and cases tables are locked against writes while it runs (a rating
    arriving meanwhile waits), so that nothing is counted both by the rebuild and by its queue row.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("LOCK TABLE evaluations_rating, catalogue_case IN SHARE MODE")
        _lock_state(cursor)
        _refresh_region_closure(cursor)
        for table in (
            "analytics_ratingrollup",
            "analytics_caserollup",
            "analytics_orderrollup",
            "analytics_ratingpending",
            "analytics_casepending",
            "analytics_rollupdelta",
        ):
            cursor.execute(f"DELETE FROM {table}")
        for dim in Dim.values:
            cursor.execute(_delta_insert(_rating_select(dim, "evaluations_rating r", "1", "r.is_valid")), [])
        _fold_deltas(cursor)
        finished = "c.status = 'finished' AND c.finished_at IS NOT NULL"
        _apply_cases(cursor, "catalogue_case c", "1", finished, [])
        cursor.execute(f"SELECT DISTINCT {month_sql(day_sql('received_at'))} FROM workorders_workorder", [])
        months = [_as_date(row[0]) for row in cursor.fetchall()]
        for month in months:
            _recompute_order_month(cursor, month)
        cursor.execute("SELECT MAX(id) FROM workorders_transition")
        last_transition = cursor.fetchone()[0] or 0
        cursor.execute(
            "UPDATE analytics_rollupstate SET last_rebuild_at = %s, last_transition_id = %s WHERE id = 1",
            [timezone.now(), last_transition],
        )
        cursor.execute("SELECT COUNT(*) FROM analytics_ratingrollup")
        rows = cursor.fetchone()[0]
    return {"rating_rows": rows, "order_months": len(months)}


# --- work-order facts -------------------------------------------------------------------------------

# A transition committed out of id order (PostgreSQL, concurrent writers) is still seen by a later
# pass: each pass looks back this many ids before the last one it saw.
TRANSITION_LOOKBACK = 1000


def _as_date(value) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _dirty_order_months(cursor) -> list[date]:
    """Months whose order facts may have changed: orders changed since the last pass, and open ones
    (an open order turns late as time passes)."""
    cursor.execute("SELECT last_transition_id FROM analytics_rollupstate WHERE id = 1")
    last = cursor.fetchone()[0] or 0
    cursor.execute("SELECT MAX(id) FROM workorders_transition")
    newest = cursor.fetchone()[0] or 0
    month = month_sql(day_sql("o.received_at"))
    placeholders = ", ".join(["%s"] * len(OPEN_STATUSES))
    cursor.execute(
        f"SELECT DISTINCT {month} FROM workorders_workorder o WHERE o.status IN ({placeholders}) "
        f"OR o.id IN (SELECT t.order_id FROM workorders_transition t WHERE t.id > %s)",
        [*OPEN_STATUSES, max(0, last - TRANSITION_LOOKBACK)],
    )
    months = sorted({_as_date(row[0]) for row in cursor.fetchall()})
    cursor.execute("UPDATE analytics_rollupstate SET last_transition_id = %s WHERE id = 1", [newest])
    return months


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The month's first instant and the next month's, in local time (aware)."""
    start = timezone.make_aware(datetime.combine(month.replace(day=1), time.min))
    nxt = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start, timezone.make_aware(datetime.combine(nxt, time.min))


def _recompute_order_month(cursor, month: date) -> None:
    start, end = month_bounds(month)
    now = clock.now()
    cursor.execute("DELETE FROM analytics_orderrollup WHERE period = %s", [month])
    open_list = ", ".join(f"'{s}'" for s in OPEN_STATUSES)
    cols = ", ".join(("dim", "period", "member_id", *ORDER_MEASURES, "computed_at"))
    measures = (
        "COUNT(*)",
        f"SUM(CASE WHEN o.status = '{Status.INVALID}' THEN 1 ELSE 0 END)",
        f"SUM(CASE WHEN o.status = '{Status.MERGED}' THEN 1 ELSE 0 END)",
        f"SUM(CASE WHEN o.status = '{Status.CLOSED}' THEN 1 ELSE 0 END)",
        f"SUM(CASE WHEN o.status = '{Status.CLOSED}' AND COALESCE(o.finish_over_minutes, 0) = 0 "
        "THEN 1 ELSE 0 END)",
        f"SUM(CASE WHEN o.status IN ({open_list}) THEN 1 ELSE 0 END)",
        f"SUM(CASE WHEN o.status IN ({open_list}) AND o.due_at < %s THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN o.callback_satisfaction <> '' THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN o.callback_satisfaction IN ('satisfied', 'basically_satisfied') THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN o.contact_minutes IS NOT NULL THEN 1 ELSE 0 END)",
        "COALESCE(SUM(o.contact_minutes), 0)",
        f"COALESCE(SUM(CASE WHEN o.status = '{Status.CLOSED}' THEN o.finish_minutes ELSE 0 END), 0)",
        "SUM(CASE WHEN o.reopen_count > 0 THEN 1 ELSE 0 END)",
    )
    for dim in Dim.values:
        member = _MEMBER[dim].format(t="r") if dim != Dim.DEPARTMENT else "o.department_id"
        join = " JOIN evaluations_rating r ON r.id = o.rating_id"
        if dim == Dim.REGION:
            join += " JOIN analytics_regionclosure rc ON rc.region_id = o.region_id"
        cursor.execute(
            f"INSERT INTO analytics_orderrollup ({cols}) "
            f"SELECT {dim}, %s, {member}, {', '.join(measures)}, %s FROM workorders_workorder o{join} "
            f"WHERE {member} IS NOT NULL AND o.received_at >= %s AND o.received_at < %s GROUP BY 3",
            [month, now, now, start, end],
        )
