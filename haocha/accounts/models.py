"""Staff accounts, their scoped roles, API clients of other systems, and how much personal data staff may see."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models

from haocha.organisations.models import Region


class Role(models.TextChoices):
    SYSTEM_ADMIN = "system_admin", "系统管理员"
    SUPERVISOR = "supervisor", "监管人员"
    DEPARTMENT_ADMIN = "department_admin", "部门管理员"
    HANDLER = "handler", "差评处理人员"
    WINDOW_CLERK = "window_clerk", "窗口人员"
    OPERATOR_12345 = "operator_12345", "12345话务员"


class User(AbstractUser):
    display_name = models.CharField("姓名", max_length=32, blank=True)
    organisation = models.ForeignKey(
        "organisations.Organisation",
        verbose_name="所在单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="users",
    )

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def __str__(self):
        return self.display_name or self.username


class RoleAssignment(models.Model):
    """A role held over a subtree: a region (and everything in it) or an organisation (and its children)."""

    user = models.ForeignKey(User, verbose_name="用户", on_delete=models.CASCADE, related_name="roles")
    role = models.CharField("角色", max_length=20, choices=Role.choices)
    region = models.ForeignKey(
        "organisations.Region", verbose_name="管辖区划", null=True, blank=True, on_delete=models.CASCADE
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", verbose_name="所属机构", null=True, blank=True, on_delete=models.CASCADE
    )

    class Meta:
        verbose_name = "角色授权"
        verbose_name_plural = "角色授权"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role="system_admin")
                | models.Q(region__isnull=False)
                | models.Q(organisation__isnull=False),
                name="role_has_scope",
            )
        ]

    def __str__(self):
        scope = self.region or self.organisation or "全部"
        return f"{self.get_role_display()} @ {scope}"

    def clean(self):
        if self.role != Role.SYSTEM_ADMIN and not (self.region_id or self.organisation_id):
            raise ValidationError("除系统管理员外，角色必须指定管辖区划或所属机构")


def hash_api_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiClient(models.Model):
    """A calling system (approval system, hall platform, 12345, SMS gateway...) with one API key."""

    class Scope(models.TextChoices):
        CASES_WRITE = "cases:write", "登记办件"
        RATINGS_WRITE = "ratings:write", "提交评价"
        RATINGS_READ = "ratings:read", "查询评价"
        REPLIES_WRITE = "replies:write", "回复评价"
        WORKORDERS_PLATFORM = "workorders:platform", "回传差评工单办理进度（外部12345平台）"

    name = models.CharField("系统名称", max_length=100, unique=True)
    key_prefix = models.CharField("密钥前缀", max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    organisations = models.ManyToManyField(
        "organisations.Organisation", verbose_name="服务的机构", blank=True, related_name="api_clients"
    )
    regions = models.ManyToManyField(
        "organisations.Region", verbose_name="服务的区划", blank=True, related_name="api_clients"
    )
    scopes = models.JSONField("权限范围", default=list)
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)

    class Meta:
        verbose_name = "接入系统"
        verbose_name_plural = "接入系统"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def set_new_key(self) -> str:
        """Give the client a fresh key; the raw key is returned once and never stored."""
        raw = "hc_" + secrets.token_urlsafe(32)
        self.key_prefix = raw[:10]
        self.key_hash = hash_api_key(raw)
        return raw


class DisclosurePolicy(models.Model):
    """How many times a day one member of staff may see a rater's full identity or contact details (查看评价人
    身份、查看联系方式), for the ratings of a region; the nearest region up the tree with a policy applies."""

    region = models.OneToOneField(
        Region, verbose_name="区划", on_delete=models.CASCADE, related_name="disclosure_policy"
    )
    daily_limit = models.PositiveSmallIntegerField(
        "每人每日查看上限（次）",
        default=20,
        help_text="同一工作人员每个自然日查看评价人完整身份或联系方式的总次数上限；达到上限时通知监管人员；0 为不允许查看",
    )

    class Meta:
        verbose_name = "个人信息查看规则"
        verbose_name_plural = "个人信息查看规则"

    def __str__(self):
        return f"{self.region.name}个人信息查看规则"
