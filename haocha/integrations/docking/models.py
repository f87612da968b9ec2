"""Docking between levels: what a child system sends up (Upload, one row per record and version, with its
sync state) and what a parent knows of its children (ChildSystem, the records it accepted, used nonces)."""

from django.db import models


class RecordKind(models.TextChoices):
    SERVICE = "service", "服务记录（办件）"
    RATING = "rating", "评价"
    VALIDITY = "validity", "评价有效性变更"
    ORDER = "order", "差评处置数据"


# Service records go first: upstairs refuses a rating whose service record has not arrived.
KIND_ORDER = {RecordKind.SERVICE: 0, RecordKind.RATING: 1, RecordKind.VALIDITY: 2, RecordKind.ORDER: 3}


class Upload(models.Model):
    """One record (and version) this system owes its parent, and where it stands."""

    class Status(models.TextChoices):
        QUEUED = "queued", "待上报"
        SENT = "sent", "已发送待确认"
        ACCEPTED = "accepted", "上级已接收"
        REJECTED = "rejected", "上级拒收"
        RETRYING = "retrying", "等待重试"

    kind = models.CharField("记录类型", max_length=10, choices=RecordKind.choices)
    record_id = models.CharField("记录编号", max_length=64)  # the case number, the rating's public id
    object_id = models.BigIntegerField("本地主键")
    version = models.BigIntegerField("版本", default=1)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField("发送次数", default=0)
    # answers "not yet" (its service record or rating on its way): outage attempts do not count here
    waits = models.PositiveIntegerField("等待次数", default=0)
    batch = models.CharField("批次", max_length=40, blank=True, db_index=True)
    reject_code = models.CharField("拒收代码", max_length=64, blank=True)
    reject_reason = models.CharField("拒收原因", max_length=500, blank=True)
    last_error = models.CharField("最近错误", max_length=500, blank=True)
    queued_at = models.DateTimeField("入队时间", auto_now_add=True)
    next_attempt_at = models.DateTimeField("下次发送", null=True, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    done_at = models.DateTimeField("确认时间", null=True, blank=True)

    class Meta:
        verbose_name = "上报记录"
        verbose_name_plural = "上报记录"
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "record_id", "version"], name="upload_once_per_version")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="upload_due_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.record_id} v{self.version}"


class UploadCursor(models.Model):
    """How far the collector has looked at each source table (rescanned with an overlap: see upload.py)."""

    name = models.CharField(max_length=32, unique=True)
    position = models.BigIntegerField(default=0)
    at = models.DateTimeField(null=True, blank=True)
    mark = models.CharField(max_length=36, blank=True)  # the ratings' cursor: the last public id looked at

    class Meta:
        verbose_name = "上报游标"
        verbose_name_plural = "上报游标"

    def __str__(self):
        return f"{self.name} {self.position}"


class ChildSystem(models.Model):
    """A lower-level 好差评 system (a county's haocha or another vendor's) that uploads to this one."""

    class Vendor(models.TextChoices):
        HAOCHA = "haocha", "haocha"
        OTHER = "other", "其他厂商"

    name = models.CharField("系统名称", max_length=100, unique=True)
    region = models.ForeignKey(
        "organisations.Region", verbose_name="覆盖区划", on_delete=models.PROTECT, related_name="+"
    )
    vendor = models.CharField("厂商", max_length=10, choices=Vendor.choices, default=Vendor.HAOCHA)
    app_id = models.CharField("接入编号（appId）", max_length=40, unique=True)
    secret = models.CharField("签名密钥", max_length=128, editable=False)
    client = models.OneToOneField(
        "accounts.ApiClient", verbose_name="接入系统", on_delete=models.PROTECT, related_name="child_system"
    )
    base_url = models.URLField("下级系统地址", blank=True, help_text="下发差评与反查办件时调用")
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    last_upload_at = models.DateTimeField("最近上报", null=True, blank=True)

    class Meta:
        verbose_name = "下级系统"
        verbose_name_plural = "下级系统"
        ordering = ["region__code", "name"]

    def __str__(self):
        return self.name


class ReceivedRecord(models.Model):
    """A record a child sent and this system accepted: the same (child, kind, id, version) is applied once."""

    child = models.ForeignKey(ChildSystem, on_delete=models.CASCADE, related_name="records")
    kind = models.CharField("记录类型", max_length=10, choices=RecordKind.choices)
    record_id = models.CharField("记录编号", max_length=64)
    version = models.BigIntegerField("版本")
    object_id = models.BigIntegerField("本地主键", null=True)
    happened_at = models.DateTimeField("发生时间", null=True)  # rated at / case updated at, for the lag
    received_at = models.DateTimeField("接收时间", db_index=True)

    class Meta:
        verbose_name = "已接收记录"
        verbose_name_plural = "已接收记录"
        constraints = [
            models.UniqueConstraint(
                fields=["child", "kind", "record_id", "version"], name="received_once_per_version"
            )
        ]
        indexes = [models.Index(fields=["child", "received_at"], name="received_child_time_idx")]

    def __str__(self):
        return f"{self.kind} {self.record_id} v{self.version}"


class RejectedRecord(models.Model):
    """The last refusal of a child's record (kept for the monitor: rejects by reason); cleared on accept."""

    child = models.ForeignKey(ChildSystem, on_delete=models.CASCADE, related_name="rejects")
    kind = models.CharField("记录类型", max_length=10, choices=RecordKind.choices)
    record_id = models.CharField("记录编号", max_length=64)
    code = models.CharField("拒收代码", max_length=64)
    message = models.CharField("拒收原因", max_length=500)
    at = models.DateTimeField("时间", db_index=True)

    class Meta:
        verbose_name = "拒收记录"
        verbose_name_plural = "拒收记录"
        constraints = [
            models.UniqueConstraint(fields=["child", "kind", "record_id"], name="reject_once_per_record")
        ]

    def __str__(self):
        return f"{self.kind} {self.record_id}：{self.code}"


class SeenNonce(models.Model):
    """Nonces of signed requests within the allowed clock skew: a replayed request is refused."""

    child = models.ForeignKey(ChildSystem, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["child", "nonce"], name="nonce_once_per_child")]

    def __str__(self):
        return self.nonce


class DailyCount(models.Model):
    """What a child says it holds for one day (the daily count exchange), to reconcile with what arrived."""

    child = models.ForeignKey(ChildSystem, on_delete=models.CASCADE, related_name="daily_counts")
    day = models.DateField("日期")
    kind = models.CharField("记录类型", max_length=10, choices=RecordKind.choices)
    reported = models.PositiveIntegerField("下级申报条数")
    reported_at = models.DateTimeField("申报时间")

    class Meta:
        verbose_name = "每日对账"
        verbose_name_plural = "每日对账"
        constraints = [models.UniqueConstraint(fields=["child", "day", "kind"], name="daily_count_once")]

    def __str__(self):
        return f"{self.child_id} {self.day} {self.kind} {self.reported}"


class Alert(models.Model):
    """A problem the monitor found with a child system; raised once per child, kind and day."""

    class Kind(models.TextChoices):
        SILENT = "silent", "工作时间内长时间未上报"
        REJECTS = "rejects", "拒收率偏高"
        COUNTS = "counts", "申报条数与到达条数不一致"
        IMPLAUSIBLE = "implausible", "评价分布异常"

    child = models.ForeignKey(ChildSystem, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    day = models.DateField("日期")
    detail = models.CharField("说明", max_length=300)
    raised_at = models.DateTimeField("发现时间")
    cleared_at = models.DateTimeField("解除时间", null=True, blank=True)

    class Meta:
        verbose_name = "对接告警"
        verbose_name_plural = "对接告警"
        ordering = ["-raised_at"]
        constraints = [models.UniqueConstraint(fields=["child", "kind", "day"], name="alert_once_a_day")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.day}"


class ParentNonce(models.Model):
    """Nonces of the parent's signed calls down to this system (差评 sent down for handling)."""

    nonce = models.CharField(max_length=64, unique=True)
    at = models.DateTimeField(db_index=True)

    def __str__(self):
        return self.nonce
