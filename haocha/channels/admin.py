from django.contrib import admin

from haocha.channels.models import Device, ServedCase, VerificationCode, WindowDuty


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "kind",
        "hall",
        "window",
        "is_active",
        "activated_at",
        "last_seen_at",
        "last_rating_at",
    )
    list_filter = ("kind", "is_active")
    search_fields = ("code", "window__code")
    fields = (
        "code",
        "kind",
        "hall",
        "window",
        "min_interval_seconds",
        "is_active",
        "activated_at",
        "last_seen_at",
    )
    readonly_fields = ("code", "kind", "hall", "window", "activated_at", "last_seen_at")

    def has_add_permission(self, request):
        return False  # devices are registered on the 评价渠道 page, which hands out the activation link


@admin.register(WindowDuty)
class WindowDutyAdmin(admin.ModelAdmin):
    list_display = ("window", "staff", "started_at", "ended_at", "started_by", "ended_by")
    search_fields = ("window__code", "staff__staff_no", "staff__name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ServedCase)
class ServedCaseAdmin(admin.ModelAdmin):
    list_display = ("window", "case", "source", "set_by", "set_at", "cleared_at")
    search_fields = ("window__code", "case__case_no")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(VerificationCode)
class VerificationCodeAdmin(admin.ModelAdmin):
    list_display = (
        "purpose",
        "subject_kind",
        "requester",
        "created_at",
        "expires_at",
        "attempts",
        "consumed_at",
    )
    list_filter = ("purpose",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
