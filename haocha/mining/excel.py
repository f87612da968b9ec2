"""The 差评 mining results as an Excel workbook for the monthly 通报 (every row through core.xlsx.append_row,
so no comment text ever becomes a formula)."""

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font

from haocha.core.xlsx import append_row


def _sheet(wb, title, header, widths):
    ws = wb.create_sheet(title)
    append_row(ws, header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, w in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = w
    return ws


def mining_workbook(data: dict) -> bytes:
    s, period = data["summary"], data["period"]
    wb = Workbook()
    ws = wb.active
    ws.title = "概况"
    unit = " · ".join(o.name for o in (data["department"], data["item"], data["hall"]) if o is not None)
    append_row(
        ws,
        [f"差评文本挖掘 {period.start:%Y-%m-%d} 至 {period.end:%Y-%m-%d}" + (f"（{unit}）" if unit else "")],
    )
    ws["A1"].font = Font(bold=True, size=14)
    append_row(ws, ["有文字的差评（条）", s["total"]])
    append_row(ws, ["未归类（条）", s["unthemed"]])
    append_row(
        ws, ["口径", "仅统计有效、未屏蔽且有文字的差评；文字已脱敏；一条差评可归入多个主题，第一个为主要问题"]
    )
    ws.column_dimensions["A"].width = 24
    ws.column_dimensions["B"].width = 80

    labels = [a["label"] + ("（未满月）" if a["partial"] else "") for a in s["axis"]]
    themes = _sheet(
        wb,
        "主题",
        ["主题", "作为主要问题（条）", "涉及差评（条）", "占差评比例", "新近上升", *labels],
        [24, 18, 16, 12, 24],
    )
    for t in s["themes"]:
        rising = (
            f"{t['emerging']['month']} {t['emerging']['n']} 条（此前月均 {t['emerging']['before']}）"
            if t["emerging"]
            else ""
        )
        append_row(themes, [t["name"], t["n_main"], t["n"], round(t["share"], 4), rising, *t["trend"]])
    for row in themes.iter_rows(min_row=2, min_col=4, max_col=4):
        row[0].number_format = "0.0%"

    examples = _sheet(wb, "典型评价", ["主题", "评价文字（已脱敏）", "月份", "置信度"], [24, 90, 10, 8])
    for t in s["themes"]:
        for c in t["examples"]:
            append_row(examples, [t["name"], c.text, f"{c.month:%Y-%m}", c.confidence])
    for c in s["unthemed_sample"]:
        append_row(examples, ["未归类", c.text, f"{c.month:%Y-%m}", ""])

    for title, rows in (("按部门", data["by_department"]), ("按事项", data["by_item"])):
        sheet = _sheet(wb, title, ["名称", "差评（条）", "未归类（条）", "主要问题"], [36, 12, 12, 70])
        for r in rows:
            append_row(
                sheet,
                [r["name"], r["n"], r["unthemed"], "；".join(f"{t['name']} {t['n']}" for t in r["themes"])],
            )

    words = _sheet(wb, "关键词", ["关键词", "差评（条）", "短语", "差评（条）"], [16, 10, 20, 10])
    for i in range(max(len(s["keywords"]), len(s["phrases"]))):
        k = s["keywords"][i] if i < len(s["keywords"]) else None
        p = s["phrases"][i] if i < len(s["phrases"]) else None
        append_row(words, [k and k["term"], k and k["n"], p and p["term"], p and p["n"]])
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
