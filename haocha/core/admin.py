from django.contrib import admin

from haocha.core.admin_audit import ReadOnlyAdmin
from haocha.core.models import AuditLog, OutboxMessage


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "action", "actor_label", "object_type", "object_id", "summary", "ip")
    list_filter = ("action",)
    search_fields = ("actor_label", "object_id", "summary")
    date_hierarchy = "at"


@admin.register(OutboxMessage)
class OutboxAdmin(ReadOnlyAdmin):
    """Delivery is observable: attempts, last error, next try; dead messages are the stuck list."""

    list_display = ("created_at", "topic", "key", "status", "attempts", "next_attempt_at", "last_error")
    list_filter = ("status", "topic")
    search_fields = ("key",)
