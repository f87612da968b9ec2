"""Per-unit results for the performance-management system (政务服务成效管理系统): rows and an Excel workbook.

Units only (departments, halls, windows, items): no staff and no evaluator appears here.
"""

from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font

from haocha.analytics.figures import DEFINITIONS
from haocha.analytics.selectors import Ranking
from haocha.core.xlsx import append_row

EXPORT_DIMS = ("department", "hall", "window", "item")
COLUMNS = (
    ("name", "单位"),
    ("n", "评价数"),
    ("score", "满意度得分"),
    ("good_rate", "好评率"),
    ("bad", "差评数"),
    ("bad_rate", "差评率"),
    ("rating_rate", "评价率"),
    ("rectify_rate", "整改率"),
    ("on_time_rate", "按时整改率"),
    ("callback_rate", "回访满意率"),
    ("smoothed", "排名得分"),
)
PERCENT = {"good_rate", "bad_rate", "rating_rate", "rectify_rate", "on_time_rate", "callback_rate"}


def export_rows(ranking: Ranking) -> list[dict]:
    """Ranked units first (with their rank), then those with too few ratings (no rank, no 排名得分)."""
    return [row.as_dict() for row in ranking.ranked + ranking.insufficient]


def export_workbook(ranking: Ranking, *, title: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "评价结果"
    ws.append([title])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(["名次", *(label for _, label in COLUMNS)])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in export_rows(ranking):
        append_row(
            ws, [row["rank"] if row["rank"] is not None else "样本不足", *(row[key] for key, _ in COLUMNS)]
        )
        for cell, (key, _) in zip(ws[ws.max_row][1:], COLUMNS, strict=True):
            if key in PERCENT:
                cell.number_format = "0.00%"
            elif key in ("score", "smoothed"):
                cell.number_format = "0.00"
    ws.column_dimensions["B"].width = 36
    notes = wb.create_sheet("口径说明")
    notes.append(["排名规则", ranking.rule])
    for key in ("n", "score", "good_rate", "bad", "bad_rate", "rating_rate", "rectify_rate", "on_time_rate"):
        notes.append([key, DEFINITIONS[key]])
    notes.append(["callback_rate", DEFINITIONS["callback_rate"]])
    notes.append(["smoothed", DEFINITIONS["smoothed"]])
    notes.column_dimensions["B"].width = 120
    out = BytesIO()
    wb.save(out)
    return out.getvalue()
