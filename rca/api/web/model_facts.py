"""The serving model's fit metrics as a person reads them on the Model page.

`rca fit` logs its metrics to MLflow under short keys (`n_themes_before_reconcile`,
`fit_seconds_vote`); the page showed those keys and raw floats (0.002476). A program manager
reads "Unassigned 0.2 %". Each known key gets a label, a unit and a section here; a key this
module does not know (a newer fit's) is still shown, under "Other", by its key, so nothing the
run logged is hidden. The key stays on each row for whoever looks it up in MLflow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

#: (section, key, label, kind); kind: count, percent (a fraction), number, seconds, per_second.
METRIC_ROWS: tuple[tuple[str, str, str, str], ...] = (
    ("Data", "n_contacts", "Contacts fitted", "count"),
    ("Data", "long_texts", "Texts longer than the model's window (embedded in windows)", "count"),
    ("Themes", "n_themes", "Themes", "count"),
    (
        "Themes",
        "n_themes_before_reconcile",
        "Themes the clustering found, before matching the previous model's",
        "count",
    ),  # fmt: skip
    ("Themes", "n_parent_groups", "Parent groups", "count"),
    ("Themes", "min_theme_size", "Smallest theme the data chose (contacts)", "count"),
    ("Themes", "assigned_fraction", "Contacts in a theme", "percent"),
    ("Themes", "unassigned_fraction", "Contacts in no theme", "percent"),
    ("Themes", "validity", "Cluster validity (silhouette, -1 to 1)", "number"),
    ("Across refits", "id_stability", "Contacts keeping their theme id", "percent"),
    (
        "Across refits",
        "contacts_kept_by_hysteresis",
        "Contacts kept in their theme by hysteresis",
        "count",
    ),  # fmt: skip
    ("Across refits", "themes_restored", "Themes restored from the previous model", "count"),
    ("Across refits", "themes_held", "New themes carved out of existing ones, held", "count"),
    ("Across refits", "themes_held_proposed", "... of them proposed to a person", "count"),
    ("Across refits", "contacts_in_held_themes", "Contacts in held themes", "count"),
    ("Across refits", "taxonomy_edits", "Taxonomy edits carried over", "count"),
    ("Across refits", "taxonomy_proposals", "Proposals waiting for a person", "count"),
    ("Time", "seconds_embed", "Embedding", "seconds"),
    ("Time", "embed_texts_per_s", "Embedding speed", "per_second"),
    ("Time", "seconds_cluster", "Clustering", "seconds"),
    ("Time", "fit_seconds_reduce", "... layout (UMAP)", "seconds"),
    ("Time", "fit_seconds_vote", "... granularity vote", "seconds"),
    ("Time", "fit_seconds_density", "... density clustering", "seconds"),
    ("Time", "fit_seconds_merge", "... merging near-duplicate themes", "seconds"),
    ("Time", "fit_seconds_assign", "... assigning the rest", "seconds"),
    ("Time", "fit_seconds_validity", "... validity", "seconds"),
    ("Time", "fit_seconds_total", "... in all", "seconds"),
    ("Time", "seconds_describe", "Names, keywords and examples", "seconds"),
)
OTHER = "Other"


def _shown(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if not isinstance(value, int | float):
        return str(value)
    if kind == "count":
        return f"{value:,.0f}"
    if kind == "percent":
        return f"{100 * value:.1f} %"
    if kind == "seconds":
        return f"{value:,.1f} s" if value >= 0.1 else f"{value:.3f} s"
    if kind == "per_second":
        return f"{value:,.1f} texts/s"
    return f"{value:.3f}"


#: A first fit has no id stability (nothing to compare with): its refit rows are all zeros.
FIRST_FIT = "The store's first fit: there was no earlier model to carry themes from."


def metric_sections(metrics: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The metrics in reading order as sections (``name``, ``note``, ``rows``); each row has
    label, value and key. Sections without a metric are left out; unknown keys go under
    "Other", sorted; a first fit's refit section is a note, not a column of zeros."""
    rows: dict[str, list[dict[str, str]]] = {}
    known = set()
    for section, key, label, kind in METRIC_ROWS:
        known.add(key)
        if key in metrics:
            row = {"label": label, "value": _shown(metrics[key], kind), "key": key}
            rows.setdefault(section, []).append(row)
    for key in sorted(set(metrics) - known):
        row = {"label": key, "value": _shown(metrics[key], "number"), "key": key}
        rows.setdefault(OTHER, []).append(row)
    first = "id_stability" not in metrics
    return [
        {"name": name, "note": FIRST_FIT if first and name == "Across refits" else "",
         "rows": [] if first and name == "Across refits" else shown}
        for name, shown in rows.items()
    ]  # fmt: skip
