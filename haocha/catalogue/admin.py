from django.contrib import admin

from haocha.catalogue.models import Case, ServiceItem
from haocha.core.admin_audit import AuditedAdmin


@admin.register(ServiceItem)
class ServiceItemAdmin(AuditedAdmin):
    list_display = ("code", "name", "item_type", "department", "handling_kind", "promised_days", "is_active")
    list_filter = ("item_type", "handling_kind", "region")
    search_fields = ("code", "name")
    autocomplete_fields = ("department",)


@admin.register(Case)
class CaseAdmin(AuditedAdmin):
    """Cases come from approval systems; the admin shows them with identities masked."""

    list_display = (
        "case_no",
        "item",
        "department",
        "applicant_name",
        "applicant_id_masked",
        "status",
        "finished_at",
    )
    list_filter = ("status", "apply_channel")
    search_fields = ("case_no",)
    date_hierarchy = "accepted_at"
    list_select_related = ("item", "department")
    readonly_fields = [f.name for f in Case._meta.fields if f.name not in ("id",)]
    exclude = ("applicant_id_hash", "applicant_id_enc", "applicant_phone_hash", "applicant_phone_enc")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
