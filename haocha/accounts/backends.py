"""Authentication with login throttling: too many failures lock the username for a while."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from haocha.accounts.models import LoginFailure, Role
from haocha.core.audit import audit_record
from haocha.core.models import AuditLog


def recent_failures(username: str) -> int:
    since = timezone.now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    return LoginFailure.objects.filter(username=username, at__gte=since).count()


class ThrottledModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get("username", "")
        ip = request.META.get("REMOTE_ADDR") if request is not None else None
        if username and recent_failures(username) >= settings.LOGIN_FAILURE_LIMIT:
            audit_record(
                action=AuditLog.Action.LOGIN_LOCKED,
                actor_label=username,
                summary="登录失败次数过多，已锁定",
                request=request,
            )
            # PermissionDenied stops Django trying other backends; the login form shows a generic error.
            raise PermissionDenied("登录失败次数过多，请稍后再试")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            if username:
                LoginFailure.objects.create(username=username, ip=ip)
                audit_record(action=AuditLog.Action.LOGIN_FAILED, actor_label=username, request=request)
            return None
        LoginFailure.objects.filter(username=username).delete()
        audit_record(action=AuditLog.Action.LOGIN, actor=user, request=request)
        return user

    # A system administrator (the role) may administer everything, like a superuser, without the flag.
    def _is_system_admin(self, user_obj) -> bool:
        if not user_obj.is_active or user_obj.is_anonymous:
            return False
        cached = getattr(user_obj, "_haocha_is_system_admin", None)
        if cached is None:
            cached = user_obj.roles.filter(role=Role.SYSTEM_ADMIN).exists()
            user_obj._haocha_is_system_admin = cached
        return cached

    def has_perm(self, user_obj, perm, obj=None):
        return self._is_system_admin(user_obj) or super().has_perm(user_obj, perm, obj)

    def has_module_perms(self, user_obj, app_label):
        return self._is_system_admin(user_obj) or super().has_module_perms(user_obj, app_label)
