"""The annual assessment rule (年度目标考核规则) of a region: the weights of the measures the seed names, the
差评率 ceiling and the minimum sample. The nearest rule up the region tree applies (organisations.policies);
without one, the default (these fields' defaults)."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

PERCENT = [MaxValueValidator(100)]


class AssessmentRule(models.Model):
    region = models.OneToOneField(
        "organisations.Region", verbose_name="区划", on_delete=models.CASCADE, related_name="assessment_rule"
    )
    weight_rating_rate = models.PositiveSmallIntegerField("评价率权重（分）", default=10, validators=PERCENT)
    weight_bad_rate = models.PositiveSmallIntegerField("差评率权重（分）", default=20, validators=PERCENT)
    weight_bad_count = models.PositiveSmallIntegerField("差评数权重（分）", default=10, validators=PERCENT)
    weight_on_time = models.PositiveSmallIntegerField(
        "处置及时性（按时整改率）权重（分）", default=20, validators=PERCENT
    )
    weight_rectify = models.PositiveSmallIntegerField(
        "有效性（整改率）权重（分）", default=15, validators=PERCENT
    )
    weight_callback_solved = models.PositiveSmallIntegerField(
        "有效性（回访解决率）权重（分）", default=10, validators=PERCENT
    )
    weight_truthfulness = models.PositiveSmallIntegerField("真实性权重（分）", default=15, validators=PERCENT)
    bad_rate_ceiling = models.DecimalField(
        "差评率上限（%）",
        max_digits=5,
        decimal_places=2,
        default=Decimal("2.00"),
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
        help_text="差评率得分 = 权重 ×（1 − 差评率 ÷ 上限），差评率达到上限得 0 分",
    )
    min_sample = models.PositiveIntegerField(
        "参加考核最少评价数", default=30, help_text="全年评价数少于此数的单位不参加考核排名，单列为“样本不足”"
    )

    class Meta:
        verbose_name = "年度目标考核规则"
        verbose_name_plural = "年度目标考核规则"

    def __str__(self):
        return f"{self.region.name}年度目标考核规则" if self.region_id else "默认年度目标考核规则"

    def clean(self):
        from haocha.assessment.rules import weights_problem

        problem = weights_problem(self)
        if problem:
            raise ValidationError(problem)
