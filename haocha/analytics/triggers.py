"""The database triggers that queue every rating and case change for the rollups, generated from the
measure tables (analytics/measures.py) for SQLite and PostgreSQL.

A rating that starts counting (inserted valid, or restored) queues +1 with what it counts for at that
moment: its day, channel, units and a 0/1 per measure; one that stops counting (invalidated) queues −1
with what it counted for. A change of any other field a measure reads queues both, so the rollups follow
even an edit the platform never makes. A first rating that makes its case rated also queues the case's
n_rated (+1/−1) under the values the case counts for; a change of a finished case queues −1 under its old
values and +1 under its new ones, with whether it is rated.

`install()` runs after every `migrate` (analytics/apps.py): SQLite drops a table's triggers when a
migration rebuilds the table, and the SQL follows the measure tables as they are in the code. A
migration that changes a table these triggers read or write drops them first (as 0005 does).
"""

from haocha.analytics import measures as m
from haocha.analytics.models import CasePending, RatingPending
from haocha.catalogue.models import Case
from haocha.evaluations.models import Rating

RATING_TABLE = Rating._meta.db_table
CASE_TABLE = Case._meta.db_table
RATING_QUEUE = RatingPending._meta.db_table
CASE_QUEUE = CasePending._meta.db_table

SQLITE_TRIGGERS = ("analytics_rating_ins", "analytics_rating_upd", "analytics_case_ins", "analytics_case_upd")
POSTGRES_TRIGGERS = {"analytics_rating_pending": RATING_TABLE, "analytics_case_pending": CASE_TABLE}
# Triggers of earlier versions, dropped by install()
_OLD_SQLITE = ("analytics_rating_valid",)


def _col(model, name: str) -> str:
    return m.column(model, name)


# --- what a rating change queues ----------------------------------------------------------------------

_RATING_CARRIED = (m.RATING_PERIOD, m.RATING_CHANNEL, *m.RATING_DIMS.values())


def rating_queue_columns() -> list[str]:
    return ["rating_id", "sign", *(_col(Rating, f) for f in _RATING_CARRIED), *m.RATING_COLUMNS]


def rating_queue_values(alias: str, sign: int) -> list[str]:
    return [
        f"{alias}.id",
        str(sign),
        *(f"{alias}.{_col(Rating, f)}" for f in _RATING_CARRIED),
        *(
            f"CASE WHEN {m.as_sql(Rating, measure.condition, alias)} THEN 1 ELSE 0 END"
            for measure in m.RATING_MEASURES
        ),
    ]


def rating_fields_watched() -> list[str]:
    """Columns of the ratings table whose change can change what a rating counts for."""
    names = m.fields_read(m.COUNTED) | m.fields_read(m.RATES_ITS_CASE) | set(_RATING_CARRIED)
    for measure in m.RATING_MEASURES:
        names |= m.fields_read(measure.condition)
    return sorted(_col(Rating, n) for n in names)


# --- what a case change queues --------------------------------------------------------------------------

_CASE_CARRIED = (m.CASE_PERIOD, *m.CASE_DIMS.values())


def case_queue_columns() -> list[str]:
    return [*(_col(Case, f) for f in _CASE_CARRIED), "sign", *m.CASE_MEASURES]


def case_fields_watched() -> list[str]:
    return sorted(_col(Case, n) for n in m.fields_read(m.FINISHED) | set(_CASE_CARRIED))


def case_queue_values(alias: str, sign: int) -> list[str]:
    """A case's own change: n_finished ±1, and n_rated ±1 if it is rated."""
    return [
        *(f"{alias}.{_col(Case, f)}" for f in _CASE_CARRIED),
        str(sign),
        "1",
        f"CASE WHEN {m.case_rated_sql(alias)} THEN 1 ELSE 0 END",
    ]


def rated_case_select(rating: str, sign: int, *, lock: str = "") -> str:
    """A rating that makes (or unmakes) its case rated: the case's n_rated ±1 under the case's values.
    On PostgreSQL the case row is locked (FOR SHARE) so that a concurrent change of the case waits, and
    the one that comes second sees the other."""
    values = [*(f"c.{_col(Case, f)}" for f in _CASE_CARRIED), str(sign), "0", "1"]
    case_fk = _col(Rating, "case")
    return (
        f"INSERT INTO {CASE_QUEUE} ({', '.join(case_queue_columns())}) "
        f"SELECT {', '.join(values)} FROM {CASE_TABLE} c "
        f"WHERE c.id = {rating}.{case_fk} AND {m.as_sql(Case, m.FINISHED, 'c')}{lock}"
    )


# --- SQLite -------------------------------------------------------------------------------------------------


def _sqlite_changed(columns: list[str]) -> str:
    return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)


def sqlite_statements() -> list[str]:
    rating_cols = ", ".join(rating_queue_columns())
    case_cols = ", ".join(case_queue_columns())
    counted_new = m.as_sql(Rating, m.COUNTED, "NEW")
    counted_old = m.as_sql(Rating, m.COUNTED, "OLD")
    rates_new = m.as_sql(Rating, m.RATES_ITS_CASE, "NEW")
    rates_old = m.as_sql(Rating, m.RATES_ITS_CASE, "OLD")
    finished_new = m.as_sql(Case, m.FINISHED, "NEW")
    finished_old = m.as_sql(Case, m.FINISHED, "OLD")
    rating_watched = rating_fields_watched()
    case_watched = case_fields_watched()
    return [
        f"""CREATE TRIGGER analytics_rating_ins AFTER INSERT ON {RATING_TABLE} WHEN {counted_new}
BEGIN
  INSERT INTO {RATING_QUEUE} ({rating_cols}) VALUES ({", ".join(rating_queue_values("NEW", 1))});
  {rated_case_select("NEW", 1)} AND {rates_new};
END""",
        f"""CREATE TRIGGER analytics_rating_upd AFTER UPDATE OF {", ".join(rating_watched)} ON {RATING_TABLE}
WHEN {_sqlite_changed(rating_watched)}
BEGIN
  INSERT INTO {RATING_QUEUE} ({rating_cols})
    SELECT {", ".join(rating_queue_values("OLD", -1))} WHERE {counted_old};
  INSERT INTO {RATING_QUEUE} ({rating_cols})
    SELECT {", ".join(rating_queue_values("NEW", 1))} WHERE {counted_new};
  {rated_case_select("OLD", -1)} AND {rates_old};
  {rated_case_select("NEW", 1)} AND {rates_new};
END""",
        f"""CREATE TRIGGER analytics_case_ins AFTER INSERT ON {CASE_TABLE} WHEN {finished_new}
BEGIN
  INSERT INTO {CASE_QUEUE} ({case_cols}) VALUES ({", ".join(case_queue_values("NEW", 1))});
END""",
        f"""CREATE TRIGGER analytics_case_upd AFTER UPDATE OF {", ".join(case_watched)} ON {CASE_TABLE}
WHEN {_sqlite_changed(case_watched)}
BEGIN
  INSERT INTO {CASE_QUEUE} ({case_cols}) SELECT {", ".join(case_queue_values("OLD", -1))} WHERE {finished_old};
  INSERT INTO {CASE_QUEUE} ({case_cols}) SELECT {", ".join(case_queue_values("NEW", 1))} WHERE {finished_new};
END""",
    ]


def sqlite_drops() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name}" for name in (*SQLITE_TRIGGERS, *_OLD_SQLITE)]


# --- PostgreSQL ---------------------------------------------------------------------------------------------


def _pg_unchanged(columns: list[str]) -> str:
    old = ", ".join(f"OLD.{c}" for c in columns)
    new = ", ".join(f"NEW.{c}" for c in columns)
    return f"ROW({old}) IS NOT DISTINCT FROM ROW({new})"


def postgres_statements() -> list[str]:
    rating_cols = ", ".join(rating_queue_columns())
    case_cols = ", ".join(case_queue_columns())
    rating_watched = rating_fields_watched()
    case_watched = case_fields_watched()

    def rating_side(alias: str, sign: int) -> str:
        counted = m.as_sql(Rating, m.COUNTED, alias)
        rates = m.as_sql(Rating, m.RATES_ITS_CASE, alias)
        return f"""IF {counted} THEN
        INSERT INTO {RATING_QUEUE} ({rating_cols}) VALUES ({", ".join(rating_queue_values(alias, sign))});
      END IF;
      IF {rates} THEN
        {rated_case_select(alias, sign, lock=" FOR SHARE OF c")};
      END IF;"""

    def case_side(alias: str, sign: int) -> str:
        return f"""IF {m.as_sql(Case, m.FINISHED, alias)} THEN
        INSERT INTO {CASE_QUEUE} ({case_cols}) VALUES ({", ".join(case_queue_values(alias, sign))});
      END IF;"""

    return [
        f"""CREATE OR REPLACE FUNCTION analytics_rating_pending() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        IF {_pg_unchanged(rating_watched)} THEN
          RETURN NULL;
        END IF;
        {rating_side("OLD", -1)}
      END IF;
      {rating_side("NEW", 1)}
      RETURN NULL;
    END $$ LANGUAGE plpgsql""",
        f"""CREATE TRIGGER analytics_rating_pending AFTER INSERT OR UPDATE OF {", ".join(rating_watched)}
    ON {RATING_TABLE} FOR EACH ROW EXECUTE FUNCTION analytics_rating_pending()""",
        f"""CREATE OR REPLACE FUNCTION analytics_case_pending() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        IF {_pg_unchanged(case_watched)} THEN
          RETURN NULL;
        END IF;
        {case_side("OLD", -1)}
      END IF;
      {case_side("NEW", 1)}
      RETURN NULL;
    END $$ LANGUAGE plpgsql""",
        f"""CREATE TRIGGER analytics_case_pending AFTER INSERT OR UPDATE OF {", ".join(case_watched)}
    ON {CASE_TABLE} FOR EACH ROW EXECUTE FUNCTION analytics_case_pending()""",
    ]


def postgres_drops() -> list[str]:
    return [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, table in POSTGRES_TRIGGERS.items()]


# --- installing ---------------------------------------------------------------------------------------------


def statements(vendor: str) -> list[str]:
    """Drop and create, for one database vendor (none for others)."""
    if vendor == "sqlite":
        return sqlite_drops() + sqlite_statements()
    if vendor == "postgresql":
        return postgres_drops() + postgres_statements()
    return []


def install(connection) -> None:
    """(Re)create the triggers on this connection's database."""
    with connection.cursor() as cursor:
        for statement in statements(connection.vendor):
            cursor.execute(statement)


def installed(connection) -> set[str]:
    """Names of the analytics triggers in the database."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        return {row[0] for row in cursor.fetchall() if row[0].startswith("analytics_")}


def expected(vendor: str) -> set[str]:
    return set(SQLITE_TRIGGERS) if vendor == "sqlite" else set(POSTGRES_TRIGGERS)
