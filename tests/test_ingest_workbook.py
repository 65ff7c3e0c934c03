"""Ingest reads an Excel export (`.xlsx`) as it reads the same table saved as CSV.

Help desks and BI tools often export only to Excel, and a person who opens a CSV export in
Excel saves it back as a workbook. The sheet's own cells are typed: dates, whole numbers held
as floats, TRUE/FALSE; these must arrive as the text the sheet shows, with the row numbers
Excel shows, so a quarantined row can be found.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import openpyxl
import pandas as pd
import pytest
from conftest import make_contacts
from conftest import query_store as _query

from rca.errors import RcaError
from rca.ingest.pipeline import ingest_paths
from rca.ingest.read import _column_letter
from rca.ingest.workbook import sheet_cell
from rca.settings import Settings

DATA = Path(__file__).parent / "data"


def _write_xlsx(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_excel(path, index=False, engine="openpyxl")
    return path


def _stored(settings: Settings) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(settings.store_path), read_only=True)
    try:
        return {
            "contacts": con.execute(
                "SELECT * EXCLUDE (ingest_id, source_file, source_line, ingested_at, updated_at) "
                "FROM contacts "
                "ORDER BY contact_id"
            ).df(),
            "dims": con.execute("SELECT * FROM contact_dimensions ORDER BY ALL").df(),
        }
    finally:
        con.close()


def test_a_workbook_is_stored_as_the_same_table_saved_as_csv(tmp_path: Path) -> None:
    frame = make_contacts(80, seed=3)
    csv_home, xlsx_home = Settings(home=tmp_path / "c"), Settings(home=tmp_path / "x")
    frame.to_csv(tmp_path / "export.csv", index=False)
    _write_xlsx(frame, tmp_path / "export.xlsx")

    from_csv = ingest_paths([str(tmp_path / "export.csv")], csv_home)
    from_xlsx = ingest_paths([str(tmp_path / "export.xlsx")], xlsx_home)

    assert from_xlsx.totals()["inserted"] == from_csv.totals()["inserted"] == 80
    assert from_xlsx.files[0].encoding == "xlsx"
    assert "sheet 'Sheet1', row numbers as Excel shows them" in from_xlsx.files[0].notes
    a, b = _stored(csv_home), _stored(xlsx_home)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)
    again = ingest_paths([str(tmp_path / "export.xlsx")], xlsx_home)  # idempotent
    assert again.totals()["inserted"] == 0


def _complaints_xlsx(tmp_path: Path) -> Path:
    """The table of tests/data/complaints.xls and .ods (made once by xlwt 1.3 and odfpy, the
    libraries that still write those formats) as an .xlsx."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Complaints"
    header = ["Complaint ID", "Date received", "Narrative", "Escalated", "Minutes"]
    for col, name in enumerate(header, start=2):
        sheet.cell(row=3, column=col, value=name)
    rows = {
        4: [7261306, date(2023, 1, 5), "Charged twice for one loan payment", True, 12.0],
        5: [7261307, date(2023, 1, 6), "The lender keeps calling my work", False, 7.5],
        7: [7261308, date(2023, 1, 9), None, False, 3],  # no text: quarantined at row 7
        8: [7261309, date(2023, 1, 9), "Cannot get a payoff amount", False, 4],
    }
    for row, values in rows.items():
        for col, value in enumerate(values, start=2):
            cell = sheet.cell(row=row, column=col, value=value)
            if isinstance(value, date):
                cell.number_format = "mm/dd/yyyy"
    sheet.cell(row=8, column=9, value="a note someone typed")  # column I: no header
    book.create_sheet("Pivot")
    path = tmp_path / "complaints.xlsx"
    book.save(path)
    return path


@pytest.mark.parametrize("kind", ["xlsx", "xls", "ods"])
def test_typed_cells_row_numbers_and_unnamed_columns(
    tmp_path: Path, settings: Settings, kind: str
) -> None:
    """Typed cells, a table that starts at B3, a blank row, a bad row and a stray value, in
    Excel's format, Excel 97-2003's and OpenDocument's."""
    path = _complaints_xlsx(tmp_path) if kind == "xlsx" else DATA / f"complaints.{kind}"
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[fields]\ncontact_id = "Complaint ID"\n'
        # the format of the same export saved as CSV: the sheet's date cells still read
        'created_at = { column = "Date received", format = "%m/%d/%y" }\n'
        'text = "Narrative"\nis_escalation = "Escalated"\n'
    )

    summary = ingest_paths([str(path)], settings, mapping_spec=str(mapping))

    assert summary.totals()["inserted"] == 3
    notes = summary.files[0].notes
    assert "1 other sheet not read (Pivot): options.sheet in the mapping chooses one" in notes
    assert "column I has no header: its 1 values not read" in notes
    assert _query(settings, "SELECT line FROM quarantine") == [(7,)]
    stored = dict(_query(settings, "SELECT contact_id, source_line FROM contacts"))
    assert stored == {"7261306": 4, "7261307": 5, "7261309": 8}  # ids stay whole numbers
    escalated = _query(settings, "SELECT contact_id FROM contacts WHERE is_escalation")
    assert escalated == [("7261306",)]
    created = _query(settings, "SELECT strftime(created_at, '%H:%M') FROM contacts")
    assert {c for (c,) in created} == {"00:00"}  # dates, as the sheet shows them


@pytest.mark.parametrize("kind", ["xls", "ods"])
def test_a_table_people_wrote_reads_from_the_legacy_formats_too(kind: str) -> None:
    """Reason codes, theme sheets and cases tables: the same reader, the table where it is."""
    from rca.ingest.workbook import read_workbook

    frame = read_workbook((DATA / f"complaints.{kind}").read_bytes(), f"complaints.{kind}")
    assert list(frame.columns) == ["Complaint ID", "Date received", "Narrative", "Escalated",
                                   "Minutes"]  # fmt: skip
    first = ["7261306", "2023-01-05", "Charged twice for one loan payment", "true", "12"]
    assert frame.iloc[0].tolist() == first
    assert len(frame) == 4  # the blank row dropped


def test_sheet_cells_read_as_the_sheet_shows_them() -> None:
    assert sheet_cell(date(2023, 1, 5)) == "2023-01-05"
    assert sheet_cell(datetime(2023, 1, 5, 13, 2)) == "2023-01-05T13:02:00"
    assert sheet_cell(7261306.0) == "7261306"
    assert sheet_cell(1.5) == "1.5"
    assert sheet_cell(True) == "true"
    assert sheet_cell(None) == ""
    assert sheet_cell("#N/A") == "#N/A"
    assert [_column_letter(i) for i in (0, 25, 26, 27, 701)] == ["A", "Z", "AA", "AB", "ZZ"]


def test_a_workbook_in_chunks_is_stored_as_the_whole_file(tmp_path: Path) -> None:
    frame = make_contacts(150, seed=5)
    path = _write_xlsx(frame, tmp_path / "export.xlsx")
    chunked = Settings(home=tmp_path / "chunked", ingest_chunk_rows=37)
    whole = Settings(home=tmp_path / "whole")
    said: list[str] = []
    ingest_paths([str(path)], chunked, progress=said.append)
    ingest_paths([str(path)], whole)
    assert len([m for m in said if "rows written" in m]) > 1
    a, b = _stored(chunked), _stored(whole)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)


def test_renamed_workbooks_and_text_under_a_spreadsheet_name(
    tmp_path: Path, settings: Settings
) -> None:
    """A workbook saved under a .csv name is read as one; "Export to Excel" from older tools
    writes tab-separated text or a web page under an .xls name: the text is read as the CSV
    it is, the web page refused with what to do; a broken or empty file writes nothing."""
    renamed = _write_xlsx(make_contacts(5, seed=1), tmp_path / "download.csv")
    assert ingest_paths([str(renamed)], settings).totals()["inserted"] == 5

    text = tmp_path / "export.xls"
    tabbed = make_contacts(4, seed=2).assign(contact_id=lambda f: "T" + f["contact_id"])
    tabbed.to_csv(text, sep="\t", index=False)
    summary = ingest_paths([str(text)], settings)
    assert summary.totals()["inserted"] == 4
    assert "named .xls but is text: read as CSV" in summary.files[0].notes
    page = tmp_path / "report.xls"
    page.write_text("<html><table><tr><td>contact_id</td></tr></table></html>")
    with pytest.raises(RcaError, match="a web page saved under a .xls name"):
        ingest_paths([str(page)], settings)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(RcaError, match="not a readable spreadsheet"):
        ingest_paths([str(broken)], settings)
    empty = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(empty)
    with pytest.raises(RcaError, match="empty sheet 'Sheet' \\(no header row\\)"):
        ingest_paths([str(empty)], settings)
    assert _query(settings, "SELECT count(*) FROM contacts") == [(9,)]


def test_a_folder_skips_excels_lock_files_and_hidden_files(
    tmp_path: Path, settings: Settings
) -> None:
    """A folder of exports with one open in Excel holds "~$export.xlsx" (the owner's name in a
    few bytes): read as an export, it failed the whole ingest."""
    folder = tmp_path / "exports"
    folder.mkdir()
    _write_xlsx(make_contacts(6, seed=3), folder / "export.xlsx")
    (folder / "~$export.xlsx").write_bytes(b"\x05dana  " + bytes(150))
    (folder / "._export.xlsx").write_bytes(b"\x00\x05\x16\x07" + bytes(80))
    summary = ingest_paths([str(folder)], settings)
    assert [Path(f.file).name for f in summary.files] == ["export.xlsx"]
    assert summary.totals()["inserted"] == 6


def test_a_report_with_a_summary_sheet_and_a_title_block(
    tmp_path: Path, settings: Settings
) -> None:
    """BI tools export a report: a summary sheet first, the data on the next under a title
    block ("Tickets by reason", the date range, a blank row). `options.sheet` and
    `options.header_row` say where the table is; without them the error names the sheets."""
    frame = make_contacts(7, seed=4)
    path = tmp_path / "report.xlsx"
    with pd.ExcelWriter(path) as book:
        pd.DataFrame({"Summary": ["7 tickets"]}).to_excel(book, sheet_name="Summary", index=False)
        title = pd.DataFrame([["Tickets by reason"], ["1 Sep - 10 Nov 2026"]])
        title.to_excel(book, sheet_name="Data", index=False, header=False)
        frame.to_excel(book, sheet_name="Data", index=False, startrow=3)  # header on row 4
    with pytest.raises(RcaError, match=r"has the sheets \['Summary', 'Data'\] and the first"):
        ingest_paths([str(path)], settings)
    mapping = tmp_path / "m.toml"
    mapping.write_text('[options]\nsheet = "data"\nheader_row = 4\n')  # any case: one "Data"
    summary = ingest_paths([str(path)], settings, mapping_spec=str(mapping))
    assert summary.totals()["inserted"] == 7 and summary.totals()["quarantined"] == 0
    assert _query(settings, "SELECT min(source_line) FROM contacts") == [(5,)]
    by_position = tmp_path / "p.toml"
    by_position.write_text("[options]\nsheet = 3\n")
    with pytest.raises(RcaError, match=r"no sheet 3; its sheets: \['Summary', 'Data'\]"):
        ingest_paths([str(path)], settings, mapping_spec=str(by_position))

    csv_report = tmp_path / "report.csv"  # the same title block above a CSV's header
    csv_report.write_text(
        "Tickets by reason\n1 Sep - 10 Nov 2026\n\n"
        + frame.assign(contact_id=lambda f: "R" + f["contact_id"]).to_csv(index=False)
    )
    header4 = tmp_path / "h.toml"
    header4.write_text("[options]\nheader_row = 4\n")
    summary = ingest_paths([str(csv_report)], settings, mapping_spec=str(header4))
    assert summary.totals()["inserted"] == 7


def test_a_mapping_with_an_unknown_section_or_option_is_refused(tmp_path: Path) -> None:
    """Written from memory, `[columns]` for `[fields]` was ignored, and the user read that the
    file has no column for fields the mapping names."""
    from rca.ingest.mapping import load_mapping

    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[columns]\ncontact_id = "Complaint ID"\n')
    with pytest.raises(RcaError, match=r"unknown sections \['columns'\]; known: \['dimensions'"):
        load_mapping(wrong)
    typo = tmp_path / "typo.toml"
    typo.write_text('[fields]\ntext = "Narrative"\n[options]\ndates_order = "mdy"\n')
    with pytest.raises(RcaError, match=r"unknown options \['dates_order'\]"):
        load_mapping(typo)
    for bad, why in (("sheet = true", "options.sheet must be"),
                     ("header_row = 0", "options.header_row must be a row number")):  # fmt: skip
        wrong.write_text(f"[options]\n{bad}\n")
        with pytest.raises(RcaError, match=why):
            load_mapping(wrong)
    listed = tmp_path / "list.yaml"
    listed.write_text("- fields\n")
    with pytest.raises(RcaError, match="expected tables"):
        load_mapping(listed)


def _stored_times(settings: Settings) -> list[tuple[str, str]]:
    """Each stored contact's id and created_at (UTC, to the second), by id."""
    return _query(
        settings,
        "SELECT contact_id, strftime(created_at, '%Y-%m-%d %H:%M:%S') FROM contacts "
        "ORDER BY contact_id",
    )


def test_dates_in_a_general_formatted_column_read_with_format_excel(
    tmp_path: Path, settings: Settings
) -> None:
    """A date column formatted "General" shows Excel's serial numbers (45055.43). A bare
    number is never guessed to be a date: the row is quarantined with what it would read as
    and the fix; `format = "excel"` then reads the serials in RCA_TIMEZONE (London here), to
    the second, a whole serial as a date only, and the column's real date cells still."""
    frame = make_contacts(3, seed=5)
    path = tmp_path / "general.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["contact_id", "created_at", "text"])
    sheet.append(["G1", 45055 + (10 * 60 + 20) / 1440, frame["text"][0]])  # 2023-05-09 10:20
    sheet.append(["G2", 45056, frame["text"][1]])  # 2023-05-10, no time
    sheet.append(["G3", datetime(2023, 1, 5, 13, 2), frame["text"][2]])  # a date cell
    book.save(path)

    summary = ingest_paths([str(path)], settings)
    assert summary.totals()["quarantined"] == 2
    reasons = dict(_query(settings, "SELECT line, reason FROM quarantine ORDER BY line"))
    assert reasons[2].startswith("unparseable created_at: 45055.4305555")
    assert reasons[2].endswith(
        '(an Excel serial date? it reads 2023-05-09 10:20: set format = "excel" on created_at)'
    )
    assert reasons[3].endswith('it reads 2023-05-10: set format = "excel" on created_at)')

    mapping = tmp_path / "m.toml"
    mapping.write_text('[fields]\ncreated_at = { column = "created_at", format = "excel" }\n')
    summary = ingest_paths([str(path)], settings, mapping_spec=str(mapping))
    assert summary.totals()["inserted"] == 2 and summary.totals()["quarantined"] == 0
    stored = _stored_times(settings)
    # London is on summer time in May (UTC+1) and on GMT in January
    assert stored == [
        ("G1", "2023-05-09 09:20:00"),
        ("G2", "2023-05-09 23:00:00"),
        ("G3", "2023-01-05 13:02:00"),
    ]
    assert summary.files[0].dates_without_time == 1


def test_a_1904_date_system_workbook_reads_with_format_excel1904(
    tmp_path: Path, settings: Settings
) -> None:
    """Old Mac Excel counts serial days from 1904-01-01, 1,462 days after the usual system's
    day 0: `format = "excel1904"` reads its "General" serials on the right day, and the
    workbook's real date cells (which calamine converts in the workbook's own system) too."""
    frame = make_contacts(2, seed=6)
    path = tmp_path / "mac.xlsx"
    book = openpyxl.Workbook()
    book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    sheet = book.active
    sheet.append(["contact_id", "created_at", "text"])
    sheet.append(["M1", 45055 - 1462 + (10 * 60 + 20) / 1440, frame["text"][0]])  # 2023-05-09
    sheet.append(["M2", datetime(2023, 1, 5, 13, 2), frame["text"][1]])  # a date cell
    book.save(path)

    mapping = tmp_path / "m.toml"
    mapping.write_text('[fields]\ncreated_at = { column = "created_at", format = "excel1904" }\n')
    summary = ingest_paths([str(path)], settings, mapping_spec=str(mapping))
    assert summary.totals()["inserted"] == 2 and summary.totals()["quarantined"] == 0
    stored = _stored_times(settings)
    assert stored == [("M1", "2023-05-09 09:20:00"), ("M2", "2023-01-05 13:02:00")]


def test_a_taxonomy_table_is_found_behind_a_notes_sheet(tmp_path: Path) -> None:
    """A reviewer's workbook may open on a notes sheet: the theme sheet, the cases and the
    reason codes are read from the first sheet with the columns they need; a workbook with
    none names its sheets, and a one-sheet workbook still gets the caller's own message."""
    from rca.errors import InvalidInputError
    from rca.jobs.apply_sheet import read_sheet_file
    from rca.jobs.import_codes import read_codes_file, table_text

    path = tmp_path / "reviewed.xlsx"
    notes = pd.DataFrame({"Notes": ["renamed two themes"]})
    with pd.ExcelWriter(path) as book:
        notes.to_excel(book, sheet_name="Notes", index=False)
        pd.DataFrame({"Theme_ID ": ["T0001"], "label": ["Refund late"]}).to_excel(
            book, sheet_name="Themes", index=False
        )
    codes = tmp_path / "codes.xlsx"
    with pd.ExcelWriter(codes) as book:
        notes.to_excel(book, sheet_name="Notes", index=False)
        pd.DataFrame({"Label": ["Card declined"], "description": ["at the till"]}).to_excel(
            book, sheet_name="Codes", index=False
        )
    assert read_sheet_file(path).to_dict("records") == [
        {"Theme_ID": "T0001", "label": "Refund late"}
    ]  # case and edge spaces of the header ignored, as the tables' own readers ignore them
    assert "Refund late" in table_text(path.read_bytes(), path.name, ("theme_id",))
    assert [c.label for c in read_codes_file(codes)] == ["Card declined"]
    with pytest.raises(InvalidInputError, match=r"no sheet has the columns \['contact_id'\]; "
                       r"its sheets: \['Notes', 'Themes'\]"):  # fmt: skip
        table_text(path.read_bytes(), path.name, ("contact_id",))
    single = tmp_path / "single.xlsx"
    pd.DataFrame({"Notes": ["x"]}).to_excel(single, index=False)
    assert list(read_sheet_file(single).columns) == ["Notes"]
