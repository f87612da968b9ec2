"""A QR code scanned at the self-service terminal. The 办结通知 (and the case QR code staff print) carries the
signed rating link `<HAOCHA_PUBLIC_URL>/r/<token>/`; a USB scanner types it at the terminal. The case is the
one the signature vouches for, exactly as the link view decides it (`links.target_from_token`): a payload
that is not such a link, or whose signature does not hold, opens nothing. Failed scans are counted per
terminal, like failed look-ups by case number."""

import re
from urllib.parse import urlsplit

from haocha.catalogue.models import Case
from haocha.channels import links
from haocha.channels.citizen import CITIZEN_CHANNELS
from haocha.channels.throttle import throttle_check, throttle_hit
from haocha.core.errors import DomainError, InvalidInput, NotFound
from haocha.core.text import remove_format_characters

MAX_PAYLOAD = 1000  # a rating link is about 120 characters
FAILURES_PER_10_MINUTES = 20
# What django.core.signing.dumps produces: payload:timestamp:signature in URL-safe base64 (the payload starts
# with "." when compressed).
_TOKEN = re.compile(r"\.?[A-Za-z0-9_\-]+:[A-Za-z0-9_\-]+:[A-Za-z0-9_\-]+")
_LINK_PATH = re.compile(r"/r/([^/]+)/?")
_WINDOW_PATH = re.compile(r"/w/[^/]+/?")

UNRECOGNISED = "未能识别该二维码，请扫描办结通知上的评价二维码，或输入办件编号查询"


def token_from_payload(payload) -> str:
    """The signed token in what the scanner typed: the whole link (any host: the signature decides) or the
    token alone."""
    text = remove_format_characters(str(payload or "")).strip()
    if not text or len(text) > MAX_PAYLOAD:
        raise InvalidInput(UNRECOGNISED, code="scan_unrecognised")
    if "/" in text:
        path = urlsplit(text).path
        if _WINDOW_PATH.fullmatch(path):
            raise InvalidInput(
                "这是窗口的评价二维码，请用手机扫描；在本终端请扫描办结通知上的二维码", code="scan_window_qr"
            )
        match = _LINK_PATH.fullmatch(path)
        if match is None:
            raise InvalidInput(UNRECOGNISED, code="scan_unrecognised")
        text = match.group(1)
    if not _TOKEN.fullmatch(text):
        raise InvalidInput(UNRECOGNISED, code="scan_unrecognised")
    return text


def _for_terminal(exc: DomainError) -> DomainError:
    """The link view's answer in the words of a terminal (the citizen scanned a code, followed no link)."""
    if exc.code == "link_expired":
        return DomainError("该二维码已过期，请改用办件编号或身份证号查询", code="scan_expired", status=410)
    if exc.code == "link_invalid":
        return NotFound("二维码无效，请扫描办结通知上的评价二维码，或改用办件编号查询", code="scan_invalid")
    return exc


def case_from_scan(payload, *, requester: str) -> Case:
    """The case a scanned 办结通知 QR code is for; a Chinese DomainError for anything else."""
    key = f"terminal-scan-failed:{requester}"
    message = "扫码失败次数过多，请10分钟后再试"
    throttle_check(key, limit=FAILURES_PER_10_MINUTES, seconds=600, message=message)
    try:
        target = links.target_from_token(token_from_payload(payload))
        if target.channel not in CITIZEN_CHANNELS:
            raise NotFound("评价链接无效", code="link_invalid")
    except DomainError as exc:
        throttle_hit(key, limit=FAILURES_PER_10_MINUTES, seconds=600, message=message)
        raise _for_terminal(exc) from exc
    return target.case
