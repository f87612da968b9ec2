"""The wire format between haocha and an external 12345 platform (docs/interface.md, "12345平台").

haocha → platform (signed with the platform's shared secret, X-Hc-* headers as in docking/signing.py):
    POST {base}/api/orders            one order (new, a 追评, or a new cycle): answers {"platformNo": …}
    GET  {base}/api/orders/<orderNo>  what the platform has for it: {"platformNo", "events": [event, …]}
platform → haocha (signed the same way, with the platform's appId):
    POST /api/hotline12345/callback   {"events": [event, …]}: a result per event

An event: {"eventId", "orderNo" (haocha's 工单编号), "seq" (1, 2, … per order, in the platform's order of the
steps), "type", "time" ("YYYY-MM-DD HH:MM:SS", Beijing time, when the step happened there), "data"}. Each
event is applied once (its eventId), in seq order: one that arrives early waits for those before it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from haocha.core import clock
from haocha.core.errors import InvalidInput
from haocha.workcalendar.arithmetic import SHANGHAI

ORDERS_PATH = "/api/orders"
CALLBACK_PATH = "/api/hotline12345/callback"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_EVENTS = 200
FUTURE_SKEW = timedelta(minutes=5)

COMPLEXITY = {"simple": "简单问题", "complex": "复杂问题"}
INVALID_REASONS = {"mistaken": "误评", "malicious": "恶意差评", "not_government": "非政务服务事项"}
CONTACT_METHODS = {"phone": "电话", "sms": "短信", "visit": "上门", "in_person": "当面", "other": "其他"}
RESULTS = {"solved": "解决", "unsolved": "未解决", "partly": "部分解决", "refused": "不办理退单"}
SATISFACTION = {"satisfied": "满意", "basically_satisfied": "基本满意", "dissatisfied": "不满意"}


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text | bool | int | time | one of a table (choices)
    required: bool = False
    choices: dict | None = None
    max_length: int = 2000


def _text(name, required=False, max_length=2000):
    return Field(name, "text", required, max_length=max_length)


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    fields: tuple[Field, ...] = ()


KINDS = {
    k.name: k
    for k in (
        Kind("accept", "受理", (_text("platformNo", True, 40),)),
        Kind("verify", "核实属实", (Field("complexity", "choice", choices=COMPLEXITY), _text("note"))),
        Kind("invalid", "核实无效", (Field("reason", "choice", True, INVALID_REASONS), _text("note", True))),
        Kind("dispatch", "派单", (_text("departmentCode", True, 18), Field("complexity", "choice",
                                   choices=COMPLEXITY), _text("note"))),
        Kind("sign", "签收"),
        Kind("contact", "联系", (Field("method", "choice", True, CONTACT_METHODS), Field("reached", "bool"),
                                _text("outcome", True, 500), Field("contactTime", "time"))),
        Kind("result", "办理结果", (Field("result", "choice", True, RESULTS), _text("text", True),
                                  _text("measures"))),
        Kind("extension", "延期", (Field("days", "int", True), _text("reason", True, 500),
                                 Field("approved", "bool", True), _text("note", max_length=500))),
        Kind("return", "退单", (_text("reason", True),)),
        Kind("reassign", "改派", (_text("departmentCode", True, 18), _text("note"))),
        Kind("callback", "回访", (Field("success", "bool", True), Field("solved", "bool"),
                                Field("satisfaction", "choice", choices=SATISFACTION), _text("reason", max_length=500),
                                Field("callbackTime", "time"))),
        Kind("close", "办结", (_text("note"),)),
    )
}  # fmt: skip


@dataclass(frozen=True)
class Event:
    event_id: str
    order_no: str
    seq: int
    kind: str
    at: datetime
    data: dict


def parse_time(value, name: str) -> datetime:
    if not isinstance(value, str):
        raise InvalidInput(f"{name} 应为“YYYY-MM-DD HH:MM:SS”格式的时间", code="invalid_time")
    try:
        moment = datetime.strptime(value.strip(), TIME_FORMAT).replace(tzinfo=SHANGHAI)
    except ValueError:
        raise InvalidInput(f"{name} 应为“YYYY-MM-DD HH:MM:SS”格式的时间", code="invalid_time") from None
    if moment.year < 2000:
        raise InvalidInput(f"{name} 不合理（早于2000年）", code="invalid_time")
    if moment > clock.now() + FUTURE_SKEW:
        raise InvalidInput(f"{name} 不能晚于当前时间", code="time_in_future")
    return moment


def format_time(moment: datetime | None) -> str:
    return timezone.localtime(moment, SHANGHAI).strftime(TIME_FORMAT) if moment else ""


def _ascii_id(value, name: str, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > max_length or not value.isprintable():
        raise InvalidInput(f"{name} 应为1至{max_length}个字符", code=f"invalid_{name}")
    return value.strip()


def _value(field: Field, given):
    if field.kind == "text":
        if not isinstance(given, str):
            raise InvalidInput(f"{field.name} 应为文字", code="invalid_field")
        if "\x00" in given:
            raise InvalidInput(f"{field.name} 含有不允许的字符", code="invalid_field")
        if len(given) > field.max_length:
            raise InvalidInput(
                f"{field.name} 不能超过{field.max_length}个字（现为{len(given)}个字）", code="text_too_long"
            )
        if field.required and not given.strip():
            raise InvalidInput(f"缺少 {field.name}", code="field_required")
        return given
    if field.kind == "bool":
        if not isinstance(given, bool):
            raise InvalidInput(f"{field.name} 应为 true 或 false", code="invalid_field")
        return given
    if field.kind == "int":
        if not isinstance(given, int) or isinstance(given, bool):
            raise InvalidInput(f"{field.name} 应为整数", code="invalid_field")
        return given
    if field.kind == "time":
        return parse_time(given, field.name)
    if not isinstance(given, str) or given not in (field.choices or {}):
        raise InvalidInput(f"{field.name} 应为 {'、'.join(field.choices or {})} 之一", code="invalid_code")
    return given


def parse_envelope(raw) -> tuple[str, str, int]:
    """(eventId, orderNo, seq): what places an event, checked before the rest of it."""
    if not isinstance(raw, dict):
        raise InvalidInput("回调事件应为对象", code="invalid_event")
    event_id = _ascii_id(raw.get("eventId"), "eventId", 64)
    order_no = _ascii_id(raw.get("orderNo"), "orderNo", 40)
    seq = raw.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= 100_000:
        raise InvalidInput("seq 应为1起的整数（每张工单内的回调序号）", code="invalid_seq")
    return event_id, order_no, seq


def parse_event(raw) -> Event:
    """One callback event checked against its kind's fields; a 422 with a code for what is wrong."""
    event_id, order_no, seq = parse_envelope(raw)
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in KINDS:
        raise InvalidInput(f"未知的回调类型“{str(kind)[:20]}”：可选 {'、'.join(KINDS)}", code="unknown_type")
    at = parse_time(raw.get("time"), "time")
    given = raw.get("data") or {}
    if not isinstance(given, dict):
        raise InvalidInput("data 应为对象", code="invalid_event")
    fields = {f.name: f for f in KINDS[kind].fields}
    unknown = set(given) - set(fields)
    if unknown:
        raise InvalidInput(
            f"{KINDS[kind].label}回调不含字段：{'、'.join(sorted(unknown))[:80]}", code="unknown_field"
        )
    data = {}
    for field in fields.values():
        if given.get(field.name) is None:
            if field.required:
                raise InvalidInput(f"{KINDS[kind].label}回调缺少 {field.name}", code="field_required")
            continue
        data[field.name] = _value(field, given[field.name])
    return Event(event_id, order_no, seq, kind, at, data)


def event_json(event: Event) -> dict:
    """The event as the platform sends it (times back in the wire format)."""
    data = {k: format_time(v) if isinstance(v, datetime) else v for k, v in event.data.items()}
    return {
        "eventId": event.event_id,
        "orderNo": event.order_no,
        "seq": event.seq,
        "type": event.kind,
        "time": format_time(event.at),
        "data": data,
    }
