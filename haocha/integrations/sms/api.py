"""The SMS provider's webhooks: citizens' replies and delivery receipts, signed with a shared secret.

Signature: `X-Sms-Timestamp: <unix seconds>` and `X-Sms-Signature: <hex HMAC-SHA256>` of
`"<timestamp>." + raw body` under HAOCHA_SMS_WEBHOOK_SECRET; older than 5 minutes is refused.
"""

import hashlib
import hmac
import time
from datetime import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema
from ninja.security import APIKeyHeader

from haocha.accounts.access import Actor
from haocha.catalogue.services import aware
from haocha.core import identity
from haocha.core.errors import DomainError, Forbidden, InvalidInput
from haocha.integrations.sms.inbound import Receipt, sms_receipts_apply, sms_reply_receive

MAX_SKEW_SECONDS = 300

router = Router(tags=["短信"])


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class SmsSignatureAuth(APIKeyHeader):
    """The provider proves the call with an HMAC of the timestamp and the body."""

    param_name = "X-Sms-Signature"

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor:
        secret = settings.HAOCHA_SMS_WEBHOOK_SECRET
        if not secret:
            raise Forbidden("短信回调未启用：未配置 HAOCHA_SMS_WEBHOOK_SECRET", code="sms_webhook_disabled")
        timestamp = request.headers.get("X-Sms-Timestamp", "")
        if not key or not timestamp:
            raise DomainError(
                "缺少短信网关签名：请求头须有 X-Sms-Timestamp 和 X-Sms-Signature",
                code="signature_missing",
                status=401,
            )
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW_SECONDS:
            raise Forbidden("短信网关签名时间戳无效或已过期（允许误差5分钟）", code="signature_expired")
        expected = signature(secret, timestamp, request.body)
        if not hmac.compare_digest(expected, key.strip().removeprefix("sha256=").lower()):
            raise Forbidden("短信网关签名不正确", code="signature_invalid")
        return Actor(label=f"短信网关:{settings.HAOCHA_SMS_PROVIDER}")


SIGNED = SmsSignatureAuth()


class InboundIn(Schema):
    message_id: str = Field(..., min_length=1, max_length=64, description="网关的上行消息编号（幂等）")
    phone: str = Field(..., min_length=1, max_length=20, description="回复人手机号码")
    text: str = Field(..., max_length=2000, description="回复内容")
    received_at: datetime | None = Field(None, description="网关收到回复的时间")


class InboundOut(Schema):
    outcome: str
    outcome_name: str
    code: str
    replayed: bool
    case_no: str | None
    rating_id: str | None


class ReceiptIn(Schema):
    message_id: str = Field("", max_length=64, description="网关的下行消息编号")
    out_id: str = Field("", max_length=128, description="发送时提交的 out_id（本系统的幂等键）")
    status: str = Field(..., description="delivered 或 failed")
    error: str = Field("", max_length=500)
    at: datetime | None = None


class ReceiptsIn(Schema):
    receipts: list[ReceiptIn] = Field(..., min_length=1, max_length=500)


class ReceiptsOut(Schema):
    applied: int
    unknown: int


def _check_time(value: datetime | None) -> None:
    if value is not None and not 2000 <= value.year <= 2100:
        raise InvalidInput("时间应在2000年至2100年之间", code="invalid_time")


@router.post("/inbound", response=InboundOut, auth=SIGNED, summary="短信上行回复（评价、退订）")
def inbound(request, payload: InboundIn, response: HttpResponse):
    if not identity.is_valid_phone(payload.phone):
        raise InvalidInput("回复人手机号码格式不正确", code="invalid_phone")
    _check_time(payload.received_at)
    result = sms_reply_receive(
        provider=settings.HAOCHA_SMS_PROVIDER,
        message_id=payload.message_id.strip(),
        phone=payload.phone,
        text=payload.text,
        received_at=aware(payload.received_at),
    )
    if result.replayed:
        response["Idempotent-Replayed"] = "true"
    row = result.inbound
    invitation = row.invitation
    return {
        "outcome": row.outcome,
        "outcome_name": row.get_outcome_display(),
        "code": row.code,
        "replayed": result.replayed,
        "case_no": invitation.case.case_no if invitation is not None else None,
        "rating_id": str(row.rating.public_id) if row.rating_id else None,
    }


@router.post("/receipts", response=ReceiptsOut, auth=SIGNED, summary="短信送达回执")
def receipts(request, payload: ReceiptsIn):
    items = []
    for r in payload.receipts:
        if r.status not in ("delivered", "failed"):
            raise InvalidInput(f"回执状态 {r.status} 无效（应为 delivered 或 failed）", code="invalid_status")
        _check_time(r.at)
        if not (r.message_id or r.out_id):
            raise InvalidInput("回执须有 message_id 或 out_id", code="receipt_id_required")
        items.append(
            Receipt(
                message_id=r.message_id,
                out_id=r.out_id,
                delivered=r.status == "delivered",
                error=r.error,
                at=aware(r.at),
            )
        )
    return sms_receipts_apply(provider=settings.HAOCHA_SMS_PROVIDER, receipts=items)
