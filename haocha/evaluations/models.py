"""Ratings (评价), their indicator sets and reasons, replies, correction flags and the rating policy."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from haocha.catalogue.models import ApplicantType, Case, ServiceItem
from haocha.core.ids import uuid7
from haocha.evaluations.channels import Channel
from haocha.evaluations.levels import Level
from haocha.organisations.models import Organisation, Region, Staff, Window

# A default rating is never a 差评: a 差评 needs the citizen's reason and becomes a work order.
DEFAULT_RATING_LEVELS = (Level.VERY_SATISFIED, Level.SATISFIED, Level.BASICALLY_SATISFIED)


class IndicatorSet(models.Model):
    """A versioned set of indicators and reasons; a rating records the version it used."""

    class Code(models.TextChoices):
        ONLINE = "online", "线上评价指标"
        OFFLINE = "offline", "线下评价指标"

    code = models.CharField("指标体系", max_length=16, choices=Code.choices)
    version = models.PositiveSmallIntegerField("版本")
    name = models.CharField("名称", max_length=64)
    is_active = models.BooleanField("当前使用", default=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "评价指标体系"
        verbose_name_plural = "评价指标体系"
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="indicator_set_version_unique"),
            models.UniqueConstraint(
                fields=["code"], condition=models.Q(is_active=True), name="one_active_indicator_set"
            ),
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"


class Indicator(models.Model):
    indicator_set = models.ForeignKey(IndicatorSet, on_delete=models.CASCADE, related_name="indicators")
    code = models.CharField("指标编码", max_length=32)
    name = models.CharField("指标名称", max_length=32)
    is_overall = models.BooleanField("整体满意度", default=False)
    order = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        verbose_name = "评价指标"
        verbose_name_plural = "评价指标"
        ordering = ["indicator_set", "order"]
        constraints = [
            models.UniqueConstraint(fields=["indicator_set", "code"], name="indicator_code_unique")
        ]

    def __str__(self):
        return self.name


class ReasonOption(models.Model):
    """A content option (评价内容/evalDetail) offered for one level."""

    indicator_set = models.ForeignKey(IndicatorSet, on_delete=models.CASCADE, related_name="reasons")
    level = models.CharField("适用等级", max_length=20, choices=Level.choices)
    code = models.CharField("内容编码", max_length=32)
    text = models.CharField("内容", max_length=64)
    order = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        verbose_name = "评价内容选项"
        verbose_name_plural = "评价内容选项"
        ordering = ["indicator_set", "level", "order"]
        constraints = [models.UniqueConstraint(fields=["indicator_set", "code"], name="reason_code_unique")]

    def __str__(self):
        return f"{self.get_level_display()}：{self.text}"


class Rating(models.Model):
    """One rating. Never edited or deleted: corrections are flags with reasons (RatingFlag)."""

    class Kind(models.IntegerChoices):
        FIRST = 1, "首次评价"
        FOLLOW_UP = 2, "追评"

    # Time-ordered (version 7): inserts land at the end of the unique index (see core.ids)
    public_id = models.UUIDField("评价编号", default=uuid7, unique=True, editable=False)
    # db_index=False on these four: the composite indexes and the (case, kind) constraint cover them,
    # and every extra index costs each insert (measured: import +27% without them).
    case = models.ForeignKey(
        Case,
        verbose_name="办件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ratings",
        db_index=False,
    )
    kind = models.PositiveSmallIntegerField("评价次数", choices=Kind.choices, default=Kind.FIRST)
    first_rating = models.ForeignKey(
        "self",
        verbose_name="首次评价",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="follow_ups",
        db_index=False,
    )
    # What was rated (copied from the case or the window at intake, so statistics never join the case).
    department = models.ForeignKey(
        Organisation,
        verbose_name="被评部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ratings",
        db_index=False,
    )
    hall = models.ForeignKey(
        Organisation,
        verbose_name="大厅",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hall_ratings",
        db_index=False,
    )
    window = models.ForeignKey(
        Window, verbose_name="窗口", null=True, blank=True, on_delete=models.PROTECT, db_index=False
    )
    staff = models.ForeignKey(
        Staff, verbose_name="工作人员", null=True, blank=True, on_delete=models.PROTECT, db_index=False
    )
    item = models.ForeignKey(
        ServiceItem, verbose_name="事项", null=True, blank=True, on_delete=models.PROTECT, db_index=False
    )
    region = models.ForeignKey(Region, verbose_name="评价区划", on_delete=models.PROTECT, db_index=False)

    level = models.CharField("整体满意度", max_length=20, choices=Level.choices)
    is_bad = models.BooleanField("差评", default=False)
    indicator_levels = models.JSONField("分项评价", default=dict, blank=True)
    reason_codes = models.JSONField("评价内容", default=list, blank=True)
    comment = models.TextField("文字评价", blank=True)
    indicator_set = models.ForeignKey(
        IndicatorSet, verbose_name="指标体系版本", on_delete=models.PROTECT, db_index=False
    )
    channel = models.CharField("评价渠道", max_length=16, choices=Channel.choices)

    evaluator_type = models.CharField("评价人类型", max_length=1, choices=ApplicantType.choices, blank=True)
    evaluator_name = models.CharField("评价人", max_length=100, blank=True)
    evaluator_id_hash = models.CharField(max_length=64, blank=True, editable=False)
    evaluator_id_masked = models.CharField("证件号码", max_length=32, blank=True)
    evaluator_id_enc = models.TextField(blank=True, editable=False)
    evaluator_phone_hash = models.CharField(max_length=64, blank=True, editable=False)
    evaluator_phone_masked = models.CharField("联系电话", max_length=20, blank=True)
    evaluator_phone_enc = models.TextField(blank=True, editable=False)

    rated_at = models.DateTimeField("评价时间")
    received_at = models.DateTimeField("接收时间", auto_now_add=True)
    client_ip = models.GenericIPAddressField("评价IP", null=True, blank=True)
    device_id = models.CharField("设备编号", max_length=64, blank=True)
    # A rating on the 12345 hotline channel names the 12345 order of the call (a caller's 一次一评, or the
    # call-back satisfaction on a handled order): the matter is that order, not a second one.
    hotline_order_no = models.CharField("12345工单编号", max_length=40, blank=True, default="")
    source = models.ForeignKey(
        "accounts.ApiClient",
        verbose_name="来源系统",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="录入人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_index=False,
    )
    idempotency_scope = models.CharField(max_length=32, blank=True, editable=False)
    idempotency_key = models.CharField("幂等键", max_length=64, blank=True)

    is_default = models.BooleanField("默认评价", default=False)
    is_valid = models.BooleanField("有效", default=True)
    invalid_reason = models.CharField("无效原因", max_length=255, blank=True)
    is_hidden = models.BooleanField("文字已屏蔽", default=False)

    # Statistics read the rollups, not this table: it keeps only the indexes its writes and its lists need
    # (foreign keys to items, regions, indicator sets, sources and recorders have none; deleting one of
    # those, a rare administrative act, scans the table).
    class Meta:
        verbose_name = "评价"
        verbose_name_plural = "评价"
        ordering = ["-rated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind"],
                condition=models.Q(case__isnull=False),
                name="one_rating_per_case_kind",
            ),
            models.UniqueConstraint(
                fields=["idempotency_scope", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="rating_idempotency_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["rated_at"], name="rating_rated_at_idx"),
            models.Index(fields=["department", "rated_at"], name="rating_dept_idx"),
            models.Index(fields=["hall", "rated_at"], name="rating_hall_idx"),
            models.Index(fields=["window", "rated_at"], name="rating_window_idx"),
            models.Index(fields=["staff", "rated_at"], name="rating_staff_idx"),
            models.Index(fields=["is_bad", "rated_at"], name="rating_bad_idx"),
            models.Index(fields=["device_id", "rated_at"], name="rating_device_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.get_level_display()} {self.rated_at:%Y-%m-%d}"


class RatingReply(models.Model):
    """The one public reply a department gives to a rating."""

    rating = models.OneToOneField(Rating, verbose_name="评价", on_delete=models.PROTECT, related_name="reply")
    department = models.ForeignKey(Organisation, verbose_name="回复部门", on_delete=models.PROTECT)
    text = models.TextField("回复内容")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="回复人", null=True, blank=True, on_delete=models.SET_NULL
    )
    author_label = models.CharField("回复方", max_length=150, blank=True)
    created_at = models.DateTimeField("回复时间", auto_now_add=True)

    class Meta:
        verbose_name = "评价回复"
        verbose_name_plural = "评价回复"

    def __str__(self):
        return self.text[:30]


class RatingFlag(models.Model):
    """A later correction of a rating: it is marked, never edited or deleted."""

    class Kind(models.TextChoices):
        INVALID = "invalid", "标记无效"
        RESTORE = "restore", "恢复有效"
        HIDE_TEXT = "hide_text", "屏蔽文字"
        NOTE = "note", "更正说明"

    rating = models.ForeignKey(Rating, verbose_name="评价", on_delete=models.PROTECT, related_name="flags")
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    reason = models.CharField("原因", max_length=500)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField("操作方", max_length=150, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)

    class Meta:
        verbose_name = "评价更正标记"
        verbose_name_plural = "评价更正标记"
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.get_kind_display()}：{self.reason}"


class RatingPolicy(models.Model):
    """Rating rules of a region; the nearest region up the tree with a policy applies."""

    region = models.OneToOneField(
        Region, verbose_name="区划", on_delete=models.CASCADE, related_name="rating_policy"
    )
    follow_up_days = models.PositiveSmallIntegerField("追评期限（自然日）", default=15)
    rating_window_days = models.PositiveSmallIntegerField("评价期限（办结后自然日，0为不限）", default=0)
    allow_visit_ratings = models.BooleanField("允许“一次一评”窗口评价", default=True)
    channel_codes = models.JSONField(
        "渠道代码表", default=dict, blank=True, help_text="为空时使用国家标准代码表；填写则整表替换"
    )
    # 系统默认评价: some provinces rate a finished case the citizen left unrated after N natural days.
    default_rating_enabled = models.BooleanField(
        "启用系统默认评价",
        default=False,
        help_text="办结后超过期限仍未评价的办件，由系统生成默认评价（标记为默认评价）",
    )
    default_rating_days = models.PositiveSmallIntegerField(
        "默认评价期限（办结后自然日）", default=7, validators=[MinValueValidator(1)]
    )
    default_rating_level = models.CharField(
        "默认评价等级",
        max_length=20,
        choices=[(lvl.value, lvl.label) for lvl in DEFAULT_RATING_LEVELS],
        default=Level.SATISFIED,
    )
    default_rating_since = models.DateField(
        "默认评价起始日期",
        null=True,
        blank=True,
        help_text="只对此日期及以后办结的办件生成默认评价；为空则不限",
    )

    class Meta:
        verbose_name = "评价规则"
        verbose_name_plural = "评价规则"

    def __str__(self):
        return f"{self.region.name}评价规则"
