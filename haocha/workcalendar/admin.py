from django.contrib import admin

from haocha.core.admin_audit import AuditedAdmin
from haocha.workcalendar.models import CalendarDay, CalendarYear
from haocha.workcalendar.services import calendar_changed


def _year(obj) -> int:
    return obj.year if isinstance(obj, CalendarYear) else obj.date.year


class CalendarAdmin(AuditedAdmin):
    """Edits reload the calendar in every process and recompute the deadlines of open orders."""

    def persist(self, obj):
        super().persist(obj)
        calendar_changed([_year(obj)])

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        calendar_changed([_year(obj)])

    def delete_queryset(self, request, queryset):
        years = sorted({_year(obj) for obj in queryset})
        super().delete_queryset(request, queryset)
        calendar_changed(years)


@admin.register(CalendarYear)
class CalendarYearAdmin(CalendarAdmin):
    list_display = ("year", "source", "note", "entered_at")


@admin.register(CalendarDay)
class CalendarDayAdmin(CalendarAdmin):
    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    date_hierarchy = "date"
    search_fields = ("name",)
