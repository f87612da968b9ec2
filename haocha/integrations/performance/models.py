"""What this system owes the 政务服务成效管理系统: one row per unit, period and kind of result, with the
version last queued and where its delivery stands."""

from django.db import models


class PerformanceRecord(models.Model):
    """One unit's result for one period (a month's figures or the year's assessment). A changed result is
    queued again under the next version; an unchanged one keeps its version and is not sent again."""

    class Kind(models.TextChoices):
        MONTHLY = "monthly", "月度评价结果"
        ASSESSMENT = "assessment", "年度目标考核"

    class Status(models.TextChoices):
        QUEUED = "queued", "待推送"
        SENT = "sent", "已发送待确认"
        ACCEPTED = "accepted", "已接收"
        REJECTED = "rejected", "被拒收"
        RETRYING = "retrying", "等待重试"

    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    unit_kind = models.CharField("单位类型", max_length=12)  # department, hall, window, item, district
    unit_id = models.BigIntegerField("单位编号")
    unit_code = models.CharField("单位代码", max_length=64)
    unit_name = models.CharField("单位名称", max_length=200)
    period = models.CharField("统计期", max_length=7)  # 2026-11 (monthly) or 2026 (assessment)
    version = models.PositiveIntegerField("版本", default=1)
    payload = models.JSONField("推送内容", default=dict)
    payload_hash = models.CharField("内容摘要", max_length=64)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveIntegerField("发送次数", default=0)
    batch = models.CharField("批次", max_length=40, blank=True, db_index=True)
    reject_code = models.CharField("拒收代码", max_length=64, blank=True)
    reject_reason = models.CharField("拒收原因", max_length=500, blank=True)
    last_error = models.CharField("最近错误", max_length=500, blank=True)
    queued_at = models.DateTimeField("入队时间")
    next_attempt_at = models.DateTimeField("下次发送", null=True, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    done_at = models.DateTimeField("确认时间", null=True, blank=True)

    class Meta:
        verbose_name = "成效管理系统推送记录"
        verbose_name_plural = "成效管理系统推送记录"
        ordering = ["-period", "kind", "unit_kind", "unit_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "unit_kind", "unit_id", "period"], name="performance_record_once"
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="performance_due_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.unit_name} {self.period} v{self.version}"

    @property
    def record_id(self) -> str:
        """The id the receiver keeps it under (with the version: idempotent on both)."""
        return f"{self.kind}:{self.unit_kind}:{self.unit_code}:{self.period}"
