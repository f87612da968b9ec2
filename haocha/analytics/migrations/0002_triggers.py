"""Triggers that queue every rating and finished-case change for the rollups (SQLite and PostgreSQL)."""

from django.db import migrations

CASE_COLS = "finished_at, department_id, hall_id, window_id, staff_id, item_id, region_id"
FINISHED = "{t}.status = 'finished' AND {t}.finished_at IS NOT NULL"


def _values(t: str, sign: int) -> str:
    return ", ".join(f"{t}.{c.strip()}" for c in CASE_COLS.split(",")) + f", {sign}"


SQLITE = [
    """CREATE TRIGGER analytics_rating_ins AFTER INSERT ON evaluations_rating WHEN NEW.is_valid
    BEGIN INSERT INTO analytics_ratingpending (rating_id, sign) VALUES (NEW.id, 1); END""",
    """CREATE TRIGGER analytics_rating_valid AFTER UPDATE OF is_valid ON evaluations_rating
    WHEN OLD.is_valid <> NEW.is_valid
    BEGIN INSERT INTO analytics_ratingpending (rating_id, sign)
          VALUES (NEW.id, CASE WHEN NEW.is_valid THEN 1 ELSE -1 END); END""",
    f"""CREATE TRIGGER analytics_case_ins AFTER INSERT ON catalogue_case WHEN {FINISHED.format(t="NEW")}
    BEGIN INSERT INTO analytics_casepending ({CASE_COLS}, sign) VALUES ({_values("NEW", 1)}); END""",
    f"""CREATE TRIGGER analytics_case_upd AFTER UPDATE ON catalogue_case
    WHEN OLD.status IS NOT NEW.status OR OLD.finished_at IS NOT NEW.finished_at
      OR OLD.department_id IS NOT NEW.department_id OR OLD.hall_id IS NOT NEW.hall_id
      OR OLD.window_id IS NOT NEW.window_id OR OLD.staff_id IS NOT NEW.staff_id
      OR OLD.item_id IS NOT NEW.item_id OR OLD.region_id IS NOT NEW.region_id
    BEGIN
      INSERT INTO analytics_casepending ({CASE_COLS}, sign)
        SELECT {_values("OLD", -1)} WHERE {FINISHED.format(t="OLD")};
      INSERT INTO analytics_casepending ({CASE_COLS}, sign)
        SELECT {_values("NEW", 1)} WHERE {FINISHED.format(t="NEW")};
    END""",
]
SQLITE_DROP = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in ("analytics_rating_ins", "analytics_rating_valid", "analytics_case_ins", "analytics_case_upd")
]

POSTGRES = [
    """CREATE OR REPLACE FUNCTION analytics_rating_pending() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        IF NEW.is_valid THEN
          INSERT INTO analytics_ratingpending (rating_id, sign) VALUES (NEW.id, 1);
        END IF;
      ELSIF OLD.is_valid IS DISTINCT FROM NEW.is_valid THEN
        INSERT INTO analytics_ratingpending (rating_id, sign)
          VALUES (NEW.id, CASE WHEN NEW.is_valid THEN 1 ELSE -1 END);
      END IF;
      RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER analytics_rating_pending AFTER INSERT OR UPDATE OF is_valid ON evaluations_rating
    FOR EACH ROW EXECUTE FUNCTION analytics_rating_pending()""",
    f"""CREATE OR REPLACE FUNCTION analytics_case_pending() RETURNS trigger AS $$
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        IF (OLD.status, OLD.finished_at, OLD.department_id, OLD.hall_id, OLD.window_id, OLD.staff_id,
            OLD.item_id, OLD.region_id) IS NOT DISTINCT FROM (NEW.status, NEW.finished_at,
            NEW.department_id, NEW.hall_id, NEW.window_id, NEW.staff_id, NEW.item_id, NEW.region_id) THEN
          RETURN NULL;
        END IF;
        IF {FINISHED.format(t="OLD")} THEN
          INSERT INTO analytics_casepending ({CASE_COLS}, sign) VALUES ({_values("OLD", -1)});
        END IF;
      END IF;
      IF {FINISHED.format(t="NEW")} THEN
        INSERT INTO analytics_casepending ({CASE_COLS}, sign) VALUES ({_values("NEW", 1)});
      END IF;
      RETURN NULL;
    END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER analytics_case_pending AFTER INSERT OR UPDATE ON catalogue_case
    FOR EACH ROW EXECUTE FUNCTION analytics_case_pending()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS analytics_rating_pending ON evaluations_rating",
    "DROP TRIGGER IF EXISTS analytics_case_pending ON catalogue_case",
    "DROP FUNCTION IF EXISTS analytics_rating_pending()",
    "DROP FUNCTION IF EXISTS analytics_case_pending()",
]


def install_triggers(connection) -> None:
    """(Re)create the triggers. SQLite drops a table's triggers when a migration rebuilds the table, so
    this also runs after every `migrate` (analytics/apps.py)."""
    vendor = connection.vendor
    drops = {"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP[:2]}.get(vendor, [])
    with connection.cursor() as cursor:
        for sql in drops + {"sqlite": SQLITE, "postgresql": POSTGRES}.get(vendor, []):
            cursor.execute(sql)


def _run(statements: dict):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_initial"),
        ("evaluations", "0003_drop_redundant_rating_indexes"),
        ("catalogue", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        )
    ]
