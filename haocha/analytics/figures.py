"""The published figures: each one's definition (which ratings count, numerator, denominator) and its
computation over the rollups' counts. The definitions below are the text of every page's 口径说明, the
export's and the API's `definitions`, and the table at the end of this docstring (added when the module
loads), so the three cannot drift apart. The counts themselves (what a first rating, a default or an
invalid rating is) are defined in analytics/measures.py.
"""

from dataclasses import dataclass, field, fields


@dataclass(frozen=True)
class Definition:
    label: str
    formula: str  # the numerator ÷ the denominator, in words
    counts: str = ""  # which rows count and which are left out

    def text(self) -> str:
        head = f"{self.label} = {self.formula}" if "÷" in self.formula else f"{self.label}：{self.formula}"
        return f"{head}（{self.counts}）" if self.counts else head


_RATINGS = "按评价时间（北京时间）归入统计期"
_ORDERS = "工单指标按工单接收时间所在的整月统计，含追评差评的工单，不分渠道"
FIGURE_DEFINITIONS = {
    "n": Definition(
        "评价数",
        "有效的首次评价条数",
        f"{_RATINGS}；含办件评价、窗口“一次一评”（无办件）和系统默认评价；不含追评；"
        "申诉成立或被标记无效的评价不计，恢复有效后重新计入",
    ),
    "bad": Definition("差评数", "评价数中“不满意”和“非常不满意”的条数", "追评中的差评不计，另见追评差评数"),
    "bad_rate": Definition("差评率", "差评数 ÷ 评价数"),
    "good_rate": Definition("好评率", "（非常满意 + 满意）条数 ÷ 评价数"),
    "score": Definition(
        "满意度得分",
        "Σ（各等级条数 × 该等级分值）÷ 评价数",
        "分值见评分规则，默认 100/80/60/40/20",
    ),
    "rating_rate": Definition(
        "评价率",
        "已评价的办结办件数 ÷ 办结办件数",
        "均按办结时间归入统计期；已评价指该办件有有效的首次评价（含系统默认评价，评价可晚于统计期）；"
        "首次评价被判无效的办件算未评价；窗口“一次一评”没有办件，不计入",
    ),
    "active_rate": Definition("主动评价率", "（评价数 − 系统默认评价数）÷ 评价数"),
    "n_follow": Definition(
        "追评数", "有效的追评条数", f"{_RATINGS}；不计入评价数、差评数和各等级条数；其中差评另计为追评差评数"
    ),
    "rectify_rate": Definition(
        "整改率",
        "已办结的差评工单数 ÷ 应整改工单数",
        f"应整改 = 工单数 − 核实无效 − 并单；{_ORDERS}",
    ),
    "on_time_rate": Definition(
        "按时整改率",
        "按时办结（无办结超时）的工单数 ÷（已办结工单数 + 逾期仍未办结的工单数）",
        _ORDERS,
    ),
    "callback_rate": Definition(
        "回访满意率",
        "最近一次回访为“满意”或“基本满意”的工单数 ÷ 已回访工单数",
        _ORDERS,
    ),
    "callback_solved_rate": Definition(
        "回访解决率",
        "最近一次回访答复“问题已解决”的工单数 ÷ 已回访工单数",
        _ORDERS,
    ),
    "appeal_rejected_share": Definition(
        "申诉不成立占比",
        "复核为“申诉不成立”的申诉次数 ÷ 工单数",
        f"部门称差评系误评或恶意差评而复核认定不实；申诉成立的差评转为无效评价，不扣分；{_ORDERS}",
    ),
    "callback_contradicted_share": Definition(
        "回访否定占比",
        "回访答复“问题未解决”的次数 ÷ 回访次数",
        "每次回访都在部门反馈办理结果（或当场处置）之后，答复“未解决”即否定了部门报告的结果；"
        f"同一工单多轮回访逐次计入；{_ORDERS}",
    ),
    "truthfulness": Definition(
        "真实性",
        "100% − 申诉不成立占比 − 回访否定占比",
        "低于 0 按 0 计；无工单、无申诉也无回访的单位为“—”",
    ),
    "contact_hours": Definition(
        "平均联系用时（小时）", "已联系工单的首次联系用时之和 ÷ 已联系工单数", _ORDERS
    ),
    "close_hours": Definition("平均办结用时（小时）", "已办结工单的办结用时之和 ÷ 已办结工单数", _ORDERS),
    "smoothed": Definition(
        "排名得分",
        "（评价数 × 满意度得分 + 平滑权重 × 参加排名单位的平均得分）÷（评价数 + 平滑权重）",
        "评价数少于最少评价数的单位不参加排名，单列为“样本不足”",
    ),
}
DEFINITIONS = {key: d.text() for key, d in FIGURE_DEFINITIONS.items()}

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
    "callback_solved_rate",
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
    n_rated: int = 0
    n_orders: int = 0
    n_invalid: int = 0
    n_merged: int = 0
    n_closed: int = 0
    n_closed_on_time: int = 0
    n_open: int = 0
    n_open_late: int = 0
    n_callback: int = 0
    n_callback_satisfied: int = 0
    n_callback_solved: int = 0
    # from the work-order log, not the rollups (analytics/handling.py): decided appeals, each 回访's answer
    n_appeals_upheld: int = 0
    n_appeals_rejected: int = 0
    n_callback_answers: int = 0
    n_callback_unsolved: int = 0
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
        return ratio(self.counts.n_rated, self.counts.n_finished)

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
    def callback_solved_rate(self):
        return ratio(self.counts.n_callback_solved, self.counts.n_callback)

    @property
    def appeal_rejected_share(self):
        return ratio(self.counts.n_appeals_rejected, self.counts.n_orders)

    @property
    def callback_contradicted_share(self):
        return ratio(self.counts.n_callback_unsolved, self.counts.n_callback_answers)

    @property
    def truthfulness(self):
        appeals, callbacks = self.appeal_rejected_share, self.callback_contradicted_share
        if appeals is None and callbacks is None:
            return None
        return max(0.0, 1.0 - (appeals or 0.0) - (callbacks or 0.0))

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
            n_rated=c.n_rated,
            n_orders=c.n_orders,
            n_closed=c.n_closed,
            n_open=c.n_open,
            n_open_late=c.n_open_late,
        )
        return out


def definitions_table() -> str:
    return "\n".join(f"- {key}: {text}" for key, text in DEFINITIONS.items())


__doc__ += "\nDefinitions (口径):\n\n" + definitions_table() + "\n"
