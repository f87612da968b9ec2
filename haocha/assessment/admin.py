from django.contrib import admin

from haocha.assessment.models import AssessmentRule
from haocha.assessment.rules import rule_text
from haocha.core.admin_audit import AuditedAdmin


@admin.register(AssessmentRule)
class AssessmentRuleAdmin(AuditedAdmin):
    list_display = ("region", "total", "min_sample", "bad_rate_ceiling")
    readonly_fields = ("text",)

    @admin.display(description="权重合计（分）")
    def total(self, obj):
        from haocha.assessment.rules import weights_of

        return sum(weights_of(obj).values())

    @admin.display(description="规则全文（由权重生成，页面和工作簿显示的即此文字）")
    def text(self, obj):
        return rule_text(obj) if obj.pk else "保存后显示"
