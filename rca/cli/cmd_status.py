"""`rca status`: what the store holds."""

from __future__ import annotations

from typing import Annotated

import typer

from rca.cli.app import HomeOption, app, settings_for
from rca.cli.output import Format, emit
from rca.store import Store
from rca.store.status import store_status
from rca.text.counted import counted
from rca.text.moments import moment_text
from rca.trends.coverage import is_date_only

SCALARS = (
    "contacts",
    "customers",
    "quarantined",
    "updated_contacts",
    "first_contact_at",
    "last_contact_at",
    "embeddings",
    "long_texts",
    "schema_version",
)


def _granularity_text(grain: dict | None, version: str) -> str:
    """How the fit chose its number of themes, in the words `rca fit` uses."""
    if not grain:
        return ""
    size = f"smallest theme {grain['theme_size']:.0f} of {grain['fit_rows']:,} contacts"
    if grain["chosen_on"] == version:
        return f"; granularity: {grain['rule']} chose {size}"
    return f"; granularity: kept what {grain['rule']} chose on {grain['chosen_on']} ({size})"


@app.command()
def status(
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """Counts of contacts and quarantined rows, date range, dimensions and models."""
    settings = settings_for(home)
    with Store(settings.store_path).read() as con:
        info = store_status(con)
        stamps = con.execute("SELECT DISTINCT created_at FROM contacts").df()["created_at"]
    info["dates_only"] = is_date_only(stamps, settings.tz)  # every contact at one clock time
    shown = {  # the table speaks the configured zone; JSON keeps UTC ISO 8601
        k: moment_text(info[k], settings.tz, date_only=info["dates_only"])
        + (" (dates only)" if info["dates_only"] else "")
        for k in ("first_contact_at", "last_contact_at")
        if info[k]
    }
    rows = [{"item": k, "value": shown.get(k, info[k])} for k in SCALARS]
    rows.append({"item": "dimensions", "value": info["dimensions"]})
    rows += [
        {"item": f"set aside: {name}", "value": reason}
        for name, reason in info["dimensions_set_aside"].items()
    ]
    rows += [
        {"item": f"quarantine: {r['reason']}", "value": r["rows"]}
        for r in info["quarantine_reasons"]
    ]
    rows += [
        {
            "item": f"model {m['model_version']}",
            "value": f"{m['n_themes']} themes"
            + (" (champion)" if m["is_champion"] else "")
            + _granularity_text(m["granularity"], m["model_version"]),
        }
        for m in info["models"]
    ]
    if info["taxonomy_edits"] or info["taxonomy_proposals"]:  # a refit's held themes too
        rows.append(
            {
                "item": "taxonomy",
                "value": f"{counted(info['taxonomy_edits'], 'edit')}, "
                f"{counted(info['taxonomy_proposals'], 'open proposal')} for the champion "
                "(`rca taxonomy list`)",
            }
        )
    emit(
        {"command": "status", "store": str(settings.store_path), **info},
        rows,
        fmt,
        title=f"rca store {settings.store_path}",
    )
