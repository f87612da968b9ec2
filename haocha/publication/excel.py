"""The monthly 通报 as an Excel workbook (openpyxl): 概况, 部门排名, 窗口排名, 差评处置, 评价趋势 (with a chart).
Every row goes through core.xlsx.append_row, so no text (a 差评, a department's result) becomes a formula."""

from io import BytesIO

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font

from haocha.core.xlsx import append_row
from haocha.publication.selectors import fmt

BOLD = Font(bold=True)
SHEETS = ("概况", "部门排名", "窗口排名", "差评处置", "评价趋势")


def _header(ws, titles, widths=None):
    append_row(ws, titles)
    for cell in ws[ws.max_row]:
        cell.font = BOLD
    for i, w in enumerate(widths or [], 1):
        ws.column_dimensions[chr(64 + i)].width = w


def _ranking_sheet(ws, ranked, small, data):
    append_row(
        ws, [f"排名规则：{data['rule']}；最少评价数 {data['min_sample']}，平滑权重 {data['prior_weight']}"]
    )
    _header(
        ws,
        ["名次", "单位", "评价数", "差评数", "差评率", "满意度得分", "排名得分", "整改率", "按时整改率"],
        [6, 40, 10, 10, 10, 12, 12, 10, 12],
    )
    for r in ranked + small:
        f = r.figures
        append_row(
            ws,
            [
                r.rank if r.rank else "样本不足",
                r.name,
                f.n,
                f.bad,
                f.bad_rate,
                None if f.score is None else round(f.score, 2),
                None if r.smoothed is None or r.rank is None else round(r.smoothed, 2),
                f.rectify_rate,
                f.on_time_rate,
            ],
        )
        for col in (5, 8, 9):
            ws.cell(row=ws.max_row, column=col).number_format = "0.00%"


MASKED_COLUMNS = {"comment": "评价内容", "reply": "部门回复", "result": "处理结果", "measures": "整改措施"}


def _masked_note(masked: set) -> str:
    fields = [label for key, label in MASKED_COLUMNS.items() if key in masked]
    return f"已隐去{'、'.join(fields)}中的个人信息" if fields else ""


def notice_workbook(data: dict) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "概况"
    region, month = data["region"], data["month"]
    append_row(ws, [f"{region.name}政务服务“好差评”{month:%Y年%m月}通报"])
    ws["A1"].font = Font(bold=True, size=14)
    append_row(
        ws,
        [f"统计期间：{data['period'].start:%Y-%m-%d} 至 {data['period'].end:%Y-%m-%d}；数据来源：统计汇总表"],
    )
    _header(ws, ["指标", "本月", "上月", "口径"], [14, 14, 14, 90])
    for row in data["figure_rows"]:
        append_row(
            ws,
            [
                row["label"],
                row["value"] if row["value"] is not None else "—",
                row["previous"],
                row["definition"],
            ],
        )
        if row["key"] not in ("n", "bad", "score") and row["value"] is not None:
            ws.cell(row=ws.max_row, column=2).number_format = "0.00%"
    _ranking_sheet(wb.create_sheet("部门排名"), data["departments"], data["departments_small"], data)
    _ranking_sheet(wb.create_sheet("窗口排名"), data["windows"], data["windows_small"], data)

    cases = wb.create_sheet("差评处置")
    _header(
        cases,
        [
            "日期",
            "部门",
            "事项",
            "评价",
            "评价内容（已脱敏）",
            "部门回复",
            "处理结果",
            "整改措施",
            "办理情况",
            "个人信息",
        ],
        [12, 26, 22, 10, 40, 40, 30, 30, 12, 24],
    )
    for c in data["cases"]:
        append_row(
            cases,
            [
                f"{c['month']:%Y-%m-%d}",
                c["department"],
                c["item"],
                c["level"],
                c["comment"],
                c["reply"],
                c["result"],
                c["measures"],
                c["outcome"],
                _masked_note(c["masked"]),
            ],
        )
        for cell in cases[cases.max_row]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    tr = wb.create_sheet("评价趋势")
    _header(tr, ["月份", "评价数", "差评数", "差评率", "满意度得分"], [10, 10, 10, 10, 12])
    for m in data["trend"]:
        append_row(
            tr,
            [
                f"{m['month']:%Y-%m}",
                m["n"],
                m["bad"],
                m["bad_rate"],
                None if m["score"] is None else round(m["score"], 2),
            ],
        )
        tr.cell(row=tr.max_row, column=4).number_format = "0.00%"
    if data["trend"]:
        last = tr.max_row
        bars = BarChart()
        bars.title = "月度评价数与差评数"
        bars.y_axis.title = "条"
        bars.add_data(Reference(tr, min_col=2, max_col=3, min_row=1, max_row=last), titles_from_data=True)
        bars.set_categories(Reference(tr, min_col=1, min_row=2, max_row=last))
        bars.width, bars.height = 20, 9
        tr.add_chart(bars, "G2")
        line = LineChart()
        line.title = "月度满意度得分"
        line.add_data(Reference(tr, min_col=5, min_row=1, max_row=last), titles_from_data=True)
        line.set_categories(Reference(tr, min_col=1, min_row=2, max_row=last))
        line.width, line.height = 20, 8
        tr.add_chart(line, "G22")
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


__all__ = ["SHEETS", "fmt", "notice_workbook"]
