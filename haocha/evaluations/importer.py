"""Bulk import of cases and ratings from a legacy system (CSV or JSON lines), checked like the intake."""

import contextlib
import csv
import gc
import hashlib
import ipaddress
import marshal
import multiprocessing
import operator
import queue
import re
import signal
import sqlite3
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import chain
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connections, transaction
from django.utils import timezone

from haocha.accounts.access import Actor
from haocha.accounts.models import ApiClient
from haocha.catalogue.models import ApplicantType, Case
from haocha.catalogue.services import CaseInput, cases_upsert
from haocha.core import identity
from haocha.core.ids import uuid7_hex
from haocha.evaluations import levels as lv
from haocha.evaluations.channels import SYSTEM_ONLY_CHANNELS, Channel, channel_from_code, indicator_set_code
from haocha.evaluations.hooks import rating_stored
from haocha.evaluations.models import Rating
from haocha.evaluations.policy import active_set, policy_for_region
from haocha.evaluations.rules import CLOCK_SKEW, MAX_COMMENT
from haocha.organisations.models import Region, Staff, Window

DEFAULT_BATCH = 5000
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # the intake's floor for a rating time
_IN_CHUNK = 5000  # values per IN (...) list; far below SQLite's 32766 variables
_SQLITE_ROWS_PER_INSERT = 800  # rows per multi-row INSERT on SQLite (bounded by its variable limit)
_COMPACT_TIME = re.compile(r"^(\d{4})(\d{2})(\d{2})T?(\d{2})(\d{2})(\d{2})$")
_REASON_SPLIT = re.compile(r"[,，;；|、\s]+")
_CHANNEL_WORDS = {c.label: c.value for c in Channel}
_APPLICANT_TYPES = frozenset(ApplicantType.values)
_PERSON = ApplicantType.PERSON.value
_FIRST, _FOLLOW_UP = int(Rating.Kind.FIRST), int(Rating.Kind.FOLLOW_UP)
_FINISHED = Case.Status.FINISHED.value
_BAD_LEVELS = frozenset(level.value for level in lv.BAD_LEVELS)
_STATUS_WORDS = {s.label: s.value for s in Case.Status}
_APPLY_WORDS = {c.label: c.value for c in Case.ApplyChannel}


class RecordError(Exception):
    """A record that cannot be imported: a stable code and a Chinese message, as the intake gives."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class ImportSummary:
    kind: str
    read: int = 0
    imported: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: int = 0
    seconds: float = 0.0
    rejects_path: str = ""
    reject_codes: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "read": self.read,
            "imported": self.imported,
            "updated": self.updated,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "seconds": round(self.seconds, 3),
            "records_per_s": round(self.rate, 1),
            "rejects_path": self.rejects_path,
            "reject_codes": dict(sorted(self.reject_codes.items())),
        }

    def add(self, rejects: list[tuple], imported: int, duplicates: int) -> None:
        self.imported += imported
        self.duplicates += duplicates
        self.rejected += len(rejects)
        for r in rejects:
            self.reject_codes[r[1]] = self.reject_codes.get(r[1], 0) + 1

    def text(self) -> str:
        noun = "办件" if self.kind == "cases" else "评价"
        parts = [
            f"读取{noun} {self.read} 条",
            f"导入 {self.imported} 条",
        ]
        if self.kind == "cases":
            parts.append(f"更新 {self.updated} 条")
        parts += [
            f"重复跳过 {self.duplicates} 条",
            f"拒绝 {self.rejected} 条",
            f"用时 {self.seconds:.2f} 秒",
            f"速度 {self.rate:,.0f} 条/秒",
        ]
        text = "，".join(parts)
        if self.rejected:
            text += f"\n拒绝明细见 {self.rejects_path}"
            text += "\n" + "；".join(f"{code} {n} 条" for code, n in sorted(self.reject_codes.items()))
        return text


class RejectLog:
    """Rejected records, one JSON line each (line number, code, Chinese message, the record)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._file = None
        if self.path.exists():
            self.path.unlink()  # a stale file from an earlier run would mislead

    def write(self, rejects: list[tuple]) -> None:
        if not rejects:
            return
        if self._file is None:
            self._file = open(self.path, "ab")  # noqa: SIM115 - closed in close()
        for line, code, message, record in rejects:
            if record.__class__ is bytes:  # a record parsed ahead travels as its line (see _ParseAhead)
                record = orjson.loads(record)
            entry = {"line": line, "code": code, "message": message, "record": record}
            self._file.write(orjson.dumps(entry, default=str) + b"\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


# --- reading -------------------------------------------------------------------------------------


def guess_format(path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    raise ValueError(f"无法从扩展名 {suffix or '（无）'} 判断文件格式，请用 --format csv|jsonl 指定")


def read_records(path, fmt: str, encoding: str = "utf-8-sig") -> Iterator[tuple[int, dict | None, tuple]]:
    """Yield (line number, record, error) for each record; error is () or (code, message) to reject it."""
    if fmt == "csv":
        with open(path, newline="", encoding=encoding) as fh:
            reader = csv.DictReader(fh)
            for row in reader:
                row.pop(None, None)  # surplus cells of a ragged line
                if any("\x00" in v for v in row.values() if isinstance(v, str)):
                    yield reader.line_num, row, _NUL
                    continue
                yield reader.line_num, row, ()
        return
    if fmt != "jsonl":
        raise ValueError(f"不支持的格式 {fmt}（csv 或 jsonl）")
    for line_no, _raw, record, error in _jsonl_lines(path):
        yield line_no, record, error


def _jsonl_lines(path) -> Iterator[tuple[int, bytes, dict | None, tuple]]:
    """(line number, the line, its record or None, error) for each line of a JSON lines file but blank
    ones; error is () or (code, message); a line that is no JSON object has no record."""
    with open(path, "rb") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                yield line_no, line, None, ("unreadable_line", "该行不是有效的 JSON")
                continue
            if not isinstance(record, dict):
                yield line_no, line, None, ("unreadable_line", "该行不是 JSON 对象")
                continue
            # PostgreSQL cannot store NUL: one would fail a whole batch. The byte test is the fast filter.
            if b"\\u0000" in line and _has_nul(record):
                yield line_no, line, record, _NUL
                continue
            yield line_no, line, record, ()


def _batches(records: Iterator, size: int) -> Iterator[list]:
    batch = []
    for item in records:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _text(record: dict, name: str) -> str:
    value = record.get(name)
    if value.__class__ is str:
        return value.strip()
    if value is None:
        return ""
    return str(value).strip()


_NUL = ("invalid_character", "记录含有空字符（NUL），数据库无法保存")


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


@cache
def _local_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def parse_time(text: str, label: str) -> datetime:
    """`YYYYMMDDThhmmss` (GB/T 39046) or ISO 8601; a time without an offset is Beijing time."""
    m = _COMPACT_TIME.match(text)
    try:
        if m:
            y, mo, d, hh, mm, ss = map(int, m.groups())
            return datetime(y, mo, d, hh, mm, ss, tzinfo=_local_tz())
        else:
            value = datetime.fromisoformat(text.replace("/", "-"))
    except ValueError as exc:
        raise RecordError(
            "invalid_time", f"{label}“{text}”不是有效的时间（YYYYMMDDThhmmss 或 ISO 8601）"
        ) from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=_local_tz())
    return value


def _chunks(values: list, size: int = _IN_CHUNK) -> Iterator[list]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


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
_RATING_COLUMNS = (
    "case",
    "kind",
    "id",
    "rated_at",
    "department",
    "hall",
    "window",
    "staff",
    "item",
    "region",
    "evaluator_type",
    "evaluator_name",
    "evaluator_id_hash",
    "evaluator_id_masked",
    "evaluator_id_enc",
    "evaluator_phone_hash",
    "evaluator_phone_masked",
    "evaluator_phone_enc",
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


class _Parsed:
    """One rating record after the checks that need no database."""

    __slots__ = (
        "case_no",
        "channel_text",
        "client_ip",
        "comment",
        "device_id",
        "ev_id",
        "ev_name",
        "ev_phone",
        "ev_type",
        "key",
        "kind",
        "level",
        "line",
        "rated_at",
        "reasons",
        "record",
        "region_code",
        "staff_no",
        "window_code",
    )


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
_levels_seen: dict[tuple, str] = {}  # (satisfaction, level word) -> level, for pairs that were valid


def _level_of(satisfaction: str, word: str) -> str:
    hit = _levels_seen.get((satisfaction, word))
    if hit is not None:
        return hit
    if not satisfaction and not word:
        raise RecordError("level_required", "须提供满意度 satisfaction（1 非常不满意 … 5 非常满意）或 level")
    try:
        level = lv.from_satisfaction(satisfaction) if satisfaction else None
        if word:
            by_word = lv.parse_level(word)
            if level is not None and by_word != level:
                raise RecordError("level_mismatch", f"satisfaction“{satisfaction}”与 level“{word}”不一致")
            level = by_word
    except lv.UnknownLevel as exc:
        raise RecordError("unknown_level", f"无法识别的满意度等级：{exc}") from exc
    if len(_levels_seen) < 1000:
        _levels_seen[(satisfaction, word)] = level.value
    return level.value


def _parse_rating(line: int, rec: dict) -> _Parsed:
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
    p.case_no = case_no
    if not case_no:
        raise RecordError("case_no_required", "须提供办件编号（projectNo）；“一次一评”窗口评价不支持批量导入")
    if number == "1" or not number:
        p.kind = _FIRST
    elif number == "2":
        p.kind = _FOLLOW_UP
    else:
        raise RecordError(
            "invalid_assess_number", f"评价次数 assessNumber“{number}”无效（1 首次评价，2 追评）"
        )
    p.channel_text = channel_text
    if not channel_text:
        raise RecordError("unknown_channel", "须提供评价渠道（pf）")
    p.level = _level_of(satisfaction, word)
    detail = rec.get("evalDetail")
    if isinstance(detail, list):
        codes = [str(c).strip() for c in detail]
    elif detail is None or detail == "":
        codes = ()
    else:
        codes = _REASON_SPLIT.split(_text(rec, "evalDetail"))
    p.reasons = list(dict.fromkeys(c for c in codes if c)) if codes else []
    p.comment = comment
    if len(comment) > MAX_COMMENT:
        raise RecordError("comment_too_long", f"文字评价不能超过{MAX_COMMENT}字")
    if not when:
        raise RecordError("rated_at_required", "须提供评价时间（assessTime）")
    p.rated_at = parse_time(when, "评价时间")
    if p.rated_at < EARLIEST:
        raise RecordError("invalid_time", f"评价时间 {when} 不合理（早于2000年）")
    p.ev_type = ev_type
    p.ev_name = ev_name
    p.ev_id = ev_id
    p.ev_phone = ev_phone
    p.window_code = window_code
    p.region_code = region_code
    p.staff_no = staff_no
    p.device_id = device_id[:64]
    if ip:
        try:
            ip = str(ipaddress.ip_address(ip))
        except ValueError as exc:
            raise RecordError("invalid_client_ip", f"评价IP“{ip}”不是有效的 IP 地址") from exc
    p.client_ip = ip or None
    p.key = key[:64]
    return p


# A parsed record as a marshal-able tuple (the helper process sends these): _Parsed's fields in the order
# of _unpack_parsed, the rating time as ISO 8601 text with its UTC offset.


_PACKED = (  # _Parsed's slots but the record, in the order _unpack_parsed unpacks them
    "line",
    "case_no",
    "kind",
    "channel_text",
    "level",
    "reasons",
    "comment",
    "rated_at",
    "ev_type",
    "ev_name",
    "ev_id",
    "ev_phone",
    "window_code",
    "region_code",
    "staff_no",
    "device_id",
    "client_ip",
    "key",
)
_RATED_AT = _PACKED.index("rated_at")
_packed_values = operator.attrgetter(*_PACKED)


def _pack_parsed(p: _Parsed) -> tuple:
    values = _packed_values(p)
    return (*values[:_RATED_AT], p.rated_at.isoformat(), *values[_RATED_AT + 1 :])


def _unpack_parsed(t: tuple, record) -> _Parsed:
    p = _Parsed()
    (
        p.line,
        p.case_no,
        p.kind,
        p.channel_text,
        p.level,
        p.reasons,
        p.comment,
        rated_at,
        p.ev_type,
        p.ev_name,
        p.ev_id,
        p.ev_phone,
        p.window_code,
        p.region_code,
        p.staff_no,
        p.device_id,
        p.client_ip,
        p.key,
    ) = t
    p.rated_at = datetime.fromisoformat(rated_at)  # the same instant and offset, at any year
    p.record = record
    return p


PARSE_AHEAD_MIN_BYTES = 4 << 20  # ~15,000 ratings: below that, forking the helper is not worth it


def _parse_ahead_pays(path: Path) -> bool:
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    try:
        return path.stat().st_size >= PARSE_AHEAD_MIN_BYTES
    except OSError:
        return False  # the plain reader reports it


class _ParseAhead:
    """Reads and parses a JSON lines file in a forked helper process, one batch ahead of the importer,
    which takes batches of (line, raw line, error, packed record) through a pipe (marshal: no pickling).
    The importer's own thread is then left with the checks that need the database; reading and parsing
    were about a third of its time, and that one thread holding the GIL was the limit.

    The helper is forked before the writer thread starts, touches no database connection and leaves by
    os._exit (multiprocessing's fork start), so the parent's connections are never used by it."""

    def __init__(self, path, batch: int):
        ctx = multiprocessing.get_context("fork")
        self.receiver, sender = ctx.Pipe(duplex=False)
        self.process = ctx.Process(
            target=_parse_ahead_main,
            args=(str(path), batch, sender),
            name="haocha-import-reader",
            daemon=True,
        )
        self.process.start()
        sender.close()

    def __iter__(self) -> Iterator[list]:
        try:
            while True:
                try:
                    data = self.receiver.recv_bytes()
                except EOFError:
                    raise RuntimeError("导入读取进程意外退出") from None
                batch = marshal.loads(data)
                if batch.__class__ is str:  # the helper's own failure, as text
                    raise RuntimeError(f"导入读取进程出错：{batch}")
                if not batch:
                    return
                yield batch
        finally:
            self.close()

    def close(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(timeout=10)
        if self.process.is_alive():  # cannot happen with _parse_ahead_main's own signal handlers
            self.process.kill()
            self.process.join()
        self.receiver.close()


def _parse_ahead_main(path: str, batch: int, sender) -> None:
    """The helper process: every record of the file, parsed as _prepare would, in batches."""
    # Not the handlers inherited from the importing process (the worker command has its own for
    # SIGTERM): the importer stops the helper with SIGTERM, and handles Ctrl-C itself.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        out: list = []
        for line_no, raw, record, error in _jsonl_lines(path):
            if error:
                out.append((line_no, None if record is None else raw, error))
            else:
                try:
                    out.append((line_no, raw, (), _pack_parsed(_parse_rating(line_no, record))))
                except RecordError as exc:
                    out.append((line_no, raw, (exc.code, exc.message)))
            if len(out) >= batch:
                sender.send_bytes(marshal.dumps(out))
                out = []
        if out:
            sender.send_bytes(marshal.dumps(out))
        sender.send_bytes(marshal.dumps([]))
    except BaseException as exc:  # told to the importer, which raises it
        sender.send_bytes(marshal.dumps(f"{type(exc).__name__}: {exc}"))
    finally:
        sender.close()


def _public_ids(count: int, native_uuid: bool) -> Iterator:
    """`count` public ids as the model's default makes them (version-7 UUIDs, see core.ids), as UUID
    objects or as the 32 hex digits SQLite stores, from one os.urandom call: a call per id released the
    GIL each time, and the pipeline's writer thread then held the importer up for a whole statement."""
    ids = uuid7_hex(count)
    return (uuid.UUID(hex=x) for x in ids) if native_uuid else ids


class _Hasher:
    """identity.keyed_hash with the HMAC key set up once (checked against it, so both always agree)."""

    def __init__(self):
        # HMAC (RFC 2104) spelled out: the inner hash has the key and the "kind:" prefix absorbed once,
        # so a value costs two sha256 copies in C instead of hmac.HMAC's Python-level copy().
        key = settings.IDENTITY_HASH_KEY.encode()
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        inner = hashlib.sha256(bytes(k ^ 0x36 for k in key))
        self.outer = hashlib.sha256(bytes(k ^ 0x5C for k in key))
        self.inner = {}
        for kind in ("id", "phone"):
            self.inner[kind] = inner.copy()
            self.inner[kind].update(f"{kind}:".encode())
        for kind, sample in (("id", "430102198503120016"), ("phone", "13812345678")):
            if self(kind, sample) != identity.keyed_hash(kind, sample):
                raise RuntimeError("identity.keyed_hash 已变更，导入程序的快速哈希需要同步")

    def __call__(self, kind: str, value: str) -> str:
        if not value:
            return ""
        h = self.inner[kind].copy()
        h.update(value.encode())
        o = self.outer.copy()
        o.update(h.digest())
        return o.hexdigest()


def _normalise_phone(value: str) -> str:
    return value if value.isdigit() else identity.normalise_phone(value)


class _Prepared:
    """A checked batch: rows to write, rejects, duplicates, and what it adds (for later batches' checks)."""

    __slots__ = ("batch", "duplicates", "keys", "ratings", "rejects", "rows_first", "rows_follow")

    def __init__(self, batch: list):
        self.batch = batch
        self.rejects: list[tuple] = []
        self.rows_first: list[tuple] = []
        self.rows_follow: list[tuple] = []
        self.duplicates = 0
        self.ratings: dict[tuple, tuple] = {}
        self.keys: dict[str, tuple] = {}

    @property
    def imported(self) -> int:
        return len(self.rows_first) + len(self.rows_follow)


class RatingImporter:
    """Validates and writes ratings in batches: one transaction per batch, rows by executemany."""

    def __init__(self, *, client: ApiClient | None = None, using: str = "default", work_orders: bool = False):
        self.client = client
        self.using = using
        self.work_orders = work_orders
        self.actor = Actor(
            label="导入", all_access=True, client=client, scopes=frozenset(ApiClient.Scope.values)
        )
        self.connection = connections[using]
        self.scope = f"client:{client.pk}" if client else "import"
        self.source_id = client.pk if client else None
        self.windows_by_code: dict[str, tuple | None] = {}
        self.window_hall: dict[int, int | None] = {}
        self.staff: dict[str, tuple | None] = {}  # staff_no -> (id, department id, ids of windows served)
        self.regions: dict[int, Region] = {}
        self.region_codes: dict[str, tuple | None] = {}  # code -> (id, path)
        self.channels: dict[tuple, str] = {}
        self.json_cache: dict = {}
        # Ratings of batches checked but not yet committed (pipelined import), merged: see _Pipeline.
        self.flight_ratings: dict[tuple, tuple] = {}
        self.flight_keys: dict[str, tuple] = {}
        self.hash = _Hasher()
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
        rating_cols = ", ".join(qn(_col(Rating, n)) for n in _RATING_COLUMNS)
        case_col = qn(_col(Rating, "case"))
        self.sql_ratings = f"SELECT {rating_cols} FROM {rating_table} WHERE {case_col} IN (__IN__)"
        key_col, scope_col = qn(_col(Rating, "idempotency_key")), qn(_col(Rating, "idempotency_scope"))
        # The partial unique index is WHERE NOT (key = ''): repeating the term lets SQLite use it.
        self.sql_keys = (
            f"SELECT {key_col}, {case_col}, {qn(_col(Rating, 'kind'))} FROM {rating_table} "
            f"WHERE {scope_col} = %s AND NOT ({key_col} = '') AND {key_col} IN (__IN__)"
        )
        self.sql_first_ids = (
            f"SELECT {case_col}, {qn(_col(Rating, 'id'))} FROM {rating_table} "
            f"WHERE {qn(_col(Rating, 'kind'))} = {_FIRST} AND {case_col} IN (__IN__)"
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
        for chunk in _chunks(values):
            cursor.execute(sql.replace("__IN__", ", ".join(["%s"] * len(chunk))), (*prefix, *chunk))
            rows.extend(cursor.fetchall())
        return rows

    def _aware(self, value):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=self.connection.timezone)
        return value

    # reference data --------------------------------------------------------------------------------
    def _load_reference(self, parsed: list[_Parsed], cases: dict) -> None:
        codes = {p.window_code for p in parsed if p.window_code} - self.windows_by_code.keys()
        window_ids = {
            c[6] for c in cases.values() if c[6] is not None and c[5] is None
        } - self.window_hall.keys()
        if codes:
            self.windows_by_code.update(dict.fromkeys(codes))
            for w in (
                Window.objects.using(self.using)
                .filter(code__in=codes, is_active=True)
                .values_list("code", "pk", "hall_id")
            ):
                self.windows_by_code[w[0]] = (w[1], w[2])
        if window_ids:
            self.window_hall.update(
                Window.objects.using(self.using).filter(pk__in=window_ids).values_list("pk", "hall_id")
            )
        nos = {p.staff_no for p in parsed if p.staff_no} - self.staff.keys()
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
                self.staff[staff_no] = (pk, department_id, frozenset(served.get(pk, ())))
        region_ids = {c[9] for c in cases.values()} - self.regions.keys()
        if region_ids:
            self.regions.update(Region.objects.using(self.using).in_bulk(region_ids))
        region_codes = {p.region_code for p in parsed if p.region_code} - self.region_codes.keys()
        if region_codes:
            self.region_codes.update(dict.fromkeys(region_codes))
            for code, pk, path in (
                Region.objects.using(self.using)
                .filter(code__in=region_codes)
                .values_list("code", "pk", "path")
            ):
                self.region_codes[code] = (pk, path)

    def _channel(self, text: str, region_id: int) -> str:
        hit = self.channels.get((text, region_id))
        if hit is not None:
            return hit
        if text in Channel.values:
            channel = text
        elif text in _CHANNEL_WORDS:
            channel = _CHANNEL_WORDS[text]
        else:
            table = policy_for_region(self.regions[region_id]).channel_codes or None
            try:
                channel = channel_from_code(text, table)
            except ValueError as exc:
                raise RecordError("unknown_channel", f"未知的评价渠道：{text}") from exc
        self.channels[(text, region_id)] = channel
        return channel

    # evaluator -------------------------------------------------------------------------------------
    def _evaluator(self, p: _Parsed, case: tuple) -> tuple:
        """The evaluator columns, as the intake computes them; the case's stored identity is reused."""
        if not (p.ev_name or p.ev_id or p.ev_phone):
            return case[10:18]
        ev_type = p.ev_type or case[10]
        if ev_type not in _APPLICANT_TYPES:
            raise RecordError("invalid_evaluator_type", f"评价人类型 {ev_type} 不在 GB/T 39046 A.4 代码表中")
        id_number = identity.normalise_id_number(p.ev_id)
        phone = _normalise_phone(p.ev_phone)
        id_hash = self.hash("id", id_number)
        phone_hash = self.hash("phone", phone)
        # The applicant's own number and phone were checked when the case was registered (cases_upsert),
        # so only values that differ from the applicant's are checked again: same outcome, less work.
        same_id = bool(id_hash) and id_hash == case[12] and ev_type == case[10]
        if id_number and ev_type == _PERSON and not same_id and not identity.is_valid_resident_id(id_number):
            raise RecordError("invalid_id_number", "评价人身份证号码格式或校验位不正确")
        if phone and phone_hash != case[15] and not identity.is_valid_phone(phone):
            raise RecordError("invalid_phone", "评价人手机号码格式不正确")
        if id_hash and case[12] and id_hash != case[12]:
            raise RecordError("not_applicant", "评价人与办件申请人不一致，“一事一评”只能由申请人本人评价")
        if not id_hash:
            id_cols = ("", "", "")
        elif id_hash == case[12]:
            id_cols = (id_hash, case[13], case[14])
        else:
            id_cols = (id_hash, identity.mask_id_number(id_number), identity.encrypt(id_number))
        if not phone_hash:
            phone_cols = ("", "", "")
        elif phone_hash == case[15]:
            phone_cols = (phone_hash, case[16], case[17])
        else:
            phone_cols = (phone_hash, identity.mask_phone(phone), identity.encrypt(phone))
        return (ev_type, p.ev_name[:100], *id_cols, *phone_cols)

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

    def can_pipeline(self) -> bool:
        """A writer thread has its own connection: not inside the caller's transaction, not in memory."""
        conn = self.connection
        if conn.in_atomic_block:
            return False
        return not (conn.vendor == "sqlite" and conn.is_in_memory_db())

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

    def _prepare(self, batch: list) -> "_Prepared":
        """Parse and check a batch against the database as it is and the ratings still in flight."""
        out = _Prepared(batch)
        rejects = out.rejects
        parsed: list[_Parsed] = []
        for item in batch:
            line, record, error = item[0], item[1], item[2]
            if error:
                rejects.append((line, *error, record))
            elif len(item) > 3:  # parsed ahead by the helper process
                parsed.append(_unpack_parsed(item[3], record))
            else:
                try:
                    parsed.append(_parse_rating(line, record))
                except RecordError as exc:
                    rejects.append((line, exc.code, exc.message, record))
        if not parsed:
            return out
        cursor = self.connection.cursor()
        try:
            case_nos = list({p.case_no for p in parsed})
            aware = self._aware
            cases = {
                row[1]: (*row[:3], aware(row[3]), *row[4:])
                for row in self._select(cursor, self.sql_cases, case_nos)
            }
            case_ids = [c[0] for c in cases.values()]
            existing: dict[tuple, tuple] = {}
            for row in self._select(cursor, self.sql_ratings, case_ids):
                # (rated_at, evaluator columns, rated-object columns, id), the shape batch entries have
                existing[(row[0], row[1])] = (self._aware(row[3]), row[10:18], row[4:10], row[2])
            keys = list({p.key for p in parsed if p.key})
            known_keys = {
                row[0]: (row[1], row[2]) for row in self._select(cursor, self.sql_keys, keys, self.scope)
            }
            self._load_reference(parsed, cases)
        finally:
            cursor.close()
        self._check(parsed, cases, existing, known_keys, out)
        return out

    def _store(self, prepared: "_Prepared") -> None:
        """Write a checked batch through this thread's connection (inside the caller's transaction)."""
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
        """As the intake does, in the batch's transaction: each imported 差评 becomes a work order."""
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
            with cursor.cursor.copy(self.sql_copy) as copy:
                for row in rows:
                    copy.write_row(row)
        elif self.vendor == "sqlite":
            raw = cursor.db.connection
            step = self.sqlite_rows_per_insert
            with cursor.db.wrap_database_errors:  # this thread's connection (the writer's, pipelined)
                for i in range(0, len(rows), step):
                    chunk = rows[i : i + step]
                    sql = self._sqlite_inserts.get(len(chunk))
                    if sql is None:
                        sql = self.sqlite_insert_head + ", ".join([self.sqlite_row_marks] * len(chunk))
                        self._sqlite_inserts[len(chunk)] = sql
                    raw.execute(sql, list(chain.from_iterable(chunk)))
        else:
            cursor.executemany(self.sql_insert, rows)

    def _check(self, parsed, cases, existing, known_keys, out: "_Prepared") -> None:
        """Apply the intake's rules record by record; the rows to insert, rejects and duplicates go to `out`.

        A rating counts as there when the database has it, an earlier record of this batch made it, or an
        earlier batch still being written (in flight) made it."""
        now = timezone.now()
        received = self.adapt_dt(now)
        latest = now + CLOCK_SKEW
        sets: dict[str, tuple] = {}  # indicator set code -> (active set, its id)
        policies: dict[int, object] = {}
        batch_ratings = out.ratings  # (case id, kind) -> (rated_at, evaluator, rated objects, id)
        batch_keys = out.keys
        flight_ratings, flight_keys = self.flight_ratings, self.flight_keys
        rows_first, rows_follow, rejects = out.rows_first, out.rows_follow, out.rejects
        duplicates = 0
        adapt_dt, adapt_ip = self.adapt_dt, self.adapt_ip
        new_id = _public_ids(len(parsed), self.native_uuid).__next__
        scope, source_id = self.scope, self.source_id
        for p in parsed:
            try:
                case = cases.get(p.case_no)
                if case is None:
                    raise RecordError("case_not_found", f"办件 {p.case_no} 不存在")
                case_id = case[0]
                channel = self._channel(p.channel_text, case[9])
                if channel in SYSTEM_ONLY_CHANNELS:
                    raise RecordError("channel_not_allowed", "系统默认评价只能由系统生成")
                ev = self._evaluator(p, case)
                first = None
                if p.kind == _FOLLOW_UP:
                    first = (
                        existing.get((case_id, 1))
                        or batch_ratings.get((case_id, 1))
                        or flight_ratings.get((case_id, 1))
                    )
                    if first is None:
                        raise RecordError("no_first_rating", "该办件尚无首次评价，不能追评")
                    if first[1][2] and ev[2] and ev[2] != first[1][2]:
                        raise RecordError("not_first_evaluator", "追评只能由首次评价人提交")
                    if not (ev[2] or ev[5]):
                        ev = first[1]
                # A repeat of an earlier submission is a duplicate, not an error (as the intake replays).
                if p.key:
                    seen = batch_keys.get(p.key) or known_keys.get(p.key) or flight_keys.get(p.key)
                    if seen is not None:
                        if seen[0] != case_id or seen[1] != p.kind:  # keys are per rating kind too
                            raise RecordError(
                                "idempotency_key_reused", "该幂等键（submissionId）已用于另一笔评价"
                            )
                        duplicates += 1
                        continue
                prior = (
                    existing.get((case_id, p.kind))
                    or batch_ratings.get((case_id, p.kind))
                    or flight_ratings.get((case_id, p.kind))
                )
                if prior is not None:
                    if prior[1][2] == ev[2] and prior[1][5] == ev[5]:
                        duplicates += 1
                        continue
                    if p.kind == _FIRST:
                        raise RecordError("already_rated", "该办件已评价，每笔办件只能评价一次（一事一评）")
                    raise RecordError("already_followed_up", "该办件已追评，每笔办件只能追评一次")
                rated_at = p.rated_at
                if rated_at > latest:
                    raise RecordError("rated_at_in_future", "评价时间晚于当前时间")
                policy = policies.get(case[9])
                if policy is None:
                    policy = policies[case[9]] = policy_for_region(self.regions[case[9]])
                if p.kind == _FIRST:
                    window_id = case[6]
                    hall_id = case[5]
                    if p.window_code:
                        window = self.windows_by_code.get(p.window_code)
                        if window is None:
                            raise RecordError("window_not_found", f"窗口 {p.window_code} 不存在或已停用")
                        window_id = window[0]
                        hall_id = hall_id or window[1]
                    elif hall_id is None and window_id is not None:
                        hall_id = self.window_hall.get(window_id)
                    finished_at = case[3]
                    if case[2] != _FINISHED or finished_at is None:
                        raise RecordError("case_not_finished", "办件尚未办结，办结后方可评价")
                    if rated_at < finished_at - CLOCK_SKEW:
                        raise RecordError("rated_before_finished", "评价时间早于办件办结时间")
                    # History: the rating arrived (in the legacy system) at assessTime, so the time
                    # limits count from it; the live intake counts them from arrival (now).
                    if policy.rating_window_days and rated_at > finished_at + timedelta(
                        days=policy.rating_window_days
                    ):
                        raise RecordError(
                            "rating_period_over", f"已超过办结后{policy.rating_window_days}天的评价期限"
                        )
                    staff_id = case[7]
                    if p.staff_no:
                        staff = self.staff.get(p.staff_no)
                        if staff is None:
                            raise RecordError("staff_not_found", f"工号 {p.staff_no} 不存在")
                        if staff[1] != case[4] and window_id not in staff[2]:
                            raise RecordError("staff_mismatch", f"工号 {p.staff_no} 不属于被评部门或窗口")
                        staff_id = staff[0]
                    region_id = case[9]
                    if p.region_code:  # where the rating was made: the case's region or a place inside it
                        inner = self.region_codes.get(p.region_code)
                        if inner is None:
                            raise RecordError("region_not_found", f"行政区划代码 {p.region_code} 不存在")
                        region = self.regions[case[9]]
                        if not inner[1].startswith(region.path):
                            raise RecordError(
                                "region_mismatch", f"评价区划 {p.region_code} 不在 {region.name} 范围内"
                            )
                        region_id = inner[0]
                    where = (case[4], hall_id, window_id, staff_id, case[8], region_id)
                    first_id = None
                else:
                    first_at = first[0]
                    if rated_at < first_at:
                        raise RecordError("rated_before_first", "追评时间早于首次评价时间")
                    if rated_at > first_at + timedelta(days=policy.follow_up_days):
                        raise RecordError(
                            "follow_up_window_closed", f"已超过首次评价后{policy.follow_up_days}天的追评期限"
                        )
                    where, first_id = first[2], first[3]
                set_code = indicator_set_code(channel)
                hit = sets.get(set_code)
                if hit is None:
                    aset = active_set(set_code)
                    if aset is None:
                        raise RecordError("indicator_set_missing", "评价指标体系尚未配置")
                    hit = sets[set_code] = (aset, aset.indicator_set.pk)
                aset, set_id = hit
                level = p.level
                for code in p.reasons:
                    reason_level = aset.reason_levels.get(code)
                    if reason_level is None:
                        raise RecordError("unknown_reason", f"评价内容选项 {code} 不存在")
                    if reason_level != level:
                        raise RecordError("reason_level_mismatch", f"评价内容选项 {code} 与所选等级不符")
                bad = level in _BAD_LEVELS
                if bad and not p.reasons and not p.comment:
                    raise RecordError("bad_rating_needs_reason", "差评须选择至少一项评价内容或填写文字评价")
            except RecordError as exc:
                rejects.append((p.line, exc.code, exc.message, p.record))
                continue
            row = (
                new_id(),
                case_id,
                p.kind,
                first_id,
                *where,
                level,
                bad,
                self._json((aset.overall_code, level), {aset.overall_code: level}),
                self._json(tuple(p.reasons), p.reasons),
                p.comment,
                set_id,
                channel,
                *ev,
                adapt_dt(rated_at),
                received,
                adapt_ip(p.client_ip) if adapt_ip and p.client_ip else p.client_ip,
                p.device_id,
                source_id,
                None,
                scope,
                p.key,
                False,
                True,
                "",
                False,
                *self.extra_values,
            )
            batch_ratings[(case_id, p.kind)] = (rated_at, ev, where, None)
            if p.key:
                batch_keys[p.key] = (case_id, p.kind)
            (rows_first if p.kind == _FIRST else rows_follow).append(row)
        out.duplicates = duplicates


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
    pipeline: bool = True,
) -> ImportSummary:
    """Import ratings (national interface field names). History by default: 差评 make no work orders.

    With `pipeline` (the default, outside a transaction) a writer thread commits each batch while the
    next one is checked (see _Pipeline)."""
    importer = RatingImporter(client=client, using=using, work_orders=work_orders)
    return _run("ratings", path, fmt, importer, rejects_path, batch, encoding, progress, pipeline)


def import_cases(
    path,
    *,
    fmt: str | None = None,
    client: ApiClient | None = None,
    rejects_path=None,
    batch: int = DEFAULT_BATCH,
    encoding: str = "utf-8-sig",
    progress=None,
    sms_invitations: bool = False,
) -> ImportSummary:
    """Import (upsert) cases from a file through cases_upsert, batch by batch. History by default: the
    applicants of recently finished cases get no SMS invitation to rate unless `sms_invitations`."""
    importer = CaseImporter(client=client, sms_invitations=sms_invitations)
    return _run("cases", path, fmt, importer, rejects_path, batch, encoding, progress)


def _run(kind, path, fmt, importer, rejects_path, batch, encoding, progress, pipeline=False) -> ImportSummary:
    path = Path(path)
    fmt = fmt or guess_format(path)
    rejects = RejectLog(Path(rejects_path) if rejects_path else Path(f"{path}.rejects.jsonl"))
    summary = ImportSummary(kind=kind, rejects_path=str(rejects.path))
    started = time.perf_counter()
    helper, batches = None, None
    try:
        with gc_paused() as tick:
            pipeline = pipeline and importer.can_pipeline()
            if pipeline and fmt == "jsonl" and _parse_ahead_pays(path):
                helper = _ParseAhead(path, max(1, batch))  # forked before the writer thread starts
                batches = iter(helper)
            else:
                batches = _batches(read_records(path, fmt, encoding), max(1, batch))
            while pipeline:
                redo = _run_pipelined(importer, batches, summary, rejects, progress, tick)
                if not redo:
                    break  # every batch is done
                for chunk in redo:  # read already; left over by a failed write, done one at a time
                    rejects.write(importer.run_batch(chunk, summary))
                    tick(len(chunk))
                    if progress is not None:
                        progress(summary)
                # then the rest of the file through a new pipeline
            for chunk in batches:  # without a pipeline
                summary.read += len(chunk)
                rejects.write(importer.run_batch(chunk, summary))
                tick(len(chunk))
                if progress is not None:
                    progress(summary)
    finally:
        if helper is not None:
            helper.close()  # also when it was never asked for a batch
        elif batches is not None:
            batches.close()  # the file
        rejects.close()
        summary.seconds = time.perf_counter() - started
    return summary


_SWITCH_INTERVAL = 0.0005  # seconds, while the pipelined import runs (see _run_pipelined)
_GC_EVERY = 100_000  # records between two collections of the youngest generation while importing


@contextlib.contextmanager
def gc_paused():
    """No automatic cyclic garbage collection while importing: millions of short-lived tuples and dicts
    kept the collector walking the live batches and caches, 14% of the import's CPU (perf). Instead the
    caller calls the yielded `tick(records)` after each batch, which collects the youngest generation
    every _GC_EVERY records (one collection walks the live batches, ~8 ms), so that cycles made meanwhile
    (a caught exception chained to another one forms one) do not pile up."""
    enabled = gc.isenabled()
    gc.disable()
    due = [_GC_EVERY]

    def tick(records: int) -> None:
        due[0] -= records
        if due[0] <= 0:
            gc.collect(0)
            due[0] = _GC_EVERY

    try:
        yield tick
    finally:
        if enabled:
            gc.enable()


class _Pipeline:
    """A writer thread with its own connection commits checked batches in order while the caller checks
    the next one. Batches checked but not yet committed are "in flight": their ratings and keys stay in
    the importer's flight maps, so a later batch sees them as if they were stored, until the batch that
    made them is known committed before the later batch's reads began.

    The database's write lock is held only while a batch's rows are written, not while it is checked. A
    batch the writer cannot commit (a rating that arrived through the intake meanwhile, a value the
    database refuses) stops the writer: that batch and every batch after it are then done one at a time,
    as without the pipeline, so nothing is written twice or lost."""

    def __init__(self, importer: "RatingImporter"):
        self.importer = importer
        self.jobs: queue.Queue = queue.Queue(maxsize=1)
        self.done: queue.Queue = queue.Queue()
        self.outstanding: deque = deque()
        self.failure: BaseException | None = None
        self.abort = threading.Event()
        self.thread = threading.Thread(target=self._write_loop, name="haocha-import-writer", daemon=True)
        self.thread.start()

    def _write_loop(self) -> None:
        importer = self.importer
        try:
            while True:
                job = self.jobs.get()
                if job is None:
                    return
                if self.failure is not None or self.abort.is_set():
                    continue  # left to the caller (see unwritten)
                try:
                    with transaction.atomic(using=importer.using):
                        importer._store(job)
                except BaseException as exc:  # handed to the caller, which redoes the batch
                    self.failure = exc
                    continue
                self.done.put(job)
        finally:
            connections[importer.using].close()

    def submit(self, job: _Prepared) -> None:
        flight_ratings, flight_keys = self.importer.flight_ratings, self.importer.flight_keys
        flight_ratings.update(job.ratings)
        flight_keys.update(job.keys)
        self.outstanding.append(job)
        self.jobs.put(job)

    def committed(self) -> list[_Prepared]:
        """Batches committed since the last call, in order; their ratings leave the flight maps."""
        flight_ratings, flight_keys = self.importer.flight_ratings, self.importer.flight_keys
        out = []
        while True:
            try:
                job = self.done.get_nowait()
            except queue.Empty:
                return out
            head = self.outstanding.popleft()
            assert head is job, "the writer commits batches in order"
            for key, value in job.ratings.items():
                if flight_ratings.get(key) is value:
                    del flight_ratings[key]
            for key, value in job.keys.items():
                if flight_keys.get(key) is value:
                    del flight_keys[key]
            out.append(job)

    def close(self) -> list[_Prepared]:
        """Wait for the writer; the batches it committed meanwhile."""
        if self.thread.is_alive():
            self.jobs.put(None)
            self.thread.join()
        return self.committed()

    def unwritten(self) -> list[list]:
        """After close: the raw batches the writer did not commit (the failed one and those after it)."""
        self.importer.flight_ratings.clear()
        self.importer.flight_keys.clear()
        return [job.batch for job in self.outstanding]


def _run_pipelined(importer, batches, summary, rejects, progress, tick) -> list[list]:
    """Check batch N+1 while batch N is written; returns the batches left to do one at a time."""
    switch = sys.getswitchinterval()
    # The writer needs the GIL back after every statement and commit; with Python's 5 ms default it
    # waited that long behind this thread each time (measured: 27.5k → 31.5k ratings/s at 0.5 ms).
    sys.setswitchinterval(_SWITCH_INTERVAL)
    try:
        return _run_pipeline(importer, batches, summary, rejects, progress, tick)
    finally:
        sys.setswitchinterval(switch)


def _run_pipeline(importer, batches, summary, rejects, progress, tick) -> list[list]:
    pipe = _Pipeline(importer)

    def report(jobs, *, tell: bool = True):
        for job in jobs:
            summary.add(job.rejects, job.imported, job.duplicates)
            rejects.write(job.rejects)
            if tell and progress is not None:
                progress(summary)

    try:
        for chunk in batches:
            summary.read += len(chunk)
            if pipe.failure is not None:  # the batches before the failed one are committed: report them
                report(pipe.close())
                return [*pipe.unwritten(), chunk]
            report(pipe.committed())
            pipe.submit(importer._prepare(chunk))
            tick(len(chunk))
        report(pipe.close())
        return pipe.unwritten()
    except BaseException:
        pipe.abort.set()
        # Batches committed meanwhile are in the database: their rejects and counts are still reported
        # (not to `progress`, which may be what raised).
        report(pipe.close(), tell=False)
        raise


# --- cases ---------------------------------------------------------------------------------------


def _case_input(rec: dict) -> CaseInput:
    case_no = _text(rec, "projectNo")
    status = _text(rec, "proStatus")
    status = _STATUS_WORDS.get(status, status)
    channel = _text(rec, "applyChannel")
    channel = _APPLY_WORDS.get(channel, channel) or Case.ApplyChannel.ONLINE
    accepted = _text(rec, "acceptDate")
    if not accepted:
        raise RecordError("accepted_at_required", "须提供受理时间（acceptDate）")
    finished, promised = _text(rec, "finishDate"), _text(rec, "promiseTime")
    return CaseInput(
        case_no=case_no,
        item_code=_text(rec, "taskCode"),
        applicant_type=_text(rec, "userProp"),
        applicant_name=_text(rec, "userName"),
        applicant_id_number=_text(rec, "certKey"),
        applicant_phone=_text(rec, "mobile"),
        department_code=_text(rec, "proDepartCode"),
        window_code=_text(rec, "windowCode"),
        staff_no=_text(rec, "staffNo"),
        status=status,
        apply_channel=channel,
        accepted_at=parse_time(accepted, "受理时间"),
        finished_at=parse_time(finished, "办结时间") if finished else None,
        promised_at=parse_time(promised, "承诺办结时间") if promised else None,
    )


class CaseImporter:
    """Cases go through cases_upsert (already bulk); records identical to the stored case are skipped."""

    def __init__(self, *, client: ApiClient | None = None, sms_invitations: bool = False):
        self.client = client
        self.sms_invitations = sms_invitations
        scopes = frozenset(ApiClient.Scope.values)  # an operator's import: the client is only the source
        self.actor = Actor(label="导入", all_access=True, client=client, scopes=scopes)

    def _unchanged(self, inputs: list[tuple[int, CaseInput, dict]]) -> set[str]:
        """Case numbers whose stored case already says exactly what the record says."""
        stored = {}
        nos = [i[1].case_no for i in inputs]
        for chunk in _chunks(nos):
            for row in Case.objects.filter(case_no__in=chunk).values(
                "case_no",
                "item__code",
                "item__department_id",
                "department_id",
                "department__credit_code",
                "window__code",
                "staff__staff_no",
                "applicant_type",
                "applicant_name",
                "applicant_id_hash",
                "applicant_phone_hash",
                "apply_channel",
                "status",
                "accepted_at",
                "finished_at",
                "promised_at",
                "source_id",
            ):
                stored[row["case_no"]] = row
        same = set()
        source_id = self.client.pk if self.client else None
        for _line, rec, _raw in inputs:
            row = stored.get(rec.case_no)
            if row is None:
                continue
            department_ok = (
                row["department__credit_code"] == rec.department_code
                if rec.department_code
                else row["department_id"] == row["item__department_id"]
            )
            if (
                department_ok
                and row["item__code"] == rec.item_code
                and (row["window__code"] or "") == rec.window_code
                and (row["staff__staff_no"] or "") == rec.staff_no
                and row["applicant_type"] == rec.applicant_type
                and row["applicant_name"] == rec.applicant_name.strip()[:100]
                and row["applicant_id_hash"]
                == identity.keyed_hash("id", identity.normalise_id_number(rec.applicant_id_number))
                and row["applicant_phone_hash"]
                == identity.keyed_hash("phone", identity.normalise_phone(rec.applicant_phone))
                and row["apply_channel"] == rec.apply_channel
                and row["status"] == rec.status
                and row["accepted_at"] == rec.accepted_at
                and row["finished_at"] == rec.finished_at
                and row["promised_at"] == rec.promised_at
                and row["source_id"] == source_id
            ):
                same.add(rec.case_no)
        return same

    def run_batch(self, batch: list, summary: ImportSummary) -> list[tuple]:
        rejects: list[tuple] = []
        inputs: list[tuple[int, CaseInput, dict]] = []
        for line, record, error in batch:
            if error:
                rejects.append((line, *error, record))
                continue
            try:
                inputs.append((line, _case_input(record), record))
            except RecordError as exc:
                rejects.append((line, exc.code, exc.message, record))
        created = updated = duplicates = 0
        # A case number repeated in the file is applied in file order: one upsert call per run of
        # distinct numbers, all inside the batch's one transaction.
        runs: list[list] = [[]]
        seen: set[str] = set()
        for item in inputs:
            if item[1].case_no in seen:
                runs.append([])
                seen = set()
            seen.add(item[1].case_no)
            runs[-1].append(item)
        outcome: list[tuple] = []
        with transaction.atomic():
            for run in runs:
                if not run:
                    continue
                same = self._unchanged(run)
                todo = [i for i in run if i[1].case_no not in same]
                duplicates += len(run) - len(todo)
                results = (
                    cases_upsert(actor=self.actor, records=[i[1] for i in todo], invite=self.sms_invitations)
                    if todo
                    else []
                )
                outcome.extend(zip(todo, results, strict=True))
        for (line, _rec, raw), result in outcome:
            if result.status == "created":
                created += 1
            elif result.status == "updated":
                updated += 1
            else:
                rejects.append((line, result.code, result.message, raw))
        summary.updated += updated
        summary.add(rejects, created, duplicates)
        return rejects
