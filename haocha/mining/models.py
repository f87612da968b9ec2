"""Precomputed comment mining: one row per mined 差评 comment, its themes, and term / theme counts per
month × department × item, so that pages never tokenise at request time."""

from django.db import models


class MinedComment(models.Model):
    """A valid, unhidden 差评 with a comment, in its public (anonymised) form."""

    rating_id = models.BigIntegerField("评价", unique=True)
    month = models.DateField("月份")
    department_id = models.BigIntegerField("部门", default=0)  # 0: no department
    item_id = models.BigIntegerField("事项", default=0)
    hall_id = models.BigIntegerField("大厅", default=0)
    rated_at = models.DateTimeField("评价时间")
    text = models.CharField("文字评价（已脱敏）", max_length=500)
    # the kinds of personal data taken out of the text (core.anonymise.KINDS), comma-separated; the public
    # pages say "已隐去个人信息" where this is not empty
    masked = models.CharField("已隐去的个人信息", max_length=80, blank=True, default="")
    # theme codes (taxonomy.THEMES or "r<id>" of a RegionTheme), main first; "" = no theme found
    themes = models.CharField("主题", max_length=120, blank=True)
    confidence = models.FloatField("归类置信度", default=0.0)
    source = models.CharField("归类依据", max_length=10, blank=True, default="")

    class Meta:
        verbose_name = "已挖掘差评"
        verbose_name_plural = "已挖掘差评"
        indexes = [models.Index(fields=["department_id", "month"], name="mined_dept_month_idx")]

    def __str__(self):
        return self.text[:30]


class MinedTheme(models.Model):
    """A theme a mined comment carries (for example comments per theme)."""

    comment = models.ForeignKey(MinedComment, on_delete=models.CASCADE, related_name="theme_rows")
    theme = models.CharField("主题", max_length=16)
    is_main = models.BooleanField("主要问题", default=False)
    confidence = models.FloatField("归类置信度", default=0.0)
    month = models.DateField("月份")
    department_id = models.BigIntegerField("部门", default=0)
    item_id = models.BigIntegerField("事项", default=0)
    hall_id = models.BigIntegerField("大厅", default=0)

    class Meta:
        indexes = [models.Index(fields=["theme", "department_id", "month"], name="mined_theme_idx")]

    def __str__(self):
        return self.theme


class TermCount(models.Model):
    class Kind(models.TextChoices):
        WORD = "w", "关键词"
        PHRASE = "p", "短语"

    month = models.DateField("月份")
    department_id = models.BigIntegerField("部门", default=0)
    item_id = models.BigIntegerField("事项", default=0)
    hall_id = models.BigIntegerField("大厅", default=0)
    kind = models.CharField("类型", max_length=1, choices=Kind.choices)
    term = models.CharField("词语", max_length=64)
    n = models.IntegerField("次数", default=0)

    class Meta:
        verbose_name = "差评词频"
        verbose_name_plural = "差评词频"
        constraints = [
            models.UniqueConstraint(
                fields=["month", "department_id", "item_id", "hall_id", "kind", "term"], name="term_count_key"
            )
        ]
        indexes = [models.Index(fields=["department_id", "month"], name="term_dept_month_idx")]

    def __str__(self):
        return f"{self.term} {self.n}"


class ThemeCount(models.Model):
    month = models.DateField("月份")
    department_id = models.BigIntegerField("部门", default=0)
    item_id = models.BigIntegerField("事项", default=0)
    hall_id = models.BigIntegerField("大厅", default=0)
    theme = models.CharField("主题", max_length=16)
    n = models.IntegerField("涉及差评数", default=0)  # comments carrying the theme (each comment once)
    n_main = models.IntegerField("作为主要问题的差评数", default=0)

    class Meta:
        verbose_name = "差评主题统计"
        verbose_name_plural = "差评主题统计"
        constraints = [
            models.UniqueConstraint(
                fields=["month", "department_id", "item_id", "hall_id", "theme"], name="theme_count_key"
            )
        ]
        indexes = [models.Index(fields=["department_id", "month"], name="theme_dept_month_idx")]

    def __str__(self):
        return f"{self.theme} {self.n}"


class MiningState(models.Model):
    """One row: the last rating id and rating-flag id the mining has seen."""

    last_rating_id = models.BigIntegerField(default=0)
    last_flag_id = models.BigIntegerField(default=0)
    last_run_at = models.DateTimeField(null=True)

    def __str__(self):
        return "挖掘状态"


class RegionTheme(models.Model):
    """A theme a region adds to the taxonomy (policy): it applies to the 差评 rated in the region and below."""

    region = models.ForeignKey(
        "organisations.Region", verbose_name="区划", on_delete=models.PROTECT, related_name="mining_themes"
    )
    name = models.CharField("主题名称", max_length=16)
    definition = models.CharField("定义", max_length=200)
    examples = models.TextField("示例（每行一条）", blank=True)
    phrases = models.TextField(
        "识别短语（每行一条，可用…表示同一分句内相隔几个字，N 表示数量）",
        help_text="例如：充电桩…(坏|不能用)",
    )
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "地方自定义差评主题"
        verbose_name_plural = "地方自定义差评主题"
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="region_theme_name_unique")]

    def __str__(self):
        return self.name

    def clean(self):
        from haocha.mining.themes import validate_phrases

        validate_phrases(self.phrases)

    @property
    def code(self) -> str:
        return f"r{self.pk}"
