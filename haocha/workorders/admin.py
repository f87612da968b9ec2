from django.contrib import admin

from haocha.core.admin_audit import AuditedAdmin, ReadOnlyAdmin
from haocha.workorders.models import Appeal, RepeatFlag, Supervision, Transition, WorkOrder, WorkOrderPolicy


@admin.register(WorkOrderPolicy)
class WorkOrderPolicyAdmin(AuditedAdmin):
    list_display = (
        "region",
        "contact_days",
        "simple_days",
        "complex_days",
        "second_escalation_days",
        "appeal_days",
    )


class TransitionInline(admin.TabularInline):
    model = Transition
    extra = 0
    can_delete = False
    fields = ("at", "stated_at", "action", "from_status", "to_status", "actor_label", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WorkOrder)
class WorkOrderAdmin(ReadOnlyAdmin):
    """Orders change only through the workbenches, so that every step is a logged transition."""

    list_display = (
        "number",
        "status",
        "department",
        "complexity",
        "received_at",
        "due_at",
        "escalation_level",
    )
    list_filter = ("status", "complexity", "escalation_level", "repeat_flag")
    search_fields = ("number", "case__case_no")
    date_hierarchy = "received_at"
    list_select_related = ("department",)
    exclude = ("citizen_token",)
    inlines = [TransitionInline]


@admin.register(Supervision)
class SupervisionAdmin(ReadOnlyAdmin):
    list_display = ("order", "kind", "level", "department", "created_at", "resolved_at")
    list_filter = ("kind", "level")


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdmin):
    list_display = ("order", "ground", "status", "filed_at", "reviewed_at")
    list_filter = ("status", "ground")


@admin.register(RepeatFlag)
class RepeatFlagAdmin(ReadOnlyAdmin):
    list_display = ("subject", "subject_label", "count", "flagged_at", "checked")
