"""Issue 13 item 3: no text becomes a formula in any workbook the system writes (the public notice.xlsx
is covered by tests/test_public_personal_data.py; here the performance-management export and the helper)."""

from io import BytesIO

import pytest
from openpyxl import Workbook, load_workbook

from haocha.analytics.models import Dim
from haocha.core.xlsx import append_row
from haocha.organisations.models import Organisation
from tests.test_stats_rankings import month_rows

PAYLOADS = [
    '=HYPERLINK("http://evil.example/x","点此查看")',
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    " =1+1",
]


def _reopened(wb):
    buf = BytesIO()
    wb.save(buf)
    return load_workbook(BytesIO(buf.getvalue()))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_text_that_looks_like_a_formula_is_stored_as_text(payload):
    wb = Workbook()
    append_row(wb.active, [payload, 3, 0.25, None, "普通文字"])
    [row] = _reopened(wb).active.iter_rows()
    as_xml_reads_it = payload.replace("\r", "\n")  # XML reads a carriage return as a line feed
    assert [c.value for c in row] == [as_xml_reads_it, 3, 0.25, None, "普通文字"]
    assert row[0].data_type == "s" and row[0].quotePrefix  # Excel keeps it text when the cell is edited
    assert row[1].data_type == "n" and not row[4].quotePrefix


def test_the_performance_export_writes_unit_names_as_text(cast, api_for):
    name = PAYLOADS[0]
    Organisation.objects.filter(pk=cast.dept_a.pk).update(name=name)
    month_rows(Dim.DEPARTMENT, cast.dept_a.pk, 2026, 3, vs=30, s=8, d=2, n_case=35)
    r = api_for(user=cast.supervisor).get("/stats/export.xlsx", dim="department", year=2026, month=3)
    assert r.status_code == 200, r.content
    wb = load_workbook(BytesIO(r.content))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert name in [c.value for c in cells]
