"""`rca demo`: generate the demo contact stream and run every stage that exists on it.

The main stream (phone, e-mail, chat, web form) is joined by a social-channel stream
(`rca.demo.messaging`, ingested with the `social` preset) unless `--no-messaging`.

Stages: generate → ingest → embed → fit (themes) → spikes → repeat-complaint drivers. Each
stage's throughput is printed; the run ends with the last week's top themes, its spikes and
new themes with their root causes, and the top five drivers with two example cases each.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from rca.cli.app import HomeOption, app, settings_for, stderr
from rca.cli.output import Format, emit
from rca.ingest.pipeline import ingest_paths
from rca.settings import Settings

TOP_THEMES = 10
TOP_DRIVERS = 5
EXAMPLES_PER_DRIVER = 2
EXAMPLE_PREVIEW_CHARS = 110


@app.command()
def demo(
    contacts: Annotated[int, typer.Option("--contacts", "-n", min=100)] = 20_000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    messaging: Annotated[
        bool,
        typer.Option(
            "--messaging/--no-messaging",
            help="Add the social-channel stream (brand replies, threads on half, small talk).",
        ),
    ] = True,
    fit: Annotated[
        bool, typer.Option("--fit/--no-fit", help="Run the theme stages after ingest.")
    ] = True,
    serve: Annotated[
        bool | None,
        typer.Option(
            "--serve/--no-serve",
            help="End by serving the API on the demo data (default: yes for table output).",
            show_default=False,
        ),
    ] = None,
    port: Annotated[int, typer.Option(help="Port for the API at the end.")] = 8000,
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """Build the demo stream from Banking77 + Bitext, ingest it, run each stage, then serve it."""
    from rca.demo import DemoConfig, write_demo  # lazy: keeps `rca --help` fast

    settings = settings_for(home)
    stages: list[dict[str, object]] = []

    started = time.perf_counter()
    contacts_csv, truth_csv, manifest = write_demo(
        settings.home / "demo",
        settings.datasets_dir,
        DemoConfig(n_contacts=contacts, seed=seed, sop_changes=True),
    )
    stages.append(_stage("generate", contacts, time.perf_counter() - started, str(contacts_csv)))
    summary = ingest_paths([str(contacts_csv)], settings)
    social_csv = None
    if messaging:
        social_csv = _write_messaging(settings, DemoConfig(n_contacts=contacts, seed=seed))
        social = ingest_paths([str(social_csv)], settings, mapping_spec="social")
        summary.files += social.files
        summary.seconds += social.seconds
    totals = summary.totals()
    detail = ", ".join(f"{k} {v}" for k, v in totals.items() if v)
    stages.append(_stage("ingest", totals["read"], summary.seconds, detail))
    stderr(f"ingested {totals['read']} rows in {summary.seconds:.1f} s: {totals}")

    results: dict[str, Any] = {"top_themes": [], "spikes": None, "drivers": []}
    if fit:
        results = _analysis_stages(settings, stages)
        results["sop_changes"] = _record_sop_changes(settings, truth_csv, manifest)

    emit(
        {
            "command": "demo",
            "home": str(settings.home),
            "contacts_file": str(contacts_csv),
            "truth_file": str(truth_csv),
            "manifest_file": str(manifest),
            "messaging_file": str(social_csv) if social_csv else None,
            "stages": stages,
            **results,
        },
        stages,
        fmt,
        title="rca demo",
        columns=["stage", "items", "seconds", "per_second", "detail"],
    )
    if fmt is Format.table and fit:
        _print_sections(results)
    if fit and (serve if serve is not None else fmt is Format.table):
        _serve_demo(settings, port)


def _record_sop_changes(settings: Settings, truth_csv: Path, manifest: Path) -> list[str]:
    """Record the demo's planted SOP changes (`rca.demo.planted_sop`) on all the themes holding
    their intents, as an SOP author would; returns their ids."""
    import json
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    import pandas as pd

    from rca.demo.planted_sop import themes_holding_intents
    from rca.store import Store
    from rca.store.sop import add_change

    planted = json.loads(manifest.read_text(encoding="utf-8")).get("sop_changes", [])
    if not planted:
        return []
    truth = pd.read_csv(truth_csv, dtype=str, keep_default_na=False)
    tz = ZoneInfo(json.loads(manifest.read_text(encoding="utf-8"))["config"]["tz"])
    ids = []
    with Store(settings.store_path).write() as con:
        assignments = con.execute(
            "SELECT a.contact_id, a.theme_id FROM assignments a "
            "JOIN models m USING (model_version) WHERE m.is_champion"
        ).df()
        themes = themes_holding_intents(truth, assignments, [p["intent"] for p in planted])
        for p in planted:
            if not themes[p["intent"]]:
                continue
            change = add_change(
                con, theme_ids=themes[p["intent"]], title=p["title"], now=datetime.now(UTC),
                effective_at=datetime.fromisoformat(p["effective"]).replace(tzinfo=tz),
                description=f"planted in the demo ({p['kind']}): see manifest.json",
                author="demo", scope=p["scope"],
            )  # fmt: skip
            ids.append(change.change_id)
    stderr(f"recorded {len(ids)} planted SOP changes: {', '.join(ids)} (see `rca sop list`)")
    return ids


def _serve_demo(settings: Settings, port: int) -> None:
    """Issue a demo key, print a curl line that works, and serve until Ctrl-C."""
    import socket

    from rca.api.auth import add_key
    from rca.api.server import free_port
    from rca.cli.cmd_serve import serve

    key = add_key(settings.resolved_api_keys_file, role="admin", name="demo", replace=True)
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:  # taken: let the OS pick a free one
            port = free_port()
    base = f"http://127.0.0.1:{port}"
    stderr("")
    stderr(f"API on the demo data: {base} (OpenAPI docs at {base}/docs); Ctrl-C stops it. Try:")
    typer.echo(f"  curl -s -H 'X-API-Key: {key}' '{base}/v1/drivers?top=3'")
    stderr(f"  (an admin key named 'demo', kept hashed in {settings.resolved_api_keys_file})")
    serve(host="127.0.0.1", port=port, workers=1, log_level="warning", home=settings.home)


#: One social conversation per this many contacts of the main stream.
CONTACTS_PER_CONVERSATION = 20


def _write_messaging(settings: Settings, config: Any) -> Any:
    """Write the messaging channel as a social export beside the main stream (its truth and
    manifest too); returns the export's path."""
    import json

    import pandas as pd

    from rca.demo import load_corpus
    from rca.demo.messaging import generate_messaging

    start = pd.Timestamp(config.start, tz="UTC")
    stream = generate_messaging(
        load_corpus(settings.datasets_dir),
        start=start,
        end=start + pd.Timedelta(days=7 * config.weeks),
        conversations=max(50, config.n_contacts // CONTACTS_PER_CONVERSATION),
        seed=config.seed,
    )
    out = settings.home / "demo"
    stream.messages.to_csv(out / "messaging.csv", index=False, lineterminator="\n")
    stream.truth.to_csv(out / "messaging_truth.csv", index=False, lineterminator="\n")
    (out / "messaging_manifest.json").write_text(
        json.dumps(stream.manifest, indent=2) + "\n", encoding="utf-8"
    )
    return out / "messaging.csv"


def _analysis_stages(settings: Settings, stages: list[dict[str, object]]) -> dict[str, Any]:
    """Fit, spikes, drivers; each recorded as a stage with its throughput."""
    from rca.jobs.fit import fit_themes
    from rca.queries.repeat_drivers import top_drivers_with_examples
    from rca.queries.spike_report import detect_spikes
    from rca.store import Store
    from rca.store.themes import theme_volumes

    result = fit_themes(settings, promote="always", say=stderr)
    m = result.metrics
    n = int(m["n_contacts"])
    rate = m.get("embed_texts_per_s", 0)
    stages.append(_stage("embed", n, result.seconds.get("embed", 0.0), f"{rate:.0f} texts/s"))
    fit_s = result.seconds["cluster"] + result.seconds["describe"]
    detail = f"{int(m['n_themes'])} themes, {m['unassigned_fraction']:.1%} unassigned"
    stages.append(_stage("fit", n, fit_s, detail))

    started = time.perf_counter()
    report = detect_spikes(settings, "latest")
    detail = f"{len(report.spikes)} spikes in {report.period.name}"
    stages.append(_stage("spikes", report.themes_scored, time.perf_counter() - started, detail))

    started = time.perf_counter()
    drivers = top_drivers_with_examples(
        settings, top=TOP_DRIVERS, n_examples=EXAMPLES_PER_DRIVER, period=report.period.name
    )
    stages.append(_stage("drivers", n, time.perf_counter() - started, f"top {len(drivers)}"))

    week = report.period
    with Store(settings.store_path).read() as con:
        frame = theme_volumes(
            con, result.catalog.model_version, week.start, week.end,
            week.start - (week.end - week.start),
        )  # fmt: skip
    return {
        "period": week.name,
        "top_themes": frame.head(TOP_THEMES).to_dict(orient="records"),
        "spikes": report.payload(),
        "drivers": drivers,
    }


def _print_sections(results: dict[str, Any]) -> None:
    period = results.get("period", "")
    emit({}, results["top_themes"], Format.table, title=f"top themes, {period}",
         columns=["theme_id", "label", "volume", "share", "growth"])  # fmt: skip
    spikes = results["spikes"]["spikes"] if results["spikes"] else []
    rows = [{**s, "cause": s["root_cause"]["sentence"]} for s in spikes]
    emit({}, rows, Format.table, title=f"spikes and new themes, {period}",
         columns=["theme_id", "label", "kind", "severity", "observed", "expected", "growth",
                  "cause"])  # fmt: skip
    driver_rows = []
    for d in results["drivers"]:
        examples = [
            f"{e['contact_id']}: {e['text'][:EXAMPLE_PREVIEW_CHARS]}" for e in d.get("examples", [])
        ]
        driver_rows.append({**d, "examples": "\n".join(examples)})
    emit({}, driver_rows, Format.table, title=f"top repeat-complaint drivers, {period}",
         columns=["rank", "theme_id", "label", "score", "summary", "examples"])  # fmt: skip


def _stage(name: str, items: int, seconds: float, detail: str) -> dict[str, object]:
    return {
        "stage": name,
        "items": items,
        "seconds": round(seconds, 3),
        "per_second": round(items / seconds, 1) if seconds > 0 else None,
        "detail": detail,
    }
