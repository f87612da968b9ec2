"""差评 work orders (工单): the state, the clocks, the transition log, contacts, 督办, 延期, 申诉, policy."""

import uuid

from django.conf import settings
from django.db import models

from haocha.organisations.models import Organisation, Region


class Status(models.TextChoices):
    PENDING_VERIFY = "pending_verify", "待核实"
    INVALID = "invalid", "核实无效"
    PENDING_ACCEPT = "pending_accept", "待签收"
    ACCEPTED = "accepted", "已签收"
    HANDLING = "handling", "办理中"
    PENDING_CALLBACK = "pending_callback", "待回访"
    CLOSED = "closed", "已办结"
    MERGED = "merged", "已并单"


OPEN_STATUSES = (
    Status.PENDING_VERIFY,
    Status.PENDING_ACCEPT,
    Status.ACCEPTED,
    Status.HANDLING,
    Status.PENDING_CALLBACK,
)
# Statuses in which the department's clocks run.
DEPARTMENT_STATUSES = (Status.PENDING_ACCEPT, Status.ACCEPTED, Status.HANDLING)


class Complexity(models.TextChoices):
    SIMPLE = "simple", "简单问题"
    COMPLEX = "complex", "复杂问题"


class InvalidReason(models.TextChoices):
    MISTAKEN = "mistaken", "误评"
    MALICIOUS = "malicious", "恶意差评"
    NOT_GOVERNMENT = "not_government", "非政务服务事项"


class WorkOrderPolicy(models.Model):
    """Deadlines and supervision rules of a region (Changsha: the 1210 rule); the nearest ancestor applies."""

    region = models.OneToOneField(
        Region, verbose_name="区划", on_delete=models.CASCADE, related_name="work_order_policy"
    )
    contact_days = models.PositiveSmallIntegerField("联系时限（工作日）", default=1)
    simple_days = models.PositiveSmallIntegerField("简单问题办结时限（工作日）", default=2)
    complex_days = models.PositiveSmallIntegerField("复杂问题办结时限（工作日）", default=10)
    bad_on_any_indicator = models.BooleanField("任一分项差评即生成工单", default=False)
    second_escalation_days = models.PositiveSmallIntegerField("逾期后升级为二级督办（工作日）", default=2)
    appeal_days = models.PositiveSmallIntegerField("申诉时限（交办后工作日）", default=5)
    repeat_window_days = models.PositiveSmallIntegerField("重复差评统计周期（自然日）", default=30)
    repeat_threshold = models.PositiveSmallIntegerField("重复差评次数阈值", default=3)
    callback_link_days = models.PositiveSmallIntegerField("回访链接有效期（自然日）", default=15)
    # A step recorded later than it happened (a phone call entered afterwards) counts at its stated time only
    # when recorded within this many hours of it; otherwise timeliness counts from the recording.
    stated_time_window_hours = models.PositiveSmallIntegerField("补录时间认可期（小时）", default=2)

    class Meta:
        verbose_name = "差评处置规则"
        verbose_name_plural = "差评处置规则"

    def __str__(self):
        return f"{self.region.name}差评处置规则"


class WorkOrder(models.Model):
    number = models.CharField("工单编号", max_length=24, unique=True)
    rating = models.OneToOneField(
        "evaluations.Rating", verbose_name="差评", on_delete=models.PROTECT, related_name="work_order"
    )
    case = models.ForeignKey(
        "catalogue.Case",
        verbose_name="办件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="work_orders",
    )
    region = models.ForeignKey(Region, verbose_name="区划", on_delete=models.PROTECT)
    department = models.ForeignKey(
        Organisation,
        verbose_name="承办部门",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="work_orders",
    )
    co_departments = models.ManyToManyField(
        Organisation, verbose_name="协办部门", blank=True, related_name="co_work_orders"
    )
    status = models.CharField(
        "状态", max_length=20, choices=Status.choices, default=Status.PENDING_VERIFY, db_index=True
    )
    complexity = models.CharField("问题类型", max_length=8, choices=Complexity.choices, blank=True)
    summary = models.TextField("诉求摘要", blank=True)  # the rating's comment, whole
    invalid_reason = models.CharField("无效类型", max_length=16, choices=InvalidReason.choices, blank=True)
    invalid_note = models.CharField("无效说明", max_length=500, blank=True)

    received_at = models.DateTimeField("接收时间")
    verified_at = models.DateTimeField("核实时间", null=True, blank=True)
    assigned_at = models.DateTimeField("交办时间", null=True, blank=True)
    accepted_at = models.DateTimeField("签收时间", null=True, blank=True)
    # When the first contact counts for the contact clock (its stated time, or its recording time when the
    # stated time lies outside the policy's window); the stated time itself stays on the contact record.
    contacted_at = models.DateTimeField("首次联系时间（计时）", null=True, blank=True)
    feedback_at = models.DateTimeField("反馈时间", null=True, blank=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)

    # The clocks restart when the order is reassigned or reopened: a new cycle with its own 督办 levels.
    clock_started_at = models.DateTimeField("本轮计时起点", null=True, blank=True)
    cycle = models.PositiveSmallIntegerField("办理轮次", default=1)
    contact_due_at = models.DateTimeField("联系期限", null=True, blank=True)
    finish_due_at = models.DateTimeField("办结期限", null=True, blank=True)
    due_at = models.DateTimeField("当前期限", null=True, blank=True, db_index=True)
    # When the sweep next has something to do for this order (the next 督办 level falls due); null = nothing.
    next_escalation_at = models.DateTimeField("下次督办时间", null=True, blank=True, db_index=True)
    extension_days = models.PositiveSmallIntegerField("已批准延期（工作日）", default=0)
    overdue = models.BooleanField("已逾期", default=False)
    escalation_level = models.PositiveSmallIntegerField("督办级别", default=0)
    reopen_count = models.PositiveSmallIntegerField("重办次数", default=0)
    on_the_spot = models.BooleanField("当场处置", default=False)
    repeat_flag = models.BooleanField("重复差评", default=False)

    result = models.TextField("处理结果", max_length=2000, blank=True)
    measures = models.TextField("整改措施", max_length=2000, blank=True)
    callback_solved = models.BooleanField("问题已解决", null=True, blank=True)
    callback_satisfaction = models.CharField("回访满意度", max_length=20, blank=True)
    callback_comment = models.CharField("回访意见", max_length=500, blank=True)

    # Timeliness kept when the order closes (minutes used and over target per clock).
    contact_minutes = models.PositiveIntegerField("联系用时（分钟）", null=True, blank=True)
    contact_over_minutes = models.PositiveIntegerField("联系超时（分钟）", null=True, blank=True)
    finish_minutes = models.PositiveIntegerField("办结用时（分钟）", null=True, blank=True)
    finish_over_minutes = models.PositiveIntegerField("办结超时（分钟）", null=True, blank=True)

    merged_into = models.ForeignKey(
        "self",
        verbose_name="并入工单",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged",
    )
    citizen_token = models.UUIDField("群众链接标识", default=uuid.uuid4, unique=True, editable=False)
    callback_token_used = models.BooleanField("回访链接已使用", default=False)
    version = models.PositiveIntegerField("版本", default=0)
    # An order a lower-level system handles (docking): its state here is what that system reports, read-only.
    handled_by = models.ForeignKey(
        "accounts.ApiClient",
        verbose_name="办理系统（下级）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    remote_number = models.CharField("下级工单编号", max_length=40, blank=True)
    # An order an external 12345 platform verifies and dispatches (integrations/hotline12345): the steps its
    # operators, the departments and its call-back team take arrive by its signed callbacks; see machine.py.
    platform = models.ForeignKey(
        "accounts.ApiClient",
        verbose_name="12345平台",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    platform_number = models.CharField("12345工单编号", max_length=40, blank=True, db_index=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "差评工单"
        verbose_name_plural = "差评工单"
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="wo_status_due_idx"),
            models.Index(fields=["department", "status"], name="wo_dept_status_idx"),
        ]

    def __str__(self):
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class Transition(models.Model):
    """One row per change of a work order: the audit trail and the source of timeliness statistics."""

    order = models.ForeignKey(
        WorkOrder, verbose_name="工单", on_delete=models.CASCADE, related_name="transitions"
    )
    action = models.CharField("动作", max_length=24)
    from_status = models.CharField("原状态", max_length=20, blank=True)
    to_status = models.CharField("新状态", max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField("操作方", max_length=150)
    at = models.DateTimeField("登记时间")
    stated_at = models.DateTimeField("所述发生时间", null=True, blank=True)
    note = models.TextField("说明", max_length=2000, blank=True)
    attachments = models.JSONField("附件", default=list, blank=True)
    data = models.JSONField("数据", default=dict, blank=True)

    class Meta:
        verbose_name = "工单流转记录"
        verbose_name_plural = "工单流转记录"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.order.number} {self.action} {self.at:%Y-%m-%d %H:%M}"


class ContactRecord(models.Model):
    class Method(models.TextChoices):
        PHONE = "phone", "电话"
        SMS = "sms", "短信"
        VISIT = "visit", "上门"
        IN_PERSON = "in_person", "当面"
        OTHER = "other", "其他"

    order = models.ForeignKey(
        WorkOrder, verbose_name="工单", on_delete=models.CASCADE, related_name="contacts"
    )
    contacted_at = models.DateTimeField("联系时间")  # as stated by the handler
    recorded_at = models.DateTimeField("登记时间")
    method = models.CharField("联系方式", max_length=10, choices=Method.choices)
    outcome = models.CharField("联系结果", max_length=500)
    reached = models.BooleanField("已联系上", default=True)
    actor_label = models.CharField("联系人", max_length=150)

    class Meta:
        verbose_name = "联系记录"
        verbose_name_plural = "联系记录"
        ordering = ["contacted_at"]

    def __str__(self):
        return f"{self.get_method_display()} {self.contacted_at:%Y-%m-%d %H:%M}"


class Supervision(models.Model):
    """督办: automatic on lateness (level 1, then 2) or issued by a supervisor with a deadline."""

    class Kind(models.TextChoices):
        AUTO = "auto", "逾期自动督办"
        MANUAL = "manual", "人工督办"

    order = models.ForeignKey(
        WorkOrder, verbose_name="工单", on_delete=models.CASCADE, related_name="supervisions"
    )
    kind = models.CharField("类型", max_length=8, choices=Kind.choices)
    level = models.PositiveSmallIntegerField("级别")
    cycle = models.PositiveSmallIntegerField("办理轮次", default=1)
    department = models.ForeignKey(Organisation, verbose_name="督办对象", null=True, on_delete=models.PROTECT)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="督办人", null=True, blank=True, on_delete=models.SET_NULL
    )
    note = models.CharField("督办意见", max_length=500, blank=True)
    deadline = models.DateTimeField("办理期限", null=True, blank=True)
    created_at = models.DateTimeField("督办时间")
    resolved_at = models.DateTimeField("解除时间", null=True, blank=True)

    class Meta:
        verbose_name = "督办"
        verbose_name_plural = "督办"
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "cycle", "level"],
                condition=models.Q(kind="auto"),
                name="one_auto_supervision_per_cycle_level",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()}（{self.level}级）"


class Extension(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "待审批"
        APPROVED = "approved", "已批准"
        REJECTED = "rejected", "未批准"
        LAPSED = "lapsed", "已失效"  # the order left the department's hands, or a new cycle began

    order = models.ForeignKey(
        WorkOrder, verbose_name="工单", on_delete=models.CASCADE, related_name="extensions"
    )
    days = models.PositiveSmallIntegerField("延期（工作日）")
    cycle = models.PositiveSmallIntegerField("办理轮次", default=1)
    reason = models.CharField("延期理由", max_length=500)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by_label = models.CharField("申请人", max_length=150)
    requested_at = models.DateTimeField("申请时间")
    decided_by_label = models.CharField("审批人", max_length=150, blank=True)
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    decision_note = models.CharField("审批意见", max_length=500, blank=True)

    class Meta:
        verbose_name = "延期申请"
        verbose_name_plural = "延期申请"
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(status="pending"), name="one_pending_extension"
            )
        ]

    def __str__(self):
        return f"延期{self.days}个工作日（{self.get_status_display()}）"


class Appeal(models.Model):
    """申诉: the department says a 差评 is mistaken or malicious; a supervisor reviews (复核)."""

    class Status(models.TextChoices):
        PENDING = "pending", "待复核"
        UPHELD = "upheld", "申诉成立"
        REJECTED = "rejected", "申诉不成立"

    order = models.ForeignKey(
        WorkOrder, verbose_name="工单", on_delete=models.CASCADE, related_name="appeals"
    )
    ground = models.CharField("申诉理由类型", max_length=16, choices=InvalidReason.choices)
    statement = models.TextField("申诉说明", max_length=2000)
    evidence = models.JSONField("证据", default=list, blank=True)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    filed_by_label = models.CharField("申诉人", max_length=150)
    filed_at = models.DateTimeField("申诉时间")
    reviewed_by_label = models.CharField("复核人", max_length=150, blank=True)
    reviewed_at = models.DateTimeField("复核时间", null=True, blank=True)
    review_note = models.CharField("复核意见", max_length=500, blank=True)

    class Meta:
        verbose_name = "申诉"
        verbose_name_plural = "申诉"
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(status="pending"), name="one_pending_appeal"
            )
        ]

    def __str__(self):
        return f"{self.get_ground_display()}（{self.get_status_display()}）"


class RepeatFlag(models.Model):
    """重复差评: a window, staff member or item with repeated 差评 within a period, for spot checks."""

    class Subject(models.TextChoices):
        WINDOW = "window", "窗口"
        STAFF = "staff", "工作人员"
        ITEM = "item", "事项"

    subject = models.CharField("对象类型", max_length=8, choices=Subject.choices)
    subject_id = models.PositiveBigIntegerField("对象编号")
    subject_label = models.TextField("对象")
    count = models.PositiveIntegerField("差评次数")
    window_start = models.DateTimeField("统计起点")
    flagged_at = models.DateTimeField("标记时间")
    orders = models.ManyToManyField(WorkOrder, verbose_name="相关工单", related_name="repeat_flags")
    checked = models.BooleanField("已抽查", default=False)

    class Meta:
        verbose_name = "重复差评标记"
        verbose_name_plural = "重复差评标记"
        ordering = ["-flagged_at"]

    def __str__(self):
        return f"{self.get_subject_display()} {self.subject_label}：{self.count}次差评"
