from django.contrib import admin

from haocha.core.admin_audit import ReadOnlyAdmin
from haocha.core.models import AuditLog


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "action", "actor_label", "object_type", "object_id", "summary", "ip")
    list_filter = ("action",)
    search_fields = ("actor_label", "object_id", "summary")
    date_hierarchy = "at"
