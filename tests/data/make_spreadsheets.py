"""Writes tests/data/complaints.xls and complaints.ods: the typed-cells table of
tests/test_ingest_workbook.py in Excel 97-2003 and OpenDocument form.

Run once, outside the project's environment: `pip install xlwt odfpy` (xlwt 1.3 is the last
library that writes .xls; neither is a dependency of rca), then
`python tests/data/make_spreadsheets.py tests/data`.
"""

import datetime
import sys

import xlwt
from odf.number import DateStyle, Day, Month, Year
from odf.number import Text as NumberText
from odf.opendocument import OpenDocumentSpreadsheet
from odf.style import Style
from odf.table import Table, TableCell, TableRow
from odf.text import P

HEADER = ["Complaint ID", "Date received", "Narrative", "Escalated", "Minutes"]
ROWS = {  # sheet row -> cells from column B; row 6 blank, row 7 without its narrative
    4: [7261306, datetime.date(2023, 1, 5), "Charged twice for one loan payment", True, 12.0],
    5: [7261307, datetime.date(2023, 1, 6), "The lender keeps calling my work", False, 7.5],
    7: [7261308, datetime.date(2023, 1, 9), None, False, 3],
    8: [7261309, datetime.date(2023, 1, 9), "Cannot get a payoff amount", False, 4],
}
STRAY = (8, 9, "a note someone typed")  # row 8, column I: under no header


def write_xls(path: str) -> None:
    book = xlwt.Workbook()
    sheet = book.add_sheet("Complaints")
    dated = xlwt.easyxf(num_format_str="mm/dd/yyyy")
    for col, name in enumerate(HEADER, start=1):
        sheet.write(2, col, name)
    for row, values in ROWS.items():
        for col, value in enumerate(values, start=1):
            if value is None:
                continue
            if isinstance(value, datetime.date):
                sheet.write(row - 1, col, value, dated)
            else:
                sheet.write(row - 1, col, value)
    sheet.write(STRAY[0] - 1, STRAY[1] - 1, STRAY[2])
    book.add_sheet("Pivot")
    book.save(path)


def write_ods(path: str) -> None:
    doc = OpenDocumentSpreadsheet()
    style = DateStyle(name="d1")
    for part in (Month(style="long"), NumberText(text="/"), Day(style="long"),
                 NumberText(text="/"), Year(style="long")):  # fmt: skip
        style.addElement(part)
    doc.automaticstyles.addElement(style)
    dated = Style(name="dc", family="table-cell", datastylename="d1")
    doc.automaticstyles.addElement(dated)

    def cell(value: object) -> TableCell:
        if value is None:
            return TableCell()
        if isinstance(value, bool):
            out = TableCell(valuetype="boolean", booleanvalue=str(value).lower())
            shown = str(value).upper()
        elif isinstance(value, datetime.date):
            out = TableCell(valuetype="date", datevalue=value.isoformat(), stylename=dated)
            shown = value.strftime("%m/%d/%Y")
        elif isinstance(value, int | float):
            out, shown = TableCell(valuetype="float", value=value), str(value)
        else:
            out, shown = TableCell(valuetype="string"), str(value)
        out.addElement(P(text=shown))
        return out

    grid = {3: [None, *HEADER], **{row: [None, *values] for row, values in ROWS.items()}}
    grid[STRAY[0]] = grid[STRAY[0]] + [None] * (STRAY[1] - 1 - len(grid[STRAY[0]])) + [STRAY[2]]
    table = Table(name="Complaints")
    for row in range(1, max(grid) + 1):
        line = TableRow()
        for value in grid.get(row, []):
            line.addElement(cell(value))
        table.addElement(line)
    doc.spreadsheet.addElement(table)
    doc.spreadsheet.addElement(Table(name="Pivot"))
    doc.save(path)


if __name__ == "__main__":
    write_xls(f"{sys.argv[1]}/complaints.xls")
    write_ods(f"{sys.argv[1]}/complaints.ods")
