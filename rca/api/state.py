"""What one service process holds: the current snapshot, recent ones, keys and the encoder.

A background thread looks at the store's fingerprint every `RCA_API_REFRESH_S` seconds (one
short read-only connection, so `rca ingest`, `rca fit` and `rca promote` in other processes are
never locked out for long). When it changes (new contacts, new assignments, a new champion), a
new snapshot is built and warmed beside the old one, then swapped in with one assignment: no
restart, and requests during the switch are answered from the old snapshot.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections import deque

from rca.api import isolation
from rca.api.auth import KeyRing, env_keys
from rca.api.budget import ComputeGate, computing_inline
from rca.api.snapshot import (
    DRIVER_CASES,
    SERIES_PERIODS,
    Snapshot,
    load_snapshot,
    store_fingerprint,
)
from rca.cluster.catalog import ThemeCatalog
from rca.embed.encoder import Encoder
from rca.errors import NotReadyError, RcaError
from rca.settings import Settings

log = logging.getLogger("rca.api")
#: Snapshots kept for cursors that were issued against them (pages stay consistent).
KEPT_SNAPSHOTS = 4
WARM_TOP = 10


class ServiceState:
    def __init__(self, settings: Settings, *, background: bool = True) -> None:
        self.settings = settings
        self.background = background
        self._current: Snapshot | None = None
        self._recent: deque[Snapshot] = deque(maxlen=KEPT_SNAPSHOTS)
        self._error: str | None = "not loaded yet"
        self.gate = ComputeGate(settings.api_max_cold, settings.api_request_budget_s)
        # one long-lived worker per compute slot (forked after each data change), so that a
        # cold answer costs the server no fork of its own (`rca.api.isolation`)
        self.workers = isolation.WorkerPool(
            settings.api_max_cold,
            nice=settings.api_cold_nice,
            max_answers=settings.api_cold_worker_answers,
        )
        self._keyring = KeyRing(dict(env_keys(settings)))
        self._keys_lock = threading.Lock()
        self.keyring()
        self._refresh_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.warming = False  # theme pages being precomputed in the background

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        self.refresh()
        if self.background:
            self._thread = threading.Thread(target=self._loop, name="rca-refresh", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.workers.close()
        isolation.kill_children()  # a cold computation must not outlive the service
        if self._thread is not None:
            self._thread.join(timeout=self.settings.api_shutdown_s)

    def _loop(self) -> None:
        self.warm_pages()
        self._settle()
        while not self._stop.wait(self.settings.api_refresh_s):
            if self.refresh():
                self.warm_pages()
                self._settle()

    def _settle(self) -> None:
        """After a data change and its warm-up: freeze the heap, then fork the workers (so
        they share the frozen heap and the warm answers, and no request pays for the fork)."""
        _settle_heap()
        if self.settings.api_cold_process and isolation.available() and not self._stop.is_set():
            try:
                self.workers.prefork()
            except OSError:  # e.g. out of processes: workers are forked on demand instead
                log.exception("forking the cold-computation workers failed")

    def warm_pages(self) -> None:
        """Off the request path: the fit history, every theme's page of the latest period, and
        the example cases any period's driver list shows, so first visits are as fast as later
        ones."""
        snapshot = self._current
        if snapshot is None:
            return
        self.warming = True
        with computing_inline():  # background work: no slot, no deadline
            try:
                # the model page's fit history: MLflow's first import is ~2 s, over the request
                # budget on a loaded machine (a 503 for the first visit; stop 54's sweep)
                snapshot.fits()
                latest = snapshot.period("latest")
                for period in [p for p in snapshot.analysis.periods if p.start < latest.end][
                    -SERIES_PERIODS:
                ]:
                    snapshot.spikes(period)  # the red points on every theme chart
                for theme_id in snapshot.themes["theme_id"]:
                    if self._stop.is_set() or snapshot is not self._current:
                        return
                    snapshot.root_cause(theme_id, latest)
                    snapshot.series(theme_id, latest)
                    snapshot.examples(theme_id, "representative", 10)
                    snapshot.cases(theme_id, "representative", DRIVER_CASES)
            except Exception:  # warming is an optimisation: never let it kill the refresh loop
                log.exception("warming pages failed")
            finally:
                self.warming = False

    # -- snapshots ----------------------------------------------------------------------------
    def refresh(self, *, force: bool = False) -> bool:
        """Build and swap in a new snapshot if the store changed; True when one was swapped."""
        with self._refresh_lock, computing_inline():
            try:
                fingerprint = store_fingerprint(self.settings)
                if fingerprint is None:
                    self._error = "no store or no champion model yet: run `rca demo` or `rca fit`"
                    return False
                current = self._current
                if current is not None and current.id == fingerprint and not force:
                    return False
                snapshot = load_snapshot(self.settings, fingerprint, self.gate, self.workers)
                self._warm(snapshot)
            except RcaError as exc:
                self._error = str(exc)
                log.warning("snapshot not refreshed: %s", exc)
                return False
            except Exception:  # keep serving the old snapshot whatever went wrong
                self._error = "snapshot load failed; see the server log"
                log.exception("snapshot load failed")
                return False
            self._current = snapshot
            self._recent.append(snapshot)
            self.workers.renew()  # workers forked before hold the old data's pages
            self._error = None
            log.info("serving model %s, snapshot %s", snapshot.model.model_version, snapshot.id)
            return True

    def _warm(self, snapshot: Snapshot) -> None:
        """Answer the questions every Monday starts with before the snapshot goes live."""
        latest = snapshot.period("latest")
        snapshot.theme_rows(latest)
        snapshot.drivers(latest, WARM_TOP)
        self.encoder(snapshot.catalog)

    def current(self) -> Snapshot:
        snapshot = self._current
        if snapshot is None:
            raise NotReadyError(self._error or "not loaded yet")
        return snapshot

    def by_id(self, snapshot_id: str) -> Snapshot | None:
        for snapshot in list(self._recent):
            if snapshot.id == snapshot_id:
                return snapshot
        return None

    @property
    def ready(self) -> bool:
        return self._current is not None

    @property
    def error(self) -> str | None:
        return self._error

    # -- keys and encoder ---------------------------------------------------------------------
    def keyring(self) -> KeyRing:
        """The keys, re-read when the keys file changed (a new key works without a restart).

        A file that does not parse (a typo while editing it) keeps the last good keys in
        force and is logged once per change; requests never see the file's error or path.
        """
        path = self.settings.resolved_api_keys_file
        try:
            mtime = path.stat().st_mtime if path.exists() else None
        except OSError:
            mtime = None
        if mtime != self._keyring.mtime:
            with self._keys_lock:
                if mtime != self._keyring.mtime:
                    try:
                        self._keyring = KeyRing.from_settings(self.settings)
                    except RcaError as exc:
                        log.error("API keys file not reloaded, the last good keys stay: %s", exc)
                        self._keyring = KeyRing(self._keyring.keys, mtime)
        return self._keyring

    def encoder(self, catalog: ThemeCatalog) -> Encoder:
        """The catalog's encoder, loaded once per process (see `_loaded_encoder`)."""
        return _loaded_encoder(self.settings, catalog)


_ENCODERS: dict[tuple[str, ...], Encoder] = {}
_ENCODERS_LOCK = threading.Lock()


def _settle_heap() -> None:
    """Collect once, then exempt what is left (the snapshot, the model, the warm answers) from
    later garbage collections.

    The snapshot is hundreds of thousands of objects that live until the next data change; a
    full collection scanned them all, a pause of a tenth of a second or more for whatever
    request was in flight. Frozen objects are still freed by reference counting; the next
    data change unfreezes and collects them with the old snapshot (one pause per change, on
    this thread, instead of one every few seconds).
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def _loaded_encoder(settings: Settings, catalog: ThemeCatalog) -> Encoder:
    """Model weights are immutable: one loaded copy per process, whatever the number of apps.

    `encoder_for` picks the configured backend and refuses one the catalog was not fitted with.
    """
    from rca.jobs.assign import encoder_for

    key = (
        settings.resolved_model_path,
        str(getattr(settings, "embed_backend", "")),
        settings.device,
        catalog.encoder_id,
    )
    with _ENCODERS_LOCK:
        if key not in _ENCODERS:
            encoder = encoder_for(settings, catalog)
            encoder.encode(["warm up"], progress=False)
            _ENCODERS[key] = encoder
        return _ENCODERS[key]
