"""The region's choice of 12345, what was pushed for each order, and every callback the platform made."""

from django.db import models

from haocha.accounts.models import ApiClient
from haocha.organisations.models import Region
from haocha.workorders.models import WorkOrder


class HotlinePlatform(models.Model):
    """The 12345 of a region and its subtree (unless a lower region has its own row)."""

    class Mode(models.TextChoices):
        BUILTIN = "builtin", "内置12345工作台"
        EXTERNAL = "external", "外部12345平台"

    class Signing(models.TextChoices):
        HMAC_SHA256 = "hmac-sha256", "HMAC-SHA256"
        HMAC_SM3 = "hmac-sm3", "HMAC-SM3"

    region = models.OneToOneField(Region, verbose_name="区划", on_delete=models.PROTECT, related_name="+")
    mode = models.CharField("12345办理方式", max_length=10, choices=Mode.choices, default=Mode.EXTERNAL)
    name = models.CharField("平台名称", max_length=100)
    base_url = models.URLField("平台地址", blank=True, help_text="推送工单、查询工单进度时调用")
    app_id = models.CharField("接入编号（appId）", max_length=40, unique=True)
    secret = models.CharField("签名密钥", max_length=128, editable=False)
    signing = models.CharField(
        "签名方式", max_length=12, choices=Signing.choices, default=Signing.HMAC_SHA256
    )
    contact_key = models.CharField(
        "联系方式加密密钥（SM4，32位十六进制）",
        max_length=64,
        blank=True,
        editable=False,
        help_text="群众的手机号以 SM4 加密后推送；未设置时只推送脱敏号码",
    )
    # The platform's key at this system: its callbacks act as this client, and its hotline ratings arrive
    # with it (channel hotline_12345). WorkOrder.platform points here.
    client = models.OneToOneField(
        ApiClient, verbose_name="接入系统", on_delete=models.PROTECT, related_name="hotline_platform"
    )
    quiet_hours = models.PositiveSmallIntegerField("无进展核查（工作小时）", default=4)
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    class Meta:
        verbose_name = "12345平台"
        verbose_name_plural = "12345平台"

    def __str__(self):
        return self.name


class PlatformOrder(models.Model):
    """What this system pushed to the platform for one order, and what it knows back."""

    class State(models.TextChoices):
        QUEUED = "queued", "待推送"
        SENT = "sent", "已推送"
        ACKNOWLEDGED = "acknowledged", "已受理"
        STUCK = "stuck", "推送失败"

    order = models.OneToOneField(WorkOrder, on_delete=models.CASCADE, related_name="platform_push")
    platform = models.ForeignKey(HotlinePlatform, on_delete=models.PROTECT, related_name="orders")
    state = models.CharField("推送状态", max_length=12, choices=State.choices, default=State.QUEUED)
    version = models.PositiveIntegerField("推送版本", default=1)  # +1 for a 追评 or a new cycle
    sent_version = models.PositiveIntegerField("已推送版本", default=0)
    platform_number = models.CharField("12345工单编号", max_length=40, blank=True, db_index=True)
    attempts = models.PositiveIntegerField("推送次数", default=0)
    repushes = models.PositiveSmallIntegerField("对账重推次数", default=0)
    last_error = models.CharField("最近错误", max_length=300, blank=True)
    queued_at = models.DateTimeField("排队时间")
    sent_at = models.DateTimeField("推送时间", null=True, blank=True)
    acknowledged_at = models.DateTimeField("受理时间", null=True, blank=True)
    last_news_at = models.DateTimeField("最近进展", null=True, blank=True, db_index=True)
    checked_at = models.DateTimeField("最近对账", null=True, blank=True)
    applied_seq = models.PositiveIntegerField("已应用回调序号", default=0)

    class Meta:
        verbose_name = "推送12345的工单"
        verbose_name_plural = "推送12345的工单"
        ordering = ["-queued_at"]

    def __str__(self):
        return f"{self.order.number} → {self.platform_number or '未受理'}"


class PlatformEvent(models.Model):
    """One callback of the platform: stored once (its eventId), applied once, in its order's sequence."""

    class State(models.TextChoices):
        WAITING = "waiting", "等待前序回调"
        APPLIED = "applied", "已应用"
        UNCHANGED = "unchanged", "重复，无变化"
        FAILED = "failed", "未能应用"

    platform = models.ForeignKey(HotlinePlatform, on_delete=models.CASCADE, related_name="events")
    order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="platform_events")
    event_id = models.CharField("回调编号", max_length=64)
    seq = models.PositiveIntegerField("序号")
    kind = models.CharField("类型", max_length=12)
    happened_at = models.DateTimeField("平台发生时间")
    payload = models.JSONField("内容", default=dict)
    digest = models.CharField(max_length=64)
    via = models.CharField("来源", max_length=10, default="callback")  # callback | reconcile
    received_at = models.DateTimeField("接收时间")
    state = models.CharField("状态", max_length=10, choices=State.choices, default=State.WAITING)
    code = models.CharField("结果代码", max_length=40, blank=True)
    message = models.CharField("结果说明", max_length=300, blank=True)
    applied_at = models.DateTimeField("应用时间", null=True, blank=True)

    class Meta:
        verbose_name = "12345回调"
        verbose_name_plural = "12345回调"
        ordering = ["order", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "event_id"], name="platform_event_once"),
            models.UniqueConstraint(fields=["order", "seq"], name="platform_event_seq_once"),
        ]

    def __str__(self):
        return f"{self.order_id}#{self.seq} {self.kind}"


class PlatformNonce(models.Model):
    """Nonces of the platform's signed calls within the allowed clock skew: a replay is refused."""

    platform = models.ForeignKey(HotlinePlatform, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["platform", "nonce"], name="platform_nonce_once")]

    def __str__(self):
        return self.nonce
