"""`haocha import --kind ratings`: legacy ratings (national interface field names), checked by the rule book
against a context loaded per batch and written a batch at a time (COPY on PostgreSQL, multi-row INSERT on
SQLite). The file side is `importfiles.py`; cases are imported by `case_import.py`."""

import ipaddress
import operator
import re
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import datetime
from itertools import chain

import orjson
from django.db import DatabaseError, IntegrityError, connections, transaction
from django.utils import timezone

from haocha.accounts.access import Actor
from haocha.accounts.models import ApiClient
from haocha.catalogue.caseno import normalise_case_no
from haocha.catalogue.models import Case
from haocha.core.ids import uuid7_hex
from haocha.evaluations import rules
from haocha.evaluations.channels import Channel, channel_from_code, indicator_set_code
from haocha.evaluations.hooks import rating_stored
from haocha.evaluations.importfiles import (
    DEFAULT_BATCH,
    ImportSummary,
    RecordError,
    chunks,
    field_text,
    parse_time,
    run_import,
)
from haocha.evaluations.models import Rating
from haocha.evaluations.policy import DEFAULT as DEFAULT_POLICY
from haocha.evaluations.policy import active_set, policy_for_region
from haocha.organisations.models import Region, Staff, Window

_SQLITE_ROWS_PER_INSERT = 800  # rows per multi-row INSERT on SQLite (bounded by its variable limit)
_REASON_SPLIT = re.compile(r"[,，;；|、\s]+")
_CHANNEL_NAMES = frozenset(Channel.values)
_CHANNEL_WORDS = {c.label: c.value for c in Channel}
_FINISHED = Case.Status.FINISHED.value


def _col(model, name: str) -> str:
    return model._meta.get_field(name).column


# --- ratings -------------------------------------------------------------------------------------

# Columns read from the case for each rating (the evaluator normally is the applicant: copy, not recompute).
_CASE_COLUMNS = (
    "id",
    "case_no",
    "status",
    "finished_at",
    "department",
    "hall",
    "window",
    "staff",
    "item",
    "region",
    "applicant_type",
    "applicant_name",
    "applicant_id_hash",
    "applicant_id_masked",
    "applicant_id_enc",
    "applicant_phone_hash",
    "applicant_phone_masked",
    "applicant_phone_enc",
)
# Columns of an earlier rating the rules compare a record with (rules.PriorRating).
_PRIOR_COLUMNS = (
    "id",
    "case",
    "kind",
    "window",
    "rated_at",
    "evaluator_type",
    "evaluator_name",
    "evaluator_id_hash",
    "evaluator_id_masked",
    "evaluator_id_enc",
    "evaluator_phone_hash",
    "evaluator_phone_masked",
    "evaluator_phone_enc",
    "department",
    "hall",
    "window",
    "staff",
    "item",
    "region",
    "level",
    "indicator_levels",
    "reason_codes",
    "comment",
    "channel",
    "idempotency_key",
)
# Rating columns the importer writes, in row order (attnames).
_INSERT_FIELDS = (
    "public_id",
    "case_id",
    "kind",
    "first_rating_id",
    "department_id",
    "hall_id",
    "window_id",
    "staff_id",
    "item_id",
    "region_id",
    "level",
    "is_bad",
    "indicator_levels",
    "reason_codes",
    "comment",
    "indicator_set_id",
    "channel",
    "evaluator_type",
    "evaluator_name",
    "evaluator_id_hash",
    "evaluator_id_masked",
    "evaluator_id_enc",
    "evaluator_phone_hash",
    "evaluator_phone_masked",
    "evaluator_phone_enc",
    "rated_at",
    "received_at",
    "client_ip",
    "device_id",
    "source_id",
    "recorded_by_id",
    "idempotency_scope",
    "idempotency_key",
    "is_default",
    "is_valid",
    "invalid_reason",
    "is_hidden",
)
_FIRST_RATING_POS = _INSERT_FIELDS.index("first_rating_id")
_IS_BAD_POS = _INSERT_FIELDS.index("is_bad")
# The fields the rule book gives, in row order (the rest are the import's own: ids, times, source, key).
_RULE_HEAD = operator.itemgetter("case_id", "kind", "first_rating_id", *rules.WHERE_FIELDS, "level", "is_bad")
_RULE_MIDDLE = operator.itemgetter(
    "comment", "indicator_set_id", "channel", *(f"evaluator_{name}" for name in rules.Person._fields)
)


class _Parsed:
    """One rating record as the rule book reads it (rules.RatingInput), with where it came from."""

    __slots__ = ("channel_text", "data", "is_default", "kind", "line", "record")


# The text fields of a rating record, read in one pass (each as _text would give it).
_RATING_TEXT_FIELDS = (
    "projectNo",
    "assessNumber",
    "pf",
    "satisfaction",
    "level",
    "writingEvaluation",
    "assessTime",
    "userProp",
    "userName",
    "certKey",
    "mobile",
    "windowCode",
    "regionCode",
    "staffNo",
    "deviceId",
    "clientIp",
    "submissionId",
)


def _parse_rating(line: int, rec: dict) -> _Parsed:
    """The record in the national interface's field names, read into the rule book's input; what only a
    file can get wrong (no case number, no time, a time or address that does not parse) is refused here."""
    (
        case_no,
        number,
        channel_text,
        satisfaction,
        word,
        comment,
        when,
        ev_type,
        ev_name,
        ev_id,
        ev_phone,
        window_code,
        region_code,
        staff_no,
        device_id,
        ip,
        key,
    ) = [
        v.strip() if v.__class__ is str else ("" if v is None else str(v).strip())
        for v in map(rec.get, _RATING_TEXT_FIELDS)
    ]
    p = _Parsed()
    p.line, p.record = line, rec
    case_no = normalise_case_no(case_no)
    if not case_no:
        if not window_code:
            rules.refuse("case_or_window_required")
        raise RecordError("visit_not_importable", "“一次一评”窗口评价（无办件编号）不支持批量导入")
    if number == "1" or not number:
        p.kind = rules.FIRST
    elif number == "2":
        p.kind = rules.FOLLOW_UP
    else:
        raise RecordError(
            "invalid_assess_number", f"评价次数 assessNumber“{number}”无效（1 首次评价，2 追评）"
        )
    if not channel_text:
        rules.refuse("unknown_channel", channel="（未提供 pf）")
    p.channel_text = channel_text
    p.is_default = str(rec.get("isDefault") or "").strip() == "1"
    level = rules.level_of(satisfaction=satisfaction, level=word)
    detail = rec.get("evalDetail")
    if isinstance(detail, list):
        codes = [str(c).strip() for c in detail]
    elif detail is None or detail == "":
        codes = ()
    else:
        codes = _REASON_SPLIT.split(field_text(rec, "evalDetail"))
    indicators = rec.get("indicators") or {}
    if isinstance(indicators, str):  # a CSV cell holds the object as JSON text
        try:
            indicators = orjson.loads(indicators)
        except orjson.JSONDecodeError:
            indicators = None
    if not isinstance(indicators, dict):
        raise RecordError("invalid_indicators", "分项指标 indicators 应为“指标编码: 等级”的 JSON 对象")
    if not when:
        raise RecordError("rated_at_required", "须提供评价时间（assessTime）")
    rated_at = parse_time(when, "评价时间")
    if ip:
        try:
            ip = str(ipaddress.ip_address(ip))
        except ValueError as exc:
            raise RecordError("invalid_client_ip", f"评价IP“{ip}”不是有效的 IP 地址") from exc
    p.data = rules.RatingInput(
        channel=channel_text,  # the channel itself once the case's region is known (_channel)
        level=level,
        case_no=case_no,
        window_code=window_code,
        staff_no=staff_no,
        indicators={str(code): str(value) for code, value in indicators.items()},
        reasons=[c for c in codes if c],
        comment=comment,
        evaluator=rules.EvaluatorInput(type=ev_type, name=ev_name, id_number=ev_id, phone=ev_phone)
        if (ev_name or ev_id or ev_phone)
        else None,
        rated_at=rated_at,
        region_code=region_code,
        client_ip=ip or None,
        device_id=device_id[:64],
        idempotency_key=key[:64],
    )
    return p


def _public_ids(count: int, native_uuid: bool) -> Iterator:
    """`count` public ids as the model's default makes them (version-7 UUIDs, see core.ids: time-ordered, so
    inserts stay at the end of the unique index), as UUID objects or as the 32 hex digits SQLite stores."""
    ids = uuid7_hex(count)
    return (uuid.UUID(hex=x) for x in ids) if native_uuid else ids


def _json_value(value):
    """A JSON column as the database cursor returns it (text on SQLite; psycopg under Django: text too)."""
    return orjson.loads(value) if isinstance(value, str | bytes) else value


class _Prepared:
    """A checked batch: rows to write, rejects and duplicates."""

    __slots__ = ("duplicates", "rejects", "rows_first", "rows_follow")

    def __init__(self):
        self.rejects: list[tuple] = []
        self.rows_first: list[tuple] = []
        self.rows_follow: list[tuple] = []
        self.duplicates = 0

    @property
    def imported(self) -> int:
        return len(self.rows_first) + len(self.rows_follow)


def _uploaded_default(ctx: rules.Context, data: rules.RatingInput):
    """A lower-level system's 系统默认评价 (docking): checked by the default rule, once per case."""
    prior = ctx.first
    if prior is not None:
        if prior.channel == Channel.DEFAULT and prior.level == data.level and prior.rated_at == data.rated_at:
            return rules.Replay(prior)
        rules.refuse("already_rated")
    return rules.default_rating(ctx, data.level, data.rated_at)


class RatingImporter:
    """Checks ratings with the rule book (the same rules as the intake, times being the legacy system's) and
    writes them in batches: one transaction per batch, COPY on PostgreSQL, multi-row INSERT on SQLite."""

    def __init__(
        self,
        *,
        client: ApiClient | None = None,
        using: str = "default",
        work_orders: bool = False,
        defaults: bool = False,
    ):
        self.client = client
        self.defaults = defaults  # a child system's 系统默认评价 (docking) are taken as defaults
        self.using = using
        self.work_orders = work_orders
        self.actor = Actor(
            label="导入", all_access=True, client=client, scopes=frozenset(ApiClient.Scope.values)
        )
        self.connection = connections[using]
        self.scope = f"client:{client.pk}" if client else "import"
        self.source_id = client.pk if client else None
        self.windows: dict[str, rules.WindowSnapshot | None] = {}
        self.window_hall: dict[int, int | None] = {}
        self.staff: dict[str, rules.StaffSnapshot | None] = {}
        self.regions: dict[int, rules.RegionSnapshot] = {}
        self.places: dict[str, rules.RegionSnapshot | None] = {}  # by code
        self.policies: dict[int, object] = {}
        self.channels: dict[tuple, str] = {}
        self.json_cache: dict = {}
        self._prepare_sql()

    # SQL -------------------------------------------------------------------------------------------
    def _prepare_sql(self) -> None:
        conn = self.connection
        qn = conn.ops.quote_name
        self.vendor = conn.vendor
        case_table = qn(Case._meta.db_table)
        rating_table = qn(Rating._meta.db_table)
        case_cols = ", ".join(qn(_col(Case, n)) for n in _CASE_COLUMNS)
        self.sql_cases = f"SELECT {case_cols} FROM {case_table} WHERE {qn(_col(Case, 'case_no'))} IN (__IN__)"
        prior_cols = ", ".join(qn(_col(Rating, n)) for n in _PRIOR_COLUMNS)
        case_col = qn(_col(Rating, "case"))
        self.sql_ratings = f"SELECT {prior_cols} FROM {rating_table} WHERE {case_col} IN (__IN__)"
        key_col, scope_col = qn(_col(Rating, "idempotency_key")), qn(_col(Rating, "idempotency_scope"))
        # The partial unique index is WHERE NOT (key = ''): repeating the term lets SQLite use it.
        self.sql_keys = (
            f"SELECT {prior_cols} FROM {rating_table} "
            f"WHERE {scope_col} = %s AND NOT ({key_col} = '') AND {key_col} IN (__IN__)"
        )
        self.sql_first_ids = (
            f"SELECT {case_col}, {qn(_col(Rating, 'id'))} FROM {rating_table} "
            f"WHERE {qn(_col(Rating, 'kind'))} = {rules.FIRST} AND {case_col} IN (__IN__)"
        )
        fields = {f.attname: f for f in Rating._meta.concrete_fields if not f.primary_key}
        unknown = [f for name, f in fields.items() if name not in _INSERT_FIELDS]
        self.extra_values: tuple = ()
        for f in unknown:  # fields added later: write their default, or refuse clearly
            if not (f.has_default() or f.null):
                raise RuntimeError(f"评价表新增了必填字段 {f.name}，导入程序需要更新")
            self.extra_values += (f.get_db_prep_save(f.get_default(), conn),)
        columns = [fields[name].column for name in _INSERT_FIELDS] + [f.column for f in unknown]
        placeholders = ", ".join(["%s"] * len(columns))
        self.sql_insert = (
            f"INSERT INTO {rating_table} ({', '.join(qn(c) for c in columns)}) VALUES ({placeholders})"
        )
        # PostgreSQL: COPY is about twice as fast as a pipelined executemany for this table.
        self.sql_copy = f"COPY {rating_table} ({', '.join(qn(c) for c in columns)}) FROM STDIN"
        self.use_copy = conn.vendor == "postgresql"
        # SQLite: one multi-row INSERT per few hundred rows instead of one statement per row. Each
        # statement with a trigger opens a statement journal and re-journals the pages it touches; a
        # multi-row statement pays that once (about 2.5x faster with the analytics trigger, which still
        # fires for every row).
        self.sqlite_insert_head = f"INSERT INTO {rating_table} ({', '.join(qn(c) for c in columns)}) VALUES "
        self.sqlite_row_marks = "(" + ", ".join(["?"] * len(columns)) + ")"
        self.sqlite_rows_per_insert = 1
        if conn.vendor == "sqlite":
            conn.ensure_connection()
            limit = conn.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
            self.sqlite_rows_per_insert = max(1, min(_SQLITE_ROWS_PER_INSERT, limit // len(columns)))
        self._sqlite_inserts: dict[int, str] = {}
        self.native_uuid = conn.features.has_native_uuid_field
        if conn.vendor == "sqlite":
            tz = conn.timezone

            def adapt_dt(value: datetime) -> str:
                return str(value.astimezone(tz).replace(tzinfo=None))

            self.adapt_dt = adapt_dt
            self.adapt_ip = None
        else:
            self.adapt_dt = conn.ops.adapt_datetimefield_value
            self.adapt_ip = conn.ops.adapt_ipaddressfield_value
        self._json_field = Rating._meta.get_field("reason_codes")

    def _json(self, key, value) -> object:
        """The JSON column value as the ORM would write it; cached, as ratings repeat a few shapes."""
        hit = self.json_cache.get(key)
        if hit is None:
            if len(self.json_cache) > 10000:
                self.json_cache.clear()
            hit = self._json_field.get_db_prep_save(value, self.connection)
            self.json_cache[key] = hit
        return hit

    def _select(self, cursor, sql: str, values: list, *prefix) -> list:
        if self.vendor == "postgresql":  # one array parameter: planning 5,000 parameters cost more
            if not values:
                return []
            cursor.execute(sql.replace("IN (__IN__)", "= ANY(%s)"), (*prefix, list(values)))
            return cursor.fetchall()
        rows = []
        for chunk in chunks(values):
            cursor.execute(sql.replace("__IN__", ", ".join(["%s"] * len(chunk))), (*prefix, *chunk))
            rows.extend(cursor.fetchall())
        return rows

    def _aware(self, value):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=self.connection.timezone)
        return value

    def _prior(self, row) -> rules.PriorRating:
        return rules.PriorRating(
            id=row[0],
            case_id=row[1],
            kind=row[2],
            window_id=row[3],
            rated_at=self._aware(row[4]),
            evaluator=rules.Person(*row[5:13]),
            where=tuple(row[13:19]),
            level=row[19],
            indicator_levels=_json_value(row[20]),
            reason_codes=_json_value(row[21]),
            comment=row[22],
            channel=row[23],
            key=row[24],
        )

    # reference data --------------------------------------------------------------------------------
    def _load_reference(self, parsed: list[_Parsed], rows: list) -> None:
        codes = {p.data.window_code for p in parsed if p.data.window_code} - self.windows.keys()
        if codes:
            self.windows.update(dict.fromkeys(codes))
            for code, pk, hall_id, department_id in (
                Window.objects.using(self.using)
                .filter(code__in=codes, is_active=True)
                .values_list("code", "pk", "hall_id", "department_id")
            ):
                self.windows[code] = rules.WindowSnapshot(pk, hall_id, department_id, None)
        window_ids = {r[6] for r in rows if r[6] is not None and r[5] is None} - self.window_hall.keys()
        if window_ids:
            self.window_hall.update(
                Window.objects.using(self.using).filter(pk__in=window_ids).values_list("pk", "hall_id")
            )
        nos = {p.data.staff_no for p in parsed if p.data.staff_no} - self.staff.keys()
        if nos:
            self.staff.update(dict.fromkeys(nos))
            found = list(
                Staff.objects.using(self.using)
                .filter(staff_no__in=nos)
                .values_list("staff_no", "pk", "department_id")
            )
            served: dict[int, set] = {}
            links = Staff.windows.through.objects.using(self.using).filter(staff_id__in=[f[1] for f in found])
            for staff_id, window_id in links.values_list("staff_id", "window_id"):
                served.setdefault(staff_id, set()).add(window_id)
            for staff_no, pk, department_id in found:
                self.staff[staff_no] = rules.StaffSnapshot(pk, department_id, frozenset(served.get(pk, ())))
        region_ids = {r[9] for r in rows} - self.regions.keys()
        if region_ids:
            for region in Region.objects.using(self.using).filter(pk__in=region_ids):
                self.regions[region.pk] = rules.RegionSnapshot(
                    region.pk, region.code, region.path, region.name
                )
                self.policies[region.pk] = policy_for_region(region)
        places = {p.data.region_code for p in parsed if p.data.region_code} - self.places.keys()
        if places:
            self.places.update(dict.fromkeys(places))
            for pk, code, path, name in (
                Region.objects.using(self.using)
                .filter(code__in=places)
                .values_list("pk", "code", "path", "name")
            ):
                self.places[code] = rules.RegionSnapshot(pk, code, path, name)

    def _case(self, row) -> rules.CaseSnapshot:
        hall_id = row[5]
        if hall_id is None and row[6] is not None:
            hall_id = self.window_hall.get(row[6])
        return rules.CaseSnapshot(
            id=row[0],
            case_no=row[1],
            finished=row[2] == _FINISHED and row[3] is not None,
            finished_at=row[3],
            department_id=row[4],
            hall_id=hall_id,
            window_id=row[6],
            staff_id=row[7],
            item_id=row[8],
            region=self.regions[row[9]],
            applicant=rules.Person(*row[10:18]),
        )

    def _channel(self, text: str, region_id: int | None) -> str:
        """The channel a record's `pf` names: our own name, its Chinese label, or a code of the region's table."""
        hit = self.channels.get((text, region_id))
        if hit is not None:
            return hit
        if text in _CHANNEL_NAMES:
            channel = text
        elif text in _CHANNEL_WORDS:
            channel = _CHANNEL_WORDS[text]
        else:
            policy = self.policies.get(region_id) or DEFAULT_POLICY
            try:
                channel = channel_from_code(text, policy.channel_codes or None)
            except ValueError:
                rules.refuse("unknown_channel", channel=text)
        self.channels[(text, region_id)] = channel
        return channel

    # one batch -------------------------------------------------------------------------------------
    def run_batch(self, batch: list, summary: ImportSummary) -> list[tuple]:
        """Import one batch in one transaction; returns the rejects to log. Retried on a write race."""
        for attempt in range(3):
            try:
                with transaction.atomic(using=self.using):
                    rejects, imported, duplicates = self._batch(batch)
                break
            except IntegrityError:
                if attempt == 2:
                    raise
            except DatabaseError:
                if len(batch) == 1:
                    raise
                # A value the database refuses fails the whole batch: redo it record by record to
                # find the culprit and reject it, so the rest still goes in.
                rejects, imported, duplicates = self._one_by_one(batch)
                break
        summary.add(rejects, imported, duplicates)
        return rejects

    def _one_by_one(self, batch: list) -> tuple[list, int, int]:
        rejects, imported, duplicates = [], 0, 0
        for item in batch:
            try:
                with transaction.atomic(using=self.using):
                    r, i, d = self._batch([item])
            except DatabaseError as exc:
                line, record = item[0], item[1]
                r, i, d = [(line, "database_refused", f"数据库拒绝该记录：{str(exc)[:200]}", record)], 0, 0
            rejects += r
            imported += i
            duplicates += d
        return rejects, imported, duplicates

    def _batch(self, batch: list) -> tuple[list, int, int]:
        prepared = self._prepare(batch)
        self._store(prepared)
        return prepared.rejects, prepared.imported, prepared.duplicates

    def _prepare(self, batch: list) -> _Prepared:
        """Parse a batch, load what the rules need for it and check each record against the database as it
        is and the records before it."""
        out = _Prepared()
        parsed: list[_Parsed] = []
        for line, record, error in batch:
            if error:
                out.rejects.append((line, *error, record))
                continue
            try:
                parsed.append(_parse_rating(line, record))
            except (RecordError, rules.RuleError) as exc:
                out.rejects.append((line, exc.code, exc.message, record))
        if not parsed:
            return out
        cursor = self.connection.cursor()
        try:
            aware = self._aware
            case_rows = [
                (*row[:3], aware(row[3]), *row[4:])
                for row in self._select(cursor, self.sql_cases, list({p.data.case_no for p in parsed}))
            ]
            priors = [
                self._prior(row) for row in self._select(cursor, self.sql_ratings, [r[0] for r in case_rows])
            ]
            keys = list({p.data.idempotency_key for p in parsed if p.data.idempotency_key})
            keyed = {
                prior.key: prior
                for prior in map(self._prior, self._select(cursor, self.sql_keys, keys, self.scope))
            }
            self._load_reference(parsed, case_rows)
        finally:
            cursor.close()
        cases = {row[1]: self._case(row) for row in case_rows}
        rated = {(prior.case_id, prior.kind): prior for prior in priors}
        self._check(parsed, cases, rated, keyed, out)
        return out

    def _check(self, parsed: list[_Parsed], cases: dict, rated: dict, keyed: dict, out: _Prepared) -> None:
        """Each record through the rule book, in file order: a rating made by an earlier record counts as there."""
        now = timezone.now()
        received = self.adapt_dt(now)
        sets: dict[str, object] = {}
        adapt_dt, adapt_ip = self.adapt_dt, self.adapt_ip
        new_id = _public_ids(len(parsed), self.native_uuid).__next__
        scope, source_id = self.scope, self.source_id
        rejects = out.rejects
        # One context, its parts set for each record (the rules only read it).
        ctx = rules.Context(now=now, arrival=False, policy=DEFAULT_POLICY)  # times are the legacy system's
        windows, staff, places, policies = self.windows, self.staff, self.places, self.policies
        first_rating, follow_up = rules.first_rating, rules.follow_up
        for p in parsed:
            data = p.data
            case = cases.get(data.case_no)
            try:
                region_id = case.region.id if case is not None else None
                data.channel = channel = self._channel(p.channel_text, region_id)
                aset = sets.get(channel)
                if aset is None:
                    aset = sets[channel] = active_set(indicator_set_code(channel))
                ctx.policy = policies.get(region_id) or DEFAULT_POLICY
                ctx.indicator_set = aset
                ctx.case = case
                ctx.window = windows.get(data.window_code) if data.window_code else None
                ctx.staff = staff.get(data.staff_no) if data.staff_no else None
                ctx.place = places.get(data.region_code) if data.region_code else None
                if case is not None:
                    ctx.first, ctx.follow_up = rated.get((case.id, 1)), rated.get((case.id, 2))
                else:
                    ctx.first = ctx.follow_up = None
                ctx.keyed = keyed.get(data.idempotency_key) if data.idempotency_key else None
                if p.is_default and self.defaults and p.kind == rules.FIRST:
                    outcome = _uploaded_default(ctx, data)
                else:
                    outcome = (first_rating if p.kind == rules.FIRST else follow_up)(ctx, data)
            except rules.RuleError as exc:
                rejects.append((p.line, exc.code, exc.message, p.record))
                continue
            if outcome.__class__ is rules.Replay:  # a repeat of an earlier submission: a duplicate
                out.duplicates += 1
                continue
            levels, reasons = outcome["indicator_levels"], outcome["reason_codes"]
            head, middle = _RULE_HEAD(outcome), _RULE_MIDDLE(outcome)
            rated_at = outcome["rated_at"]
            row = (
                new_id(),
                *head,
                self._json(tuple(levels.items()), levels),
                self._json(tuple(reasons), reasons),
                *middle,
                adapt_dt(rated_at),
                received,
                adapt_ip(data.client_ip) if adapt_ip and data.client_ip else data.client_ip,
                data.device_id,
                source_id,
                None,
                scope,
                data.idempotency_key,
                outcome.get("is_default", False),
                True,
                "",
                False,
                *self.extra_values,
            )
            case_id, kind, where = head[0], head[1], head[3:9]
            prior = rules.PriorRating(  # id: written with the batch (a 追评 of it gets the id then)
                None,
                case_id,
                kind,
                where[2],
                rated_at,
                rules.Person(*middle[3:]),
                where,
                head[9],
                levels,
                reasons,
                middle[0],
                middle[2],
                data.idempotency_key,
            )
            rated[(case_id, kind)] = prior
            if data.idempotency_key:
                keyed[data.idempotency_key] = prior
            (out.rows_first if kind == rules.FIRST else out.rows_follow).append(row)

    def _store(self, prepared: _Prepared) -> None:
        """Write a checked batch (inside the caller's transaction)."""
        rows_first, rows_follow = prepared.rows_first, prepared.rows_follow
        if not (rows_first or rows_follow):
            return
        cursor = connections[self.using].cursor()
        try:
            if rows_first:
                self._write(cursor, rows_first)
            if rows_follow:
                pending = [row[1] for row in rows_follow if row[_FIRST_RATING_POS] is None]
                if pending:
                    first_ids = dict(self._select(cursor, self.sql_first_ids, list(set(pending))))
                    for i, row in enumerate(rows_follow):
                        if row[_FIRST_RATING_POS] is None:
                            row = list(row)
                            row[_FIRST_RATING_POS] = first_ids[row[1]]
                            rows_follow[i] = tuple(row)
                self._write(cursor, rows_follow)
        finally:
            cursor.close()
        if self.work_orders:
            self._work_orders([r for r in (*rows_first, *rows_follow) if r[_IS_BAD_POS]])

    def _work_orders(self, bad_rows: list[tuple]) -> None:
        """As the intake does, in the batch's transaction: each imported 差评 goes to the rating-stored hook
        (work orders register there)."""
        if not bad_rows:
            return
        wanted = {(row[1], row[2]) for row in bad_rows}
        ratings = (
            Rating.objects.using(self.using)
            .filter(case_id__in={case_id for case_id, _kind in wanted})
            .select_related("region")
            .order_by("kind", "pk")
        )
        for rating in ratings:
            if (rating.case_id, rating.kind) in wanted:
                rating_stored(rating=rating, actor=self.actor)

    def _write(self, cursor, rows: list[tuple]) -> None:
        if self.use_copy:
            # the raw cursor's errors as Django's (IntegrityError: a rating stored meanwhile, see run_batch)
            with cursor.db.wrap_database_errors, cursor.cursor.copy(self.sql_copy) as copy:
                for row in rows:
                    copy.write_row(row)
        elif self.vendor == "sqlite":
            raw = cursor.db.connection
            step = self.sqlite_rows_per_insert
            with cursor.db.wrap_database_errors:
                for i in range(0, len(rows), step):
                    chunk = rows[i : i + step]
                    sql = self._sqlite_inserts.get(len(chunk))
                    if sql is None:
                        sql = self.sqlite_insert_head + ", ".join([self.sqlite_row_marks] * len(chunk))
                        self._sqlite_inserts[len(chunk)] = sql
                    raw.execute(sql, list(chain.from_iterable(chunk)))
        else:
            cursor.executemany(self.sql_insert, rows)


def import_ratings(
    path,
    *,
    fmt: str | None = None,
    client: ApiClient | None = None,
    rejects_path=None,
    batch: int = DEFAULT_BATCH,
    encoding: str = "utf-8-sig",
    using: str = "default",
    progress=None,
    work_orders: bool = False,
) -> ImportSummary:
    """Import ratings (national interface field names). History by default: 差评 make no work orders."""
    importer = RatingImporter(client=client, using=using, work_orders=work_orders)
    return run_import("ratings", path, fmt, importer, rejects_path, batch, encoding, progress)
