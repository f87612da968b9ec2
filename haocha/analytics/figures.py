"""The published figures, each with its written definition (shown on the pages that use it).

All counts are of valid ratings: a rating invalidated by an upheld appeal or a supervisor's flag leaves
every figure. 评价数 counts first ratings (一事一评), default ratings included; 追评 are counted apart.
A ratio whose denominator is zero is None ("—"), never 0 or 100%.
"""

from dataclasses import dataclass, field, fields

DEFINITIONS = {
    "n": "评价数：有效的首次评价数（含系统默认评价，不含追评；申诉成立等被判无效的评价不计）",
    "bad": "差评数：评价等级为“不满意”或“非常不满意”的评价数",
    "bad_rate": "差评率 = 差评数 ÷ 评价数",
    "good_rate": "好评率 =（非常满意 + 满意）÷ 评价数",
    "score": "满意度得分 = Σ（各等级评价数 × 该等级分值）÷ 评价数；分值见评分规则（默认 100/80/60/40/20）",
    "rating_rate": "评价率 = 统计期内被评价的办件数 ÷ 统计期内办结的办件数（窗口“一次一评”不计入分子）",
    "active_rate": "主动评价率 =（评价数 − 系统默认评价数）÷ 评价数",
    "rectify_rate": "整改率 = 已整改（办结）差评工单数 ÷ 应整改工单数（核实无效、并单的除外）",
    "on_time_rate": "按时整改率 = 按时办结的工单数 ÷（已办结工单数 + 逾期仍未办结的工单数）",
    "callback_rate": "回访满意率 = 回访“满意”或“基本满意”的次数 ÷ 已回访工单数（以最近一次回访为准）",
    "contact_hours": "平均联系用时（小时）= 已联系工单的首次联系用时之和 ÷ 已联系工单数",
    "close_hours": "平均办结用时（小时）= 已办结工单的办结用时之和 ÷ 已办结工单数",
    "smoothed": "排名得分 =（评价数 × 满意度得分 + 平滑权重 × 参加排名单位的平均得分）÷（评价数 + 平滑权重）；"
    "评价数少于最少评价数的单位不参加排名，单列为“样本不足”",
}

DEFAULT_WEIGHTS = (100, 80, 60, 40, 20)
# The ratios every figure set carries (as_dict), in the order pages show them.
RATIOS = (
    "bad_rate",
    "good_rate",
    "score",
    "rating_rate",
    "active_rate",
    "rectify_rate",
    "on_time_rate",
    "callback_rate",
    "contact_hours",
    "close_hours",
)


@dataclass
class Counts:
    n: int = 0
    n_case: int = 0
    n_vs: int = 0
    n_s: int = 0
    n_b: int = 0
    n_d: int = 0
    n_vd: int = 0
    n_default: int = 0
    n_comment: int = 0
    n_follow: int = 0
    n_follow_bad: int = 0
    n_finished: int = 0
    n_orders: int = 0
    n_invalid: int = 0
    n_merged: int = 0
    n_closed: int = 0
    n_closed_on_time: int = 0
    n_open: int = 0
    n_open_late: int = 0
    n_callback: int = 0
    n_callback_satisfied: int = 0
    n_contacted: int = 0
    contact_minutes: int = 0
    finish_minutes: int = 0
    n_reopened: int = 0

    def add(self, row: dict) -> "Counts":
        for name in _COUNT_FIELDS.intersection(row):
            value = row[name]
            if value:
                setattr(self, name, getattr(self, name) + int(value))
        return self


_COUNT_FIELDS = frozenset(f.name for f in fields(Counts))


def ratio(num: float, den: float) -> float | None:
    return num / den if den else None


@dataclass
class Figures:
    counts: Counts
    weights: tuple = DEFAULT_WEIGHTS
    extra: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return self.counts.n

    @property
    def bad(self) -> int:
        return self.counts.n_d + self.counts.n_vd

    @property
    def level_counts(self) -> tuple:
        c = self.counts
        return (c.n_vs, c.n_s, c.n_b, c.n_d, c.n_vd)

    @property
    def bad_rate(self):
        return ratio(self.bad, self.n)

    @property
    def good_rate(self):
        return ratio(self.counts.n_vs + self.counts.n_s, self.n)

    @property
    def score(self):
        return ratio(sum(w * k for w, k in zip(self.weights, self.level_counts, strict=True)), self.n)

    @property
    def rating_rate(self):
        return ratio(self.counts.n_case, self.counts.n_finished)

    @property
    def active_rate(self):
        return ratio(self.n - self.counts.n_default, self.n)

    @property
    def to_rectify(self) -> int:
        c = self.counts
        return c.n_orders - c.n_invalid - c.n_merged

    @property
    def rectify_rate(self):
        return ratio(self.counts.n_closed, self.to_rectify)

    @property
    def on_time_rate(self):
        return ratio(self.counts.n_closed_on_time, self.counts.n_closed + self.counts.n_open_late)

    @property
    def callback_rate(self):
        return ratio(self.counts.n_callback_satisfied, self.counts.n_callback)

    @property
    def contact_hours(self):
        r = ratio(self.counts.contact_minutes, self.counts.n_contacted)
        return None if r is None else r / 60

    @property
    def close_hours(self):
        r = ratio(self.counts.finish_minutes, self.counts.n_closed)
        return None if r is None else r / 60

    def smoothed(self, prior_mean: float | None, prior_weight: int) -> float | None:
        if self.score is None:
            return None
        if prior_mean is None or prior_weight <= 0:
            return self.score
        return (self.n * self.score + prior_weight * prior_mean) / (self.n + prior_weight)

    def as_dict(self) -> dict:
        out = {"n": self.n, "bad": self.bad, "levels": list(self.level_counts)}
        for name in RATIOS:
            value = getattr(self, name)
            out[name] = None if value is None else round(value, 6)
        c = self.counts
        out.update(
            n_default=c.n_default,
            n_follow=c.n_follow,
            n_finished=c.n_finished,
            n_orders=c.n_orders,
            n_closed=c.n_closed,
            n_open=c.n_open,
            n_open_late=c.n_open_late,
        )
        return out
