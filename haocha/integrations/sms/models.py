"""SMS records: the invitation ledger (one per finished case), texts sent and received, opt-outs, the policy."""

from datetime import time

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from haocha.catalogue.models import Case
from haocha.evaluations.levels import Level
from haocha.evaluations.models import Rating
from haocha.organisations.models import Region

# Placeholders a template may use, with sample values for validation.
TEMPLATE_FIELDS = {
    "item": "食品经营许可",
    "link": "https://example.invalid/r/token/",
    "department": "长沙市市场监督管理局",
    "case_no": "430100-2026-000001",
}
TEMPLATE_HELP = "为空时使用系统默认模板。可用占位符：{item} 事项名称、{link} 评价链接、{department} 办理部门、{case_no} 办件编号"


def validate_template(text: str) -> None:
    if not text:
        return
    try:
        text.format_map(TEMPLATE_FIELDS)
    except KeyError as exc:
        raise ValidationError(f"模板中有未知的占位符：{{{exc.args[0]}}}") from exc
    except (ValueError, IndexError) as exc:
        raise ValidationError("模板格式不正确：花括号须成对使用，且只能包含上述占位符") from exc


class SmsPolicy(models.Model):
    """SMS rules of a region; the nearest region up the tree with a policy applies, else the settings."""

    region = models.OneToOneField(
        Region, verbose_name="区划", on_delete=models.CASCADE, related_name="sms_policy"
    )
    invitations_enabled = models.BooleanField("办结后发送短信邀评", default=True)
    quiet_start = models.TimeField(
        "免打扰开始", default=time(21, 0), help_text="北京时间；与结束时间相同则不设免打扰"
    )
    quiet_end = models.TimeField("免打扰结束", default=time(8, 0))
    reminder_after_hours = models.PositiveSmallIntegerField(
        "未回复多少小时后提醒（0为不提醒）", default=24, help_text="每条邀评最多提醒一次，免打扰时段顺延"
    )
    expire_after_days = models.PositiveSmallIntegerField(
        "邀评有效期（自然日）", default=7, validators=[MinValueValidator(1)]
    )
    invitation_template = models.TextField("邀评短信模板", blank=True, help_text=TEMPLATE_HELP)
    reminder_template = models.TextField("提醒短信模板", blank=True, help_text=TEMPLATE_HELP)

    class Meta:
        verbose_name = "短信评价规则"
        verbose_name_plural = "短信评价规则"

    def __str__(self):
        return f"{self.region.name}短信评价规则"

    def clean(self):
        errors = {}
        for name in ("invitation_template", "reminder_template"):
            try:
                validate_template(getattr(self, name))
            except ValidationError as exc:
                errors[name] = exc.messages
        if errors:
            raise ValidationError(errors)


class SmsInvitation(models.Model):
    """The invitation to rate one finished case by SMS, and where it stands (a guarded state machine)."""

    class Status(models.TextChoices):
        QUEUED = "queued", "待发送"
        SENT = "sent", "已发送"
        DELIVERED = "delivered", "已送达"
        REMINDED = "reminded", "已提醒"
        ANSWERED = "answered", "已评价"
        EXPIRED = "expired", "已过期"
        OPTED_OUT = "opted_out", "已退订"
        FAILED = "failed", "发送失败"

    case = models.OneToOneField(
        Case, verbose_name="办件", on_delete=models.PROTECT, related_name="sms_invitation"
    )
    phone_hash = models.CharField(max_length=64, editable=False)
    phone_masked = models.CharField("手机号码", max_length=20)
    phone_enc = models.TextField(editable=False)
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField("创建时间")
    send_at = models.DateTimeField("计划发送时间", help_text="办结于免打扰时段的，次日早晨发送")
    enqueued_at = models.DateTimeField("提交发送时间", null=True, blank=True)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)
    delivered_at = models.DateTimeField("送达时间", null=True, blank=True)
    remind_at = models.DateTimeField("计划提醒时间", null=True, blank=True)
    reminded_at = models.DateTimeField("提醒时间", null=True, blank=True)
    answered_at = models.DateTimeField("评价时间", null=True, blank=True)
    expires_at = models.DateTimeField("过期时间")
    expired_at = models.DateTimeField("已过期于", null=True, blank=True)
    opted_out_at = models.DateTimeField("退订时间", null=True, blank=True)
    failed_at = models.DateTimeField("失败时间", null=True, blank=True)
    # A 差评 replied without a reason waits here for the reason (the intake requires one).
    pending_level = models.CharField("待补充原因的差评", max_length=20, choices=Level.choices, blank=True)
    pending_at = models.DateTimeField("差评回复时间", null=True, blank=True)
    help_sent_at = models.DateTimeField("已发送回复说明", null=True, blank=True)
    rating = models.ForeignKey(
        Rating, verbose_name="评价", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField("说明", max_length=255, blank=True)

    class Meta:
        verbose_name = "短信邀评"
        verbose_name_plural = "短信邀评"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "send_at"], name="sms_inv_send_idx"),
            models.Index(fields=["status", "remind_at"], name="sms_inv_remind_idx"),
            models.Index(fields=["status", "expires_at"], name="sms_inv_expire_idx"),
            models.Index(fields=["phone_hash", "created_at"], name="sms_inv_phone_idx"),
        ]

    def __str__(self):
        return f"{self.case.case_no} {self.phone_masked} {self.get_status_display()}"


class SmsInvitationEvent(models.Model):
    """One row per change of an invitation: its history."""

    invitation = models.ForeignKey(
        SmsInvitation, verbose_name="短信邀评", on_delete=models.CASCADE, related_name="events"
    )
    from_status = models.CharField("原状态", max_length=12, blank=True)
    to_status = models.CharField("新状态", max_length=12)
    at = models.DateTimeField("时间")
    note = models.CharField("说明", max_length=255, blank=True)

    class Meta:
        verbose_name = "短信邀评记录"
        verbose_name_plural = "短信邀评记录"
        ordering = ["at", "id"]

    def __str__(self):
        return f"{self.from_status or '-'} → {self.to_status}"


class SmsMessage(models.Model):
    """Every text sent: queued with the outbox row, then the provider's id and its delivery receipt.

    The text itself is not kept here (verification codes must not linger); the outbox row has it.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "待发送"
        SENT = "sent", "已提交网关"
        DELIVERED = "delivered", "已送达"
        FAILED = "failed", "发送失败"
        CANCELLED = "cancelled", "已取消"

    key = models.CharField("幂等键", max_length=128, unique=True)
    purpose = models.CharField("用途", max_length=32)
    invitation = models.ForeignKey(
        SmsInvitation,
        verbose_name="短信邀评",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="messages",
    )
    phone_hash = models.CharField(max_length=64, editable=False)
    phone_masked = models.CharField("手机号码", max_length=20)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.QUEUED)
    provider = models.CharField("短信网关", max_length=32, blank=True)
    provider_message_id = models.CharField("网关消息编号", max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    sent_at = models.DateTimeField("提交时间", null=True, blank=True)
    delivered_at = models.DateTimeField("送达时间", null=True, blank=True)
    failed_at = models.DateTimeField("失败时间", null=True, blank=True)
    error = models.CharField("错误", max_length=500, blank=True)

    class Meta:
        verbose_name = "短信发送记录"
        verbose_name_plural = "短信发送记录"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="sms_msg_status_idx")]

    def __str__(self):
        return f"{self.purpose} {self.phone_masked} {self.get_status_display()}"


class SmsInbound(models.Model):
    """A reply received through the provider's webhook; (provider, message id) is applied once."""

    class Outcome(models.TextChoices):
        RATED = "rated", "已评价"
        REASON_REQUESTED = "reason_requested", "差评待补充原因"
        OPTED_OUT = "opted_out", "已退订"
        UNPARSED = "unparsed", "无法识别"
        NO_INVITATION = "no_invitation", "无待评价办件"
        REFUSED = "refused", "评价未受理"

    provider = models.CharField("短信网关", max_length=32)
    message_id = models.CharField("网关消息编号", max_length=64)
    phone_hash = models.CharField(max_length=64, editable=False)
    phone_masked = models.CharField("手机号码", max_length=20)
    text = models.TextField("回复内容")
    received_at = models.DateTimeField("接收时间")
    outcome = models.CharField("处理结果", max_length=20, choices=Outcome.choices)
    code = models.CharField("结果代码", max_length=64, blank=True)
    invitation = models.ForeignKey(
        SmsInvitation, verbose_name="短信邀评", null=True, blank=True, on_delete=models.SET_NULL
    )
    rating = models.ForeignKey(
        Rating, verbose_name="评价", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "短信回复"
        verbose_name_plural = "短信回复"
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "message_id"], name="sms_inbound_once"),
        ]

    def __str__(self):
        return f"{self.phone_masked} {self.get_outcome_display()}"


class SmsOptOut(models.Model):
    """A phone that replied 退订: no invitations or reminders are sent to it."""

    phone_hash = models.CharField(max_length=64, unique=True, editable=False)
    phone_masked = models.CharField("手机号码", max_length=20)
    created_at = models.DateTimeField("退订时间")
    source = models.CharField("来源", max_length=64, blank=True)

    class Meta:
        verbose_name = "短信退订"
        verbose_name_plural = "短信退订"
        ordering = ["-created_at"]

    def __str__(self):
        return self.phone_masked
