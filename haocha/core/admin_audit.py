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

    def save_formset(self, request, form, formset, change):
        """Inline changes (e.g. role grants on a user) are administrative changes too."""
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            audit_record(
                action=AuditLog.Action.ADMIN_ADD,
                actor=request.user,
                obj=obj,
                summary=str(obj)[:500],
                detail={"parent": str(form.instance)},
                request=request,
            )
        for obj, fields in formset.changed_objects:
            audit_record(
                action=AuditLog.Action.ADMIN_CHANGE,
                actor=request.user,
                obj=obj,
                summary=str(obj)[:500],
                detail={"parent": str(form.instance), "fields": sorted(fields)},
                request=request,
            )
        for obj in formset.deleted_objects:
            audit_record(
                action=AuditLog.Action.ADMIN_DELETE,
                actor=request.user,
                object_type=obj._meta.label_lower,
                object_id=str(obj.pk or ""),
                summary=str(obj)[:500],
                detail={"parent": str(form.instance)},
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
