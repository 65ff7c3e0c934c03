"""`rca fit`: fit themes on the store's contacts, keep their ids stable, record and promote.

The stages are pure functions from `rca.cluster`; this module is the edge that reads the
store, calls them in order, logs the run to MLflow and writes the result in one transaction.

Promotion checks (a fit becomes `champion` automatically only if all pass):
- assigned fraction >= `promote_min_assigned` (themes that cover most contacts), and
- id stability >= `promote_min_stability`: of the contacts in both this fit and the current
  champion, the share whose theme id is unchanged (a weekly refit must not rename the world).
A fit that fails is still registered; `rca promote VERSION` can promote it by hand.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from rca.cluster import granularity as grain
from rca.cluster.catalog import ThemeCatalog
from rca.cluster.held import held_proposals
from rca.cluster.hierarchy import has_parent_level, parent_groups
from rca.cluster.labels import (
    label_themes,
    problem_names,
    read_names,
    theme_companies,
    theme_descriptions,
)
from rca.cluster.lineage import match_themes
from rca.cluster.model import ThemeModel
from rca.cluster.parent_names import parent_problem_names
from rca.cluster.pins import moved_pins
from rca.cluster.representatives import representatives_for_all
from rca.cluster.stability import carved_themes, reconcile
from rca.cluster.taxonomy import Proposal, in_force
from rca.embed.cache import ensure_embeddings, read_vectors
from rca.embed.encoder import Encoder, encoder_from_settings
from rca.errors import RcaError
from rca.jobs.curate import carry_edits
from rca.jobs.tracking import (
    clean_interrupted_fits,
    discard_fit,
    log_fit,
    registry_uri,
    set_champion,
)
from rca.settings import Settings
from rca.store import Store
from rca.store.curation import (
    curated_themes,
    fitted_themes,
    read_edits,
    write_members,
    write_proposals,
)
from rca.store.themes import (
    PreviousFit,
    champion_fit,
    load_contacts,
    next_theme_number,
    set_champion_row,
    write_fit,
)
from rca.text.audience import people_name_finder
from rca.text.name_kinds import entity_reader_from_settings, remembered
from rca.text.persons import person_words
from rca.text.smalltalk import is_small_talk
from rca.text.syntax import parser_from_settings

MIN_CONTACTS = 50
REPRESENTATIVES = 5
SIMILARITY_BLOCK_ROWS = 50_000


@dataclass
class FitResult:
    catalog: ThemeCatalog
    run_id: str
    registry_version: str | None
    promoted: bool
    checks: dict[str, Any]
    metrics: dict[str, float]
    events: pd.DataFrame
    representatives: dict[str, list[str]]  # theme id -> contact ids
    seconds: dict[str, float] = field(default_factory=dict)
    proposals: list[Proposal] = field(default_factory=list)  # curated themes to review
    granularity: grain.Granularity | None = None  # the decision this fit used


def _lineage_inputs(
    prev: PreviousFit | None, contact_ids: pd.Series, labels: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Aligned (previous theme index, new theme index) over contacts in both fits."""
    if prev is None or prev.assignments.empty:
        return None, None
    index_of = {tid: i for i, tid in enumerate(prev.theme_ids)}
    old = prev.assignments.set_index("contact_id")["theme_id"]
    new = pd.Series(labels, index=contact_ids.to_numpy())
    shared = new.index.intersection(old.index)
    old_idx = old.loc[shared].map(lambda t: index_of.get(t, -1) if isinstance(t, str) else -1)
    return old_idx.to_numpy(dtype=np.int64), new.loc[shared].to_numpy(dtype=np.int64)


def _previous_ids(prev: PreviousFit | None, contact_ids: pd.Series) -> list[str]:
    """Each contact's theme id in the champion ("" if the champion never saw or assigned it)."""
    if prev is None or prev.assignments.empty:
        return [""] * len(contact_ids)
    old = prev.assignments.dropna().set_index("contact_id")["theme_id"]
    return [str(t) for t in old.reindex(contact_ids.to_numpy()).fillna("")]


def _restore_events(events: pd.DataFrame, restored: list[str]) -> pd.DataFrame:
    """Restored ids were not retired or merged away after all: record them as kept."""
    if not restored:
        return events
    out = events.copy()
    back = out["theme_id"].isin(restored) & out["event"].isin(["retired"])
    out.loc[back, "event"] = "kept"
    out["related_ids"] = [
        tuple(r for r in ids if r not in restored) if ev == "merged" else ids
        for ev, ids in zip(out["event"], out["related_ids"], strict=True)
    ]
    return out


def _seen_by(prev: PreviousFit, created_at: pd.Series) -> np.ndarray:
    """Contacts inside the window the previous fit clustered (all, for fits before it was
    stored): the others reached it through `rca assign`, so a theme of theirs is new."""
    seen = np.ones(len(created_at), dtype=bool)
    if prev.fit_since is not None:
        seen &= (created_at >= pd.Timestamp(prev.fit_since)).to_numpy()
    if prev.fit_until is not None:
        seen &= (created_at <= pd.Timestamp(prev.fit_until)).to_numpy()
    return seen


def _final_events(events: pd.DataFrame, theme_ids: list[str], old_ids: list[str]) -> pd.DataFrame:
    """Lineage rows for the themes the catalog keeps: a new or split-off theme the refit found
    but did not apply (held, or dissolved for its size) has no row and is nobody's part."""
    keep = set(theme_ids) | set(old_ids)
    gone = set(events.loc[events["event"].isin(["new", "split"]), "theme_id"]) - keep
    if not gone:
        return events
    out = events.loc[~events["theme_id"].isin(gone)].copy()
    out["related_ids"] = [tuple(r for r in ids if r not in gone) for ids in out["related_ids"]]
    lone = (out["event"] == "split") & (out["related_ids"].map(len) == 0)
    out.loc[lone, "event"] = "kept"
    return out.reset_index(drop=True)


def id_stability(previous_ids: list[str], new_ids: list[str]) -> float:
    """Share of contacts assigned by the previous champion that keep the same theme id."""
    old = np.asarray(previous_ids, dtype=object)
    seen = old != ""
    if not seen.any():
        return float("nan")
    return float((np.asarray(new_ids, dtype=object)[seen] == old[seen]).mean())


def _own_similarity(X: np.ndarray, labels: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Each contact's cosine to its theme's centroid (NaN if unassigned), in row blocks so a
    million contacts never gather a float64 centroid per row at once (3 GB)."""
    out = np.full(len(labels), np.nan)
    if len(centroids) == 0:
        return out
    for start in range(0, len(labels), SIMILARITY_BLOCK_ROWS):
        part = slice(start, start + SIMILARITY_BLOCK_ROWS)
        own = centroids[np.maximum(labels[part], 0)]
        out[part] = np.where(labels[part] >= 0, np.einsum("nd,nd->n", X[part], own), np.nan)
    return out


def count_long_contacts(encoder: Encoder, contacts: pd.DataFrame) -> int:
    """Contacts whose text is longer than the encoder's window (each distinct text once)."""
    distinct = contacts.drop_duplicates("text_hash")
    long = pd.Series(
        encoder.long_texts(distinct["text_norm"].tolist()), index=distinct["text_hash"]
    )
    return int(long.reindex(contacts["text_hash"]).sum())


def fit_themes(
    settings: Settings,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    granularity: float = 1.0,
    seed: int = 42,
    promote: str = "auto",  # auto | always | never
    say: Callable[[str], None] = lambda _m: None,
    rechoose_granularity: bool = False,
    apply_new_themes: bool | None = None,
) -> FitResult:
    """`apply_new_themes`: apply the themes the refit carves out of existing ones instead of
    proposing them (default `RCA_REFIT_NEW_THEMES`; choosing the granularity again applies them,
    since a new cut is what was asked for)."""
    theme_size_rule(settings)  # a missing optional package fails before any work
    store = Store(settings.store_path)
    store.upgrade()  # a store from an older rca: migrate before the first read
    seconds: dict[str, float] = {}
    with store.read() as con:
        contacts = load_contacts(con, since=since, until=until)
        prev = champion_fit(con)
        next_number = next_theme_number(con)
        stored_runs = {r[0] for r in con.execute("SELECT mlflow_run_id FROM models").fetchall()}
        edits = read_edits(con)
        # names before the refit, the fitted ones under the people's: for the proposals
        named_before = (
            pd.concat(
                [fitted_themes(con, prev.model_version), curated_themes(con, prev.model_version)]
            )
            if prev and edits
            else pd.DataFrame(columns=["theme_id", "label"])
        )
    # small talk ("thanks!", "Happy halloween") would only make themes nobody can act on
    chatter = is_small_talk(contacts["text"])
    if chatter.any():
        say(f"left {int(chatter.sum())} small-talk messages out of the themes (no problem stated)")
        contacts = contacts.loc[~chatter].reset_index(drop=True)
    if len(contacts) < MIN_CONTACTS:
        raise RcaError(f"only {len(contacts)} contacts in the window; need {MIN_CONTACTS}")

    for line in clean_interrupted_fits(settings, stored_runs):
        say(line)
    started = time.perf_counter()
    encoder = encoder_from_settings(settings)
    stats = ensure_embeddings(store, encoder, contacts)
    with store.read() as con:
        X = read_vectors(con, encoder.model_id, contacts["text_hash"])
    seconds["embed"] = time.perf_counter() - started
    if stats.texts:
        say(f"embedded {stats.texts} new texts at {stats.per_second:.0f} texts/s")
    long_texts = count_long_contacts(encoder, contacts)
    if long_texts:
        say(
            f"{long_texts} of {len(contacts)} contacts ({long_texts / len(contacts):.0%}) are "
            f"longer than the encoder's window of {encoder.max_length} word pieces: each is "
            "embedded whole, as the mean of overlapping windows"
        )

    started = time.perf_counter()
    # A data-chosen granularity is kept from the champion, not re-derived (rca.cluster.granularity)
    rule = settings.fit_theme_size
    fit_rows = min(len(contacts), settings.fit_max_samples or len(contacts))
    previous_grain = prev.granularity if prev else None
    kept_grain = grain.inherits(rule, previous_grain, rechoose_granularity)
    size_params = grain.model_params(
        rule, previous_grain, fit_rows, granularity, rechoose_granularity
    )
    if kept_grain and previous_grain is not None:
        say(
            f"kept the granularity {rule} chose on {previous_grain.chosen_on} (smallest theme "
            f"{size_params['min_cluster_size']} of {fit_rows} contacts); "
            "rca fit --rechoose-granularity chooses again"
        )
    model = theme_model(settings, seed, granularity, **size_params)
    texts = contacts["text"].tolist()
    # Large windows fit on a sample spread evenly over the weeks (ThemeModel.max_fit_samples).
    weeks = contacts["created_at"].dt.tz_convert(settings.tz).dt.strftime("%G-W%V").to_numpy()
    model.fit(X, texts, strata=weeks)
    seconds["cluster"] = time.perf_counter() - started
    votes = getattr(model, "size_votes_", [])
    if len(votes) > 1:
        said = ", ".join(f"{v:.0f}" for v in votes)
        say(
            f"granularity: smallest theme {model.min_cluster_size_} contacts, the median of "
            f"{len(votes)} UMAP layouts' choices ({said})"
        )
    elif votes and settings.vote_rows is not None and len(model.fit_rows_) > settings.vote_rows:
        say(
            f"granularity: this layout's choice alone (smallest theme {model.min_cluster_size_}"
            f" contacts): a fit of more than {settings.vote_rows} contacts does not vote"
        )
    say(f"found {model.n_themes_} themes in {seconds['cluster']:.1f} s")

    raw_labels = np.asarray(model.labels_, dtype=np.int64)
    members_old, members_new = _lineage_inputs(prev, contacts["contact_id"], raw_labels)
    match = match_themes(
        prev.theme_ids if prev else None,
        prev.centroids if prev else None,
        members_old,
        model.centroids_,
        members_new,
        next_id=next_number,
    )
    previous_ids = _previous_ids(prev, contacts["contact_id"])
    lineage_ids = [match.ids[i] if i >= 0 else "" for i in raw_labels]
    if apply_new_themes is None:
        apply_new_themes = settings.refit_new_themes == "apply"
    hold = (
        []
        if prev is None or apply_new_themes or rechoose_granularity
        else carved_themes(
            lineage_ids,
            previous_ids,
            prev.theme_ids,
            seen=_seen_by(prev, contacts["created_at"]),
        )
    )
    final = reconcile(
        X,
        lineage_ids,
        previous_ids,
        margin=settings.refit_margin if prev else 0.0,
        min_size=model.min_cluster_size_,
        threshold=float(model.assign_threshold_),
        hold=hold,
    )
    events = _final_events(
        _restore_events(match.events, final.restored),
        final.theme_ids,
        prev.theme_ids if prev else [],
    )
    if final.moved_back or final.restored:
        say(
            f"kept {final.moved_back} contacts in their previous theme (hysteresis), "
            f"restored {len(final.restored)} themes"
        )

    started = time.perf_counter()
    labels = final.labels
    k = len(final.theme_ids)
    # Names customers wrote ("the bill from Anna Freeman") never become keywords or names.
    people = person_words(texts, labels, people_name_finder(settings))
    parse = parser_from_settings(settings)  # no name cut out of a longer phrase
    reader = entity_reader_from_settings(settings)  # a place or a law is no company
    entities = None if reader is None else remembered(reader)
    reads = read_names(texts, labels, person_words=people)  # for the names and the notes
    named = label_themes(texts, labels, person_words=people).set_index("theme")
    sizes = np.bincount(labels[labels >= 0], minlength=k)
    keyword_lists = [list(named.loc[t, "keywords"]) if t in named.index else [] for t in range(k)]
    # Names say the problem in customers' words; c-TF-IDF keywords stay beside them.
    names = problem_names(
        texts,
        labels,
        X,
        final.centroids,
        keywords=dict(enumerate(keyword_lists)),
        embed=encoder.encode,
        person_words=people,
        parse=parse,
        companies=theme_companies(texts, labels, entities=entities, reads=reads),
    )
    label_list = [names.get(t, "") for t in range(k)]
    # template campaigns, one-company themes
    notes = theme_descriptions(texts, labels, entities=entities, reads=reads)
    # a proposal names a theme as people read it (a pinned name), and none is made for a theme
    # a person has already split (their parts take the held contacts) or decided to keep as it
    # is (`rca taxonomy keep`: the carved part stays held, silently)
    pinned = {e.theme_id: e.params["label"] for e in in_force(edits) if e.action == "rename"}
    decided_by_people = {e.theme_id for e in in_force(edits) if e.action in ("accept", "keep")}
    all_held = held_proposals(
        final.held,
        np.asarray(lineage_ids, dtype=object),
        final,
        [pinned.get(t, name) for t, name in zip(final.theme_ids, label_list, strict=True)],
        texts,
        X,
        embed=encoder.encode,
        person_words=people,
        reserved=label_list,
        parse=parse,
        entities=entities,
        contact_ids=contacts["contact_id"].astype(str).tolist(),
    )
    held = [h for h in all_held if h.parent_id not in decided_by_people]
    if all_held:
        decided = len(all_held) - len(held)
        say(
            f"held {len(all_held)} theme{'s' if len(all_held) != 1 else ''} the refit carved "
            "out of existing ones (their contacts "
            "stay where they were; `rca taxonomy list` shows them, `rca fit --apply-new-themes` "
            "applies them)"
            + (f"; {decided} of them inside themes a person split or kept, not proposed again"
               if decided else "")
        )  # fmt: skip
    groups = parent_groups(final.centroids, sizes)
    # no cut of the theme tree is a useful second level: no parent groups, and reports say so
    group_names = (
        parent_problem_names(
            texts,
            labels,
            groups,
            X,
            final.centroids,
            sizes,
            keywords=dict(enumerate(keyword_lists)),
            theme_names=label_list,
            embed=encoder.encode,
            person_words=people,
            reserved=list(pinned.values()),
            parse=parse,
        )
        if has_parent_level(groups)
        else {}
    )
    if k and not group_names:
        say("no useful parent level: every cut of the theme tree puts over half of the themes or "
            "contacts under one heading, so the themes have no parent groups")  # fmt: skip
    has_resolution = contacts["resolution"].notna().to_numpy()
    reps = representatives_for_all(
        X, labels, final.centroids, n=REPRESENTATIVES, texts=texts, prefer=has_resolution
    )
    seconds["describe"] = time.perf_counter() - started

    trained_at = datetime.now(UTC)
    version = trained_at.strftime("m%Y%m%dT%H%M%S")
    decision = grain.decision(
        rule,
        previous_grain,
        chosen_size=int(model.min_cluster_size_),
        fit_rows=fit_rows,
        granularity=granularity,
        version=version,
        kept=kept_grain,
    )
    parent_ids = [f"G{g + 1:02d}" if group_names else "" for g in groups]
    catalog = ThemeCatalog(
        model_version=version,
        encoder_id=encoder.model_id,
        trained_at=trained_at.isoformat(),
        assign_threshold=float(model.assign_threshold_),
        theme_ids=final.theme_ids,
        labels=label_list,
        keywords=keyword_lists,
        parent_ids=parent_ids,
        parent_labels={f"G{g + 1:02d}": name for g, name in group_names.items()},
        descriptions={final.theme_ids[t]: note for t, note in notes.items()},
        sizes=[int(s) for s in sizes],
        centroids=final.centroids,
    )
    id_per_contact = [catalog.theme_ids[i] if i >= 0 else "" for i in labels]
    assigned = float((labels >= 0).mean())
    stability = id_stability(previous_ids, id_per_contact)
    metrics = {
        "n_contacts": float(len(contacts)),
        "n_themes": float(k),
        "n_themes_before_reconcile": float(model.n_themes_),
        "n_parent_groups": float(len(group_names)),
        "contacts_kept_by_hysteresis": float(final.moved_back),
        "themes_restored": float(len(final.restored)),
        "themes_held": float(len(all_held)),
        "themes_held_proposed": float(len(held)),  # less those in themes people split or kept
        "contacts_in_held_themes": float(sum(h.size for h in all_held)),
        "min_theme_size": float(model.min_cluster_size_),
        "assigned_fraction": assigned,
        "unassigned_fraction": 1.0 - assigned,
        "validity": float(getattr(model, "validity_", float("nan"))),
        "id_stability": stability,
        "embed_texts_per_s": stats.per_second if stats.texts else float("nan"),
        "long_texts": float(long_texts),
        **{f"fit_seconds_{k}": float(v) for k, v in getattr(model, "fit_seconds_", {}).items()},
        **{f"seconds_{k}": v for k, v in seconds.items()},
    }
    metrics = {k: v for k, v in metrics.items() if not np.isnan(v)}
    catalog.metrics = metrics
    checks = {
        "assigned_fraction": assigned >= settings.promote_min_assigned,
        "id_stability": bool(np.isnan(stability) or stability >= settings.promote_min_stability),
    }
    assignments = pd.DataFrame(
        {
            "contact_id": contacts["contact_id"],
            "theme_id": id_per_contact,
            "similarity": _own_similarity(X, labels, final.centroids),
        }
    )
    params = {
        "encoder": encoder.model_id,
        "model_path": settings.resolved_model_path,
        "seed": seed,
        "granularity": granularity,
        "granularity_rule": decision.rule,
        "granularity_chosen_on": decision.chosen_on,
        "granularity_kept": decision.kept,
        "window_since": contacts["created_at"].min(),
        "window_until": contacts["created_at"].max(),
        **{f"model_{k}": v for k, v in model.get_params().items()},
    }
    contact_ids = contacts["contact_id"].to_numpy()
    representatives = {
        catalog.theme_ids[t]: [str(contact_ids[i]) for i in rows] for t, rows in reps.items()
    }
    # The people's corrections carry to the new ids; what the refit did to a curated theme is
    # proposed, not applied (rca.cluster.taxonomy).
    fitted = catalog.table().rename(columns={"parent_label": "parent_group"})
    fitted["centroid"] = list(catalog.centroids)
    previous_labels = dict(zip(named_before["theme_id"], named_before["label"], strict=True))
    members, proposals = carry_edits(edits, fitted, events, previous_labels, assignments, X)
    # a pinned name the refit moved nearer another theme is proposed for review, not changed
    pins = (
        moved_pins(
            pinned,
            (prev.theme_ids, prev.centroids),
            (final.theme_ids, final.centroids),
            embed=encoder.encode,
            fitted_names=dict(zip(final.theme_ids, label_list, strict=True)),
        )
        if prev is not None and pinned and prev.centroids.shape[1:] == final.centroids.shape[1:]
        else []
    )
    proposals = [*proposals, *pins, *(h.proposal for h in held)]
    for proposal in proposals:
        say(f"taxonomy: {proposal.message}")
    artifacts = {
        "themes": catalog.table(),
        "lineage": events,
        "theme_notes": pd.DataFrame(
            {
                "theme_id": [catalog.theme_ids[t] for t in notes],
                "label": [label_list[t] for t in notes],
                "note": list(notes.values()),
            }
        ),
    }
    if edits:
        metrics["taxonomy_edits"] = float(len(edits))
        metrics["taxonomy_proposals"] = float(len(proposals))
        artifacts["taxonomy_edits"] = pd.DataFrame(
            [{"edit_id": e.edit_id, "action": e.action, "theme_id": e.theme_id,
              "by": e.actor, "why": e.reason, "at": e.created_at} for e in edits]
        )  # fmt: skip
        artifacts["taxonomy_proposals"] = pd.DataFrame(
            [vars(p) for p in proposals], columns=["theme_id", "kind", "message", "related_ids"]
        )
    started = time.perf_counter()
    run_id, registry_version = log_fit(
        settings,
        catalog=catalog,
        params=params,
        metrics=metrics,
        artifacts=artifacts,
    )
    seconds["track"] = time.perf_counter() - started
    promoted = promote == "always" or (promote == "auto" and all(checks.values()))
    try:
        with store.write() as con:
            write_fit(
                con,
                catalog=catalog,
                representatives=representatives,
                events=events,
                assignments=assignments,
                model_row={
                    "model_version": version,
                    "model_id": encoder.model_id,
                    "mlflow_run_id": run_id,
                    "registry_version": registry_version,
                    "registry_uri": registry_uri(settings),
                    "trained_at": trained_at,
                    # the themes the catalog serves (after the refit hysteresis restores any),
                    # the count `rca fit` prints; the clusterer's own is in the metrics
                    "n_themes": catalog.n_themes,
                    "metrics": metrics,
                    "granularity": decision.to_json(),
                    "fit_since": contacts["created_at"].min(),
                    "fit_until": contacts["created_at"].max(),
                },
            )
            write_members(con, version, members)
            write_proposals(con, version, proposals, trained_at)
            if promoted:
                set_champion_row(con, version)
    except BaseException:
        discard_fit(settings, run_id, registry_version)  # no version the store never names
        raise
    if promoted and registry_version:
        set_champion(settings, registry_version)
    return FitResult(
        catalog=catalog,
        run_id=run_id,
        registry_version=registry_version,
        promoted=promoted,
        checks={**checks, "id_stability_value": stability, "assigned_value": assigned},
        metrics=metrics,
        events=events,
        representatives=representatives,
        seconds=seconds,
        proposals=proposals,
        granularity=decision,
    )


#: The optional package (and the extra that installs it) each data-chosen size rule needs.
THEME_SIZE_EXTRAS = {"layers": ("evoc", "layers"), "plscan": ("fast_hdbscan", "plscan")}


def theme_model(
    settings: Settings, seed: int, granularity: float = 1.0, **size_params: Any
) -> ThemeModel:
    """The ``ThemeModel`` the settings describe (assignment threshold, fit sample ceiling, the
    granularity vote), unfitted; ``size_params`` say how it picks its finest themes. One place
    for `rca fit` and `rca evaluate`, so an evaluation scores the model a fit would build."""
    return ThemeModel(
        **size_params,
        granularity=granularity,
        assign_threshold=settings.assign_threshold,
        random_state=seed,
        max_fit_samples=settings.fit_max_samples,
        size_votes=settings.fit_size_votes,
        vote_rows=settings.vote_rows,
    )


def theme_size_rule(settings: Settings) -> str | None:
    """`ThemeModel.min_cluster_size` for `RCA_FIT_THEME_SIZE` (None: the n/150 size rule).

    Checked before any work, so a missing optional package is one clear line, not an
    ImportError at the end of a long embedding step.
    """
    rule = settings.fit_theme_size
    if rule == "size":
        return None
    module, extra = THEME_SIZE_EXTRAS.get(rule, (None, None))
    if module is not None and importlib.util.find_spec(module) is None:
        raise RcaError(
            f"RCA_FIT_THEME_SIZE={rule} needs the optional package {module}: "
            f"pip install 'rca[{extra}]' (or use the default, size)"
        )
    return rule
