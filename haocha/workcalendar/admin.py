from django.contrib import admin

from haocha.core.admin_audit import AuditedAdmin
from haocha.workcalendar.models import CalendarDay, CalendarYear
from haocha.workcalendar.services import workdays


class CalendarAdmin(AuditedAdmin):
    def persist(self, obj):
        super().persist(obj)
        workdays.refresh()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        workdays.refresh()


@admin.register(CalendarYear)
class CalendarYearAdmin(CalendarAdmin):
    list_display = ("year", "source", "note", "entered_at")


@admin.register(CalendarDay)
class CalendarDayAdmin(CalendarAdmin):
    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    date_hierarchy = "date"
    search_fields = ("name",)
