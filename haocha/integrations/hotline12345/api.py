"""The endpoint an external 12345 platform calls back: signed events, a result per event."""

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.security import APIKeyHeader

from haocha.accounts.access import Actor
from haocha.integrations.hotline12345 import callbacks, protocol

router = Router(tags=["12345平台对接"])


class PlatformSignatureAuth(APIKeyHeader):
    """The platform proves the call with its agreed HMAC (SHA-256 or SM3) of method, path, time, nonce, body."""

    param_name = "X-Hc-Signature"

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor:
        platform = callbacks.platform_for_request(request)
        request.hotline_platform = platform
        return callbacks.platform_actor(platform)


class CallbackIn(Schema):
    events: list[Any] = Field(
        ..., min_length=1, max_length=protocol.MAX_EVENTS, description="回调事件，每次至多200条"
    )


class EventResultOut(Schema):
    eventId: str | None
    status: str = Field(..., description="received 已接收、duplicate 此前已接收、refused 拒收")
    state: str = Field(
        ..., description="applied 已应用、unchanged 重复无变化、waiting 等待前序回调、failed 未能应用"
    )
    code: str
    message: str


class CallbackOut(Schema):
    results: list[EventResultOut]


@router.post(
    "/callback",
    response=CallbackOut,
    auth=PlatformSignatureAuth(),
    summary="12345平台回传工单进度（逐条结果）",
)
def callback(request, payload: CallbackIn):
    return {"results": callbacks.receive_events(request.hotline_platform, payload.events)}
