"""Ratings API: the one intake every channel uses, 追评, replies, flags, identity reveal, list by case."""

from datetime import datetime
from uuid import UUID

import orjson
from django.http import HttpResponse
from django.utils.timezone import localtime
from ninja import Field, Router, Schema, Status
from pydantic import IPvAnyAddress, StrictInt

from haocha.catalogue.services import aware
from haocha.core.identity import mask_name
from haocha.core.openapi import answers
from haocha.evaluations import access, rules
from haocha.evaluations import levels as lv
from haocha.evaluations.access import get_rating_for, ratings_of_case_for
from haocha.evaluations.channels import channel_code
from haocha.evaluations.disclosure import rating_identity_reveal
from haocha.evaluations.models import Rating
from haocha.evaluations.policy import policy_for_region
from haocha.evaluations.rules import EvaluatorInput, RatingInput
from haocha.evaluations.services import (
    rating_flag,
    rating_follow_up,
    rating_reply,
    rating_submit,
)

router = Router(tags=["评价"])


class EvaluatorIn(Schema):
    type: str = Field("", description="评价人类型（A.4 userProp）；默认同申请人")
    name: str = Field("", max_length=100)
    id_number: str = Field("", max_length=32)
    phone: str = Field("", max_length=20)


class RatingIn(Schema):
    case_no: str = Field("", max_length=50, description="办件编号（一事一评）")
    window_code: str = Field("", max_length=40, description="窗口编码（无办件时为“一次一评”窗口评价）")
    staff_no: str = Field("", max_length=32)
    channel: str = Field(
        ..., description="评价渠道：pc/mobile/qrcode/tablet/terminal/phone/sms/hotline_12345/…"
    )
    level: str | None = Field(
        None, description="整体满意度：very_satisfied…very_dissatisfied 或 非常满意…非常不满意"
    )
    satisfaction: StrictInt | None = Field(
        None, ge=1, le=5, description="国家接口 satisfaction：5 非常满意 … 1 非常不满意（整数）"
    )
    gbt_code: str | None = Field(None, description="GB/T 39046 A.8 满意度代码：1 非常满意 … 5 非常不满意")
    indicators: dict[str, str] = Field(default_factory=dict, description="分项指标：指标编码 → 等级")
    reasons: list[str] = Field(default_factory=list, description="评价内容选项编码（evalDetail）")
    comment: str = Field("", description=f"文字评价（至多{rules.MAX_COMMENT}字）")
    evaluator: EvaluatorIn | None = None
    rated_at: datetime | None = Field(None, description="评价时间（默认为接收时间）")
    client_ip: IPvAnyAddress | None = Field(
        None, description="评价人终端 IP（由渠道系统转交；默认取请求来源）"
    )
    device_id: str = Field("", max_length=64)
    region_code: str = Field(
        "", max_length=12, description="评价发生地行政区划代码（默认为办件或窗口所在区划）"
    )
    idempotency_key: str = Field("", max_length=64, description="幂等键；也可用请求头 Idempotency-Key")
    hotline_order_no: str = Field(
        "", max_length=40, description="12345工单编号（仅 hotline_12345 渠道：来电一次一评、办结回访满意度）"
    )


class FollowUpIn(RatingIn):
    case_no: str = Field(..., min_length=1, max_length=50)


class ReplyIn(Schema):
    text: str = Field(..., min_length=1, max_length=1000)


class FlagIn(Schema):
    kind: str = Field(..., description="invalid/restore/hide_text/note")
    reason: str = Field(..., min_length=1, max_length=500)


class IdentityIn(Schema):
    purpose: str = Field(
        ..., max_length=200, description="用途，例如“差评回访”（每次查看须说明，记入审计日志）"
    )


class ReplyOut(Schema):
    text: str
    department_id: int
    created_at: datetime


class RatingOut(Schema):
    id: UUID
    case_no: str | None
    kind: int
    kind_name: str
    level: str
    level_name: str
    gbt_code: str
    satisfaction: int
    is_bad: bool
    indicators: dict[str, str]
    reasons: list[str]
    comment: str
    channel: str
    channel_code: str
    indicator_set: str
    indicator_set_version: int
    window_code: str | None
    staff_no: str | None
    region_code: str
    evaluator_type: str
    evaluator_name: str
    evaluator_id_masked: str
    evaluator_phone_masked: str
    rated_at: datetime
    is_default: bool
    is_valid: bool
    invalid_reason: str
    reply: ReplyOut | None


class FlagOut(Schema):
    kind: str
    reason: str
    created_at: datetime


class IdentityOut(Schema):
    name: str
    id_number: str
    phone: str


_KIND_NAMES = dict(Rating.Kind.choices)
_LEVEL_NAMES = dict(lv.Level.choices)


def rating_out(r: Rating, *, fresh: bool = False) -> dict:
    reply = None if fresh else getattr(r, "reply", None)  # a rating just created has no reply yet
    return {
        "id": r.public_id,
        "case_no": r.case.case_no if r.case_id else None,
        "kind": r.kind,
        "kind_name": _KIND_NAMES.get(r.kind, str(r.kind)),
        "level": r.level,
        "level_name": _LEVEL_NAMES.get(r.level, r.level),
        "gbt_code": lv.to_gbt39046(r.level),
        "satisfaction": lv.to_satisfaction(r.level),
        "is_bad": r.is_bad,
        "indicators": r.indicator_levels,
        "reasons": r.reason_codes,
        "comment": "" if r.is_hidden else r.comment,
        "channel": r.channel,
        "channel_code": channel_code(r.channel, policy_for_region(r.region).channel_codes),
        "indicator_set": r.indicator_set.code,
        "indicator_set_version": r.indicator_set.version,
        "window_code": r.window.code if r.window_id else None,
        "staff_no": r.staff.staff_no if r.staff_id else None,
        "region_code": r.region.code,
        "evaluator_type": r.evaluator_type,
        "evaluator_name": mask_name(r.evaluator_name),
        "evaluator_id_masked": r.evaluator_id_masked,
        "evaluator_phone_masked": r.evaluator_phone_masked,
        "rated_at": localtime(r.rated_at),
        "is_default": r.is_default,
        "is_valid": r.is_valid,
        "invalid_reason": r.invalid_reason,
        "reply": {
            "text": reply.text,
            "department_id": reply.department_id,
            "created_at": localtime(reply.created_at),
        }
        if reply
        else None,
    }


def _level_from(payload: RatingIn) -> lv.Level:
    return rules.level_of(level=payload.level, satisfaction=payload.satisfaction, gbt_code=payload.gbt_code)


def _to_input(request, payload: RatingIn) -> RatingInput:
    return rating_input(payload, request.META.get("REMOTE_ADDR"), request.headers.get("Idempotency-Key", ""))


def rating_input(payload: RatingIn, remote_addr: str | None, idempotency_header: str) -> RatingInput:
    """The service's input from a validated request body, its caller's address and Idempotency-Key header."""
    level = _level_from(payload)
    ev = payload.evaluator
    return RatingInput(
        channel=payload.channel,
        level=level,
        case_no=payload.case_no,
        window_code=payload.window_code,
        staff_no=payload.staff_no,
        indicators=dict(payload.indicators),
        reasons=payload.reasons,
        comment=payload.comment,
        evaluator=EvaluatorInput(type=ev.type, name=ev.name, id_number=ev.id_number, phone=ev.phone)
        if ev
        else None,
        rated_at=aware(payload.rated_at),
        client_ip=str(payload.client_ip) if payload.client_ip else remote_addr,
        device_id=payload.device_id,
        region_code=payload.region_code,
        idempotency_key=idempotency_header or payload.idempotency_key,
        hotline_order_no=payload.hotline_order_no,
    )


def answer_body(rating: Rating, created: bool) -> bytes:
    """The 201 body, serialised directly (the RatingOut shape, as the tests check): validating the response
    cost the intake a tenth of its time."""
    return orjson.dumps(rating_out(rating, fresh=created))


def _answer(rating: Rating, created: bool) -> HttpResponse:
    answer = HttpResponse(answer_body(rating, created), status=201, content_type="application/json")
    if not created:
        answer["Idempotent-Replayed"] = "true"
    return answer


@router.post(
    "",
    response={201: RatingOut},
    summary="提交评价（各渠道统一入口，重试返回原结果）",
    openapi_extra=answers(503, replayed=True),
)
def submit_rating(request, payload: RatingIn):
    rating, created = rating_submit(actor=request.auth, data=_to_input(request, payload))
    return _answer(rating, created)


@router.post(
    "/follow-up",
    response={201: RatingOut},
    summary="追评（每笔办件一次，在追评期限内）",
    openapi_extra=answers(503, replayed=True),
)
def submit_follow_up(request, payload: FollowUpIn):
    rating, created = rating_follow_up(
        actor=request.auth, case_no=payload.case_no, data=_to_input(request, payload)
    )
    return _answer(rating, created)


@router.get("", response=list[RatingOut], summary="按办件查询评价（首次评价与追评）")
def list_ratings(request, case_no: str):
    return [rating_out(r) for r in ratings_of_case_for(request.auth, case_no)]


@router.get("/{rating_id}", response=RatingOut, summary="查询一条评价")
def get_rating(request, rating_id: str):
    return rating_out(get_rating_for(request.auth, rating_id))


@router.post("/{rating_id}/reply", response={201: RatingOut}, summary="部门回复评价（每条一次）")
def reply_rating(request, rating_id: str, payload: ReplyIn):
    rating = get_rating_for(request.auth, rating_id, access.REPLY)
    rating_reply(actor=request.auth, rating=rating, text=payload.text)
    return Status(201, rating_out(get_rating_for(request.auth, rating_id, access.REPLY)))


@router.post(
    "/{rating_id}/flags", response={201: FlagOut}, summary="标记评价（无效、恢复、屏蔽文字、更正说明）"
)
def flag_rating(request, rating_id: str, payload: FlagIn):
    rating = get_rating_for(request.auth, rating_id, access.FLAG)
    flag = rating_flag(
        actor=request.auth, rating=rating, kind=payload.kind, reason=payload.reason, request=request
    )
    return Status(201, {"kind": flag.kind, "reason": flag.reason, "created_at": localtime(flag.created_at)})


@router.post(
    "/{rating_id}/identity",
    response=IdentityOut,
    summary="查看评价人完整身份（说明用途，留痕审计，每人每日限额）",
    openapi_extra=answers(429),
)
def reveal_identity(request, rating_id: str, payload: IdentityIn):
    rating = get_rating_for(request.auth, rating_id, access.REVEAL)
    return rating_identity_reveal(actor=request.auth, rating=rating, purpose=payload.purpose, request=request)
