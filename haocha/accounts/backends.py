"""Authentication: passwords, sign-in audit, and the system administrator role."""

from django.contrib.auth.backends import ModelBackend

from haocha.accounts.models import Role
from haocha.core.audit import audit_record
from haocha.core.models import AuditLog


class RoleModelBackend(ModelBackend):
    """Django's password backend (throttled in front of it by django-axes, see lockout.py), with an audit row
    for every sign-in and failure, and the system administrator role acting as a superuser."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get("username", "")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            if username:
                audit_record(action=AuditLog.Action.LOGIN_FAILED, actor_label=username[:150], request=request)
            return None
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
