"""QR codes as PNG and SVG (the `qrcode` package), and the signed link a window's QR code opens."""

import io
import re

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.core import signing

from haocha.core.errors import NotFound

WINDOW_SALT = "haocha.channels.window-qr"


def _make(data: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=2)
    code.add_data(data)
    code.make(fit=True)
    return code


def qr_png(data: str) -> bytes:
    buf = io.BytesIO()
    _make(data).make_image().save(buf)
    return buf.getvalue()


def qr_svg(data: str) -> str:
    """A standalone SVG document (white background), scalable by its viewBox."""
    buf = io.BytesIO()
    _make(data).make_image(image_factory=qrcode.image.svg.SvgPathFillImage).save(buf)
    return buf.getvalue().decode()


def qr_svg_inline(data: str) -> str:
    """The SVG element alone, sized by CSS, for printed pages."""
    svg = qr_svg(data)
    svg = svg[svg.index("<svg") :]
    return re.sub(r'width="[^"]*" height="[^"]*"', 'width="100%" height="100%"', svg, count=1)


# A window's QR code is printed on a stand sign and lasts years: the link is signed (not enumerable, cannot
# be forged for another window) and does not expire; a window that is closed simply stops answering.
def window_token(window_code: str) -> str:
    return signing.dumps({"w": window_code}, salt=WINDOW_SALT, compress=True)


def window_code_from_token(token: str) -> str:
    try:
        data = signing.loads(token, salt=WINDOW_SALT)
    except (signing.BadSignature, ValueError) as exc:
        raise NotFound("二维码无效", code="link_invalid") from exc
    return str(data.get("w", ""))


def window_path(window_code: str) -> str:
    return f"/w/{window_token(window_code)}/"


def window_url(window_code: str) -> str:
    return settings.HAOCHA_PUBLIC_URL.rstrip("/") + window_path(window_code)
