"""A ModelAdmin base that writes every administrative change to the audit log."""

from django.contrib import admin

from haocha.core.audit import audit_record
from haocha.core.models import AuditLog


class AuditedAdmin(admin.ModelAdmin):
    def persist(self, obj):
        """Save hook for subclasses that must go through a service function."""
        obj.save()

    def save_model(self, request, obj, form, change):
        self.persist(obj)
        audit_record(
            action=AuditLog.Action.ADMIN_CHANGE if change else AuditLog.Action.ADMIN_ADD,
            actor=request.user,
            obj=obj,
            summary=str(obj),
            detail={"fields": sorted(form.changed_data)} if form is not None else {},
            request=request,
        )

    def delete_model(self, request, obj):
        audit_record(
            action=AuditLog.Action.ADMIN_DELETE,
            actor=request.user,
            obj=obj,
            summary=str(obj),
            request=request,
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            audit_record(
                action=AuditLog.Action.ADMIN_DELETE,
                actor=request.user,
                obj=obj,
                summary=str(obj),
                request=request,
            )
        super().delete_queryset(request, queryset)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that are never edited or deleted by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
