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
