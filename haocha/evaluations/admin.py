from django.contrib import admin

from haocha.core.admin_audit import AuditedAdmin, ReadOnlyAdmin
from haocha.evaluations.models import (
    Indicator,
    IndicatorSet,
    Rating,
    RatingFlag,
    RatingPolicy,
    RatingReply,
    ReasonOption,
)


class IndicatorInline(admin.TabularInline):
    model = Indicator
    extra = 0


class ReasonInline(admin.TabularInline):
    model = ReasonOption
    extra = 0


@admin.register(IndicatorSet)
class IndicatorSetAdmin(AuditedAdmin):
    list_display = ("name", "code", "version", "is_active", "created_at")
    inlines = [IndicatorInline, ReasonInline]


@admin.register(RatingPolicy)
class RatingPolicyAdmin(AuditedAdmin):
    list_display = (
        "region",
        "follow_up_days",
        "rating_window_days",
        "allow_visit_ratings",
        "default_rating_enabled",
        "default_rating_days",
        "default_rating_level",
    )


class FlagInline(admin.TabularInline):
    model = RatingFlag
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "reason", "actor_label", "created_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdmin):
    """Ratings are never edited or deleted; corrections are flags (API: /api/ratings/{id}/flags)."""

    list_display = (
        "rated_at",
        "case",
        "kind",
        "level",
        "is_bad",
        "channel",
        "department",
        "evaluator_id_masked",
        "is_valid",
    )
    list_filter = ("level", "is_bad", "channel", "kind", "is_valid", "is_default")
    search_fields = ("case__case_no", "public_id")
    date_hierarchy = "rated_at"
    list_select_related = ("case", "department")
    exclude = (
        "evaluator_name",
        "evaluator_id_hash",
        "evaluator_id_enc",
        "evaluator_phone_hash",
        "evaluator_phone_enc",
    )
    inlines = [FlagInline]


@admin.register(RatingReply)
class RatingReplyAdmin(ReadOnlyAdmin):
    list_display = ("rating", "department", "author_label", "created_at")
