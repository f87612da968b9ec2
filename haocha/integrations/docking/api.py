"""Docking endpoints of a parent system: a child's signed upload (per-record results) and the monitor."""

from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.security import APIKeyHeader

from haocha.accounts.access import Actor
from haocha.integrations.docking import dispatch, monitor
from haocha.integrations.docking.receive import MAX_RECORDS, child_for_request, child_label, receive_batch

router = Router(tags=["上下级对接"])


class ChildSignatureAuth(APIKeyHeader):
    """A child system proves the call with an HMAC of method, path, timestamp, nonce and body (signing.py)."""

    param_name = "X-Hc-Signature"

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor:
        child = child_for_request(request)
        request.child_system = child
        return Actor(label=child_label(child), client=child.client)


class UploadIn(Schema):
    records: list[Any] = Field(..., max_length=MAX_RECORDS, description="记录，每批最多2000条")
    counts: dict = Field(default_factory=dict, description="按日累计发送条数（对账用，可空）")


class ResultOut(Schema):
    type: str | None
    id: str | None
    version: int | None
    status: str = Field(..., description="accepted 已接收、duplicate 此前已接收、rejected 拒收")
    code: str
    message: str


class UploadOut(Schema):
    results: list[ResultOut]


@router.post("/upload", response=UploadOut, auth=ChildSignatureAuth(), summary="下级系统上报（逐条结果）")
def upload(request, payload: UploadIn):
    child = request.child_system
    results = receive_batch(child, payload.records)
    if payload.counts:
        monitor.record_counts(child, payload.counts)
    return {"results": results}


class ParentSignatureAuth(APIKeyHeader):
    """This system's parent, signing with the secret it issued to this system (HAOCHA_PARENT_SECRET)."""

    param_name = "X-Hc-Signature"

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor:
        dispatch.parent_for_request(request)
        return Actor(label="上级系统")


class DispatchIn(Schema):
    records: list[Any] = Field(
        ..., max_length=100, description="上级平台收到、涉及本级办件的差评（评价记录）"
    )


@router.post("/dispatch", response=UploadOut, auth=ParentSignatureAuth(), summary="上级下发差评（逐条结果）")
def dispatch_down(request, payload: DispatchIn):
    return {"results": dispatch.receive_dispatch(payload.records)}


class CaseLookupOut(Schema):
    service: dict = Field(..., description="服务数据（字段同上报）")
    ratings: list[dict] = Field(..., description="该办件的评价（字段同上报）")
    orders: list[dict] = Field(..., description="该办件差评工单的处置数据（字段同上报）")


@router.get(
    "/cases/{case_no}",
    response=CaseLookupOut,
    auth=ParentSignatureAuth(),
    summary="上级反查办件（按办件编号）",
)
def case_lookup(request, case_no: str):
    return dispatch.case_details(case_no)
