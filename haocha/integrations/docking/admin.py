from django.contrib import admin

from haocha.core.admin_audit import AuditedAdmin, ReadOnlyAdmin
from haocha.integrations.docking.models import Alert, ChildSystem, Upload


@admin.register(ChildSystem)
class ChildSystemAdmin(AuditedAdmin):
    list_display = ("name", "region", "vendor", "app_id", "is_active", "last_upload_at")
    list_filter = ("vendor", "is_active")
    readonly_fields = ("client", "last_upload_at")
    search_fields = ("name", "app_id")

    def has_add_permission(self, request):
        return False  # registered with `haocha docking child`, which issues the secret once


@admin.register(Upload)
class UploadAdmin(ReadOnlyAdmin):
    list_display = ("kind", "record_id", "version", "status", "reject_code", "attempts", "sent_at", "done_at")
    list_filter = ("kind", "status")
    search_fields = ("record_id",)


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("child", "kind", "day", "detail", "raised_at", "cleared_at")
    list_filter = ("kind",)
