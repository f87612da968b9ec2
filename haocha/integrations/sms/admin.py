from django.contrib import admin

from haocha.core.admin_audit import AuditedAdmin, ReadOnlyAdmin
from haocha.integrations.sms.models import (
    SmsInbound,
    SmsInvitation,
    SmsInvitationEvent,
    SmsMessage,
    SmsOptOut,
    SmsPolicy,
)


@admin.register(SmsPolicy)
class SmsPolicyAdmin(AuditedAdmin):
    list_display = (
        "region",
        "invitations_enabled",
        "quiet_start",
        "quiet_end",
        "reminder_after_hours",
        "expire_after_days",
    )


class EventInline(admin.TabularInline):
    model = SmsInvitationEvent
    extra = 0
    can_delete = False
    fields = ("at", "from_status", "to_status", "note")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class MessageInline(admin.TabularInline):
    model = SmsMessage
    extra = 0
    can_delete = False
    fields = ("purpose", "status", "provider_message_id", "created_at", "sent_at", "delivered_at", "error")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(SmsInvitation)
class SmsInvitationAdmin(ReadOnlyAdmin):
    """The invitation ledger; it changes only through its transitions (texts, replies, the worker)."""

    list_display = (
        "created_at",
        "case",
        "phone_masked",
        "status",
        "send_at",
        "sent_at",
        "reminded_at",
        "answered_at",
        "expires_at",
        "pending_level",
    )
    list_filter = ("status",)
    search_fields = ("case__case_no",)
    date_hierarchy = "created_at"
    list_select_related = ("case",)
    exclude = ("phone_hash", "phone_enc")
    inlines = [EventInline, MessageInline]


@admin.register(SmsMessage)
class SmsMessageAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "purpose",
        "phone_masked",
        "status",
        "provider",
        "provider_message_id",
        "error",
    )
    list_filter = ("status", "purpose")
    search_fields = ("key", "provider_message_id")
    exclude = ("phone_hash",)


@admin.register(SmsInbound)
class SmsInboundAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "phone_masked", "text", "outcome", "code", "invitation")
    list_filter = ("outcome",)
    search_fields = ("message_id",)
    exclude = ("phone_hash",)


@admin.register(SmsOptOut)
class SmsOptOutAdmin(AuditedAdmin):
    """Deleting an entry (audited) lets the phone receive invitations again, e.g. at the citizen's request."""

    list_display = ("phone_masked", "created_at", "source")
    exclude = ("phone_hash",)
    readonly_fields = ("phone_masked", "created_at", "source")

    def has_add_permission(self, request):
        return False
