"""Cross-cutting records: the audit log."""

from django.conf import settings
from django.db import models


class AuditLog(models.Model):
    """Every read of a person's full identity and every administrative change."""

    class Action(models.TextChoices):
        IDENTITY_READ = "identity_read", "查看完整身份信息"
        ADMIN_ADD = "admin_add", "管理新增"
        ADMIN_CHANGE = "admin_change", "管理修改"
        ADMIN_DELETE = "admin_delete", "管理删除"
        LOGIN = "login", "登录"
        LOGIN_FAILED = "login_failed", "登录失败"
        LOGIN_LOCKED = "login_locked", "登录锁定"
        API_KEY = "api_key", "接口密钥变更"
        RATING_FLAG = "rating_flag", "评价标记"
        PARTNER_SEND = "partner_send", "向外部系统提供个人信息"

    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True, on_delete=models.SET_NULL
    )
    actor_label = models.CharField("操作方", max_length=150, blank=True)
    action = models.CharField("动作", max_length=32, choices=Action.choices, db_index=True)
    object_type = models.CharField("对象类型", max_length=64, blank=True)
    object_id = models.CharField("对象编号", max_length=64, blank=True)
    summary = models.CharField("摘要", max_length=500, blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()} {self.object_type}#{self.object_id}"


class OutboxMessage(models.Model):
    """Anything that leaves a transaction: written in it, delivered by the worker at least once."""

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        DONE = "done", "已完成"
        DEAD = "dead", "发送失败（需人工处理）"

    topic = models.CharField("主题", max_length=64, db_index=True)
    key = models.CharField("幂等键", max_length=128, unique=True)
    payload = models.JSONField("内容", default=dict)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试", db_index=True)
    locked_until = models.DateTimeField("锁定至", null=True, blank=True)
    last_error = models.TextField("最近错误", blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    done_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = "待发消息"
        verbose_name_plural = "待发消息"
        ordering = ["created_at"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due_idx")]

    def __str__(self):
        return f"{self.topic} {self.key}"


class Message(models.Model):
    """An in-app message to a staff member (new order, nearing deadline, 督办)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="接收人", on_delete=models.CASCADE, related_name="messages"
    )
    key = models.CharField("幂等键", max_length=160)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    link = models.CharField("链接", max_length=300, blank=True)
    created_at = models.DateTimeField("时间", auto_now_add=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = "站内消息"
        verbose_name_plural = "站内消息"
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="message_once_per_user")]

    def __str__(self):
        return self.title
