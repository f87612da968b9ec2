"""The workbench's forms: for each action of the machine taken at the workbench, the parser that reads its POST
into the keyword arguments of its service function work_order_<name>."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from haocha.accounts.access import Actor
from haocha.core.errors import InvalidInput
from haocha.organisations.models import Organisation
from haocha.workorders import actions, citizen, machine
from haocha.workorders.access import get_work_order_for_actor
from haocha.workorders.attachments import save_attachments
from haocha.workorders.models import WorkOrder


@dataclass
class Form:
    """One workbench POST: its fields and files, the order and who acts."""

    order: WorkOrder
    actor: Actor
    post: object
    files: list = field(default_factory=list)
    stored: list = field(default_factory=list)  # attachment paths written, to remove if the step is refused

    def text(self, name: str) -> str:
        return self.post.get(name, "")

    def flag(self, name: str, default: str = "") -> bool:
        return self.post.get(name, default) == "1"

    def time(self, name: str) -> datetime | None:
        value = self.post.get(name)
        if not value:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except (TypeError, ValueError) as exc:
            raise InvalidInput("时间格式不正确", code="invalid_time") from exc
        return timezone.make_aware(moment) if timezone.is_naive(moment) else moment

    def number(self, name: str, message: str, code: str) -> int:
        try:
            return int(self.post.get(name, ""))
        except ValueError as exc:
            raise InvalidInput(message, code=code) from exc

    def organisations(self, name: str, label: str = "协办部门") -> list[Organisation]:
        """The organisations named by id; every id must exist (never replaced by a default)."""
        ids = [_id(v) for v in self.post.getlist(name) if v != ""]
        found = {o.pk: o for o in Organisation.objects.filter(pk__in=ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise InvalidInput(f"{label}不存在（编号 {missing[0]}）", code="unknown_department")
        return [found[i] for i in ids]

    def organisation(self, name: str) -> Organisation | None:
        found = self.organisations(name, label="承办部门")
        return found[0] if found else None

    def attachments(self, action: str) -> list | None:
        """Files are stored only for someone allowed to take the step (checked first)."""
        if not self.files:
            return None
        machine.authorize(self.actor, self.order, action)
        saved = save_attachments(self.order.number, self.files)
        self.stored.extend(meta["path"] for meta in saved)
        return saved


def _id(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("编号应为整数", code="invalid_id") from exc
    if not 0 < number < 2**62:
        raise InvalidInput("编号超出范围", code="invalid_id")
    return number


Parser = Callable[[Form], dict]
PARSERS: dict[str, Parser] = {}
SERVICES: dict[str, Callable] = {}


def parser(name: str, module=actions):
    """Register the form parser of action `name`; its service is work_order_<name> in `module`."""

    def register(fn: Parser) -> Parser:
        PARSERS[name] = fn
        SERVICES[name] = getattr(module, f"work_order_{name}")
        return fn

    return register


@parser("verify")
def _verify(f: Form) -> dict:
    if f.text("valid") == "0":
        raise InvalidInput("核实为无效请使用“核实为无效”", code="use_invalidate")
    return {
        "complexity": f.text("complexity"),
        "note": f.text("note"),
        "department": f.organisation("department"),
        "co_departments": f.organisations("co_departments"),
    }


@parser("invalidate")
def _invalidate(f: Form) -> dict:
    return {"reason": f.text("reason"), "note": f.text("note")}


@parser("assign")
def _assign(f: Form) -> dict:
    return {
        "department": f.organisation("department"),
        "complexity": f.text("complexity"),
        "co_departments": f.organisations("co_departments"),
        "note": f.text("note"),
    }


@parser("set_complexity")
def _set_complexity(f: Form) -> dict:
    return {"complexity": f.text("complexity"), "reason": f.text("reason")}


@parser("merge")
def _merge(f: Form) -> dict:
    return {"into": get_work_order_for_actor(f.actor, f.text("into")), "note": f.text("note")}


@parser("decide_extension")
def _decide_extension(f: Form) -> dict:
    return {"approve": f.flag("approve"), "note": f.text("note")}


@parser("accept")
def _accept(f: Form) -> dict:
    return {}


@parser("return")
def _return(f: Form) -> dict:
    return {"reason": f.text("reason")}


@parser("contact")
def _contact(f: Form) -> dict:
    return {
        "contacted_at": f.time("contacted_at"),
        "method": f.text("method"),
        "outcome": f.text("outcome"),
        "reached": f.flag("reached", "1"),
    }


@parser("request_extension")
def _request_extension(f: Form) -> dict:
    return {"days": f.number("days", "延期天数应为整数", "invalid_days"), "reason": f.text("reason")}


@parser("feedback")
def _feedback(f: Form) -> dict:
    return {
        "result": f.text("result"),
        "measures": f.text("measures"),
        "attachments": f.attachments("feedback"),
    }


@parser("on_the_spot")
def _on_the_spot(f: Form) -> dict:
    return {"result": f.text("result")}


@parser("appeal")
def _appeal(f: Form) -> dict:
    return {"ground": f.text("ground"), "statement": f.text("statement"), "evidence": f.attachments("appeal")}


@parser("review_appeal")
def _review_appeal(f: Form) -> dict:
    return {"uphold": f.flag("uphold"), "note": f.text("note")}


@parser("supervise")
def _supervise(f: Form) -> dict:
    return {"note": f.text("note"), "deadline": f.time("deadline")}


@parser("callback", module=citizen)
def _callback(f: Form) -> dict:
    return {
        "solved": citizen.parse_solved(f.text("solved")),
        "satisfaction": f.text("satisfaction"),
        "comment": f.text("comment"),
    }


def take(name: str, form: Form):
    """Take the workbench action `name` with what its form says."""
    return SERVICES[name](order=form.order, actor=form.actor, **PARSERS[name](form))
