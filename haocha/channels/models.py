"""Channel records: registered devices (hall tablets, self-service terminals), who is on duty at a window,
the case being served there, one-time SMS codes and request throttles."""

import uuid

from django.conf import settings
from django.db import models

from haocha.catalogue.models import Case
from haocha.organisations.models import Organisation, Staff, Window


class Device(models.Model):
    """A tablet fixed at a counter or a self-service terminal, registered by staff.

    The device proves itself with a secret held in a long-lived cookie; only its hash is stored. An
    activation code (single-use, short-lived, hash stored) is how staff hand the secret to the device.
    """

    class Kind(models.TextChoices):
        TABLET = "tablet", "窗口评价器（平板）"
        TERMINAL = "terminal", "自助服务终端"

    code = models.CharField("设备编号", max_length=48, unique=True)
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    hall = models.ForeignKey(
        Organisation, verbose_name="所在大厅", on_delete=models.PROTECT, related_name="+"
    )
    window = models.ForeignKey(
        Window,
        verbose_name="绑定窗口",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="devices",
    )
    min_interval_seconds = models.PositiveIntegerField(
        "两次评价最小间隔（秒）", null=True, blank=True, help_text="为空时使用系统设置"
    )
    secret_hash = models.CharField(max_length=64, blank=True, editable=False)
    activation_hash = models.CharField(max_length=64, blank=True, editable=False)
    activation_expires_at = models.DateTimeField("激活码有效期至", null=True, blank=True)
    is_active = models.BooleanField("启用", default=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    registered_at = models.DateTimeField("登记时间", auto_now_add=True)
    activated_at = models.DateTimeField("激活时间", null=True, blank=True)
    last_seen_at = models.DateTimeField("最近在线", null=True, blank=True)
    last_rating_at = models.DateTimeField("最近评价", null=True, blank=True)

    class Meta:
        verbose_name = "评价设备"
        verbose_name_plural = "评价设备"
        ordering = ["hall_id", "kind", "code"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="terminal") | models.Q(window__isnull=False),
                name="tablet_has_window",
            ),
            models.UniqueConstraint(
                fields=["secret_hash"], condition=~models.Q(secret_hash=""), name="device_secret_unique"
            ),
            models.UniqueConstraint(
                fields=["window"],
                condition=models.Q(kind="tablet", is_active=True),
                name="one_active_tablet_per_window",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.code}"

    @property
    def is_activated(self) -> bool:
        return bool(self.secret_hash)


class WindowDuty(models.Model):
    """A member of staff signed in at a window (上岗) until they sign out (离岗); ratings go to them."""

    window = models.ForeignKey(Window, verbose_name="窗口", on_delete=models.PROTECT, related_name="duties")
    staff = models.ForeignKey(Staff, verbose_name="工作人员", on_delete=models.PROTECT, related_name="duties")
    started_at = models.DateTimeField("上岗时间")
    ended_at = models.DateTimeField("离岗时间", null=True, blank=True)
    started_by = models.CharField("上岗操作方", max_length=150, blank=True)
    ended_by = models.CharField("离岗操作方", max_length=150, blank=True)

    class Meta:
        verbose_name = "窗口上岗记录"
        verbose_name_plural = "窗口上岗记录"
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["window"], condition=models.Q(ended_at__isnull=True), name="one_on_duty_per_window"
            ),
            models.UniqueConstraint(
                fields=["staff"], condition=models.Q(ended_at__isnull=True), name="one_window_per_staff"
            ),
        ]
        indexes = [models.Index(fields=["window", "started_at"], name="duty_window_idx")]

    def __str__(self):
        return f"{self.staff} @ {self.window.code}"


class ServedCase(models.Model):
    """The case being served at a window, pushed by the queue-ticket system or picked by the clerk."""

    class Source(models.TextChoices):
        QUEUE = "queue", "排队叫号系统"
        CLERK = "clerk", "窗口人员"

    window = models.ForeignKey(Window, verbose_name="窗口", on_delete=models.PROTECT, related_name="served")
    case = models.ForeignKey(Case, verbose_name="办件", on_delete=models.PROTECT, related_name="+")
    source = models.CharField("来源", max_length=8, choices=Source.choices)
    set_by = models.CharField("操作方", max_length=150, blank=True)
    set_at = models.DateTimeField("开始时间")
    cleared_at = models.DateTimeField("结束时间", null=True, blank=True)

    class Meta:
        verbose_name = "窗口在办办件"
        verbose_name_plural = "窗口在办办件"
        ordering = ["-set_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["window"],
                condition=models.Q(cleared_at__isnull=True),
                name="one_served_case_per_window",
            )
        ]
        indexes = [models.Index(fields=["window", "set_at"], name="served_window_idx")]

    def __str__(self):
        return f"{self.window.code} {self.case_id}"


class VerificationCode(models.Model):
    """A one-time SMS code proving the person holds the phone on record (terminal, 我的办件).

    Only an HMAC of the code is stored. A request for an identity without cases creates a row too (with
    no code that can match), so the answer never tells whether an ID number or phone has cases.
    """

    class Purpose(models.TextChoices):
        TERMINAL = "terminal", "自助终端查询办件"
        MY_CASES = "my_cases", "我的办件"

    challenge = models.UUIDField("验证编号", default=uuid.uuid4, unique=True, editable=False)
    purpose = models.CharField("用途", max_length=10, choices=Purpose.choices)
    subject_kind = models.CharField("身份类型", max_length=5)  # "id" or "phone"
    subject_hash = models.CharField(max_length=64, db_index=True, editable=False)
    code_hash = models.CharField(max_length=64, blank=True, editable=False)
    requester = models.CharField("请求方", max_length=64, blank=True)
    created_at = models.DateTimeField("发送时间", auto_now_add=True)
    expires_at = models.DateTimeField("有效期至")
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    consumed_at = models.DateTimeField("使用时间", null=True, blank=True)

    class Meta:
        verbose_name = "短信验证码"
        verbose_name_plural = "短信验证码"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_purpose_display()} {self.created_at:%Y-%m-%d %H:%M}"


class Throttle(models.Model):
    """A fixed-window request counter shared by every server process (code requests, lookups, QR ratings)."""

    key = models.CharField(max_length=160, unique=True)
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "访问频率计数"
        verbose_name_plural = "访问频率计数"

    def __str__(self):
        return self.key
