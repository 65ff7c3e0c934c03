"""`rca taxonomy import`: a team's reason codes become created themes, in one write.

Each code is a `create` edit as `rca taxonomy create` records it (its name and description
embedded; contacts at least its threshold similar join it, the nearest code when several pass:
`rca.cluster.taxonomy.route`), so undo, history, refits and every report treat it alike. What
the batch adds: the file is checked whole before anything is written (`rca.cluster.
reason_codes`); the encoder loads once; all codes are written in one store transaction, so an
interrupted import leaves none of them; a code whose name a created theme already has is left
alone, so importing the same file again changes nothing; and ``dry_run`` reports what each code
would take, and from which themes, without writing, and what it would take at other thresholds
(`rca.cluster.reason_codes.takes_at`), to choose thresholds before a person commits to them.
`codes_from_attribute` makes the codes from a reason code the contacts already carry instead
(each the mean of its contacts' vectors: nothing is embedded), and the output then says how
many of each code's own contacts it takes back.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rca.cluster.lineage import format_theme_id
from rca.cluster.reason_codes import (
    LADDER,
    CodedValues,
    ReasonCode,
    codes_from_labels,
    reason_codes,
    takes_at,
)
from rca.cluster.taxonomy import Edit, TaxonomyError, curate, route, unit_vectors, validate
from rca.embed.cache import read_vectors
from rca.errors import InvalidInputError, NotFoundError
from rca.jobs.curate import _mirror, _model_id, changed_members
from rca.settings import Settings
from rca.store import Store
from rca.store.curation import (
    append_edit,
    fitted_assignments,
    fitted_themes,
    next_edit_ids,
    read_edits,
    write_members,
)
from rca.store.themes import next_theme_number, require_champion
from rca.text.normalise import normalise_for_embedding

#: Fitted themes listed per code as where its contacts came from.
FROM_THEMES = 3
#: Themes listed as left by the codes: those that keep at least this share of their contacts.
NOT_COVERED_SHARE = 0.5
NOT_COVERED_LISTED = 10
#: Codes that would take more than this share of the contacts replace the fitted taxonomy,
#: which the import then says (CFPB's coded issues at 0.5: 97 %).
MOST_CONTACTS = 0.9


def read_table(
    source: Path | str, *, unreadable: str, empty: str | None, needs: tuple[str, ...] = ()
) -> pd.DataFrame:
    """A table a person wrote or exported from a spreadsheet (a file, or text pasted on the
    dashboard: an uploaded file arrives as `table_text`), every cell as text (a code "0012" stays
    "0012"). An Excel workbook is read as one (`rca.ingest.workbook`, see ``needs``); text
    is decoded and delimited as ingest reads exports (`decode_bytes`, `sniff_delimiter`): a
    Windows "CSV" in cp1252, `;` from locales with a decimal comma, tabs from cells copied out
    of a spreadsheet. One that does not parse is an `InvalidInputError` (``empty`` for one with
    no header, else ``unreadable``). A workbook's sheet is the first whose header has the
    columns in ``needs`` (a notes or summary sheet may come first). Shared by the reason-code
    import, the theme sheet (`apply_sheet`) and the cases table (`file_cases`)."""
    from rca.ingest.read import decode_bytes, sniff_delimiter
    from rca.ingest.workbook import is_workbook, read_workbook

    if isinstance(source, Path):
        data = source.read_bytes()
        if is_workbook(data, source.name):
            frame = read_workbook(data, source.name, needs)
            if frame.columns.empty:
                raise InvalidInputError(empty or f"{unreadable}: its first sheet is empty")
            return frame
        text, suffix = decode_bytes(data)[0], source.suffix.lower()
    else:
        text, suffix = source, ""
    try:
        return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                           sep=sniff_delimiter(text, suffix))  # fmt: skip
    except pd.errors.EmptyDataError as exc:
        raise InvalidInputError(empty or f"{unreadable}: {exc}") from exc
    except pd.errors.ParserError as exc:
        raise InvalidInputError(f"{unreadable}: {exc}") from exc


def table_text(data: bytes, name: str, needs: tuple[str, ...] = ()) -> str:
    """An uploaded table as the CSV text the dashboard's box holds (so a preview shows it and
    "Apply" after it sends the same rows): a text file decoded as `read_table` decodes it, a
    workbook's sheet (the first with ``needs``) written out as CSV."""
    from rca.ingest.read import decode_bytes
    from rca.ingest.workbook import is_workbook, read_workbook

    if is_workbook(data, name):
        return read_workbook(data, name or "the file", needs).to_csv(index=False)
    return decode_bytes(data)[0]


def _codes_of_csv(
    source: Path | str, *, unreadable: str, empty: str | None, **options: Any
) -> list[ReasonCode]:
    """`reason_codes` of a CSV source (`read_table`; a workbook's sheet with the names)."""
    needs = (str(options.get("label_column", "label")),)
    frame = read_table(source, unreadable=unreadable, empty=empty, needs=needs)
    return reason_codes(frame, **options)


def read_codes_file(
    path: Path,
    *,
    label_column: str = "label",
    description_column: str = "description",
    threshold: float = 0.5,
) -> list[ReasonCode]:
    """The codes of a CSV file (TSV when it ends in .tsv) or of a workbook (its first sheet
    with the names' column)."""
    if not path.is_file():
        raise NotFoundError(f"no file {path}")
    return _codes_of_csv(
        path, unreadable=f"{path.name} is not a readable CSV file or workbook",
        empty=f"{path.name} is empty",
        label_column=label_column, description_column=description_column, threshold=threshold,
    )  # fmt: skip


def parse_codes(
    text: str,
    *,
    label_column: str = "label",
    description_column: str = "description",
    threshold: float = 0.5,
) -> list[ReasonCode]:
    """The codes of CSV text pasted on the dashboard (a header line, then a code a line)."""
    if not text.strip():
        raise InvalidInputError("paste the codes: a header (label,description), then one a line")
    return _codes_of_csv(
        text, unreadable="the codes are not readable CSV", empty=None,
        label_column=label_column, description_column=description_column, threshold=threshold,
    )  # fmt: skip


def codes_from_attribute(
    settings: Settings, name: str, *, threshold: float = 0.5, min_contacts: int = 5
) -> CodedValues:
    """A code per value of an attribute the contacts carry (a CRM's disposition, kept at
    ingest as a dimension), each the mean of the champion's vectors of its contacts
    (`rca.cluster.reason_codes.codes_from_labels`); none at all is an `InvalidInputError`."""
    store = Store(settings.store_path)
    with store.read() as con:
        version = require_champion(con)
        model_id = _model_id(con, version)
        names = [str(n) for (n,) in con.execute(
            "SELECT DISTINCT name FROM contact_dimensions ORDER BY name").fetchall()]  # fmt: skip
        found = {n.casefold(): n for n in names}.get(name.strip().casefold())
        if found is None:
            raise NotFoundError(
                f"no attribute {name!r} on the contacts (they have: {', '.join(names) or 'none'}); "
                "map the reason-code column as a dimension at ingest (docs/mapping.md)"
            )
        coded = con.execute(
            "SELECT a.contact_id, c.text_hash, d.value FROM assignments a "
            "JOIN contacts c USING (contact_id) JOIN contact_dimensions d USING (contact_id) "
            "WHERE a.model_version = ? AND d.name = ? AND trim(coalesce(d.value, '')) <> '' "
            "ORDER BY a.contact_id",
            [version, found],
        ).df()
        X = read_vectors(con, model_id, coded["text_hash"]) if len(coded) else np.zeros((0, 1))
    if not len(coded):
        raise TaxonomyError(f"no contact of the model has a value for {found!r}")
    made = codes_from_labels(
        unit_vectors(X), coded["value"].tolist(), coded["contact_id"].tolist(),
        threshold=threshold, min_contacts=min_contacts, source=f"attribute {found}",
    )  # fmt: skip
    if not made.codes:
        raise InvalidInputError(
            f"no value of {name.strip()!r} has {min_contacts} contacts: "
            + ", ".join(f"{v} ({n})" for v, n in list(made.too_few.items())[:10])
        )
    return made


def _created_labels(view_themes: pd.DataFrame) -> dict[str, str]:
    """Case-folded name -> theme id of the themes people created (import or `create`)."""
    made = view_themes.loc[view_themes["origin"] == "create"]
    pairs = zip(made["label"], made["theme_id"], strict=True)
    return {str(label).casefold(): str(t) for label, t in pairs}


def _not_covered(
    before: np.ndarray, routed: np.ndarray, labels: dict[str, str]
) -> list[dict[str, Any]]:
    """The themes the codes leave: most of their contacts stay, so no code names their problem
    (a gap in the team's list, or a theme the codes' wording misses), largest first."""
    rows = []
    for theme_id, contacts in Counter(str(t) for t in before if t).items():
        stay = int(np.sum((before == theme_id) & (routed == theme_id)))
        if stay >= NOT_COVERED_SHARE * contacts:
            rows.append({"theme_id": theme_id, "label": labels.get(theme_id, theme_id),
                         "contacts": contacts, "stay": stay})  # fmt: skip
    rows.sort(key=lambda r: (-r["stay"], r["theme_id"]))
    return rows[:NOT_COVERED_LISTED]


def import_reason_codes(
    settings: Settings,
    codes: list[ReasonCode],
    *,
    dry_run: bool = False,
    actor: str | None = None,
    reason: str | None = None,
    encoder: Any = None,
    now: datetime | None = None,
    too_few: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Create a theme per code (or, ``dry_run``, say what each would take); see the module.
    ``too_few``: the attribute values `codes_from_labels` left out, reported with the rest."""
    from rca.embed.encoder import encoder_from_settings

    store = Store(settings.store_path)
    with store.read() as con:
        version = require_champion(con)
        model_id = _model_id(con, version)
        existing = _created_labels(curate(fitted_themes(con, version), read_edits(con)).themes)
    todo = [c for c in codes if c.label.casefold() not in existing]
    vectors = [np.asarray(c.centroid or (), dtype=np.float64) for c in todo]
    named = [i for i, c in enumerate(todo) if c.centroid is None]  # the rest: coded contacts' mean
    if named:
        encoder = encoder or encoder_from_settings(settings)
        if encoder.model_id != model_id:
            raise TaxonomyError(f"the configured encoder is not the champion's ({model_id})")
        texts = [normalise_for_embedding(todo[i].text) for i in named]
        encoded = np.asarray(encoder.encode(texts, progress=False), dtype=np.float64)
        for i, vector in zip(named, encoded, strict=True):
            vectors[i] = vector
    at = now or datetime.now(UTC)
    with store.read() if dry_run else store.write() as con:
        if require_champion(con) != version:
            raise TaxonomyError("a new model was promoted during the import: run it again")
        edits = read_edits(con)
        fitted_view = fitted_themes(con, version)
        view = curate(fitted_view, edits)
        existing = _created_labels(view.themes)  # again, inside the write: two imports at once
        todo_now = [(c, v) for c, v in zip(todo, vectors, strict=True)
                    if c.label.casefold() not in existing]  # fmt: skip
        edit_ids = next_edit_ids(con, len(todo_now))
        first_theme = next_theme_number(con)
        new: list[Edit] = []
        for i, (code, vector) in enumerate(todo_now):
            params = {
                "label": code.label,
                "description": code.description,
                "examples": [],
                "threshold": code.threshold,
                "parent_group": code.parent_group,
                "centroid": vector.astype(np.float32).astype(float).tolist(),
                "from": code.source,
            }
            if code.coded:
                params["coded_contacts"] = code.coded
            edit = Edit(edit_ids[i], "create",
                        format_theme_id(first_theme + i), params, actor, reason, at)  # fmt: skip
            new.append(validate(edit, view))
        after = curate(fitted_view, [*edits, *new], strict=True)
        fitted = fitted_assignments(con, version)
        X = read_vectors(con, model_id, fitted["text_hash"]) if new and len(fitted) else None
        ids = fitted["theme_id"].to_numpy(dtype=object)
        cids = fitted["contact_id"].to_numpy()
        before = route(ids, X, view, cids) if X is not None else ids
        routed = route(ids, X, after, cids) if X is not None else ids
        ladder = takes_at(
            unit_vectors(X) if X is not None else np.zeros((0, 1)),
            unit_vectors([e.params["centroid"] for e in new]) if new else np.zeros((0, 1)),
        )
        if not dry_run:
            for edit in new:
                append_edit(con, edit, new_ids=[edit.theme_id], model_version=version)
            if new:
                write_members(con, version, changed_members(fitted, routed))
    if new and not dry_run:
        _mirror(settings, version, new[-1])
    labels = dict(zip(view.themes["theme_id"], view.themes["label"], strict=True))
    namesakes = {str(v).casefold(): t for t, v in labels.items()}  # any theme, fitted included
    made = {e.params["label"].casefold(): (i, e) for i, e in enumerate(new)}
    where = {str(c): i for i, c in enumerate(fitted["contact_id"])}
    rows = []
    for code in codes:
        if code.label.casefold() not in made:
            rows.append({
                "label": code.label, "status": "already a theme",
                "theme_id": existing.get(code.label.casefold()), "threshold": code.threshold,
                "contacts": None, "from_themes": [], "same_name_as": None, "at_thresholds": [],
                "coded": code.coded or None, "coded_taken": None,
            })  # fmt: skip
            continue
        i, edit = made[code.label.casefold()]
        taken = routed == edit.theme_id
        sources = Counter(str(t) for t in before[taken]).most_common(FROM_THEMES)
        rows.append({
            "label": code.label,
            "status": "would create" if dry_run else "created",
            "theme_id": None if dry_run else edit.theme_id,
            "threshold": code.threshold,
            "contacts": int(taken.sum()),
            "from_themes": [{"theme_id": t or None, "label": labels.get(t, "unassigned"),
                      "contacts": n} for t, n in sources],
            # a theme that already has this name: two themes one reader cannot tell apart
            "same_name_as": namesakes.get(code.label.casefold()),
            "at_thresholds": [{"threshold": t, "contacts": int(n)}
                              for t, n in zip(LADDER, ladder[i], strict=True)],
            # made from coded contacts: how many carry the code, and how many of them it takes
            "coded": code.coded or None,
            "coded_taken": int(sum(routed[where[m]] == edit.theme_id for m in code.members
                                   if m in where)) if code.coded else None,
        })  # fmt: skip
    taken = int(sum(r["contacts"] or 0 for r in rows))
    notes = []
    if len(fitted) and taken > MOST_CONTACTS * len(fitted):
        notes.append(
            f"the codes {'would take' if dry_run else 'took'} {taken / len(fitted):.0%} of the "
            "contacts: they replace most fitted themes; a higher threshold keeps them beside "
            "the fitted themes (see the counts at other thresholds)"
        )
    return {
        "model_version": version,
        "dry_run": dry_run,
        "notes": notes,
        "themes_not_covered": _not_covered(before, routed, labels) if new else [],
        "changed": bool(new) and not dry_run,
        "created": 0 if dry_run else len(new),
        "already": len(codes) - len(new),
        "contacts": int(len(fitted)),
        "contacts_taken": taken,
        "codes": rows,
        "too_few": [{"value": v, "contacts": n} for v, n in (too_few or {}).items()],
    }
