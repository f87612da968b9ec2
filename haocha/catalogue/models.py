"""Service items (政务服务事项) and cases (办件) registered by approval systems."""

from django.db import models

from haocha.organisations.models import Organisation, Region, Staff, Window


class ItemType(models.TextChoices):
    """GB/T 39046-2020 A.1 事项类型."""

    ADMINISTRATIVE_POWER = "00", "行政权力"
    LICENSING = "01", "行政许可"
    PENALTY = "02", "行政处罚"
    COERCION = "03", "行政强制"
    LEVY = "04", "行政征收"
    PAYMENT = "05", "行政给付"
    INSPECTION = "06", "行政检查"
    CONFIRMATION = "07", "行政确认"
    REWARD = "08", "行政奖励"
    ADJUDICATION = "09", "行政裁决"
    OTHER_POWER = "10", "其他行政权力"
    PUBLIC_SERVICE = "20", "公共服务"


class ApplicantType(models.TextChoices):
    """GB/T 39046-2020 A.4 申请人类型 (the interface field userProp)."""

    PERSON = "1", "自然人"
    ENTERPRISE = "2", "企业法人"
    INSTITUTION = "3", "事业法人"
    SOCIAL_ORG = "4", "社会组织法人"
    NON_LEGAL_ENTERPRISE = "5", "非法人企业"
    GOVERNMENT = "6", "行政机关"
    OTHER = "9", "其他组织"


class ServiceItem(models.Model):
    class HandlingKind(models.TextChoices):
        IMMEDIATE = "immediate", "即办件"
        PROMISED = "promised", "承诺件"

    code = models.CharField("事项编码", max_length=64, unique=True)
    name = models.CharField("事项名称", max_length=200)
    item_type = models.CharField("事项类型", max_length=2, choices=ItemType.choices)
    department = models.ForeignKey(
        Organisation,
        verbose_name="实施部门",
        on_delete=models.PROTECT,
        related_name="items",
        limit_choices_to={"kind": Organisation.Kind.DEPARTMENT},
    )
    region = models.ForeignKey(
        Region, verbose_name="行政区划", on_delete=models.PROTECT, related_name="items"
    )
    handling_kind = models.CharField("办件类型", max_length=10, choices=HandlingKind.choices)
    promised_days = models.PositiveSmallIntegerField("承诺时限（工作日）", default=0)
    legal_days = models.PositiveSmallIntegerField("法定时限（工作日）", default=0)
    is_active = models.BooleanField("在用", default=True)

    class Meta:
        verbose_name = "政务服务事项"
        verbose_name_plural = "政务服务事项"
        ordering = ["code"]

    def __str__(self):
        return f"{self.name}（{self.code}）"


class Case(models.Model):
    """One case (办件) of a service item for one applicant, as the approval system reports it."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", "已受理"
        PROCESSING = "processing", "办理中"
        FINISHED = "finished", "已办结"
        REJECTED = "rejected", "不予受理"
        WITHDRAWN = "withdrawn", "已撤件"

    class ApplyChannel(models.TextChoices):
        ONLINE = "online", "网上申报"
        MOBILE = "mobile", "移动端申报"
        HALL = "hall", "窗口申报"
        TERMINAL = "terminal", "自助终端"
        MAIL = "mail", "邮寄申报"
        OTHER = "other", "其他"

    case_no = models.CharField("办件编号", max_length=50, unique=True)
    item = models.ForeignKey(ServiceItem, verbose_name="事项", on_delete=models.PROTECT, related_name="cases")
    department = models.ForeignKey(
        Organisation, verbose_name="办理部门", on_delete=models.PROTECT, related_name="cases"
    )
    region = models.ForeignKey(
        Region, verbose_name="办理区划", on_delete=models.PROTECT, related_name="cases"
    )
    hall = models.ForeignKey(
        Organisation,
        verbose_name="办理大厅",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hall_cases",
    )
    window = models.ForeignKey(Window, verbose_name="窗口", null=True, blank=True, on_delete=models.PROTECT)
    staff = models.ForeignKey(Staff, verbose_name="经办人", null=True, blank=True, on_delete=models.PROTECT)
    applicant_type = models.CharField("申请人类型", max_length=1, choices=ApplicantType.choices)
    applicant_name = models.CharField("申请人名称", max_length=100)
    applicant_id_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    applicant_id_masked = models.CharField("证件号码", max_length=32, blank=True)
    applicant_id_enc = models.TextField(blank=True, editable=False)
    applicant_phone_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    applicant_phone_masked = models.CharField("联系电话", max_length=20, blank=True)
    applicant_phone_enc = models.TextField(blank=True, editable=False)
    apply_channel = models.CharField("申报渠道", max_length=10, choices=ApplyChannel.choices)
    status = models.CharField("办件状态", max_length=12, choices=Status.choices, db_index=True)
    accepted_at = models.DateTimeField("受理时间")
    finished_at = models.DateTimeField("办结时间", null=True, blank=True)
    promised_at = models.DateTimeField("承诺办结时间", null=True, blank=True)
    source = models.ForeignKey(
        "accounts.ApiClient", verbose_name="来源系统", null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "办件"
        verbose_name_plural = "办件"
        ordering = ["-accepted_at"]
        indexes = [
            models.Index(fields=["department", "finished_at"], name="case_dept_finished_idx"),
            models.Index(fields=["finished_at"], name="case_finished_idx"),
        ]

    def __str__(self):
        return self.case_no

    @property
    def is_finished(self) -> bool:
        return self.status == self.Status.FINISHED and self.finished_at is not None
