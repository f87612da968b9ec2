"""Rows on the rating intake's hot path without the ORM compiling a statement for each one.

On the intake the ORM spent more time building the INSERT of a rating (about 40 fields) and the SELECT of
its case than the database spent on either. Here statements are written once, and values still go through
the fields' own conversions, so what is stored and what is read is exactly what the ORM would store and
read.

- `insert_new(obj)`: obj.save() for a new row. Each value goes through the field's pre_save and
  get_db_prep_save, as save() does (defaults, auto_now_add, JSON and UUID columns come out the same). It
  refuses a model that overrides save(), has save signal receivers, database defaults or a parent table,
  and related objects must be saved first (their ids are read as they are).
- `insert_many(objs)`: bulk_create() for new rows of one model: values prepared by the fields as
  insert_new does, without the ORM compiling each statement, a multi-row INSERT with RETURNING for the
  primary keys (in row order, which Django's bulk_create relies on as well). For a model insert_new
  refuses, or a database that cannot return several rows' keys, it is bulk_create() itself — and so on
  PostgreSQL, where Django 5.2's bulk_create sends one array per column (UNNEST) while a 500-row VALUES
  statement is parsed by psycopg on every call. Same-run A/B, 5,000 cases a round, three rounds:
  SQLite 18,150–19,524/s here against bulk_create's 6,673–8,548/s; PostgreSQL 4,190–4,283/s here
  against bulk_create's 5,868–8,499/s (a docking profile showed psycopg's query conversion taking 30 %
  of the parent's CPU).
- `fetch_row(sql, params, fields)`: one row of a hand-written SELECT, each column converted as the ORM's
  compiler converts that field (SQLite datetimes, booleans, JSON, UUIDs).
"""

import sqlite3

from django.db import connections, models, router
from django.db.models import signals

_PLANS: dict = {}


# Fields whose database value is the Python value itself when that value has the field's own plain type
# (or is None): for those, get_db_prep_save returns its argument unchanged, so it is not called.
_TEXT = (str, type(None))
_NUMBER = (int, type(None))
_FLAG = (bool, type(None))


def _plain_types(field) -> tuple:
    """The value types that need no preparation for this field; () when every value needs it."""
    if field.is_relation:
        field = field.target_field
    if type(field).__module__ != "django.db.models.fields":  # only Django's own classes are trusted
        return ()
    if isinstance(field, models.IntegerField):
        return _NUMBER
    if isinstance(field, models.BooleanField):
        return _FLAG
    if type(field) in (models.CharField, models.TextField):
        return _TEXT
    return ()


def _plan(model, alias: str):
    key = (model, alias)
    plan = _PLANS.get(key)
    if plan is None:
        conn = connections[alias]
        meta = model._meta
        if model.save is not models.Model.save or meta.parents:
            raise TypeError(f"insert_new: {model.__name__} overrides save() or inherits a table")
        if signals.pre_save.has_listeners(model) or signals.post_save.has_listeners(model):
            raise TypeError(f"insert_new: {model.__name__} has save signal receivers")
        fields = [f for f in meta.local_concrete_fields if f is not meta.auto_field and not f.generated]
        if any(f.db_default is not models.NOT_PROVIDED for f in fields):
            raise TypeError(f"insert_new: {model.__name__} has database defaults")
        qn = conn.ops.quote_name
        sql = (
            f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        returning = meta.auto_field is not None and conn.vendor != "sqlite"
        if returning:
            sql += f" RETURNING {qn(meta.auto_field.column)}"
        steps = [(f, _plain_types(f)) for f in fields]
        plan = _PLANS[key] = (steps, sql, returning)
    return plan


def insert_new(obj) -> None:
    """Insert `obj` (not yet saved) as a new row and set its primary key."""
    model = type(obj)
    alias = router.db_for_write(model, instance=obj)
    conn = connections[alias]
    steps, sql, returning = _plan(model, alias)
    values = _values(obj, steps, conn)
    with conn.cursor() as cursor:
        cursor.execute(sql, values)
        pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    if model._meta.auto_field is not None:
        setattr(obj, model._meta.auto_field.attname, pk)
    obj._state.adding = False
    obj._state.db = alias


def _values(obj, steps, conn) -> list:
    values = []
    for f, plain in steps:
        value = f.pre_save(obj, True)
        if type(value) not in plain:
            value = f.get_db_prep_save(value, conn)
        values.append(value)
    return values


def insert_many(objs: list, alias: str = "default", rows_per_statement: int = 500) -> None:
    """Insert `objs` (new instances of one model, not yet saved) and set their primary keys."""
    if not objs:
        return
    model = type(objs[0])
    if any(type(o) is not model for o in objs):
        raise TypeError("insert_many: objects of one model only")
    conn = connections[alias]
    try:
        steps, sql, _returning = _plan(model, alias)
    except TypeError:
        steps = None
    if steps is None or not conn.features.can_return_rows_from_bulk_insert or conn.vendor == "postgresql":
        # A model insert_new would refuse, a database without INSERT … RETURNING for several rows (SQLite
        # before 3.35), or PostgreSQL, where bulk_create is the faster (see above): what this stands in for.
        model._base_manager.using(alias).bulk_create(objs, batch_size=rows_per_statement)
        return
    meta = model._meta
    head, marks = sql.split(" VALUES ")
    marks = marks.split(" RETURNING ")[0]
    qn = conn.ops.quote_name
    returning = f" RETURNING {qn(meta.auto_field.column)}" if meta.auto_field is not None else ""
    if conn.vendor == "sqlite":
        conn.ensure_connection()
        limit = conn.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        rows_per_statement = max(1, min(rows_per_statement, limit // max(1, len(steps))))
    with conn.cursor() as cursor:
        for i in range(0, len(objs), rows_per_statement):
            chunk = objs[i : i + rows_per_statement]
            params = []
            for obj in chunk:
                params.extend(_values(obj, steps, conn))
            cursor.execute(f"{head} VALUES {', '.join([marks] * len(chunk))}{returning}", params)
            if returning:
                pks = [row[0] for row in cursor.fetchall()]
                if len(pks) != len(chunk):
                    raise RuntimeError("insert_many: the database returned fewer keys than rows")
                for obj, pk in zip(chunk, pks, strict=True):
                    setattr(obj, meta.auto_field.attname, pk)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias


_CONVERTERS: dict = {}


def _converters(fields: tuple, alias: str) -> list:
    key = (fields, alias)
    found = _CONVERTERS.get(key)
    if found is None:
        conn = connections[alias]
        found = []
        for i, f in enumerate(fields):
            col = f.get_col(f.model._meta.db_table)
            convs = conn.ops.get_db_converters(col) + f.get_db_converters(conn)
            if convs:
                found.append((i, convs, col))
        _CONVERTERS[key] = found
    return found


def fetch_row(sql: str, params, fields: tuple, alias: str = "default") -> list | None:
    """The first row of `sql`, whose columns are `fields` in order, converted as the ORM would."""
    conn = connections[alias]
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    row = list(row)
    for i, convs, col in _converters(fields, alias):
        value = row[i]
        for conv in convs:
            value = conv(value, col, conn)
        row[i] = value
    return row
