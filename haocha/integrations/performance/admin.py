from django.contrib import admin

from haocha.core.admin_audit import ReadOnlyAdmin
from haocha.integrations.performance.models import PerformanceRecord


@admin.register(PerformanceRecord)
class PerformanceRecordAdmin(ReadOnlyAdmin):
    list_display = ("kind", "unit_kind", "unit_name", "period", "version", "status", "attempts", "done_at")
    list_filter = ("kind", "status", "unit_kind", "period")
    search_fields = ("unit_name", "unit_code")
