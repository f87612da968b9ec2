"""The statistics' measures, each defined once: a rollup column and the condition, as data over the counted
model's fields, under which a row counts in it.

Everything that computes a measure is generated from these tables: the triggers that queue each rating
and case change (`analytics/triggers.py`, SQLite and PostgreSQL), the incremental apply and the rebuild
from the raw tables (`analytics/services.py`), and the work-order facts. A condition is a Django `Q` over
the model's own fields (no joins); `as_sql()` compiles it for a table alias (a trigger's NEW or OLD, a
query's r). The tables are checked against the models' metadata when this module loads: a renamed field
or status, or a value outside a field's choices, stops the start instead of silently changing a figure.

Which rows count (the figures built on these are in `analytics/figures.py`):
- a rating counts only while it is valid (`COUNTED`): an upheld appeal or a supervisor's flag takes it out
  of every measure, a restore puts it back;
- 评价数 (n) and the five level counts are first ratings (一事一评 and the window's 一次一评, which has no
  case), system default ratings included; 追评 are counted apart (n_follow, n_follow_bad);
- a finished case counts in n_finished by the day it finished, and in n_rated if it has a counted first
  rating (default ratings included), whenever that rating came.
"""

from dataclasses import dataclass

from django.db.models import Q
from django.db.models.fields import Field

from haocha.analytics.models import (
    CasePending,
    CaseRollup,
    Dim,
    OrderRollup,
    RatingPending,
    RatingRollup,
    RollupDelta,
)
from haocha.catalogue.models import Case
from haocha.evaluations.levels import Level
from haocha.evaluations.models import Rating
from haocha.workorders.models import OPEN_STATUSES, Status, WorkOrder


class _Now:
    """Stands for the current time in a condition; compiled to a query parameter (never in a trigger)."""

    def __repr__(self):
        return "NOW"


NOW = _Now()


@dataclass(frozen=True)
class Measure:
    column: str  # the rollup column (and, for ratings, the queue's column)
    condition: Q  # over the counted model's fields
    value: str = ""  # a field summed instead of counting rows (minutes)


# --- ratings -------------------------------------------------------------------------------------------

COUNTED = Q(is_valid=True)
FIRST = Q(kind=Rating.Kind.FIRST)
FOLLOW_UP = Q(kind=Rating.Kind.FOLLOW_UP)

RATING_MEASURES = (
    Measure("n", FIRST),
    Measure("n_case", FIRST & Q(case__isnull=False)),
    Measure("n_vs", FIRST & Q(level=Level.VERY_SATISFIED)),
    Measure("n_s", FIRST & Q(level=Level.SATISFIED)),
    Measure("n_b", FIRST & Q(level=Level.BASICALLY_SATISFIED)),
    Measure("n_d", FIRST & Q(level=Level.DISSATISFIED)),
    Measure("n_vd", FIRST & Q(level=Level.VERY_DISSATISFIED)),
    Measure("n_default", FIRST & Q(is_default=True)),
    Measure("n_comment", FIRST & ~Q(comment="")),
    Measure("n_follow", FOLLOW_UP),
    Measure("n_follow_bad", FOLLOW_UP & Q(is_bad=True)),
)
RATING_PERIOD = "rated_at"  # a rating counts on its day (Asia/Shanghai)
RATING_CHANNEL = "channel"
# The rating's own copies of what was rated; a region counts for itself and its ancestors (RegionClosure).
RATING_DIMS = {
    Dim.REGION: "region",
    Dim.DEPARTMENT: "department",
    Dim.HALL: "hall",
    Dim.WINDOW: "window",
    Dim.STAFF: "staff",
    Dim.ITEM: "item",
}

# --- finished cases (the denominator and numerator of 评价率) -------------------------------------------

FINISHED = Q(status=Case.Status.FINISHED, finished_at__isnull=False)
# The rating that makes its case rated: at most one per case (the one_rating_per_case_kind constraint).
RATES_ITS_CASE = COUNTED & FIRST & Q(case__isnull=False)
CASE_MEASURES = ("n_finished", "n_rated")
CASE_PERIOD = "finished_at"
CASE_DIMS = dict(RATING_DIMS)  # the same names on the case: who handled it, where

# --- work orders (by the month the order was received) ---------------------------------------------------

CLOSED = Q(status=Status.CLOSED)
OPEN = Q(status__in=OPEN_STATUSES)
ORDER_MEASURES = (
    Measure("n_orders", Q()),
    Measure("n_invalid", Q(status=Status.INVALID)),
    Measure("n_merged", Q(status=Status.MERGED)),
    Measure("n_closed", CLOSED),
    Measure("n_closed_on_time", CLOSED & (Q(finish_over_minutes__isnull=True) | Q(finish_over_minutes=0))),
    Measure("n_open", OPEN),
    Measure("n_open_late", OPEN & Q(due_at__lt=NOW)),
    Measure("n_callback", ~Q(callback_satisfaction="")),
    # the latest call-back's answer (satisfied, basically_satisfied or dissatisfied)
    Measure("n_callback_satisfied", Q(callback_satisfaction__in=("satisfied", "basically_satisfied"))),
    # the latest call-back's answer to 问题是否已解决 (回访解决率)
    Measure("n_callback_solved", ~Q(callback_satisfaction="") & Q(callback_solved=True)),
    Measure("n_contacted", Q(contact_minutes__isnull=False)),
    Measure("contact_minutes", Q(contact_minutes__isnull=False), value="contact_minutes"),
    Measure("finish_minutes", CLOSED & Q(finish_minutes__isnull=False), value="finish_minutes"),
    Measure("n_reopened", Q(reopen_count__gt=0)),
)
ORDER_PERIOD = "received_at"
# The department the order was assigned to and the region it belongs to; the rest from the rating (r).
ORDER_DIMS = {
    Dim.REGION: ("o", "region"),
    Dim.DEPARTMENT: ("o", "department"),
    Dim.HALL: ("r", "hall"),
    Dim.WINDOW: ("r", "window"),
    Dim.STAFF: ("r", "staff"),
    Dim.ITEM: ("r", "item"),
}

RATING_COLUMNS = tuple(m.column for m in RATING_MEASURES)
ORDER_COLUMNS = tuple(m.column for m in ORDER_MEASURES)


def label(model, column: str) -> str:
    """A measure's Chinese name: the rollup column's verbose name."""
    return str(model._meta.get_field(column).verbose_name)


def measures_table() -> str:
    """Every measure with its Chinese name and its condition as SQL (for this docstring and the docs)."""
    lines = [f"- counted ratings: {as_sql(Rating, COUNTED, 'r')}"]
    lines += [
        f"- {x.column}（{label(RatingRollup, x.column)}）: {as_sql(Rating, x.condition, 'r')}"
        for x in RATING_MEASURES
    ]
    lines.append(f"- n_finished（{label(CaseRollup, 'n_finished')}）: {as_sql(Case, FINISHED, 'c')}")
    lines.append(f"- n_rated（{label(CaseRollup, 'n_rated')}）: n_finished AND {case_rated_sql('c')}")
    for x in ORDER_MEASURES:
        sql, _ = as_sql_with_now(WorkOrder, x.condition, "o", now=None)
        what = f"SUM(o.{x.value}) WHERE " if x.value else ""
        lines.append(f"- {x.column}（{label(OrderRollup, x.column)}）: {what}{sql.replace('%s', 'now')}")
    return "\n".join(lines)


# --- conditions as SQL -------------------------------------------------------------------------------------

_OPS = {"exact": "=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


def column(model, name: str) -> str:
    return model._meta.get_field(name).column


def _literal(field: Field, value) -> str:
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{field.name}: {value!r} 须用字段本身或 isnull 表示")
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, str):
        if "%" in value:
            raise ValueError(f"{field.name}: 条件中的文字不能含 %")
        return "'" + value.replace("'", "''") + "'"
    raise ValueError(f"{field.name}: 不支持的条件值 {value!r}")


def _leaf(model, key: str, value, alias: str, params: list | None) -> str:
    name, _, lookup = key.partition("__")
    lookup = lookup or "exact"
    field = model._meta.get_field(name)  # FieldDoesNotExist for a renamed field
    col = f"{alias}.{field.column}"
    if lookup == "isnull":
        return f"{col} IS {'' if value else 'NOT '}NULL"
    if field.get_internal_type() == "BooleanField":
        if lookup != "exact" or not isinstance(value, bool):
            raise ValueError(f"{model.__name__}.{name}: 布尔字段只能写 {name}=True/False")
        return col if value else f"NOT {col}"
    values = list(value) if lookup == "in" else [value]
    if field.choices:
        allowed = {str(v) for v, _ in field.flatchoices}
        unknown = [v for v in values if str(v) not in allowed]
        if unknown:
            raise ValueError(f"{model.__name__}.{name}: {unknown} 不是该字段的取值")
    if any(v is NOW for v in values):
        if params is None or lookup not in _OPS:
            raise ValueError(f"{model.__name__}.{key}: 当前时间只能用于查询中的比较，不能用于触发器")
        params.append(None)  # the slot as_sql_with_now() fills
        rendered = ["%s"]
    else:
        rendered = [_literal(field, v) for v in values]
    if lookup == "in":
        sql = f"{col} IN ({', '.join(rendered)})"
    elif lookup in _OPS:
        sql = f"{col} {_OPS[lookup]} {rendered[0]}"
    else:
        raise ValueError(f"{model.__name__}.{key}: 不支持的查找 {lookup}")
    # as Django reads ~Q(x=v): a NULL x is "not v"
    return f"({col} IS NOT NULL AND {sql})" if field.null else sql


def _compile(model, q: Q, alias: str, params: list | None) -> str:
    if not q.children:
        return "1 = 1"
    parts = []
    for child in q.children:
        if isinstance(child, Q):
            parts.append(f"({_compile(model, child, alias, params)})")
        else:
            parts.append(_leaf(model, *child, alias, params))
    joined = f" {q.connector} ".join(parts)
    return f"NOT ({joined})" if q.negated else joined


def as_sql(model, q: Q, alias: str) -> str:
    """The condition as SQL over `alias` (a table alias, or NEW/OLD in a trigger), without parameters."""
    return _compile(model, q, alias, None)


def as_sql_with_now(model, q: Q, alias: str, *, now) -> tuple[str, list]:
    """The condition as SQL and its parameters: `now` wherever the condition says NOW."""
    params: list = []
    text = _compile(model, q, alias, params)
    return text, [now] * len(params)


def case_rated_sql(case_alias: str) -> str:
    """Whether the case (`case_alias`) has the counted first rating that makes it rated."""
    rated = as_sql(Rating, RATES_ITS_CASE, "x")
    fk = column(Rating, "case")
    return f"EXISTS (SELECT 1 FROM {Rating._meta.db_table} x WHERE x.{fk} = {case_alias}.id AND {rated})"


def fields_read(q: Q) -> set[str]:
    """The model fields a condition reads."""
    out = set()
    for child in q.children:
        out |= fields_read(child) if isinstance(child, Q) else {child[0].partition("__")[0]}
    return out


def fingerprint() -> str:
    """A digest of every definition the rollups are summed by (conditions, units, periods): rollups built
    under another one need `haocha rollups rebuild`."""
    import hashlib

    parts = [
        as_sql(Rating, COUNTED, "x"),
        *(f"{x.column}:{as_sql(Rating, x.condition, 'x')}" for x in RATING_MEASURES),
        case_rated_sql("x"),
        as_sql(Case, FINISHED, "x"),
        *(f"{x.column}:{x.value}:{_compile(WorkOrder, x.condition, 'x', [])}" for x in ORDER_MEASURES),
        repr((RATING_DIMS, RATING_PERIOD, RATING_CHANNEL, CASE_DIMS, CASE_PERIOD, ORDER_DIMS, ORDER_PERIOD)),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


# --- the tables checked against the models -----------------------------------------------------------------


def _counts(model) -> set[str]:
    return {
        f.name
        for f in model._meta.concrete_fields
        if f.get_internal_type() in ("IntegerField", "BigIntegerField") and f.name != "member_id"
    }


def check() -> None:
    """Every condition compiles over its model's fields and choices; the rollup and queue tables have
    exactly the measures' columns. Raises ImproperlyConfigured (run when this module loads)."""
    from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured

    try:
        for model, measures in ((Rating, RATING_MEASURES), (WorkOrder, ORDER_MEASURES)):
            for m in measures:
                _compile(model, m.condition, "x", [])
                if m.value:
                    model._meta.get_field(m.value)
        for q in (COUNTED, RATES_ITS_CASE):
            _compile(Rating, q, "x", None)
        _compile(Case, FINISHED, "x", None)
        for name in (*RATING_DIMS.values(), RATING_PERIOD, RATING_CHANNEL):
            RatingPending._meta.get_field(column(Rating, name))
        for name in (*CASE_DIMS.values(), CASE_PERIOD):
            CasePending._meta.get_field(column(Case, name))
        for table, name in ORDER_DIMS.values():
            (WorkOrder if table == "o" else Rating)._meta.get_field(name)
    except (FieldDoesNotExist, ValueError) as exc:
        raise ImproperlyConfigured(f"统计指标表与模型不一致：{exc}") from exc
    expected = {
        RatingRollup: set(RATING_COLUMNS),
        RollupDelta: set(RATING_COLUMNS),
        CaseRollup: set(CASE_MEASURES),
        OrderRollup: set(ORDER_COLUMNS),
    }
    for model, columns in expected.items():
        if _counts(model) != columns:
            raise ImproperlyConfigured(f"{model.__name__} 的计数列与指标表不一致：{_counts(model) ^ columns}")
    for model, columns in ((RatingPending, RATING_COLUMNS), (CasePending, CASE_MEASURES)):
        if not set(columns) <= _counts(model):
            raise ImproperlyConfigured(f"{model.__name__} 缺少指标列：{set(columns) - _counts(model)}")


check()
__doc__ += "\nThe measures, as generated:\n\n" + measures_table() + "\n"
