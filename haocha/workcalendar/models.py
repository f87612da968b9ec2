"""The Chinese working-day calendar: statutory holidays and make-up working days (调休), per year."""

from django.db import models


class CalendarYear(models.Model):
    """A year whose holiday arrangement has been entered; years without a row count
    Monday–Friday less the statutory holidays (statutory.py), without 调休."""

    class Source(models.TextChoices):
        PACKAGE = "package", "chinese-calendar 软件包"
        ADMIN = "admin", "管理员录入"
        FILE = "file", "文件导入"

    year = models.PositiveSmallIntegerField("年份", unique=True)
    source = models.CharField("来源", max_length=10, choices=Source.choices)
    note = models.CharField("说明", max_length=200, blank=True)
    entered_at = models.DateTimeField("录入时间", auto_now=True)

    class Meta:
        verbose_name = "日历年度"
        verbose_name_plural = "日历年度"
        ordering = ["-year"]

    def __str__(self):
        return f"{self.year}年（{self.get_source_display()}）"


class CalendarDay(models.Model):
    """An exception to the Monday–Friday rule."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", "法定节假日（休息）"
        MAKEUP_WORKDAY = "makeup", "调休上班日"

    date = models.DateField("日期", unique=True)
    kind = models.CharField("类型", max_length=8, choices=Kind.choices)
    name = models.CharField("节日", max_length=32, blank=True)
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = "节假日与调休"
        verbose_name_plural = "节假日与调休"
        ordering = ["date"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()} {self.name}"
