"""How the dashboard writes a moment: to the minute, in the service's zone, with its name."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from rca.api.web.routes import templates
from rca.text.moments import moment_text as when


def test_a_stored_timestamp_reads_to_the_minute_in_the_services_zone() -> None:
    stored = datetime(2026, 7, 4, 16, 45, 51, 247409, tzinfo=UTC)
    assert when(stored, ZoneInfo("Europe/London")) == "2026-07-04 17:45 BST"
    assert when(stored, ZoneInfo("America/New_York")) == "2026-07-04 12:45 EDT"
    assert when("2026-12-04 16:45:51.247409+00:00", ZoneInfo("UTC")) == "2026-12-04 16:45 UTC"
    assert when(datetime(2026, 12, 4, 16, 45)) == "2026-12-04 16:45 UTC"  # naive: stored as UTC
    assert when(None) == "" and when("") == ""
    assert when("not a time") == "not a time"
    import pandas as pd

    assert when(pd.NaT) == "" and when(float("nan")) == ""  # a frame's missing moment
    last = datetime(2023, 8, 23, 23, tzinfo=UTC)  # a date-only export's 24 August, read in London
    assert when(last, ZoneInfo("Europe/London"), date_only=True) == "2023-08-24"


def test_the_pages_use_it_for_the_taxonomy_history_and_the_model() -> None:
    for name, marker in (("taxonomy.html", "e.at | when(tz)"),
                         ("model.html", "model.trained_at | when(tz)")):  # fmt: skip
        assert marker in templates.env.loader.get_source(templates.env, name)[0]
