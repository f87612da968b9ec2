"""The measures' tables (analytics/measures.py) checked against the models when the module loads, and what
they say in SQL, pinned: a measure's definition changes only on purpose (this file changes with it)."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q

from haocha.analytics import measures
from haocha.analytics.measures import Measure

# What each measure counts, as `measures_table()` writes it for the module's docstring and the docs.
DEFINITIONS = [
    "- counted ratings: r.is_valid",
    "- n（评价数）: r.kind = 1",
    "- n_case（办件评价数）: r.kind = 1 AND r.case_id IS NOT NULL",
    "- n_vs（非常满意）: r.kind = 1 AND r.level = 'very_satisfied'",
    "- n_s（满意）: r.kind = 1 AND r.level = 'satisfied'",
    "- n_b（基本满意）: r.kind = 1 AND r.level = 'basically_satisfied'",
    "- n_d（不满意）: r.kind = 1 AND r.level = 'dissatisfied'",
    "- n_vd（非常不满意）: r.kind = 1 AND r.level = 'very_dissatisfied'",
    "- n_default（默认评价）: r.kind = 1 AND r.is_default",
    "- n_comment（有文字评价）: r.kind = 1 AND (NOT (r.comment = ''))",
    "- n_follow（追评数）: r.kind = 2",
    "- n_follow_bad（追评差评数）: r.kind = 2 AND r.is_bad",
    "- n_finished（办结数）: c.finished_at IS NOT NULL AND c.status = 'finished'",
    "- n_rated（已评价办结数）: n_finished AND EXISTS (SELECT 1 FROM evaluations_rating x WHERE x.case_id = c.id AND x.is_valid AND x.kind = 1 AND x.case_id IS NOT NULL)",
    "- n_orders（工单数）: 1 = 1",
    "- n_invalid（核实无效）: o.status = 'invalid'",
    "- n_merged（并单）: o.status = 'merged'",
    "- n_closed（已整改）: o.status = 'closed'",
    "- n_closed_on_time（按时整改）: o.status = 'closed' AND (o.finish_over_minutes IS NULL OR (o.finish_over_minutes IS NOT NULL AND o.finish_over_minutes = 0))",
    "- n_open（办理中）: o.status IN ('pending_verify', 'pending_accept', 'accepted', 'handling', 'pending_callback')",
    "- n_open_late（逾期未办结）: o.status IN ('pending_verify', 'pending_accept', 'accepted', 'handling', 'pending_callback') AND (o.due_at IS NOT NULL AND o.due_at < now)",
    "- n_callback（已回访）: NOT (o.callback_satisfaction = '')",
    "- n_callback_satisfied（回访满意）: o.callback_satisfaction IN ('satisfied', 'basically_satisfied')",
    "- n_callback_solved（回访已解决）: (NOT (o.callback_satisfaction = '')) AND o.callback_solved",
    "- n_contacted（已联系）: o.contact_minutes IS NOT NULL",
    "- contact_minutes（联系用时合计（分钟））: SUM(o.contact_minutes) WHERE o.contact_minutes IS NOT NULL",
    "- finish_minutes（办结用时合计（分钟））: SUM(o.finish_minutes) WHERE o.status = 'closed' AND o.finish_minutes IS NOT NULL",
    "- n_reopened（重办）: o.reopen_count > 0",
]


def test_every_measure_says_what_it_counts_in_sql():
    assert measures.measures_table().splitlines() == DEFINITIONS
    assert measures.__doc__.endswith(measures.measures_table() + "\n")


def test_the_tables_as_they_are_pass_the_check():
    assert measures.check() is None


@pytest.mark.parametrize(
    "name, value, says",
    [
        (
            "RATING_MEASURES",
            (*measures.RATING_MEASURES, Measure("n_x", Q(no_such_field=1))),
            "统计指标表与模型不一致",
        ),
        ("RATING_MEASURES", (Measure("n", Q(level="excellent")),), "统计指标表与模型不一致"),
        (
            "ORDER_MEASURES",
            (*measures.ORDER_MEASURES, Measure("n_x", Q(status="lost"))),
            "统计指标表与模型不一致",
        ),
        ("ORDER_MEASURES", (Measure("n_orders", Q(), value="no_such_minutes"),), "统计指标表与模型不一致"),
        ("COUNTED", Q(is_sound=True), "统计指标表与模型不一致"),
        ("RATES_ITS_CASE", Q(kind=9), "统计指标表与模型不一致"),
        ("FINISHED", Q(status="shelved"), "统计指标表与模型不一致"),
        ("RATING_DIMS", {**measures.RATING_DIMS, "desk": "desk"}, "统计指标表与模型不一致"),
        ("RATING_PERIOD", "received_at", "统计指标表与模型不一致"),
        ("RATING_CHANNEL", "device_id", "统计指标表与模型不一致"),
        ("CASE_DIMS", {**measures.CASE_DIMS, "desk": "desk"}, "统计指标表与模型不一致"),
        ("CASE_PERIOD", "accepted_at", "统计指标表与模型不一致"),
        ("ORDER_DIMS", {**measures.ORDER_DIMS, "desk": ("o", "desk")}, "统计指标表与模型不一致"),
        ("ORDER_DIMS", {**measures.ORDER_DIMS, "desk": ("r", "desk")}, "统计指标表与模型不一致"),
        ("RATING_COLUMNS", (*measures.RATING_COLUMNS, "n_x"), "RatingRollup 的计数列与指标表不一致"),
        ("RATING_COLUMNS", measures.RATING_COLUMNS[:-1], "RatingRollup 的计数列与指标表不一致"),
        ("CASE_MEASURES", ("n_finished",), "CaseRollup 的计数列与指标表不一致"),
        ("ORDER_COLUMNS", measures.ORDER_COLUMNS[1:], "OrderRollup 的计数列与指标表不一致"),
    ],
)
def test_a_table_that_disagrees_with_the_models_stops_the_start(monkeypatch, name, value, says):
    monkeypatch.setattr(measures, name, value)
    with pytest.raises(ImproperlyConfigured) as err:
        measures.check()
    assert says in str(err.value)
    if name == "RATING_COLUMNS" and len(value) > len(measures.RATING_COLUMNS):
        assert "n_x" in str(err.value) and "n_vd" not in str(err.value)  # it names the column that differs


def test_a_queue_without_a_measures_column_stops_the_start(monkeypatch):
    counts = measures._counts
    monkeypatch.setattr(
        measures,
        "_counts",
        lambda model: counts(model) - {"n_vd"} if model is measures.RatingPending else counts(model),
    )
    with pytest.raises(ImproperlyConfigured) as err:
        measures.check()
    assert "RatingPending 缺少指标列" in str(err.value) and "n_vd" in str(err.value)


# --- the figures' definitions (口径) and the smoothed score, analytics/figures.py -----------------------


def test_a_definition_reads_as_a_formula_or_a_sentence_with_what_counts():
    from haocha.analytics.figures import DEFINITIONS, Definition, definitions_table

    assert Definition("差评率", "差评数 ÷ 评价数").text() == "差评率 = 差评数 ÷ 评价数"
    assert Definition("差评数", "不满意的条数").text() == "差评数：不满意的条数"
    assert Definition("差评数", "不满意的条数", "追评不计").text() == "差评数：不满意的条数（追评不计）"
    assert Definition("差评率", "差评数 ÷ 评价数", "按月").text() == "差评率 = 差评数 ÷ 评价数（按月）"
    lines = definitions_table().split("\n")
    assert len(lines) == len(DEFINITIONS)
    assert lines[:3] == [
        "- n: 评价数：有效的首次评价条数（按评价时间（北京时间）归入统计期；含办件评价、窗口“一次一评”（无办件）"
        "和系统默认评价；不含追评；申诉成立或被标记无效的评价不计，恢复有效后重新计入）",
        "- bad: 差评数：评价数中“不满意”和“非常不满意”的条数（追评中的差评不计，另见追评差评数）",
        "- bad_rate: 差评率 = 差评数 ÷ 评价数",
    ]


def test_the_smoothed_score_pulls_a_small_sample_towards_the_mean_only_with_a_weight():
    from haocha.analytics.figures import Counts, Figures

    few = Figures(Counts(n=2, n_vs=2))  # score 100
    assert few.smoothed(None, 10) == 100  # no mean to pull towards
    assert few.smoothed(60.0, 0) == 100  # no weight
    assert few.smoothed(60.0, -1) == 100
    assert few.smoothed(60.0, 1) == pytest.approx((2 * 100 + 60) / 3)
    assert few.smoothed(60.0, 10) == pytest.approx((2 * 100 + 10 * 60) / 12)
    assert Figures(Counts()).smoothed(60.0, 10) is None  # no ratings, no score


def test_the_fields_a_condition_reads():
    assert measures.fields_read(Q(level="x") & Q(case__isnull=False) & (Q(kind=1) | ~Q(comment=""))) == {
        "level",
        "case",
        "kind",
        "comment",
    }


def test_an_order_dimension_is_looked_up_on_the_table_it_names(monkeypatch):
    # due_at is the order's own field (the rating has none): read on the order, it passes
    monkeypatch.setattr(measures, "ORDER_DIMS", {**measures.ORDER_DIMS, "when": ("o", "due_at")})
    assert measures.check() is None
    monkeypatch.setattr(measures, "ORDER_DIMS", {**measures.ORDER_DIMS, "when": ("r", "due_at")})
    with pytest.raises(ImproperlyConfigured):
        measures.check()


@pytest.mark.parametrize(
    "model, q, sql",
    [
        ("Rating", Q(is_default=False), "NOT r.is_default"),
        ("Rating", Q(is_default=True), "r.is_default"),
        ("Rating", Q(comment="it's"), "r.comment = 'it''s'"),
        ("Rating", ~Q(level="satisfied"), "NOT (r.level = 'satisfied')"),
    ],
)
def test_conditions_compile_to_sql(model, q, sql):
    from haocha.evaluations.models import Rating

    assert measures.as_sql({"Rating": Rating}[model], q, "r") == sql


@pytest.mark.parametrize(
    "q, says",
    [
        (Q(is_default__in=[True]), "布尔字段只能写 is_default=True/False"),
        (Q(level="excellent"), r"Rating.level: \['excellent'\] 不是该字段的取值"),
        (Q(comment="100%"), "条件中的文字不能含 %"),
        (Q(rated_at=measures.NOW), "当前时间只能用于查询中的比较，不能用于触发器"),
    ],
)
def test_a_condition_that_cannot_be_compiled_says_why(q, says):
    from haocha.evaluations.models import Rating

    with pytest.raises(ValueError, match=says):
        measures.as_sql(Rating, q, "r")


def test_now_compiles_to_a_parameter_in_a_query():
    from haocha.workorders.models import WorkOrder

    sql, params = measures.as_sql_with_now(WorkOrder, Q(due_at__lt=measures.NOW), "o", now="T")
    assert (sql, params) == ("(o.due_at IS NOT NULL AND o.due_at < %s)", ["T"])
