from django.contrib import admin

from haocha.core.admin_audit import AuditedAdmin
from haocha.organisations.models import Organisation, Region, Staff, Window
from haocha.organisations.services import organisation_save, region_save


@admin.register(Region)
class RegionAdmin(AuditedAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    readonly_fields = ("path",)

    def persist(self, obj):
        region_save(obj)


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdmin):
    list_display = ("name", "kind", "credit_code", "region", "parent", "is_active")
    list_filter = ("kind", "region", "is_active")
    search_fields = ("name", "credit_code")
    autocomplete_fields = ("parent",)
    readonly_fields = ("path",)

    def persist(self, obj):
        organisation_save(obj)


@admin.register(Window)
class WindowAdmin(AuditedAdmin):
    list_display = ("code", "hall", "number", "name", "department", "is_active")
    list_filter = ("hall",)
    search_fields = ("code", "name", "number")
    autocomplete_fields = ("hall", "department")


@admin.register(Staff)
class StaffAdmin(AuditedAdmin):
    list_display = ("staff_no", "name", "department", "title", "is_active")
    list_filter = ("department",)
    search_fields = ("staff_no", "name")
    filter_horizontal = ("windows",)
    autocomplete_fields = ("department", "user")
