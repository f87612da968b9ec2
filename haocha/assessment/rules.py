"""The annual assessment's rule book: which measures count, how each earns its points, the rule's text.

Each measure is an ordinary figure (analytics/figures.py, its definition shown beside the scores); the rule
(AssessmentRule of the nearest region up the tree, else the default) gives its weight in points, the total
being 100. How a measure's value becomes points (SCORING):

- `rate` (higher is better, 0–100 %): weight × rate;
- `lower_rate` (差评率): weight × (1 − 差评率 ÷ 差评率上限), not below 0;
- `lower_count` (差评数): weight × (1 − 差评数 ÷ the most 差评 of a unit taking part), the unit with the most
  gets 0, all get the weight when none has any.

A rate without a denominator (no 差评工单: nothing to rectify, no 回访 to contradict) earns the whole weight.
Units with fewer ratings in the year than the minimum sample are listed apart (样本不足), unscored. Each
measure's points are rounded to 2 places and the total is their sum; equal totals share a rank.
"""

from dataclasses import dataclass
from decimal import Decimal

from haocha.analytics.figures import FIGURE_DEFINITIONS
from haocha.assessment.models import AssessmentRule
from haocha.organisations.models import Region
from haocha.organisations.policies import nearest_policy


@dataclass(frozen=True)
class Measure:
    key: str  # the figure (analytics.figures.Figures attribute, FIGURE_DEFINITIONS key)
    weight_field: str  # the AssessmentRule field holding its weight
    aspect: str  # the seed's word for what it measures
    scoring: str  # rate | lower_rate | lower_count

    @property
    def label(self) -> str:
        return FIGURE_DEFINITIONS[self.key].label

    @property
    def heading(self) -> str:
        return self.label if self.aspect == self.label else f"{self.aspect}（{self.label}）"


MEASURES: tuple[Measure, ...] = (
    Measure("rating_rate", "weight_rating_rate", "评价率", "rate"),
    Measure("bad_rate", "weight_bad_rate", "差评率", "lower_rate"),
    Measure("bad", "weight_bad_count", "差评数", "lower_count"),
    Measure("on_time_rate", "weight_on_time", "处置及时性", "rate"),
    Measure("rectify_rate", "weight_rectify", "有效性", "rate"),
    Measure("callback_solved_rate", "weight_callback_solved", "有效性", "rate"),
    Measure("truthfulness", "weight_truthfulness", "真实性", "rate"),
)
BY_KEY = {m.key: m for m in MEASURES}
# The figures a page explains beside the scores: the measures and what 真实性 is built from.
EXPLAINED = (*(m.key for m in MEASURES), "n", "appeal_rejected_share", "callback_contradicted_share")
TOTAL = 100


def weights_of(rule: AssessmentRule) -> dict[str, int]:
    return {m.key: int(getattr(rule, m.weight_field) or 0) for m in MEASURES}


def weights_problem(rule: AssessmentRule) -> str:
    """Why a rule cannot be applied, in Chinese; "" when it can."""
    weights = weights_of(rule)
    total = sum(weights.values())
    if total != TOTAL:
        parts = "、".join(f"{BY_KEY[k].heading} {w}" for k, w in weights.items())
        return f"各项权重之和须为 {TOTAL} 分，当前为 {total} 分（{parts}）"
    if rule.bad_rate_ceiling is None or Decimal(rule.bad_rate_ceiling) <= 0:
        return "差评率上限须大于 0"
    return ""


def rule_for(region: Region | None) -> AssessmentRule:
    """The rule of the region or its nearest ancestor with one; the default rule (unsaved) otherwise."""
    return nearest_policy(AssessmentRule, region) or AssessmentRule()


def points(measure: Measure, value, weight: int, *, ceiling: float, most_bad: int) -> float:
    """The points one measure's value earns under its weight (see the module's docstring)."""
    if weight <= 0:
        return 0.0
    if measure.scoring == "lower_count":
        if not most_bad:
            return float(weight)
        return weight * max(0.0, 1.0 - (value or 0) / most_bad)
    if value is None:
        return float(weight)
    if measure.scoring == "lower_rate":
        return weight * max(0.0, 1.0 - value / ceiling)
    return weight * min(1.0, max(0.0, value))


def ceiling_of(rule: AssessmentRule) -> float:
    """The 差评率 ceiling as a ratio (the rule states it in percent)."""
    return float(rule.bad_rate_ceiling) / 100


def _formula(m: Measure, weight: int, rule: AssessmentRule) -> str:
    if m.scoring == "lower_count":
        return f"{weight} ×（1 − 差评数 ÷ 参加考核单位中最多的差评数），差评最多的单位得 0 分，均无差评时各得 {weight} 分"
    if m.scoring == "lower_rate":
        return f"{weight} ×（1 − 差评率 ÷ {rule.bad_rate_ceiling}%），差评率达到 {rule.bad_rate_ceiling}% 得 0 分"
    return f"{m.label} × {weight}"


def rule_text(rule: AssessmentRule) -> str:
    """The rule in words, made from the rule's own weights: the text shown is always the rule applied."""
    owner = (
        f"{rule.region.name}年度目标考核规则"
        if rule.region_id
        else "默认年度目标考核规则（未配置本区划规则）"
    )
    parts = [
        f"{m.heading}{'' if m.heading.endswith('）') else ' '}{w} 分：{_formula(m, w, rule)}"
        for m in MEASURES
        if (w := weights_of(rule)[m.key]) > 0
    ]
    unweighted = [m.heading for m in MEASURES if weights_of(rule)[m.key] == 0]
    tail = f"；{'、'.join(unweighted)}不计分" if unweighted else ""
    return (
        f"{owner}：满分 {TOTAL} 分，按总分从高到低排名。" + "；".join(parts) + tail + "。"
        "本年无分母的比率（如无差评工单时的整改率、无回访时的回访解决率）得该项满分。"
        f"全年评价数少于 {rule.min_sample} 条的单位不参加考核，单列为“样本不足”。"
        "各项得分保留 2 位小数，总分为各项得分之和；总分相同的名次相同，按评价数多者在前列出。"
    )
