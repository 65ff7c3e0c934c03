"""Ingest: formats, encodings, validation reasons, idempotency, updates, file-level errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import make_contacts
from conftest import query_store as _query

from rca.errors import RcaError
from rca.ingest.pipeline import ingest_paths
from rca.settings import Settings

HEADER = "contact_id,created_at,text,customer_id,channel,is_escalation,handle_time_s,csat,market\n"


def _reasons(settings: Settings) -> dict[int, str]:
    return dict(_query(settings, "SELECT line, reason FROM quarantine ORDER BY line"))


def test_csv_semicolon_bom_and_quoted_newlines(tmp_path: Path, settings: Settings) -> None:
    body = (
        "contact_id;created_at;text;market\n"
        'A1;2026-11-02T10:00:00Z;"first line\nsecond; line";UK\n'
        "A2;2026-11-02T11:00:00Z;plain;DE\n"
    )
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    summary = ingest_paths([str(path)], settings)
    assert summary.totals()["inserted"] == 2
    assert "delimiter ';'" in summary.files[0].notes
    text = _query(settings, "SELECT text FROM contacts WHERE contact_id = 'A1'")[0][0]
    assert text == "first line\nsecond; line"
    assert _query(settings, "SELECT count(*) FROM contact_dimensions WHERE name='market'") == [(2,)]


def test_a_date_only_export_is_said_so_at_ingest(tmp_path: Path, settings: Settings) -> None:
    """CFPB's "Date received" has no time: the summary says each contact covers its day; a
    file where only some rows lack a time says how many, read as the day's first minute."""
    dated = tmp_path / "dated.csv"
    dated.write_text("contact_id,created_at,text\nD1,2023-05-09,Loan fees\n"
                     "D2,2023-05-10,Late payment\n")  # fmt: skip
    notes = ingest_paths([str(dated)], settings).files[0].notes
    assert any(n.startswith("every created_at is a date without a time of day") for n in notes)
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("contact_id,created_at,text\nM1,2023-05-09 10:15,Loan fees\n"
                     "M2,2023-05-10,Late payment\nM3,1683712800,Refund\n")  # fmt: skip
    notes = ingest_paths([str(mixed)], settings).files[0].notes
    assert "1 of 3 created_at values have no time of day: read as the day's first minute" in notes


def test_latin1_fallback_is_reported(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes(
        "contact_id,created_at,text\nL1,2026-11-02 10:00,Caf\xe9 refund\n".encode("latin-1")
    )
    summary = ingest_paths([str(path)], settings)
    assert summary.files[0].encoding == "latin-1"
    assert any("Latin-1" in note for note in summary.files[0].notes)
    assert _query(settings, "SELECT text FROM contacts")[0][0] == "Café refund"


def test_every_bad_row_is_quarantined_with_its_reason(tmp_path: Path, settings: Settings) -> None:
    long_text = "x" * (settings.max_text_chars + 50)
    rows = [
        "G1,2026-11-02 10:00,fine,U1,chat,no,60,5,UK",  # line 2
        "B1,2026-11-02 10:00,   ,U1,chat,no,60,5,UK",  # 3 empty text
        "B2,not-a-date,hello,U1,chat,no,60,5,UK",  # 4 unparseable
        "B3,1970-01-02 10:00,hello,U1,chat,no,60,5,UK",  # 5 impossible (too old)
        "B4,2031-01-01 10:00,hello,U1,chat,no,60,5,UK",  # 6 impossible (future)
        "G1,2026-11-03 10:00,again,U1,chat,no,60,5,UK",  # 7 duplicate id
        "B5,2026-11-02 10:00,hello,U1,chat,maybe,60,5,UK",  # 8 bad bool
        "B6,2026-11-02 10:00,hello,U1,chat,no,ten,5,UK",  # 9 bad number
        "B7,2026-11-02 10:00,hello,U1,chat,no,-3,5,UK",  # 10 negative
        "B8,2026-11-02 10:00,hello,U1,chat,no,60,great,UK",  # 11 bad csat
        ",2026-11-02 10:00,hello,U1,chat,no,60,5,UK",  # 12 missing id
        "B9,2026-11-02 10:00,hello,U1",  # 13 wrong field count
        f"T1,2026-11-02 10:00,{long_text},U1,chat,no,60,5,UK",  # 14 kept, truncated
    ]
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    summary = ingest_paths([str(path)], settings)
    totals = summary.totals()
    assert (totals["read"], totals["inserted"], totals["quarantined"]) == (13, 2, 11)
    assert totals["truncated"] == 1
    reasons = _reasons(settings)
    expected = {
        3: "empty text",
        4: "unparseable created_at",
        5: "impossible created_at",
        6: "impossible created_at",
        7: "duplicate contact_id: first at line 2",
        8: "bad is_escalation",
        9: "bad handle_time_s: not a number",
        10: "bad handle_time_s: negative",
        11: "bad csat",
        12: "missing contact_id",
        13: "wrong field count",
    }
    assert sorted(reasons) == sorted(expected)
    for line, fragment in expected.items():
        assert fragment in reasons[line], (line, reasons[line])
    truncated = _query(
        settings, "SELECT length(text), text_truncated FROM contacts WHERE contact_id='T1'"
    )
    assert truncated == [(settings.max_text_chars, True)]
    raw = _query(settings, "SELECT raw FROM quarantine WHERE line = 8")[0][0]
    assert json.loads(raw)["is_escalation"] == "maybe"


def test_a_field_over_the_csv_limit_is_kept_truncated_and_flagged(
    tmp_path: Path, settings: Settings
) -> None:
    """Python's csv refuses a field over 128 KB, which used to refuse the whole file (issue 16)."""
    import csv

    huge = "my loan was sold, then sold again\n" * 6_000  # ~200 KB, quoted, with newlines
    path = tmp_path / "huge.csv"
    path.write_text(
        "contact_id,created_at,text\n"
        f'H1,2026-11-02 10:00,"{huge}"\n'
        "H2,2026-11-02 11:00,short one\n",
        encoding="utf-8",
    )
    limit = csv.field_size_limit()
    summary = ingest_paths([str(path)], settings)
    totals = summary.totals()
    assert (totals["inserted"], totals["quarantined"], totals["truncated"]) == (2, 0, 1)
    rows = _query(
        settings, "SELECT contact_id, length(text), text_truncated FROM contacts ORDER BY 1"
    )
    assert rows == [("H1", settings.max_text_chars, True), ("H2", 9, False)]
    assert csv.field_size_limit() == limit  # the process-wide limit is restored


def test_naive_timestamps_are_read_in_the_configured_zone(
    tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "naive.csv"
    path.write_text(
        "contact_id,created_at,text\nN1,2026-07-01 10:00,summer time\n", encoding="utf-8"
    )
    summary = ingest_paths([str(path)], settings)
    assert summary.files[0].naive_timestamps == 1
    assert any("Europe/London" in note for note in summary.files[0].notes)
    hour = _query(settings, "SELECT hour(created_at AT TIME ZONE 'UTC') FROM contacts")[0][0]
    assert hour == 9  # 10:00 BST is 09:00 UTC


def test_jsonl_bad_lines_and_parquet(tmp_path: Path, settings: Settings) -> None:
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text(
        '{"contact_id": "J1", "created_at": "2026-11-02T10:00:00Z", '
        '"text": "hi there", "tier": "gold"}\n'
        "{not json}\n"
        '["a", "list"]\n',
        encoding="utf-8",
    )
    parquet = tmp_path / "b.parquet"
    frame = make_contacts(5)
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    frame.to_parquet(parquet)
    summary = ingest_paths([str(jsonl), str(parquet)], settings)
    by_file = {Path(f.file).name: f for f in summary.files}
    assert (by_file["a.jsonl"].inserted, by_file["a.jsonl"].quarantined) == (1, 2)
    assert by_file["b.parquet"].inserted == 5
    assert set(_reasons(settings).values()) >= {"invalid JSON: line is not an object"}


def test_folder_and_glob(tmp_path: Path, settings: Settings) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    make_contacts(4, seed=1).to_csv(folder / "one.csv", index=False)
    other = make_contacts(6, seed=2)
    other["contact_id"] = other["contact_id"].str.replace("C", "D")
    other.to_csv(folder / "two.csv", index=False)
    assert ingest_paths([str(folder)], settings).totals()["inserted"] == 10
    assert ingest_paths([str(folder / "*.csv")], settings).totals()["unchanged"] == 10


def test_reingest_is_idempotent_and_changes_update_with_history(
    tmp_path: Path, settings: Settings
) -> None:
    frame = make_contacts(50)
    path = tmp_path / "c.csv"
    frame.to_csv(path, index=False)
    first = ingest_paths([str(path)], settings).totals()
    second = ingest_paths([str(path)], settings).totals()
    assert first["inserted"] == 50
    assert (second["inserted"], second["updated"], second["unchanged"]) == (0, 0, 50)
    frame.loc[3, "text"] = "Actually it was the wrong item that arrived."
    frame.loc[7, "market"] = "FR" if frame.loc[7, "market"] != "FR" else "UK"
    frame.to_csv(path, index=False)
    third = ingest_paths([str(path)], settings).totals()
    assert (third["inserted"], third["updated"], third["unchanged"]) == (0, 2, 48)
    assert _query(settings, "SELECT count(*) FROM contacts") == [(50,)]
    history = _query(settings, "SELECT contact_id FROM contact_history ORDER BY 1")
    assert history == [("C00003",), ("C00007",)]
    assert _query(settings, "SELECT text FROM contacts WHERE contact_id = 'C00003'")[0][
        0
    ].startswith("Actually")
    dims = _query(
        settings, "SELECT value FROM contact_dimensions WHERE contact_id='C00007' AND name='market'"
    )
    assert dims == [(frame.loc[7, "market"],)]
    assert _query(
        settings, "SELECT count(*) FROM contact_dimensions WHERE contact_id='C00007'"
    ) == [(2,)]


def test_quarantine_is_idempotent_too(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("contact_id,created_at,text\nX1,never,hello\nX2,2026-11-02 10:00,ok\n")
    ingest_paths([str(path)], settings)
    ingest_paths([str(path)], settings)
    assert _query(settings, "SELECT count(*) FROM quarantine") == [(1,)]


@pytest.mark.parametrize(
    ("name", "content", "mapping", "message"),
    [
        ("missing.csv", None, None, "no such file"),
        ("sheet.numbers", "binary", None, "unsupported file type"),
        ("sheet.xlsx", "binary", None, "required field"),  # text: read as the CSV it is
        ("nocols.csv", "id,when,body\n1,2026-11-02,hi\n", None, "required field"),
        ("mapped.csv", "id,when,body\n1,2026-11-02,hi\n", "absent", "absent from the file"),
        ("empty.csv", "", None, "empty file"),
    ],
)
def test_file_level_errors_write_nothing(
    tmp_path: Path,
    settings: Settings,
    name: str,
    content: str | None,
    mapping: str | None,
    message: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    mapping_path = None
    if mapping:
        mapping_path = tmp_path / "m.toml"
        mapping_path.write_text('[fields]\ncontact_id = "id"\ncreated_at = "when"\ntext = "Body"\n')
    with pytest.raises(RcaError, match=message):
        ingest_paths(
            [str(path)], settings, mapping_spec=str(mapping_path) if mapping_path else None
        )
    assert not settings.store_path.exists()


def test_one_bad_file_aborts_the_whole_command(tmp_path: Path, settings: Settings) -> None:
    good = tmp_path / "good.csv"
    make_contacts(3).to_csv(good, index=False)
    with pytest.raises(RcaError):
        ingest_paths([str(good), str(tmp_path / "nope.csv")], settings)
    assert not settings.store_path.exists()


def test_mapping_combines_columns_and_parses_date_and_time(
    tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        "Ticket,Date,Time,Subject,Description,Priority,Country\n"
        "Z1,02-11-26,14:30,Card missing,It never came,urgent,DE\n"
        "Z2,03-11-26,09:05,Refund,,low,UK\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "fields:\n"
        "  contact_id: Ticket\n"
        "  text: [Subject, Description]\n"
        "  created_at: {date: Date, time: Time, format: '%d-%m-%y %H:%M'}\n"
        "  is_escalation: {column: Priority, true_values: [urgent]}\n"
        "dimensions:\n"
        "  market: Country\n"
    )
    summary = ingest_paths([str(path)], settings, mapping_spec=str(mapping))
    assert summary.totals()["inserted"] == 2
    rows = _query(
        settings,
        "SELECT contact_id, text, is_escalation, "
        "strftime(created_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M') "
        "FROM contacts ORDER BY 1",
    )
    assert rows == [
        ("Z1", "Card missing\n\nIt never came", True, "2026-11-02 14:30"),
        ("Z2", "Refund", False, "2026-11-03 09:05"),
    ]
    dims = _query(settings, "SELECT DISTINCT name FROM contact_dimensions ORDER BY 1")
    assert dims == [("market",)]


@pytest.mark.parametrize("preset", ["zendesk", "salesforce"])
def test_shipped_presets(preset: str, settings: Settings) -> None:
    sample = next((Path(__file__).parent / "data").glob(f"{preset}_sample.*"))
    summary = ingest_paths([str(sample)], settings, mapping_spec=preset)
    totals = summary.totals()
    assert totals["inserted"] >= 3 and totals["quarantined"] == 0
    texts = [r[0] for r in _query(settings, "SELECT text FROM contacts")]
    assert all("@" not in t for t in texts)  # requester e-mails redacted or dropped
    names = {r[0] for r in _query(settings, "SELECT DISTINCT name FROM contact_dimensions")}
    assert not any("email" in n for n in names)


def test_text_is_redacted_and_raw_kept_only_on_request(tmp_path: Path, home: Path) -> None:
    path = tmp_path / "pii.csv"
    path.write_text(
        "contact_id,created_at,text\nP1,2026-11-02 10:00,Mail me at jane.doe@example.com please\n"
    )
    plain = Settings(home=home / "a")
    ingest_paths([str(path)], plain)
    assert _query(plain, "SELECT text, text_raw FROM contacts") == [
        ("Mail me at [EMAIL] please", None)
    ]
    keep = Settings(home=home / "b", keep_raw_text=True)
    ingest_paths([str(path)], keep)
    assert _query(keep, "SELECT text_raw FROM contacts")[0][0].endswith("example.com please")


def test_texts_with_quotes_and_commas_survive_a_pandas_round_trip(
    tmp_path: Path, settings: Settings
) -> None:
    frame = make_contacts(3)
    frame.loc[1, "text"] = 'still at "pending"" for hours, so maybe I\'m wrong, but "why"?'
    path = tmp_path / "quotes.csv"
    frame.to_csv(path, index=False)
    summary = ingest_paths([str(path)], settings)
    assert summary.totals()["inserted"] == 3
    stored = _query(settings, "SELECT text FROM contacts WHERE contact_id = 'C00001'")[0][0]
    assert stored == frame.loc[1, "text"]


def test_day_month_order_is_decided_once_per_file(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "dates.csv"
    path.write_text(
        "contact_id,created_at,text\nD1,01/02/2026 10:00,a\nD2,13/02/2026 10:00,b\n",
        encoding="utf-8",
    )
    summary = ingest_paths([str(path)], settings)
    assert summary.files[0].date_order == "day first"
    assert "dates like 01/02/2026 read day first (from its values)" in summary.files[0].notes
    days = _query(settings, "SELECT contact_id, strftime(created_at, '%m-%d') FROM contacts")
    assert sorted(days) == [("D1", "02-01"), ("D2", "02-13")]


def test_day_month_order_falls_back_to_the_mapping_then_the_zone(
    tmp_path: Path, home: Path
) -> None:
    path = tmp_path / "undecided.csv"
    path.write_text("contact_id,created_at,text\nU1,01/02/2026 10:00,a\n", encoding="utf-8")
    us = Settings(home=home / "us", timezone="America/New_York")
    assert ingest_paths([str(path)], us).files[0].date_order == "month first"
    assert _query(us, "SELECT month(created_at AT TIME ZONE 'UTC') FROM contacts") == [(1,)]
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[fields]\ncontact_id = "contact_id"\ncreated_at = "created_at"\ntext = "text"\n'
        '[options]\ndate_order = "day_first"\n'
    )
    mapped = Settings(home=home / "mapped", timezone="America/New_York")
    summary = ingest_paths([str(path)], mapped, mapping_spec=str(mapping))
    assert summary.files[0].date_order == "day first"
    assert "from the mapping" in summary.files[0].notes[-1]
    assert _query(mapped, "SELECT month(created_at AT TIME ZONE 'UTC') FROM contacts") == [(2,)]


def test_a_file_that_contradicts_its_date_order_gets_a_file_level_note(
    tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "both.csv"
    path.write_text(
        "contact_id,created_at,text\n"
        "M1,13/02/2026,a\nM2,14/02/2026,b\nM3,02/15/2026,c\nM4,2026-02-16T10:00:00Z,d\n",
        encoding="utf-8",
    )
    summary = ingest_paths([str(path)], settings)
    file = summary.files[0]
    assert any(n.startswith("file contradicts itself: 2 dates") for n in file.notes)
    assert (file.inserted, file.quarantined) == (3, 1)
    assert "contradicts the file's date order (day first)" in _reasons(settings)[4]


def test_words_for_the_clock_are_not_timestamps(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "now.csv"
    path.write_text(
        "contact_id,created_at,text\nW1,now,a\nW2,today,b\nW3,2026-11-02 10:00,c\n",
        encoding="utf-8",
    )
    summary = ingest_paths([str(path)], settings)
    assert (summary.files[0].inserted, summary.files[0].quarantined) == (1, 2)
    assert _reasons(settings) == {
        2: "unparseable created_at: now",
        3: "unparseable created_at: today",
    }
    again = ingest_paths([str(path)], settings)
    assert again.totals()["unchanged"] == 1 and again.totals()["updated"] == 0


def test_mixed_encoding_is_decoded_per_line(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        b"contact_id,created_at,text\n"
        + "E1,2026-11-02 10:00,Café in UTF-8\n".encode()
        + "E2,2026-11-02 10:00,Café in Windows-1252\n".encode("cp1252")
        + b"E3,2026-11-02 10:00,byte \x81 is in neither\n"
    )
    summary = ingest_paths([str(path)], settings)
    file = summary.files[0]
    assert file.encoding == "mixed"
    assert (file.inserted, file.quarantined) == (2, 1)
    texts = dict(_query(settings, "SELECT contact_id, text FROM contacts"))
    assert texts == {"E1": "Café in UTF-8", "E2": "Café in Windows-1252"}
    assert _reasons(settings)[4].startswith("undecodable")


def test_json_objects_lists_and_booleans_are_not_taken_for_text(
    tmp_path: Path, settings: Settings
) -> None:
    path = tmp_path / "typed.jsonl"
    rows = [
        {"contact_id": "J1", "created_at": NOON, "text": "fine", "tags": ["a"], "vip": True},
        {"contact_id": "J2", "created_at": NOON, "text": {"body": "hi"}, "tags": ["b", "c"]},
        {"contact_id": "J3", "created_at": NOON, "text": True, "vip": False},
        {"contact_id": "J4", "created_at": NOON, "text": "fine", "tags": [], "vip": False},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    file = ingest_paths([str(path)], settings).files[0]
    assert (file.inserted, file.quarantined) == (2, 2)
    reasons = _reasons(settings)
    assert reasons[2] == "text is a JSON object, not text"
    assert reasons[3] == "text is a JSON boolean, not text"
    assert file.set_aside == {"tags": "holds JSON lists, not values"}
    assert file.dimensions == ["vip"]  # true/false is a category


NOON = "2026-11-02T12:00:00Z"


def test_the_zendesk_preset_fills_team_and_agent(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "zendesk.csv"
    path.write_text(
        "Id,Requester id,Group,Assignee,Subject,Description,Priority,Via,Ticket type,Created at\n"
        "2001,9001,Billing Tier 1,Ana Reyes,Refund,Where is my refund?,normal,Email,Problem,"
        "2026-11-02 09:14:03\n"
        "2002,9002,Payments,Ben Cruz,Payout,Payout missing,high,Web Widget,Question,"
        "2026-11-02 10:00:00\n"
        "2003,9003,,,Login,Cannot log in,low,Email,Question,2026-11-02 11:00:00\n"
    )
    summary = ingest_paths([str(path)], settings, mapping_spec="zendesk")
    assert summary.totals()["inserted"] == 3
    rows = _query(settings, "SELECT contact_id, team, agent_id FROM contacts ORDER BY 1")
    assert rows == [
        ("2001", "Billing Tier 1", "Ana Reyes"),
        ("2002", "Payments", "Ben Cruz"),
        ("2003", None, None),  # empty is null, not ''
    ]


def test_a_mapping_names_only_what_differs_from_the_columns(tmp_path: Path) -> None:
    """A mapping written to give one field a format or a column still reads the other fields
    from their same-named columns; it used to say "no column for required field(s)
    ['contact_id', 'text']" about a file whose header has both. A column the mapping names
    (for a field or a dimension) or drops is not read a second time by its name."""
    from rca.ingest.mapping import mapping_for, parse_mapping

    columns = ["contact_id", "created_at", "text", "channel", "customer_id", "Queue"]
    mapping = parse_mapping(
        {
            "fields": {"created_at": {"column": "created_at", "format": "%d/%m/%Y"}},
            "dimensions": {"queue": "channel"},
            "options": {"drop": ["customer_id"]},
        }
    )
    fields = mapping_for(mapping, columns).fields
    assert {name: src.columns for name, src in fields.items()} == {
        "created_at": ("created_at",), "contact_id": ("contact_id",), "text": ("text",)
    }  # fmt: skip
    assert fields["created_at"].fmt == "%d/%m/%Y"

    settings = Settings(home=tmp_path / "home", timezone="Europe/London")
    path = tmp_path / "export.csv"
    make_contacts(4, seed=3).assign(
        created_at=["01/02/2026", "02/02/2026", "03/02/2026", "13/02/2026"]
    ).to_csv(path, index=False)
    spec = tmp_path / "m.toml"
    spec.write_text('[fields]\ncreated_at = { column = "created_at", format = "%d/%m/%Y" }\n')
    summary = ingest_paths([str(path)], settings, mapping_spec=str(spec))
    assert summary.totals()["inserted"] == 4
