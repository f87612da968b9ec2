"""Writing rows into openpyxl worksheets so that no text ever becomes a formula.

openpyxl stores any string that begins with "=" as a formula, and a spreadsheet program runs it
(=HYPERLINK(…), =cmd|' /C calc'!A0). Every workbook the system writes appends its rows through
`append_row`: strings are stored as text cells, and text that begins like a formula (= + - @, tab or
carriage return, as OWASP lists) also gets Excel's quote prefix, so the cell stays text when someone edits
it. The text itself is kept exactly as written.
"""

from datetime import date, datetime, time
from decimal import Decimal

from openpyxl.cell.cell import Cell

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN = (int, float, Decimal, date, datetime, time, bool)


def text_cell(cell, value) -> None:
    """Put `value` into `cell`; a string is stored as text, never as a formula."""
    if value is None or isinstance(value, _PLAIN):
        cell.value = value
        return
    text = str(value)
    cell.value = text
    cell.data_type = "s"
    if text.lstrip(" ").startswith(FORMULA_PREFIXES):
        cell.quotePrefix = True


def append_row(ws, values) -> None:
    """Like `ws.append(values)`, with every value written through `text_cell`."""
    cells = []
    for value in values:
        cell = Cell(ws)
        text_cell(cell, value)
        cells.append(cell)
    ws.append(cells)
