"""The file side of `haocha import`: reading CSV or JSON lines in batches, the summary, the rejects file, and
the loop that imports each batch in its own transaction (shared by the case and the rating importers)."""

import contextlib
import csv
import gc
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
from django.conf import settings

DEFAULT_BATCH = 5000
_IN_CHUNK = 5000  # values per IN (...) list; far below SQLite's 32766 variables
_COMPACT_TIME = re.compile(r"^(\d{4})(\d{2})(\d{2})T?(\d{2})(\d{2})(\d{2})$")


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


def field_text(record: dict, name: str) -> str:
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


def chunks(values: list, size: int = _IN_CHUNK) -> Iterator[list]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def run_import(kind, path, fmt, importer, rejects_path, batch, encoding, progress) -> ImportSummary:
    """Read the file batch by batch and import each in its own transaction."""
    path = Path(path)
    fmt = fmt or guess_format(path)
    rejects = RejectLog(Path(rejects_path) if rejects_path else Path(f"{path}.rejects.jsonl"))
    summary = ImportSummary(kind=kind, rejects_path=str(rejects.path))
    started = time.perf_counter()
    batches = None
    try:
        with gc_paused() as tick:
            batches = _batches(read_records(path, fmt, encoding), max(1, batch))
            for chunk in batches:
                summary.read += len(chunk)
                rejects.write(importer.run_batch(chunk, summary))
                tick(len(chunk))
                if progress is not None:
                    progress(summary)
    finally:
        if batches is not None:
            batches.close()  # the file
        rejects.close()
        summary.seconds = time.perf_counter() - started
    return summary


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
