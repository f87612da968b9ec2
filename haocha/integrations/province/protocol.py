"""The provincial platform's protocol (docs/interface.md, 省级平台接口): its calls, the signed and optionally
SM4-encrypted envelope, and its answers. The client and the stand-in platform both speak it through this
module, which needs neither Django nor a database.
"""

import base64
import binascii
import time
from collections.abc import Mapping
from dataclasses import dataclass

import orjson

from haocha.integrations.docking import gm, signing

# One call per record kind; each carries up to MAX_PER_CALL records of that kind and answers each one.
CALLS = {"service": "/addEvaluateService", "rating": "/addEvaluate", "validity": "/updateEvaluateValid"}
MAX_PER_CALL = 200

APP, TIMESTAMP, NONCE, SIGN_TYPE, SIGNATURE, ENCRYPT = (
    "C-App-Id",
    "C-Timestamp",
    "C-Nonce",
    "C-Sign-Type",
    "C-Signature",
    "C-Encrypt",
)
ANSWER_METHOD = "RESPONSE"  # in place of the method in the string an answer's signature covers

# The answer: {C-Response-Code, C-Response-Desc, C-Response-Body: {results: [{projectNo, code, desc}]}}.
CODE, DESC, BODY = "C-Response-Code", "C-Response-Desc", "C-Response-Body"
SUCCESS = "0000"
# The platform's words for "already there" and "not yet" (its answers carry no machine code for them).
DUPLICATE_WORDS = "不可重复"
SERVICE_MISSING = "没有对应的服务数据"
RATING_MISSING = "没有对应的评价数据"


@dataclass(frozen=True)
class Agreement:
    """What the two sides agreed: the app id, the signing scheme and its key, the SM4 key (the body is then
    encrypted) and, optionally, the platform's SM2 key for signed answers.

    `key` is the HMAC secret on both sides; for SM2 the sender's private key (to sign) or its public key (to
    check). `answer_key` likewise: the platform's private key to sign answers, its public key to check them.
    """

    app_id: str
    scheme: signing.Scheme
    key: str
    sm4_key: bytes | None = None
    sm4_mode: str = "cbc"
    answer_key: str = ""

    @property
    def encryption(self) -> str:
        return f"SM4-{self.sm4_mode.upper()}" if self.sm4_key else "none"


class Refused(Exception):
    """A whole call refused: the HTTP status, the platform's code and its words."""

    def __init__(self, status: int, code: str, desc: str):
        super().__init__(desc)
        self.status, self.code, self.desc = status, code, desc

    def answer(self) -> dict:
        return {CODE: self.code, DESC: self.desc, BODY: None}


def seal(agreement: Agreement, path: str, payload: dict) -> tuple[bytes, dict]:
    """The body to send and its headers: JSON, encrypted if agreed, then signed as sent."""
    body = orjson.dumps(payload)
    if agreement.sm4_key:
        sealed = gm.sm4_encrypt(agreement.sm4_key, body, agreement.sm4_mode)
        body = orjson.dumps({"encryptData": base64.b64encode(sealed).decode()})
    timestamp, nonce = signing.new_timestamp_and_nonce()
    headers = {
        "Content-Type": "application/json;charset=utf-8",
        APP: agreement.app_id,
        TIMESTAMP: timestamp,
        NONCE: nonce,
        SIGN_TYPE: agreement.scheme.label,
        ENCRYPT: agreement.encryption,
        SIGNATURE: agreement.scheme.sign(agreement.key, "POST", path, timestamp, nonce, body),
    }
    return body, headers


def unseal(
    agreement: Agreement, method: str, path: str, headers: Mapping, body: bytes, now: float | None = None
) -> tuple[dict, str]:
    """A request checked and opened: its payload and its nonce (the caller refuses a nonce seen before).
    Raises Refused for a missing, forged or stale signature and a body that does not open."""
    app, timestamp, nonce, given = (headers.get(h) or "" for h in (APP, TIMESTAMP, NONCE, SIGNATURE))
    if not (app and timestamp and nonce and given):
        raise Refused(401, "4001", f"缺少签名信息：请求头须有 {APP}、{TIMESTAMP}、{NONCE}、{SIGNATURE}")
    if app != agreement.app_id:
        raise Refused(403, "4002", f"未授权的接入系统：{app[:40]}")
    if (headers.get(SIGN_TYPE) or "").upper() != agreement.scheme.label:
        raise Refused(403, "4003", f"签名算法与约定不符（约定 {agreement.scheme.label}）")
    if not signing.fresh(timestamp, now):
        raise Refused(403, "4004", f"请求时间戳无效或已过期（允许误差{signing.MAX_SKEW_SECONDS}秒）")
    if not 16 <= len(nonce) <= 64:
        raise Refused(400, "4008", f"{NONCE} 应为16至64个字符")
    if not agreement.scheme.verify(agreement.key, given, method, path, timestamp, nonce, body):
        raise Refused(403, "4005", "签名验证失败")
    if (headers.get(ENCRYPT) or "none").upper() != agreement.encryption.upper():
        raise Refused(400, "4007", f"报文加密方式与约定不符（约定 {agreement.encryption}）")
    try:
        payload = orjson.loads(body)
        if agreement.sm4_key:
            sealed = base64.b64decode(payload["encryptData"], validate=True)
            payload = orjson.loads(gm.sm4_decrypt(agreement.sm4_key, sealed, agreement.sm4_mode))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, binascii.Error):
        raise Refused(400, "4007", "报文无法解析或解密") from None
    if not isinstance(payload, dict):
        raise Refused(400, "4008", "报文格式不正确：应为 JSON 对象")
    return payload, nonce


# --- answers signed by the platform (optional: when the agreement gives the child its SM2 public key) ------


def answer_headers(agreement: Agreement, path: str, request_nonce: str, body: bytes) -> dict:
    """The signature of an answer, bound to the request it answers (its nonce): an old answer cannot be
    replayed to a later request."""
    if not agreement.answer_key:
        return {}
    timestamp = str(int(time.time()))
    return {
        TIMESTAMP: timestamp,
        SIGN_TYPE: signing.SM2_SM3.label,
        SIGNATURE: signing.SM2_SM3.sign(
            agreement.answer_key, ANSWER_METHOD, path, timestamp, request_nonce, body
        ),
    }


def answer_signed(agreement: Agreement, path: str, request_nonce: str, headers: Mapping, body: bytes) -> bool:
    timestamp, given = headers.get(TIMESTAMP) or "", headers.get(SIGNATURE) or ""
    return signing.fresh(timestamp) and signing.SM2_SM3.verify(
        agreement.answer_key, given, ANSWER_METHOD, path, timestamp, request_nonce, body
    )
