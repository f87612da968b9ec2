"""The error answers of the JSON API in its OpenAPI document.

Every operation lists the errors that follow from its shape (see `document_errors`); an operation that can
give others says so where it is declared: `@router.post(..., openapi_extra=answers(410, 503,
replayed=True))`."""

ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "description": "错误：`code` 为稳定的机器码（如 case_not_found、already_rated、invalid_input），"
    "`message` 为可直接展示的中文说明；校验错误另附 `details`（逐字段）。",
    "properties": {
        "code": {"type": "string", "title": "机器码"},
        "message": {"type": "string", "title": "中文说明"},
        "details": {"title": "详情"},
    },
    "required": ["code", "message"],
}
ERRORS = {
    "400": "请求不能受理",
    "401": "未认证：缺少或错误的 API 密钥、会话或签名",
    "403": "无权操作：超出调用方的机构范围或权限",
    "404": "不存在或无权访问",
    "409": "与现有数据冲突（如已评价、已回复、期限已过）",
    "410": "已过期（如评价链接超过有效期）",
    "422": "请求数据不符合要求",
    "429": "超过限额（如每人每日查看个人信息的次数），Retry-After 为可再试的秒数",
    "503": "暂不能受理（如评价指标体系尚未配置）",
}
REPLAYED = {
    "Idempotent-Replayed": {
        "description": "为 true 时表示这是重试：返回的是原来的结果，没有新建评价",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
_EXTRA = "x-haocha-errors"
_REPLAYED = "x-haocha-replayed"


def answers(*statuses: int, replayed: bool = False) -> dict:
    """`openapi_extra` for an operation that can also answer `statuses`, and (`replayed`) that answers a
    retried submission with the original and the Idempotent-Replayed header."""
    extra: dict = {_EXTRA: [str(s) for s in statuses]}
    if replayed:
        extra[_REPLAYED] = True
    return extra


def document_errors(path: str, method: str, operation: dict) -> None:
    """Add the error answers of one operation (as the API's handlers and the services give them)."""
    statuses = {"400", "422", *operation.pop(_EXTRA, [])}
    if operation.get("security"):
        statuses |= {"401", "403"}
    if operation.get("parameters") or operation.get("requestBody"):  # names a case, rating, unit …
        statuses.add("404")
    if method in ("post", "put", "delete"):
        statuses.add("409")
    responses = operation["responses"]  # Ninja keys them by int; JSON makes every key a string
    for status in sorted(statuses - {str(k) for k in responses}):
        responses[status] = {
            "description": ERRORS[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    if operation.pop(_REPLAYED, False):
        for status, answer in responses.items():
            if str(status) in ("200", "201"):
                answer.setdefault("headers", {}).update(REPLAYED)


def add_error_answers(schema: dict) -> dict:
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            document_errors(path, method, operation)
    return schema
