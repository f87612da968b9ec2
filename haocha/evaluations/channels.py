"""Rating channels and their code tables (national defaults, per-region overrides in the policy)."""

from django.db import models


class Channel(models.TextChoices):
    PC = "pc", "PC端"
    MOBILE = "mobile", "移动服务端"
    QRCODE = "qrcode", "二维码"
    TABLET = "tablet", "政务大厅平板电脑"
    TERMINAL = "terminal", "自助服务终端"
    PHONE = "phone", "电话"
    SMS = "sms", "短信"
    HOTLINE_12345 = "hotline_12345", "12345热线"
    SUPERVISOR = "supervisor", "监督员"
    SURVEY = "survey", "满意度调查"
    CALLBACK = "callback", "第三方电话回访"
    DEFAULT = "default", "系统默认评价"


# GB/T 39046 table 9 评价渠道 / the common interface `pf`.
NATIONAL_CODES: dict[str, str] = {
    Channel.PC: "1",
    Channel.MOBILE: "2",
    Channel.QRCODE: "3",
    Channel.TABLET: "4",
    Channel.TERMINAL: "5",
    Channel.PHONE: "6",
    Channel.SMS: "7",
}

# Channels through which the online indicator set is used; every other channel uses the offline set.
ONLINE_CHANNELS = frozenset({Channel.PC, Channel.MOBILE})
# Channels a staff member may record on a citizen's behalf (what the citizen said on the phone, etc.).
STAFF_RECORDED_CHANNELS = frozenset(
    {Channel.HOTLINE_12345, Channel.SUPERVISOR, Channel.SURVEY, Channel.CALLBACK, Channel.PHONE}
)
# Channels nobody submits through the intake: the system itself applies default ratings.
SYSTEM_ONLY_CHANNELS = frozenset({Channel.DEFAULT})


def channel_code(channel: str, table: dict | None = None) -> str:
    """The code a channel has in a region's table (a whole table replaces the national one); '' if none."""
    return str((table or NATIONAL_CODES).get(channel, ""))


def channel_from_code(code, table: dict | None = None) -> str:
    for channel, value in (table or NATIONAL_CODES).items():
        if str(value) == str(code).strip():
            return channel
    raise ValueError(code)


def indicator_set_code(channel: str) -> str:
    return "online" if channel in ONLINE_CHANNELS else "offline"
