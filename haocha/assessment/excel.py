"""The assessment workbook: 考核结果 (every unit's measures, points, total and rank) and 考核规则与口径说明
(the rule applied, in words and as weights, and each figure's definition). Rows go through core.xlsx."""

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font

from haocha.analytics.figures import FIGURE_DEFINITIONS
from haocha.assessment import rules
from haocha.assessment.selectors import Assessment
from haocha.core.xlsx import append_row

RESULTS = "考核结果"
RULES = "考核规则与口径说明"


def header() -> list[str]:
    cols = ["名次", "单位", "单位代码", "评价数", "差评工单数"]
    for m in rules.MEASURES:
        cols += [m.heading, f"{m.heading}得分"]
    return [*cols, "总分"]


def workbook(a: Assessment) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = RESULTS
    append_row(ws, [a.title()])
    ws["A1"].font = Font(bold=True, size=13)
    append_row(ws, header())
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in a.ranked + a.insufficient:
        values = [row.rank if row.rank is not None else "样本不足", row.name, row.code, row.figures.n]
        values.append(row.figures.counts.n_orders)
        for m in rules.MEASURES:
            values += [row.values[m.key], row.points.get(m.key)]
        append_row(ws, [*values, row.total])
        cells = ws[ws.max_row]
        for i, m in enumerate(rules.MEASURES):
            value_cell, points_cell = cells[5 + 2 * i], cells[6 + 2 * i]
            if m.key != "bad":
                value_cell.number_format = "0.00%"
            points_cell.number_format = "0.00"
        cells[-1].number_format = "0.00"
    ws.column_dimensions["B"].width = 36
    notes = wb.create_sheet(RULES)
    append_row(notes, ["考核规则", a.rule_text])
    append_row(notes, ["考核年度", f"{a.year}年（{a.period.start:%Y-%m-%d} 至 {a.period.end:%Y-%m-%d}）"])
    for m in rules.MEASURES:
        append_row(notes, [f"{m.heading}权重（分）", a.weights[m.key]])
    append_row(notes, ["差评率上限（%）", float(a.rule.bad_rate_ceiling)])
    append_row(notes, ["参加考核最少评价数", a.rule.min_sample])
    for key, text in a.definitions.items():
        append_row(notes, [f"口径：{FIGURE_DEFINITIONS[key].label}", text])
    notes.column_dimensions["A"].width = 30
    notes.column_dimensions["B"].width = 120
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
