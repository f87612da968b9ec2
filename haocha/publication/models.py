"""Monthly 通报: a region's month becomes public when a supervisor of that region publishes it."""

from django.conf import settings
from django.db import models


class Notice(models.Model):
    region = models.ForeignKey("organisations.Region", verbose_name="区划", on_delete=models.PROTECT)
    month = models.DateField("月份")
    published_at = models.DateTimeField("发布时间")
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发布人", null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        verbose_name = "月度通报"
        verbose_name_plural = "月度通报"
        ordering = ["-month", "region__code"]
        constraints = [models.UniqueConstraint(fields=["region", "month"], name="notice_region_month_unique")]

    def __str__(self):
        return f"{self.region.name} {self.month:%Y年%m月}通报"
