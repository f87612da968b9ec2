"""Rollups: counts per period and per unit, kept up to date from queues that database triggers fill.

Every rating insert, and every change of what a rating counts for (its validity: an upheld appeal, a
supervisor's flag), writes a `RatingPending` row in the same transaction — by trigger, so no writer
(intake, import, COPY, default ratings, the admin) can forget it. The row carries what the rating counts
for at that moment (day, channel, units, a 0/1 per measure) with a sign: +1 when it starts counting, −1
when it stops. Case changes that alter what a finished case counts for write `CasePending` rows the same
way, and so does a rating that makes its case rated (评价率). The worker applies the queues in batches and
deletes what it applied in the same transaction: each change is counted exactly once. `haocha rollups
rebuild` recomputes everything from the raw tables. The measures and the triggers are generated from one
table (`analytics/measures.py`, `analytics/triggers.py`).
"""

from django.db import models


class Dim(models.IntegerChoices):
    REGION = 1, "区划"
    DEPARTMENT = 2, "部门"
    HALL = 3, "大厅"
    WINDOW = 4, "窗口"
    STAFF = 5, "工作人员"
    ITEM = 6, "事项"


class Grain(models.TextChoices):
    DAY = "d", "日"
    MONTH = "m", "月"


class RatingCounts(models.Model):
    """The rating measures (their conditions: analytics/measures.py RATING_MEASURES)."""

    # First ratings (一事一评 and the window's 一次一评), by level; n_case of them rate a case.
    n = models.IntegerField("评价数", default=0)
    n_case = models.IntegerField("办件评价数", default=0)
    n_vs = models.IntegerField("非常满意", default=0)
    n_s = models.IntegerField("满意", default=0)
    n_b = models.IntegerField("基本满意", default=0)
    n_d = models.IntegerField("不满意", default=0)
    n_vd = models.IntegerField("非常不满意", default=0)
    n_default = models.IntegerField("默认评价", default=0)
    n_comment = models.IntegerField("有文字评价", default=0)
    # 追评
    n_follow = models.IntegerField("追评数", default=0)
    n_follow_bad = models.IntegerField("追评差评数", default=0)

    class Meta:
        abstract = True


class CaseCounts(models.Model):
    """The finished-case measures: finished cases, and those of them with a counted first rating."""

    n_finished = models.IntegerField("办结数", default=0)
    n_rated = models.IntegerField("已评价办结数", default=0)

    class Meta:
        abstract = True


class RatingRollup(RatingCounts):
    """Valid ratings of one unit in one day or month through one channel (dates in Asia/Shanghai)."""

    dim = models.PositiveSmallIntegerField("维度", choices=Dim.choices)
    grain = models.CharField("粒度", max_length=1, choices=Grain.choices)
    period = models.DateField("日期/月份")
    member_id = models.IntegerField("单位")
    channel = models.CharField("渠道", max_length=16)

    class Meta:
        verbose_name = "评价汇总"
        verbose_name_plural = "评价汇总"
        constraints = [
            models.UniqueConstraint(
                fields=["dim", "grain", "period", "member_id", "channel"], name="rating_rollup_key"
            )
        ]
        # one unit's figures and trend: its own rows, not every unit's rows in the period
        indexes = [
            models.Index(fields=["dim", "member_id", "grain", "period"], name="rating_rollup_member_idx")
        ]

    def __str__(self):
        return f"{self.get_dim_display()} {self.member_id} {self.period} {self.channel}"


class CaseRollup(CaseCounts):
    """Cases of one unit finished in one day or month, and how many of them are rated (评价率)."""

    dim = models.PositiveSmallIntegerField("维度", choices=Dim.choices)
    grain = models.CharField("粒度", max_length=1, choices=Grain.choices)
    period = models.DateField("日期/月份")
    member_id = models.IntegerField("单位")

    class Meta:
        verbose_name = "办件汇总"
        verbose_name_plural = "办件汇总"
        constraints = [
            models.UniqueConstraint(fields=["dim", "grain", "period", "member_id"], name="case_rollup_key")
        ]

    def __str__(self):
        return f"{self.get_dim_display()} {self.member_id} {self.period}"


class OrderRollup(models.Model):
    """差评工单 timeliness of one unit, by the month the order was received."""

    dim = models.PositiveSmallIntegerField("维度", choices=Dim.choices)
    period = models.DateField("月份")
    member_id = models.IntegerField("单位")
    n_orders = models.IntegerField("工单数", default=0)
    n_invalid = models.IntegerField("核实无效", default=0)
    n_merged = models.IntegerField("并单", default=0)
    n_closed = models.IntegerField("已整改", default=0)
    n_closed_on_time = models.IntegerField("按时整改", default=0)
    n_open = models.IntegerField("办理中", default=0)
    n_open_late = models.IntegerField("逾期未办结", default=0)
    n_callback = models.IntegerField("已回访", default=0)
    n_callback_satisfied = models.IntegerField("回访满意", default=0)
    n_callback_solved = models.IntegerField("回访已解决", default=0)
    n_contacted = models.IntegerField("已联系", default=0)
    contact_minutes = models.BigIntegerField("联系用时合计（分钟）", default=0)
    finish_minutes = models.BigIntegerField("办结用时合计（分钟）", default=0)
    n_reopened = models.IntegerField("重办", default=0)
    computed_at = models.DateTimeField("计算时间")

    class Meta:
        verbose_name = "工单时效汇总"
        verbose_name_plural = "工单时效汇总"
        constraints = [
            models.UniqueConstraint(fields=["dim", "period", "member_id"], name="order_rollup_key")
        ]

    def __str__(self):
        return f"{self.get_dim_display()} {self.member_id} {self.period:%Y-%m}"


class RatingPending(RatingCounts):
    """A rating change not yet in the rollups: what the rating counts for (a 0/1 per measure, its day,
    channel and units), +1 when it starts counting, −1 when it stops (invalidated)."""

    rating_id = models.BigIntegerField()
    sign = models.SmallIntegerField()
    rated_at = models.DateTimeField()
    channel = models.CharField(max_length=16)
    region_id = models.BigIntegerField(null=True)
    department_id = models.BigIntegerField(null=True)
    hall_id = models.BigIntegerField(null=True)
    window_id = models.BigIntegerField(null=True)
    staff_id = models.BigIntegerField(null=True)
    item_id = models.BigIntegerField(null=True)

    class Meta:
        verbose_name = "待汇总评价"
        verbose_name_plural = "待汇总评价"

    def __str__(self):
        return f"评价 {self.rating_id} {self.sign:+d}"


class CasePending(CaseCounts):
    """A finished case's contribution to add (+1) or take back (−1), with the values it counted under:
    n_finished 1 for a change of the case, 0 for its rating's (which moves n_rated only)."""

    finished_at = models.DateTimeField()
    department_id = models.BigIntegerField(null=True)
    hall_id = models.BigIntegerField(null=True)
    window_id = models.BigIntegerField(null=True)
    staff_id = models.BigIntegerField(null=True)
    item_id = models.BigIntegerField(null=True)
    region_id = models.BigIntegerField(null=True)
    sign = models.SmallIntegerField()

    class Meta:
        verbose_name = "待汇总办件"
        verbose_name_plural = "待汇总办件"

    def __str__(self):
        return f"办件 {self.finished_at:%Y-%m-%d} {self.sign:+d}"


class RegionClosure(models.Model):
    """Each region with each of its ancestors (and itself): a rating in a street counts for its city."""

    region_id = models.BigIntegerField()
    ancestor_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["region_id", "ancestor_id"], name="region_closure_key")
        ]

    def __str__(self):
        return f"{self.region_id} ⊂ {self.ancestor_id}"


class RollupState(models.Model):
    """One row: the lock every rollup pass takes first, and where the work-order pass got to."""

    orders_checked_at = models.DateTimeField(null=True)
    applied_ratings = models.BigIntegerField(default=0)
    applied_cases = models.BigIntegerField(default=0)
    last_run_at = models.DateTimeField(null=True)
    last_rebuild_at = models.DateTimeField(null=True)
    last_transition_id = models.BigIntegerField(default=0)
    # The fingerprint of the measure definitions the rollups were built with (analytics.measures):
    # when the definitions change, the rows already summed follow the old ones until a rebuild.
    definitions = models.CharField(max_length=64, blank=True)

    def __str__(self):
        return "汇总状态"


class RollupDelta(RatingCounts):
    """Scratch rows of one rollup pass (day grain), filled and emptied inside the pass's transaction."""

    dim = models.PositiveSmallIntegerField()
    period = models.DateField()
    member_id = models.IntegerField()
    channel = models.CharField(max_length=16)

    def __str__(self):
        return f"{self.dim} {self.member_id} {self.period}"


class ScorePolicy(models.Model):
    """How results are scored and ranked in a region (the nearest region up the tree applies)."""

    region = models.OneToOneField(
        "organisations.Region", verbose_name="区划", on_delete=models.CASCADE, related_name="score_policy"
    )
    weight_vs = models.PositiveSmallIntegerField("非常满意分值", default=100)
    weight_s = models.PositiveSmallIntegerField("满意分值", default=80)
    weight_b = models.PositiveSmallIntegerField("基本满意分值", default=60)
    weight_d = models.PositiveSmallIntegerField("不满意分值", default=40)
    weight_vd = models.PositiveSmallIntegerField("非常不满意分值", default=20)
    min_sample = models.PositiveIntegerField("排名最少评价数", default=30)
    prior_weight = models.PositiveIntegerField(
        "平滑权重",
        default=50,
        help_text="排名得分 =（评价数×得分 + 平滑权重×全市平均分）÷（评价数 + 平滑权重）",
    )

    class Meta:
        verbose_name = "评分与排名规则"
        verbose_name_plural = "评分与排名规则"

    def __str__(self):
        return f"{self.region.name}评分与排名规则"
