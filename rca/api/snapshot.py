"""One consistent, read-only view of the store and the champion model, with memoised answers.

The service never computes on the request path what it can compute once per data change: a
`Snapshot` is built (in the background, see `rca.api.state`) when the store's fingerprint
changes, holds the repeat-marked analysis frame and the champion catalog, and memoises each
answer (themes of a period, spikes, drivers, examples) the first time it is asked. Requests
read whichever snapshot is current; a new one replaces it atomically when ready, so a promotion
or an ingest never fails or slows a request in flight.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from rca.api import isolation
from rca.api.budget import ComputeGate, TooBusyError, computing_inline, running_inline
from rca.cluster.catalog import ThemeCatalog
from rca.cluster.taxonomy import CuratedView, curate
from rca.errors import NotFoundError, NotReadyError, RcaError
from rca.periods import Period
from rca.queries.repeat_drivers import (
    RepeatAnalysis,
    choose_period,
    drivers_payload,
    examples_frame,
    member_vectors,
)
from rca.queries.spike_report import BASE_ATTRIBUTES, SpikeReport, analyse, analyse_parents
from rca.queries.theme_figures import group_table, has_parent_groups, theme_series, theme_table
from rca.repeats.drivers import (
    has_customer_ids,
    measured_components,
    period_index,
    theme_period_figures,
)
from rca.repeats.examples import KINDS, case_records, in_turn
from rca.settings import Settings
from rca.store import Store
from rca.store.analysis import dimension_columns
from rca.store.curation import curated_view
from rca.store.db import first_row
from rca.text.audience import RedactionPolicy
from rca.trends.rootcause import RootCauseConfig, explain

T = TypeVar("T")
log = logging.getLogger("rca.api")
MEMO_ENTRIES = 1_024
SERIES_PERIODS = 12
DRIVER_CASES = 2  # cases shown with each driver, whatever the period (warmed per theme)

FINGERPRINT_SQL = """
SELECT (SELECT string_agg(model_version, ',') FROM models WHERE is_champion),
       (SELECT count(*) FROM contacts),
       (SELECT max(updated_at) FROM contacts),
       (SELECT count(*) FROM assignments),
       (SELECT count(*) FROM models),
       (SELECT count(*) FROM taxonomy_edits)
"""


def store_fingerprint(settings: Settings) -> str | None:
    """A short digest that changes whenever data, assignments or the champion change."""
    store = Store(settings.store_path)
    if not store.exists:
        return None
    with store.read() as con:
        row = first_row(con, FINGERPRINT_SQL)
    if row is None or row[0] is None:
        return None
    return hashlib.sha256(json.dumps(row, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ModelInfo:
    model_version: str
    registry_version: str | None
    mlflow_run_id: str | None
    trained_at: Any
    n_themes: int
    model_id: str
    metrics: dict[str, Any]


class Snapshot:
    """The champion's view of the store at one fingerprint; every answer is memoised."""

    def __init__(
        self,
        settings: Settings,
        fingerprint: str,
        analysis: RepeatAnalysis,
        model: ModelInfo,
        catalog: ThemeCatalog,
        events: pd.DataFrame,
        gate: ComputeGate | None = None,
        curation: CuratedView | None = None,
        workers: isolation.WorkerPool | None = None,
    ) -> None:
        self.settings = settings
        self.id = fingerprint
        self.built_at = time.time()
        self.analysis = analysis
        self.model = model
        self.catalog = catalog
        self.events = events
        self.themes = analysis.themes.set_index("theme_id", drop=False)
        # the taxonomy's edits (merges, accepted splits, created themes) for classifying
        self.curation = curation or curate(analysis.themes, [])
        self.gate = gate
        self._memo: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._sizes: dict[tuple[Any, ...], int] = {}  # pickled bytes of each memo entry
        self._bytes = 0
        self._max_bytes = settings.api_memo_mb * 1_048_576
        self._pending: dict[tuple[Any, ...], Future[Any]] = {}
        self._guard = threading.Lock()
        self.isolate = settings.api_cold_process and isolation.available()
        self.workers = workers if self.isolate else None
        if self.workers is not None:  # questions name the snapshot; workers have it already
            self.workers.share(f"snapshot:{fingerprint}:{id(self)}", self)

    # -- memoisation ------------------------------------------------------------------------
    def memo(self, key: tuple[Any, ...], compute: Callable[[], T], *, cheap: bool = False) -> T:
        """`compute()` once per key, even when many requests ask at the same moment.

        A request's cold computation takes one of the gate's slots and runs in a forked child
        process (`rca.api.isolation`; a thread when `RCA_API_COLD_PROCESS` is off) while the
        request waits within its budget (`rca.api.budget`); `cheap` ones (parsing a period
        name) and those asked on the refresh thread run where they are asked. A failed
        computation leaves nothing behind: the next request tries afresh.
        """
        with self._guard:
            if key in self._memo:
                self._memo.move_to_end(key)
                return _unpacked(self._memo[key])
            pending = self._pending.get(key)
            owner = pending is None
            if pending is None:
                pending = self._pending[key] = Future()
        if owner:
            if cheap or self.gate is None or running_inline():
                self._fill(key, pending, compute)
            elif not self.gate.start(
                lambda: self._fill(key, pending, compute, isolated=self.isolate)
            ):
                error = TooBusyError(
                    f"{self.gate.max_cold} answers are being computed; retry in a few seconds"
                )
                self._settle(key, pending, error=error)
        if pending.done() or self.gate is None or running_inline():
            return pending.result()
        try:
            return pending.result(timeout=self.gate.remaining())
        except FutureTimeout:
            raise TooBusyError(
                "the answer is still being computed; retry in a few seconds"
            ) from None

    def _fill(
        self,
        key: tuple[Any, ...],
        pending: Future[Any],
        compute: Callable[[], Any],
        *,
        isolated: bool = False,
    ) -> None:
        extra: dict[tuple[Any, ...], Any] = {}
        try:
            if isolated:
                try:
                    kept, extra = self._in_worker(compute)
                    value = _unpacked(kept)
                except isolation.NotPicklableError as exc:
                    log.warning("answer %s computed on a thread: %s", key[:2], exc)
                    value = kept = compute()
            else:
                value = kept = compute()
        except BaseException as exc:  # handed to every waiter; the thread itself ends quietly
            self._settle(key, pending, error=exc)
            return
        self._settle(key, pending, value=value, kept=kept, extra=extra)

    def _in_worker(self, compute: Callable[[], Any]) -> tuple[Any, dict[tuple[Any, ...], Any]]:
        """`_in_child(compute)` in one of the pool's long-lived workers, or in a child forked
        for it when the question does not pickle (or there is no pool)."""
        timeout_s = self.settings.api_cold_timeout_s
        if self.workers is not None:
            try:
                return self.workers.run(lambda: self._in_child(compute), timeout_s=timeout_s)
            except isolation.QuestionNotPicklableError as exc:
                log.info("question computed in a child of its own: %s", exc)
        return isolation.run_forked(
            lambda: self._in_child(compute), timeout_s=timeout_s, nice=self.settings.api_cold_nice
        )

    def _in_child(self, compute: Callable[[], Any]) -> tuple[Any, dict[tuple[Any, ...], Any]]:
        """In the forked child: compute, and hand back the answers found on the way too, each
        packed (`_Packed`) unless it is bytes already.

        Locks and pending futures belong to the parent's threads, which do not exist here: a
        lock one of them held at the fork would never be released, a future never resolved.
        """
        self._guard = threading.Lock()
        self._pending = {}
        before = set(self._memo)
        with computing_inline():  # nested answers are computed here, not handed to a slot
            value = compute()
        extra = {k: _packed(v) for k, v in self._memo.items() if k not in before}
        return _packed(value), extra

    def _settle(
        self,
        key: tuple[Any, ...],
        pending: Future[Any],
        *,
        value: Any = None,
        kept: Any = None,
        error: BaseException | None = None,
        extra: dict[tuple[Any, ...], Any] | None = None,
    ) -> None:
        """Hand `value` to the waiters and keep `kept` (the value, or its `_Packed` form)."""
        if error is None:
            kept = value if kept is None else kept
            size = _size_of(kept)
        with self._guard:
            self._pending.pop(key, None)
            if error is None:
                for other, other_kept in (extra or {}).items():
                    if other not in self._memo:
                        self._remember(other, other_kept, _size_of(other_kept))
                self._remember(key, kept, size)
        if error is None:
            pending.set_result(value)
        else:
            pending.set_exception(error)

    def _remember(self, key: tuple[Any, ...], value: Any, size: int) -> None:
        """Keep an answer, evicting the least recently used past the entry or byte bound."""
        self._bytes += size - self._sizes.get(key, 0)
        self._memo[key] = value
        self._memo.move_to_end(key)
        self._sizes[key] = size
        while len(self._memo) > 1 and (
            len(self._memo) > MEMO_ENTRIES or self._bytes > self._max_bytes
        ):
            old, _ = self._memo.popitem(last=False)
            self._bytes -= self._sizes.pop(old, 0)

    @property
    def memo_bytes(self) -> int:
        """Pickled size of the kept answers (what `RCA_API_MEMO_MB` bounds)."""
        return self._bytes

    @property
    def pending(self) -> int:
        """Computations in progress (what a failing request must not leave behind)."""
        with self._guard:
            return len(self._pending)

    # -- questions --------------------------------------------------------------------------
    def period(self, name: str) -> Period:
        return self.memo(
            ("period", name),
            lambda: choose_period(self.analysis, name, self.settings),
            cheap=True,
        )

    def require_theme(self, theme_id: str) -> pd.Series:
        if theme_id not in self.themes.index:
            raise NotFoundError(f"no theme {theme_id!r} in model {self.model.model_version}")
        return self.themes.loc[theme_id]

    def spikes(self, period: Period) -> SpikeReport | None:
        """The spike report of `period`, or None when it cannot be scored (no history yet)."""

        def compute() -> SpikeReport | None:
            labels = dict(zip(self.themes["theme_id"], self.themes["label"], strict=True))
            groups = self.themes.dropna(subset=["parent_group"])
            parents = dict(zip(groups["theme_id"], groups["parent_group"], strict=True))
            try:
                report = analyse(
                    self.analysis.marked, period, self.settings, labels=labels,
                    parents=parents, coverage=self.analysis.coverage,
                    hidden=set(self.themes.loc[self.themes["hidden"], "theme_id"]),
                )  # fmt: skip
            except RcaError:
                return None
            report.model_version = self.model.model_version
            return report

        return self.memo(("spikes", period.name), compute)

    def spike_status(self, period: Period) -> dict[str, str]:
        report = self.spikes(period)
        if report is None:
            return {}
        return {t: c["spike_status"] for t, c in report.driver_context().items()}

    def theme_rows(self, period: Period) -> pd.DataFrame:
        return self.memo(
            ("themes", period.name),
            lambda: theme_table(
                self.analysis.marked,
                self.analysis.themes,
                self.analysis.periods,
                period,
                spike_status=self.spike_status(period),
                compared_span=self.compared_span(period),
            ),
        )

    def group_spikes(self, period: Period) -> SpikeReport | None:
        """The spike report of the parent groups' series (None: no history to score)."""

        def compute() -> SpikeReport | None:
            try:
                report = analyse_parents(
                    self.analysis.marked, self.analysis.themes, period, self.settings,
                    coverage=self.analysis.coverage,
                )  # fmt: skip
            except RcaError:
                return None
            report.model_version = self.model.model_version
            return report

        return self.memo(("group_spikes", period.name), compute)

    def group_rows(self, period: Period) -> pd.DataFrame:
        """The parent level of `theme_rows`: each group the sum of its visible themes."""

        def compute() -> pd.DataFrame:
            report = self.group_spikes(period)
            status = report.driver_context() if report is not None else {}
            return group_table(
                self.theme_rows(period),
                self.analysis.themes,
                spike_status={k: v["spike_status"] for k, v in status.items()},
            )

        return self.memo(("groups", period.name), compute)

    @property
    def has_parent_groups(self) -> bool:
        return has_parent_groups(self.analysis.themes)

    def theme_figures(self, theme_id: str, period: Period) -> dict[str, Any]:
        """One theme's row of `theme_rows`."""
        rows = self.theme_rows(period)
        return rows.loc[rows["theme_id"] == theme_id].iloc[0].to_dict()

    def figures(self) -> pd.DataFrame:
        """Repeat figures per (period, problem theme): what the driver ranking is built on."""
        return self.memo(
            ("figures",),
            lambda: theme_period_figures(
                self.analysis.marked,
                self.analysis.periods,
                window_days=self.analysis.rules.window.total_seconds() / 86_400,
            ),
        )

    def examples(
        self,
        theme_id: str,
        kind: str,
        n: int,
        prefetched: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> pd.DataFrame:
        """``prefetched``: the theme's vectors read with others' (`member_vectors`)."""
        self.require_theme(theme_id)
        if kind not in KINDS:
            raise RcaError(f"kind must be one of {', '.join(KINDS)}")
        return self.memo(
            ("examples", theme_id, kind, n),
            lambda: examples_frame(
                self.settings,
                theme_id,
                kind=kind,
                n=n,
                analysis=self.analysis,
                prefetched=prefetched,
            ),
        )

    def ranking(self, period: Period, granularity: str = "fine") -> dict[str, Any]:
        """The full driver ranking of a period (no examples): computed once, sliced per `top`;
        `granularity="parent"` ranks the parent groups."""

        def compute() -> dict[str, Any]:
            parent = granularity == "parent"
            report = self.group_spikes(period) if parent else self.spikes(period)
            context = report.driver_context() if report is not None else {}
            return drivers_payload(
                self.settings,
                period=period.name,
                top=len(self.themes) + 1,
                context=context,
                analysis=self.analysis,
                granularity=granularity,
            )

        return self.memo(("ranking", period.name, granularity), compute)

    def drivers(
        self, period: Period, top: int, n_examples: int = DRIVER_CASES, granularity: str = "fine"
    ) -> dict[str, Any]:
        """The top drivers, each with `n_examples` representative cases (a parent group's from
        its themes, largest first, taken in turn)."""

        def known(driver: dict[str, Any]) -> list[str]:
            themes = driver.get("theme_ids") or [driver["theme_id"]]
            return [t for t in themes if t in self.themes.index]

        def compute() -> dict[str, Any]:
            payload = dict(self.ranking(period, granularity))
            drivers = payload["drivers"][:top]
            # the vectors of every theme whose cases are not known yet, in one store read
            cold = {
                t
                for driver in drivers
                for t in known(driver)
                if ("cases", t, "representative", n_examples) not in self._memo
            }
            vectors = member_vectors(self.settings, self.analysis, cold) if cold else None
            payload["drivers"] = [
                {
                    **driver,
                    "examples": in_turn(
                        [
                            self.cases(t, "representative", n_examples, prefetched=vectors)
                            for t in known(driver)
                        ],
                        n_examples,
                    ),
                }
                for driver in drivers
            ]
            return payload

        return self.memo(("drivers", period.name, top, n_examples, granularity), compute)

    def cases(
        self,
        theme_id: str,
        kind: str,
        n: int,
        prefetched: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> list[dict[str, Any]]:
        """`examples` as JSON-able records (what pages and the drivers list show)."""
        return self.memo(
            ("cases", theme_id, kind, n),
            lambda: case_records(self.examples(theme_id, kind, n, prefetched)),
        )

    def root_cause(self, theme_id: str, period: Period) -> dict[str, Any]:
        """The spike's attribution when the theme spikes; else how its mix differs from all."""
        report = self.spikes(period)
        for spike in report.spikes if report is not None else []:
            if spike["theme_id"] == theme_id:
                return {"source": "spike", **spike["root_cause"]}

        def compute() -> dict[str, Any]:
            frame = self.analysis.marked
            created = pd.to_datetime(frame["created_at"], utc=True)
            now = (created >= pd.Timestamp(period.start)) & (created < pd.Timestamp(period.end))
            mine = (frame["theme_id"] == theme_id).fillna(False)
            dims = [*BASE_ATTRIBUTES, *dimension_columns(frame)]
            result = explain(
                frame.loc[now & mine],
                dims,
                population_current=frame.loc[now & ~mine],
                config=RootCauseConfig.from_settings(self.settings),
                subject="this theme (compared with all contacts)",
            )
            return {"source": "mix", **result.as_dict()}

        return self.memo(("root_cause", theme_id, period.name), compute)

    def series(self, theme_id: str, period: Period) -> list[dict[str, Any]]:
        periods = [p for p in self.analysis.periods if p.start < period.end]
        return self.memo(
            ("series", theme_id, period.name),
            lambda: theme_series(self.analysis.marked, periods, theme_id, last=SERIES_PERIODS),
        )

    def measures(self) -> dict[str, Any]:
        """What the contacts carry: customer ids (can repeats be seen at all?) and the optional
        driver components (escalation flag, handle time). Absent is not zero: pages leave out
        what the export never had."""
        marked = self.analysis.marked
        return self.memo(
            ("measures",),
            lambda: {
                "has_customers": has_customer_ids(marked),
                "measured": sorted(measured_components(marked)),
            },
            cheap=True,
        )

    def repeat_figures(self, theme_id: str, period: Period) -> dict[str, Any]:
        figures = self.figures()
        row = figures.loc[(figures["period"] == period.name) & (figures["theme_id"] == theme_id)]
        keys = (
            "contacts",
            "repeat_contacts",
            "repeat_rate",
            "customers_2plus_repeats",
            "escalated_repeats",
            "repeat_handle_time_s",
            "one_and_done_rate",
            "incomplete",
        )
        if row.empty:
            return {k: (0 if k != "incomplete" else False) for k in keys} | {
                "repeat_rate": None,
                "one_and_done_rate": None,
            }
        record = row.iloc[0]
        return {k: _plain(record[k]) for k in keys}

    def compared_span(self, period: Period) -> timedelta | None:
        """A partial period's covered span: its growth reads that much of the period before."""
        coverage = self.analysis.coverage
        if coverage is None:
            return None
        return coverage.compared_span(period, self.settings.spike_partial_tolerance)

    def period_note(self, period: Period) -> str:
        """What a list of `period`'s figures says beside them: no data there, or partial."""
        coverage = self.analysis.coverage
        if coverage is None:
            return "the store has no contacts"
        return coverage.period_note(period, self.settings.spike_partial_tolerance)

    def period_volume(self, period: Period) -> int:
        """All contacts in `period`, unassigned included (0 for a period without data)."""

        def compute() -> int:
            created = pd.to_datetime(self.analysis.marked["created_at"], utc=True)
            start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
            return int(((created >= start) & (created < end)).sum())

        return self.memo(("volume", period.name), compute)

    def totals(self, period: Period, last: int = SERIES_PERIODS) -> list[dict[str, Any]]:
        """All contacts per period, the `last` periods up to `period`."""

        def compute() -> list[dict[str, Any]]:
            periods = [p for p in self.analysis.periods if p.start < period.end][-last:]
            idx = period_index(self.analysis.marked["created_at"], periods)
            counts = np.bincount(idx[idx >= 0], minlength=len(periods))
            return [
                {"period": p.name, "volume": int(c)} for p, c in zip(periods, counts, strict=True)
            ]

        return self.memo(("totals", period.name, last), compute)

    def flagged(self, theme_id: str, periods: list[str]) -> list[bool]:
        """Whether the spike detector flagged the theme in each named period."""
        by_name = {p.name: p for p in self.analysis.periods}
        return [
            name in by_name and theme_id in self.flagged_themes(by_name[name]) for name in periods
        ]

    def flagged_themes(self, period: Period) -> frozenset[str]:
        """The themes `spikes(period)` flags, scored without explaining them.

        A chart marks each of its twelve earlier periods; explaining every spike in each of
        them (the spike report's root causes) made a cold theme page take 8 s for marks that
        need only the flags. A report already computed answers from memory.
        """
        with self._guard:
            known = self._memo.get(("spikes", period.name))
        if known is not None:
            return frozenset(s["theme_id"] for s in _unpacked(known).spikes)

        def compute() -> frozenset[str]:
            try:
                report = analyse(
                    self.analysis.marked, period, self.settings,
                    coverage=self.analysis.coverage,
                    hidden=set(self.themes.loc[self.themes["hidden"], "theme_id"]),
                    explain_causes=False,
                )  # fmt: skip
            except RcaError:
                return frozenset()
            return frozenset(s["theme_id"] for s in report.spikes)

        return self.memo(("flags", period.name), compute)

    def member_vectors(self, theme_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(row numbers in the analysis frame, their vectors) of the theme's contacts."""

        def compute() -> tuple[np.ndarray, np.ndarray]:
            from rca.queries.repeat_drivers import cached_vectors

            marked = self.analysis.marked.reset_index(drop=True)
            rows = np.flatnonzero((marked["theme_id"] == theme_id).fillna(False).to_numpy(bool))
            with Store(self.settings.store_path).read() as con:
                found = cached_vectors(con, self.analysis.model_id, marked["text_hash"], rows)
            if found is None:
                return rows[:0], np.zeros((0, 1), np.float32)
            return found  # only the members' vectors, not a frame-sized matrix

        return self.memo(("members", theme_id), compute)

    def nearest_cases(self, theme_id: str, vector: np.ndarray, n: int = 3) -> list[dict[str, Any]]:
        """The theme's stored cases closest to `vector` (distinct texts), for the classify page."""
        rows, vectors = self.member_vectors(theme_id)
        if not len(rows) or vectors.shape[1] != len(vector):
            return []
        order = np.argsort(-(vectors @ vector), kind="stable")
        marked = self.analysis.marked.reset_index(drop=True)
        out, seen = [], set()
        for i in order:
            row = marked.iloc[rows[i]]
            if row["text"] in seen:
                continue
            seen.add(row["text"])
            out.append({"contact_id": row["contact_id"], "text": row["text"],
                        "similarity": float(vectors[i] @ vector)})  # fmt: skip
            if len(out) == n:
                break
        # shown on the classify page: the same person-facing redaction as every example case
        policy = RedactionPolicy.from_settings(self.settings, "people")
        for case, text in zip(out, policy.redact([c["text"] for c in out]), strict=True):
            case["text"] = text
        return out

    def fits(self) -> list[dict[str, Any]]:
        from rca.jobs.tracking import recent_fits

        return self.memo(("fits",), lambda: recent_fits(self.settings, 10))

    def lineage(self, theme_id: str) -> dict[str, Any]:
        """Events that name this theme across every fit, oldest first, and their summary."""
        events = self.events
        related = events["related_ids"].map(lambda ids: theme_id in _ids(ids))
        mine = events.loc[(events["theme_id"] == theme_id) | related]
        rows = [
            {
                "model_version": r["model_version"],
                "event": r["event"],
                "theme_id": r["theme_id"],
                "related_ids": _ids(r["related_ids"]),
            }
            for r in mine.to_dict(orient="records")
        ]
        own = [r for r in rows if r["theme_id"] == theme_id]
        merged_from = sorted({i for r in own if r["event"] == "merged" for i in r["related_ids"]})
        split_into: set[str] = set()
        split_from: set[str] = set()
        for r in (r for r in own if r["event"] == "split"):
            # ids come from a counter: the parts split off are newer than the parent they name
            older = {i for i in r["related_ids"] if _id_order(i) < _id_order(theme_id)}
            split_from |= older
            split_into |= set(r["related_ids"]) - older
        return {
            "events": rows,
            "merged_from": merged_from,
            "split_into": sorted(split_into),
            "split_from": sorted(split_from),
        }


def _ids(value: Any) -> list[str]:
    """DuckDB VARCHAR[] arrives as a numpy array, a list or None."""
    return [] if value is None else [str(v) for v in value]


def _id_order(theme_id: str) -> tuple[int, str]:
    """T0009 < T0010 < T10000: counter order, whatever the width."""
    return (len(theme_id), theme_id)


class _Packed:
    """An answer computed in a child, kept as its pickle until it is read.

    Unpickled, a spike report or a page of cases is thousands of small objects; kept that way
    by the hundred, they made every full garbage collection of the serving process scan them
    (pauses grew to 0.6 s within three minutes of a soak). Bytes are not scanned. Warm
    requests read the routes' JSON bytes, which are kept as they are; a packed answer is
    unpickled only by a computation that needs it (in a child) or a page that shows it.
    """

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


def _packed(value: Any) -> Any:
    """Bytes as they are; anything else pickled (itself, when it does not pickle)."""
    if isinstance(value, bytes | _Packed):
        return value
    try:
        return _Packed(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # noqa: BLE001 - such a value is kept, and sent, as it is
        return value


def _unpacked(kept: Any) -> Any:
    return pickle.loads(kept.data) if isinstance(kept, _Packed) else kept


def _size_of(kept: Any) -> int:
    """Bytes an answer takes: its pickle (0 when it does not pickle: it is kept anyway)."""
    if isinstance(kept, bytes):
        return len(kept)
    if isinstance(kept, _Packed):
        return len(kept.data)
    try:
        return len(pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # noqa: BLE001 - a size estimate must never fail an answer
        return 0


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value.item() if hasattr(value, "item") else value


def load_snapshot(
    settings: Settings,
    fingerprint: str,
    gate: ComputeGate | None = None,
    workers: isolation.WorkerPool | None = None,
) -> Snapshot:
    """Read everything a snapshot needs: the analysis, the champion's record and catalog."""
    from rca.jobs.tracking import load_store_model
    from rca.queries.repeat_drivers import load_repeat_analysis

    analysis = load_repeat_analysis(settings)
    with Store(settings.store_path).read() as con:
        row = first_row(
            con,
            "SELECT model_version, registry_version, mlflow_run_id, trained_at, n_themes, "
            "model_id, metrics FROM models WHERE model_version = ?",
            [analysis.model_version],
        )
        curation = curated_view(con, analysis.model_version)
        events = con.execute(
            "SELECT e.model_version, e.event, e.theme_id, e.related_ids FROM theme_events e "
            "JOIN models m USING (model_version) ORDER BY m.trained_at, e.theme_id"
        ).df()
    if row is None:
        raise NotReadyError(f"champion {analysis.model_version} has no model record")
    metrics = json.loads(row[6]) if isinstance(row[6], str) else (row[6] or {})
    model = ModelInfo(row[0], row[1], row[2], row[3], int(row[4]), row[5], metrics)
    catalog = load_store_model(settings, model.model_version)
    return Snapshot(
        settings, fingerprint, analysis, model, catalog, events, gate, curation, workers
    )
