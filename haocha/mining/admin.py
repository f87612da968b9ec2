from django.contrib import admin

from haocha.mining.models import RegionTheme


@admin.register(RegionTheme)
class RegionThemeAdmin(admin.ModelAdmin):
    """A region's own 差评 themes (policy): mined from the next `haocha mining refresh --full` on."""

    list_display = ("name", "region", "definition", "is_active")
    list_filter = ("is_active", "region")
    search_fields = ("name", "definition")
