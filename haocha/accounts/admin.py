from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from haocha.accounts.access import clear_actor_cache
from haocha.accounts.models import ApiClient, DisclosurePolicy, RoleAssignment, User
from haocha.core.admin_audit import AuditedAdmin
from haocha.core.audit import audit_record
from haocha.core.models import AuditLog


class RoleInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    autocomplete_fields = ("region", "organisation")


@admin.register(User)
class UserAdmin(BaseUserAdmin, AuditedAdmin):
    list_display = ("username", "display_name", "organisation", "is_active", "is_staff", "last_login")
    search_fields = ("username", "display_name")
    autocomplete_fields = ("organisation",)
    fieldsets = (*BaseUserAdmin.fieldsets, ("单位", {"fields": ("display_name", "organisation")}))
    inlines = [RoleInline]

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            user = self.get_object(request, id)
            audit_record(
                action=AuditLog.Action.ADMIN_CHANGE,
                actor=request.user,
                obj=user,
                summary="修改密码",
                detail={"fields": ["password"]},
                request=request,
            )
        return response


@admin.register(ApiClient)
class ApiClientAdmin(AuditedAdmin):
    list_display = ("name", "key_prefix", "is_active", "last_used_at")
    readonly_fields = ("key_prefix", "created_at", "last_used_at")
    filter_horizontal = ("organisations", "regions")
    actions = ["rotate_key"]

    def persist(self, obj):
        if obj.pk is None:
            obj._raw_key = obj.set_new_key()
            obj.save()
        else:
            obj.save()
        clear_actor_cache()

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        raw = getattr(obj, "_raw_key", None)
        if raw:
            messages.warning(request, f"新密钥（只显示这一次，请妥善保存）：{raw}")

    @admin.action(description="重新生成密钥")
    def rotate_key(self, request, queryset):
        for client in queryset:
            raw = client.set_new_key()
            client.save(update_fields=["key_prefix", "key_hash"])
            audit_record(
                action=AuditLog.Action.API_KEY,
                actor=request.user,
                obj=client,
                summary="重新生成密钥",
                request=request,
            )
            messages.warning(request, f"{client.name} 新密钥（只显示这一次）：{raw}")
        clear_actor_cache()


@admin.register(DisclosurePolicy)
class DisclosurePolicyAdmin(AuditedAdmin):
    list_display = ("region", "daily_limit")
    autocomplete_fields = ("region",)
