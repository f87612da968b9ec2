"""Applying the rollup queues (incrementally, in batches) and rebuilding the rollups from the raw tables.

Every pass first updates the one `RollupState` row: that serialises passes (two workers never apply
the same queue rows), and the rows a pass applies are deleted in its own transaction. The SQL is generated
from the measure tables (analytics/measures.py): the rebuild counts each measure's condition over the raw
rows, the apply sums the 0/1 per measure that the triggers stored with each change.
"""

import logging
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.utils import timezone

from haocha.analytics import measures as m
from haocha.analytics.models import CaseRollup, Dim, OrderRollup, RatingRollup, RollupState
from haocha.catalogue.models import Case
from haocha.core import clock
from haocha.evaluations.models import Rating
from haocha.organisations.models import Region
from haocha.workorders.models import OPEN_STATUSES, WorkOrder

log = logging.getLogger(__name__)
BATCH = 200_000
RATING_MEASURES = m.RATING_COLUMNS
ORDER_MEASURES = m.ORDER_COLUMNS
RATING_TABLE = Rating._meta.db_table
CASE_TABLE = Case._meta.db_table


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


STALE = "统计口径已变更，已有汇总仍按原口径计算：请运行 haocha rollups rebuild 由原始数据重算"


def definitions_current() -> bool:
    """Whether the rollups were summed under the measure definitions in the code (analytics.measures).
    Empty rollups take the current ones."""
    current = m.fingerprint()
    if RollupState.objects.filter(pk=1, definitions=current).exists():
        return True
    if RatingRollup.objects.exists() or CaseRollup.objects.exists() or OrderRollup.objects.exists():
        return False
    RollupState.objects.filter(pk=1).update(definitions=current)
    return True


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


def _member(model, dims: dict, dim: int, alias: str) -> tuple[str, str]:
    """The unit column of a dimension, and the join that takes a region to its ancestors."""
    column = f"{alias}.{m.column(model, dims[dim])}"
    if dim == Dim.REGION:
        return "rc.ancestor_id", f" JOIN analytics_regionclosure rc ON rc.region_id = {column}"
    return column, ""


def _rating_select(dim: int, source: str, sums: list[str], where: str) -> str:
    """Day-grain sums of the rating measures of one dimension, from the ratings (r) or their queue (r)."""
    member, join = _member(Rating, m.RATING_DIMS, dim, "r")
    day = day_sql(f"r.{m.column(Rating, m.RATING_PERIOD)}")
    channel = f"r.{m.column(Rating, m.RATING_CHANNEL)}"
    return (
        f"SELECT {dim}, {day}, {member}, {channel}, {', '.join(sums)} "
        f"FROM {source} r{join} WHERE {member} IS NOT NULL AND {where} GROUP BY 2, 3, 4"
    )


def _rebuild_sums() -> list[str]:
    """Each measure counted over the raw ratings: its condition, from the measure table."""
    return [
        f"SUM(CASE WHEN {m.as_sql(Rating, x.condition, 'r')} THEN 1 ELSE 0 END)" for x in m.RATING_MEASURES
    ]


def _queue_sums() -> list[str]:
    """Each measure summed over the queue: the triggers stored it as 0/1 with the change's sign."""
    return [f"SUM(r.sign * r.{c})" for c in m.RATING_COLUMNS]


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


def _case_select(dim: int, source: str, sums: list[str], grain: str, where: str) -> str:
    member, join = _member(Case, m.CASE_DIMS, dim, "c")
    period = day_sql(f"c.{m.column(Case, m.CASE_PERIOD)}")
    if grain == "m":
        period = month_sql(period)
    return (
        f"SELECT {dim}, '{grain}', {period}, {member}, {', '.join(sums)} FROM {source} c{join} "
        f"WHERE {member} IS NOT NULL AND {where} GROUP BY 3, 4"
    )


def _apply_cases(cursor, source: str, sums: list[str], where: str, params: list) -> None:
    for dim in Dim.values:
        for grain in ("d", "m"):
            cursor.execute(
                _upsert(
                    "analytics_caserollup",
                    ("dim", "grain", "period", "member_id"),
                    m.CASE_MEASURES,
                    _case_select(dim, source, sums, grain, where),
                ),
                params,
            )


def _case_rebuild_sums() -> list[str]:
    return ["COUNT(*)", f"SUM(CASE WHEN {m.case_rated_sql('c')} THEN 1 ELSE 0 END)"]


def rollups_apply(*, batch: int = BATCH) -> dict:
    """Apply queued rating and case changes (up to `batch` of each) and refresh work-order facts."""
    with transaction.atomic(), connection.cursor() as cursor:
        _lock_state(cursor)
        current = definitions_current()
        if not current:
            log.warning(STALE)
        _refresh_region_closure(cursor)
        cursor.execute(
            "SELECT MAX(id), COUNT(*) FROM (SELECT id FROM analytics_ratingpending ORDER BY id LIMIT %s) q",
            [batch],
        )
        max_rating, n_ratings = cursor.fetchone()
        if max_rating is not None:
            for dim in Dim.values:
                cursor.execute(
                    _delta_insert(
                        _rating_select(dim, "analytics_ratingpending", _queue_sums(), "r.id <= %s")
                    ),
                    [max_rating],
                )
            _fold_deltas(cursor)
            cursor.execute("DELETE FROM analytics_ratingpending WHERE id <= %s", [max_rating])
        cursor.execute(
            "SELECT MAX(id), COUNT(*) FROM (SELECT id FROM analytics_casepending ORDER BY id LIMIT %s) q",
            [batch],
        )
        max_case, n_cases = cursor.fetchone()
        if max_case is not None:
            sums = [f"SUM(c.sign * c.{column})" for column in m.CASE_MEASURES]
            _apply_cases(cursor, "analytics_casepending", sums, "c.id <= %s", [max_case])
            cursor.execute("DELETE FROM analytics_casepending WHERE id <= %s", [max_case])
        months = _dirty_order_months(cursor)
        for month in months:
            _recompute_order_month(cursor, month)
        cursor.execute(
            "UPDATE analytics_rollupstate SET applied_ratings = applied_ratings + %s, "
            "applied_cases = applied_cases + %s WHERE id = 1",
            [n_ratings or 0, n_cases or 0],
        )
    return {
        "ratings": n_ratings or 0,
        "cases": n_cases or 0,
        "order_months": len(months),
        "definitions_current": current,
    }


def rollups_apply_all(*, batch: int = BATCH) -> dict:
    """Apply every queued change (loops over batches); returns the totals."""
    total = {"ratings": 0, "cases": 0, "order_months": 0}
    while True:
        done = rollups_apply(batch=batch)
        for k in total:
            total[k] += done[k]
        if done["ratings"] < batch and done["cases"] < batch:
            return {**total, "definitions_current": done["definitions_current"]}


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
        counted = m.as_sql(Rating, m.COUNTED, "r")
        for dim in Dim.values:
            cursor.execute(_delta_insert(_rating_select(dim, RATING_TABLE, _rebuild_sums(), counted)), [])
        _fold_deltas(cursor)
        finished = m.as_sql(Case, m.FINISHED, "c")
        _apply_cases(cursor, CASE_TABLE, _case_rebuild_sums(), finished, [])
        cursor.execute(f"SELECT DISTINCT {month_sql(day_sql('received_at'))} FROM workorders_workorder", [])
        months = [_as_date(row[0]) for row in cursor.fetchall()]
        for month in months:
            _recompute_order_month(cursor, month)
        cursor.execute("SELECT MAX(id) FROM workorders_transition")
        last_transition = cursor.fetchone()[0] or 0
        cursor.execute(
            "UPDATE analytics_rollupstate SET last_rebuild_at = %s, last_transition_id = %s, definitions = %s "
            "WHERE id = 1",
            [timezone.now(), last_transition, m.fingerprint()],
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


def _order_sums(now) -> tuple[list[str], list]:
    """Each work-order measure over the orders (o): its condition from the measure table; `now` decides
    which open orders are late."""
    sums, params = [], []
    for x in m.ORDER_MEASURES:
        condition, p = m.as_sql_with_now(WorkOrder, x.condition, "o", now=now)
        value = f"o.{m.column(WorkOrder, x.value)}" if x.value else "1"
        sums.append(f"COALESCE(SUM(CASE WHEN {condition} THEN {value} ELSE 0 END), 0)")
        params += p
    return sums, params


def order_figures_of_handler(client_id: int, now=None):
    """整改率 and the other work-order figures over the orders a lower-level system handles (docking's
    monitor): the same measures and definitions as every other statistic here."""
    from haocha.analytics.figures import Counts, Figures

    sums, params = _order_sums(now or clock.now())
    handler = m.column(WorkOrder, "handled_by")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(sums)} FROM {WorkOrder._meta.db_table} o WHERE o.{handler} = %s",
            [*params, client_id],
        )
        row = cursor.fetchone()
    return Figures(Counts().add(dict(zip(m.ORDER_COLUMNS, row, strict=True))))


def _recompute_order_month(cursor, month: date) -> None:
    start, end = month_bounds(month)
    now = clock.now()
    cursor.execute("DELETE FROM analytics_orderrollup WHERE period = %s", [month])
    cols = ", ".join(("dim", "period", "member_id", *m.ORDER_COLUMNS, "computed_at"))
    sums, sum_params = _order_sums(now)
    received = m.column(WorkOrder, m.ORDER_PERIOD)
    rating_fk = m.column(WorkOrder, "rating")
    for dim in Dim.values:
        alias, field = m.ORDER_DIMS[dim]
        member, join = _member(WorkOrder if alias == "o" else Rating, {dim: field}, dim, alias)
        cursor.execute(
            f"INSERT INTO analytics_orderrollup ({cols}) "
            f"SELECT {dim}, %s, {member}, {', '.join(sums)}, %s FROM {WorkOrder._meta.db_table} o "
            f"JOIN {RATING_TABLE} r ON r.id = o.{rating_fk}{join} "
            f"WHERE {member} IS NOT NULL AND o.{received} >= %s AND o.{received} < %s GROUP BY 3",
            [month, *sum_params, now, start, end],
        )
