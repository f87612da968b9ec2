"""Channels API: the queue-ticket system sets the case served at a window; apps fetch a case's rating state,
rate, 追评 (through the one intake) and get the signed links to embed or send."""

import uuid
from datetime import datetime
from uuid import UUID

from django.http import HttpResponse
from django.utils.timezone import localtime
from ninja import Field, Router, Schema, Status

from haocha.accounts.access import Actor
from haocha.accounts.models import ApiClient
from haocha.catalogue.selectors import get_case_for_actor
from haocha.channels import citizen, duty, links
from haocha.channels.models import ServedCase
from haocha.channels.selectors import get_window_for_actor
from haocha.core.errors import Forbidden, InvalidInput, NotFound
from haocha.core.openapi import answers
from haocha.evaluations import access, rules
from haocha.evaluations import levels as lv
from haocha.evaluations.rules import EvaluatorInput, RatingInput
from haocha.evaluations.services import rating_follow_up, rating_submit
from haocha.workorders.citizen import citizen_link_token

router = Router(tags=["评价渠道"])
APP_LABEL = "办事群众（移动端）"


class ServingIn(Schema):
    case_no: str = Field(..., min_length=1, max_length=50, description="正在该窗口办理的办件编号")


class ServingOut(Schema):
    window_code: str
    case_no: str | None
    item_name: str | None
    source: str | None
    set_at: datetime | None


class ReplyOut(Schema):
    text: str
    created_at: datetime


class RatingSummary(Schema):
    id: UUID
    kind: int
    kind_name: str
    level: str
    level_name: str
    satisfaction: int
    reasons: list[str]
    reason_texts: list[str]
    comment: str
    channel: str
    channel_name: str
    rated_at: datetime
    reply: ReplyOut | None


class OrderSummary(Schema):
    number: str
    status: str
    status_name: str
    progress_url: str = Field(..., description="群众查看处理进度、答复回访的签名链接")


class CaseStateOut(Schema):
    case_no: str
    item_name: str
    department_name: str
    finished_at: datetime | None
    can_rate: bool
    can_follow_up: bool
    follow_up_until: datetime | None
    not_rateable: str = Field(..., description="当前不能评价的原因（可以评价或已评价时为空）")
    first: RatingSummary | None
    follow_up: RatingSummary | None
    work_orders: list[OrderSummary]


class AppEvaluatorIn(Schema):
    name: str = Field("", max_length=100)
    id_number: str = Field("", max_length=32)
    phone: str = Field("", max_length=20)


class AppRatingIn(Schema):
    level: str = Field(..., description="整体满意度：very_satisfied…very_dissatisfied 或 非常满意…非常不满意")
    indicators: dict[str, str] = Field(default_factory=dict, description="分项指标：指标编码 → 等级")
    reasons: list[str] = Field(default_factory=list, description="评价内容选项编码")
    comment: str = Field("", description=f"文字评价（至多{rules.MAX_COMMENT}字）")
    channel: str = Field("mobile", description="mobile（默认）、pc、qrcode、sms 或 terminal")
    evaluator: AppEvaluatorIn | None = Field(None, description="实名登录的评价人；默认为办件申请人")
    idempotency_key: str = Field("", max_length=64, description="幂等键；也可用请求头 Idempotency-Key")


class LinkRatingIn(Schema):
    level: str = Field(..., description="整体满意度")
    indicators: dict[str, str] = Field(default_factory=dict)
    reasons: list[str] = Field(default_factory=list)
    comment: str = Field("", description=f"文字评价（至多{rules.MAX_COMMENT}字）")
    key: str = Field("", max_length=40, description="客户端为本次评价生成的编号（重试时原样重发）")


class LinksOut(Schema):
    rating_url: str
    embed_url: str
    embed_script: str


def _summary(rating) -> dict | None:
    if rating is None:
        return None
    reply = getattr(rating, "reply", None)
    return {
        "id": rating.public_id,
        "kind": rating.kind,
        "kind_name": rating.get_kind_display(),
        "level": rating.level,
        "level_name": rating.get_level_display(),
        "satisfaction": lv.to_satisfaction(rating.level),
        "reasons": rating.reason_codes,
        "reason_texts": citizen.reason_texts(rating),
        "comment": "" if rating.is_hidden else rating.comment,
        "channel": rating.channel,
        "channel_name": rating.get_channel_display(),
        "rated_at": localtime(rating.rated_at),
        "reply": {"text": reply.text, "created_at": localtime(reply.created_at)} if reply else None,
    }


def state_out(case) -> dict:
    state = citizen.case_state(case)
    return {
        "case_no": case.case_no,
        "item_name": case.item.name,
        "department_name": case.department.name,
        "finished_at": localtime(case.finished_at) if case.finished_at else None,
        "can_rate": state.can_rate,
        "can_follow_up": state.can_follow_up,
        "follow_up_until": localtime(state.follow_up_until) if state.follow_up_until else None,
        "not_rateable": state.not_rateable,
        "first": _summary(state.first),
        "follow_up": _summary(state.follow_up),
        "work_orders": [
            {
                "number": o.number,
                "status": o.status,
                "status_name": o.get_status_display(),
                "progress_url": f"/c/{citizen_link_token(o)}/",
            }
            for o in state.orders
        ],
    }


def _serving_out(window, served) -> dict:
    return {
        "window_code": window.code,
        "case_no": served.case.case_no if served else None,
        "item_name": served.case.item.name if served else None,
        "source": served.source if served else None,
        "set_at": localtime(served.set_at) if served else None,
    }


def _require(actor: Actor, scope: str, message: str) -> None:
    if not actor.has_scope(scope):
        raise Forbidden(message, code="scope_missing")


@router.put(
    "/windows/{window_code}/serving",
    response=ServingOut,
    summary="叫号系统：设置窗口正在办理的办件（评价器据此评价）",
)
def set_serving(request, window_code: str, payload: ServingIn):
    actor = request.auth
    _require(actor, ApiClient.Scope.CASES_WRITE, "该接入系统没有设置在办办件的权限（需 cases:write）")
    window = get_window_for_actor(actor, window_code)
    source = ServedCase.Source.QUEUE if actor.client is not None else ServedCase.Source.CLERK
    served = duty.served_set(actor=actor, window=window, case_no=payload.case_no, source=source)
    return _serving_out(window, served)


@router.delete("/windows/{window_code}/serving", response=ServingOut, summary="叫号系统：清除窗口的在办办件")
def clear_serving(request, window_code: str):
    actor = request.auth
    _require(actor, ApiClient.Scope.CASES_WRITE, "该接入系统没有设置在办办件的权限（需 cases:write）")
    window = get_window_for_actor(actor, window_code)
    duty.served_clear(window=window)
    return _serving_out(window, None)


@router.get(
    "/cases/{case_no}/state",
    response=CaseStateOut,
    summary="办件的评价状态（能否评价、追评，回复，差评处理进度）",
)
def case_rating_state(request, case_no: str):
    return state_out(access.get_case_to_read_ratings(request.auth, case_no))


def _app_input(request, payload: AppRatingIn) -> RatingInput:
    if payload.channel not in citizen.CITIZEN_CHANNELS:
        raise InvalidInput("channel 应为 mobile、pc、qrcode、sms 或 terminal", code="channel_not_allowed")
    ev = payload.evaluator
    return RatingInput(
        channel=payload.channel,
        level=rules.level_of(level=payload.level),
        indicators=dict(payload.indicators),
        reasons=payload.reasons,
        comment=payload.comment,
        evaluator=EvaluatorInput(name=ev.name, id_number=ev.id_number, phone=ev.phone) if ev else None,
        client_ip=request.META.get("REMOTE_ADDR"),
        # Without a key a repeat cannot be told from a second rating: it gets one, and is refused as such.
        idempotency_key=request.headers.get("Idempotency-Key", "")
        or payload.idempotency_key
        or str(uuid.uuid4()),
    )


def _answer(response: HttpResponse, case, created: bool):
    if not created:
        response["Idempotent-Replayed"] = "true"
    return Status(201, state_out(case))


@router.post(
    "/cases/{case_no}/rating",
    response={201: CaseStateOut},
    summary="移动端提交办件评价（统一评价入口）",
    openapi_extra=answers(503, replayed=True),
)
def app_rate(request, case_no: str, payload: AppRatingIn, response: HttpResponse):
    actor = request.auth
    case = get_case_for_actor(actor, case_no)
    data = _app_input(request, payload)
    data.case_no = case.case_no
    _rating, created = rating_submit(actor=actor, data=data)
    return _answer(response, case, created)


@router.post(
    "/cases/{case_no}/follow-up",
    response={201: CaseStateOut},
    summary="移动端提交追评",
    openapi_extra=answers(503, replayed=True),
)
def app_follow_up(request, case_no: str, payload: AppRatingIn, response: HttpResponse):
    actor = request.auth
    case = get_case_for_actor(actor, case_no)
    data = _app_input(request, payload)
    _rating, created = rating_follow_up(actor=actor, case_no=case.case_no, data=data)
    return _answer(response, case, created)


@router.get(
    "/cases/{case_no}/links",
    response=LinksOut,
    summary="办件的签名评价链接与嵌入代码（短信、办结通知、办件页）",
)
def case_links(request, case_no: str, channel: str = "pc"):
    actor = request.auth
    if actor.client is not None and not actor.has_scope(
        ApiClient.Scope.RATINGS_READ, ApiClient.Scope.CASES_WRITE
    ):
        raise Forbidden("该接入系统没有获取评价链接的权限", code="scope_missing")
    if channel not in citizen.CITIZEN_CHANNELS:
        raise InvalidInput("channel 应为 mobile、pc、qrcode、sms 或 terminal", code="channel_not_allowed")
    case = get_case_for_actor(actor, case_no)
    url = links.rating_link_url(case, channel=channel)
    base = url.split("/r/", 1)[0]
    return {
        "rating_url": url,
        "embed_url": url.replace("/r/", "/embed/", 1),
        "embed_script": f'<script src="{base}/static/channels/embed.js" data-link="{url}"></script>',
    }


def _link_target(token: str):
    target = links.target_from_token(token)
    if target.channel not in citizen.CITIZEN_CHANNELS:
        raise NotFound("评价链接无效", code="link_invalid")
    return target


def _link_form(payload: LinkRatingIn) -> citizen.RatingForm:
    return citizen.RatingForm(
        level=rules.level_of(level=payload.level),
        indicators=dict(payload.indicators),
        reasons=payload.reasons,
        comment=payload.comment,
        key=payload.key,
    )


@router.get(
    "/links/{token}",
    response=CaseStateOut,
    auth=None,
    summary="凭签名链接查询办件评价状态（扫码、短信）",
    openapi_extra=answers(410),
)
def link_state(request, token: str):
    return state_out(_link_target(token).case)


@router.post(
    "/links/{token}/rating",
    response={201: CaseStateOut},
    auth=None,
    summary="凭签名链接评价",
    openapi_extra=answers(403, 410, 503, replayed=True),
)
def link_rate(request, token: str, payload: LinkRatingIn, response: HttpResponse):
    target = _link_target(token)
    _rating, created = citizen.citizen_rate(
        case=target.case,
        channel=target.channel,
        form=_link_form(payload),
        client_ip=request.META.get("REMOTE_ADDR"),
        label=APP_LABEL,
    )
    return _answer(response, target.case, created)


@router.post(
    "/links/{token}/follow-up",
    response={201: CaseStateOut},
    auth=None,
    summary="凭签名链接追评",
    openapi_extra=answers(403, 410, 503, replayed=True),
)
def link_follow_up(request, token: str, payload: LinkRatingIn, response: HttpResponse):
    target = _link_target(token)
    _rating, created = citizen.citizen_follow_up(
        case=target.case,
        channel=target.channel,
        form=_link_form(payload),
        client_ip=request.META.get("REMOTE_ADDR"),
        label=APP_LABEL,
    )
    return _answer(response, target.case, created)
