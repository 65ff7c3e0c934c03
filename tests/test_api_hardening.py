"""Issue 22, the service's half: bounded work per request, fuzzed periods and cursors, sessions
that end, CSRF tokens of any alphabet, a keys file that survives a typo, and response headers.

Runs the real app (TestClient over the session's fitted demo store, read-only here); nothing
stands in for the code under test.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import multiprocessing
import os
import re
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli
from fastapi.testclient import TestClient
from pydantic import SecretStr

from rca.api import isolation
from rca.api.app import create_app
from rca.api.auth import KeyRing, add_key, hash_key, new_key, remove_key
from rca.api.budget import TooBusyError
from rca.api.isolation import ChildFailedError
from rca.api.web.routes import num
from rca.api.web.session import COOKIE
from rca.errors import NotFoundError, RcaError
from rca.settings import Settings

pytestmark = pytest.mark.slow
READER, WRITER = new_key(), new_key()
HEADERS = {"X-API-Key": READER}
#: Every GET route that takes a period, and the dashboard pages that do.
PERIOD_ROUTES = [
    "/v1/themes",
    "/v1/themes/{theme}",
    "/v1/drivers",
    "/v1/spikes",
    "/v1/escalations",
    "/v1/sop-review",
    "/ui/",
    "/ui/themes/{theme}",
    "/ui/escalations",
]
SLOWEST_S = 2.0


def hardened(settings: Settings, **overrides: object) -> Settings:
    keys = [f"reader:{hash_key(READER)}:pm", f"writer:{hash_key(WRITER)}:sop"]
    return settings.model_copy(
        update={"api_keys": keys, "ui_secret": SecretStr("test-secret"), **overrides}
    )


@pytest.fixture(scope="module")
def app(fitted_demo: Settings):
    return create_app(hardened(fitted_demo), background=False)


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def theme(client: TestClient) -> str:
    return client.get("/v1/themes", params={"limit": 1}, headers=HEADERS).json()["items"][0][
        "theme_id"
    ]


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def login(client: TestClient, key: str) -> str:
    """Log in; the session cookie's value."""
    csrf = csrf_of(client.get("/ui/login").text)
    response = client.post("/ui/login", data={"api_key": key, "csrf": csrf, "next": "/ui/"})
    assert response.status_code == 303, response.text
    return response.cookies[COOKIE]


# -- periods ----------------------------------------------------------------------------------
def fuzz_periods(newest: date, seed: int = 22) -> list[str]:
    """At least 500 period names: around the data, far past and future, boundaries, garbage."""
    rng = np.random.default_rng(seed)
    names = {"latest", "this-week", "last-week", "today", "yesterday"}
    names |= {"0001-01-01", "0001-W01", "9999-W52", "9999-12-31", "9999-W01", "2999-01-01",
              "2026-W53", "2026-W54", "2026-W00", "2026-02-30", "2026-02-29", "2024-02-29",
              "2026-13-01", "2026-00-10", "1899-12-31", "1900-01-01", "2200-12-31",
              "2201-01-01", "1677-09-21", "2262-04-11", "2262-04-12", "1970-01-01",
              "2026-W1", "26-W01", "2026-w01", "2026/01/01", "", " ", "2026-01-01T00:00",
              "２０２６-W01", "2026-W01 ", "-1-W01", "LATEST", "next-week", "2026-W01;DROP",
              "%00", "2026-01-01\x00", "1e9", "NaN", "null", "[]"}  # fmt: skip
    for offset in range(-30, 40):  # the data's own weeks and days, and just after
        day = newest + timedelta(days=7 * offset)
        names.add(f"{day.isocalendar().year}-W{day.isocalendar().week:02d}")
        names.add((newest + timedelta(days=offset)).isoformat())
    for _ in range(150):  # anywhere in time, valid or not
        year, month, day = rng.integers(0, 10_000), rng.integers(0, 14), rng.integers(0, 33)
        names.add(f"{year:04d}-{month:02d}-{day:02d}")
        names.add(f"{rng.integers(0, 10_000):04d}-W{rng.integers(0, 55):02d}")
    alphabet = list("0123456789-W/ :.Tabcé%")
    for _ in range(60):  # garbage up to the parameter's length limit
        names.add("".join(rng.choice(alphabet, size=rng.integers(1, 33))))
    return sorted(names)


def newest_contact(client: TestClient) -> date:
    snapshot = client.app.state.service.current()
    return pd.Timestamp(snapshot.analysis.marked["created_at"].max()).date()


def inside_data(client: TestClient, name: str) -> bool:
    """A well-formed period that holds contacts: its first answer computes over real data."""
    snapshot = client.app.state.service.current()
    try:
        period = snapshot.period(name)
    except Exception:
        return False
    created = pd.to_datetime(snapshot.analysis.marked["created_at"], utc=True)
    return period.end > created.min() and period.start <= created.max()


def test_period_fuzzer_no_server_error_and_none_slow(client: TestClient, theme: str) -> None:
    """Every GET route with a period, 500+ periods each (the escalation and SOP-review routes
    every other one, 350+): no 5xx, no request over 2 s.

    A period inside the data computes its first answer over real contacts (about 1 s for a
    day's driver list here, more on a busy test machine): those are held to the request
    budget instead, which is what bounds them in the service.
    """
    budget = client.app.state.service.settings.api_request_budget_s
    client.app.state.service.warm_pages()  # what `rca serve` does in the background at start
    cookie = login(client, READER)
    periods = fuzz_periods(newest_contact(client))
    assert len(periods) >= 500
    failures, slowest, outside = [], (0.0, ""), (0.0, "")
    spent = {"inside": 0.0, "outside": 0.0}
    for route in PERIOD_ROUTES:
        url = route.format(theme=theme)
        # the later routes (SOP review, escalations) on every other period: same parser,
        # same coverage rules, half the suite's time
        for period in periods if route in PERIOD_ROUTES[:4] + PERIOD_ROUTES[6:8] else periods[::2]:
            started = time.perf_counter()
            response = client.get(
                url, params={"period": period}, headers=HEADERS, cookies={COOKIE: cookie}
            )
            took = time.perf_counter() - started
            slowest = max(slowest, (took, f"{url}?period={period!r}"))
            limit = budget if inside_data(client, period) else SLOWEST_S
            if limit == SLOWEST_S:
                outside = max(outside, (took, f"{url}?period={period!r}"))
            spent["outside" if limit == SLOWEST_S else "inside"] += took
            if response.status_code >= 500 or took > limit:
                failures.append(f"{url}?period={period!r}: {response.status_code} in {took:.1f} s")
    print(f"\n{len(periods)} periods x {len(PERIOD_ROUTES)} routes; slowest {slowest}, "
          f"slowest outside the data {outside}; seconds spent {spent}")  # fmt: skip
    assert not failures, "\n".join(failures[:40])


def test_warming_holds_the_model_pages_fit_history(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The model page's fit history reads MLflow, whose first import (~2 s, each time in a
    forked child) passed the request budget on a loaded machine: a 503 for the first visit
    (stop 54's real sweep). The background warm-up computes it first, before anyone asks.
    Warming stops at its next step (the spike scores) here: the theme pages after it took
    48 s of suite time and are not what this checks."""

    class Enough(Exception):
        pass

    def stop(*_: object, **__: object) -> None:
        raise Enough

    service = client.app.state.service
    snapshot = service.current()
    monkeypatch.setattr(snapshot, "spikes", stop)
    service.warm_pages()  # logs the stop, as a failed warm-up would
    monkeypatch.undo()
    assert ("fits",) in snapshot._memo
    cookie = login(client, READER)
    page = client.get("/ui/model", headers=HEADERS, cookies={COOKIE: cookie})
    assert page.status_code == 200 and snapshot.pending == 0


def test_far_periods_answer_at_once_with_a_note(client: TestClient, theme: str) -> None:
    """The scorer once enumerated every week up to the period asked: minutes for 2200-W01."""
    for period in ("2200-W01", "2150-06-30", "2100-W52"):
        started = time.perf_counter()
        spikes = client.get("/v1/spikes", params={"period": period}, headers=HEADERS)
        themes = client.get("/v1/themes", params={"period": period}, headers=HEADERS)
        detail = client.get(f"/v1/themes/{theme}", params={"period": period}, headers=HEADERS)
        assert time.perf_counter() - started < SLOWEST_S
        assert spikes.status_code == themes.status_code == detail.status_code == 200
        body = spikes.json()
        assert body["spikes"] == [] and not body["scored"] and "newest contact" in body["note"]
        assert themes.json()["total_volume"] == 0


@pytest.mark.parametrize("period", ["0001-01-01", "9999-W52", "9999-12-31", "2999-01-01"])
def test_periods_beyond_representable_dates_are_400(client: TestClient, period: str) -> None:
    for route in ("/v1/themes", "/v1/drivers", "/v1/spikes"):
        response = client.get(route, params={"period": period}, headers=HEADERS)
        assert response.status_code == 400, response.text
        assert "outside the years" in response.json()["detail"]


# -- cursors ----------------------------------------------------------------------------------
def forge(data: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_cursor_fuzzer_forged_cursors_are_400(client: TestClient) -> None:
    first = client.get("/v1/themes", params={"limit": 2}, headers=HEADERS).json()
    good = json.loads(base64.urlsafe_b64decode(first["next_cursor"] + "=="))
    rng = np.random.default_rng(7)
    values = [1.5, -1, True, False, None, "2", "x", [], {}, 10**30, 1e308, float("nan"), 2**31 + 1]
    cursors = []
    for field in good:
        for value in values:
            cursors.append(forge({**good, field: value}))
    cursors += [forge({k: v for k, v in good.items() if k != field}) for field in good]
    cursors += [forge({**good, "extra": 1}), forge([1, 2]), forge("x"), forge(None), forge(3)]
    cursors += ["", "=", "====", "%%%", "a" * 512, "eyJ", "é", "\x00", "AAAA", "////"]
    for _ in range(250):
        raw = rng.bytes(int(rng.integers(1, 200)))
        cursors.append(base64.urlsafe_b64encode(raw).decode())
        cursors.append("".join(rng.choice(list("abcXYZ019-_=+/{}\"'é"), size=40)))
    failures = []
    for cursor in cursors:
        started = time.perf_counter()
        response = client.get("/v1/themes", params={"limit": 2, "cursor": cursor}, headers=HEADERS)
        took = time.perf_counter() - started
        if response.status_code >= 500 or took > SLOWEST_S:
            failures.append(f"{cursor[:60]!r}: {response.status_code} in {took:.2f} s")
        elif response.status_code not in (200, 400, 422):
            failures.append(f"{cursor[:60]!r}: {response.status_code}")
    assert len(cursors) >= 500
    assert not failures, "\n".join(failures[:40])
    # the cursor the service issued still works
    page = client.get(
        "/v1/themes", params={"limit": 2, "cursor": first["next_cursor"]}, headers=HEADERS
    )
    assert page.status_code == 200


# -- bounded computations ---------------------------------------------------------------------
def hold_a_slot(snapshot, key: tuple) -> threading.Event:
    """Start a computation that runs until the returned event is set (takes one slot).

    The events live in this process: the snapshot must compute on threads
    (`api_cold_process=False`); the slot logic is the same for forked computations."""
    release, started = threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        release.wait(30)

    def ask() -> None:
        with contextlib.suppress(TooBusyError):  # this thread only starts the computation
            snapshot.memo(key, slow)

    threading.Thread(target=ask, daemon=True).start()
    assert started.wait(5)
    return release


def test_cold_computations_over_the_limit_are_503_at_once(fitted_demo: Settings) -> None:
    app = create_app(
        hardened(fitted_demo, api_max_cold=1, api_cold_process=False), background=False
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        warm = c.get("/v1/themes", headers=HEADERS)
        assert warm.status_code == 200
        snapshot = app.state.service.current()
        release = hold_a_slot(snapshot, ("test", "busy"))
        try:
            started = time.perf_counter()
            cold = c.get("/v1/spikes", params={"period": "2026-W40"}, headers=HEADERS)
            assert cold.status_code == 503, cold.text
            assert cold.headers["retry-after"] and time.perf_counter() - started < 1.0
            again = c.get("/v1/themes", headers=HEADERS)  # cached answers are not held up
            assert again.status_code == 200 and again.content == warm.content
        finally:
            release.set()
        for _ in range(50):  # the slot comes back when the computation ends
            if c.get("/v1/spikes", params={"period": "2026-W40"}, headers=HEADERS).is_success:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the cold period never answered after the slot was freed")


def test_a_request_waits_at_most_its_budget(fitted_demo: Settings) -> None:
    app = create_app(
        hardened(fitted_demo, api_request_budget_s=0.3, api_cold_process=False), background=False
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        snapshot = app.state.service.current()
        period = snapshot.period("2026-W41")
        release = hold_a_slot(snapshot, ("spikes", period.name))  # the answer being computed
        try:
            started = time.perf_counter()
            response = c.get("/v1/spikes", params={"period": "2026-W41"}, headers=HEADERS)
            assert response.status_code == 503 and "retry-after" in response.headers
            assert time.perf_counter() - started < 1.5
        finally:
            release.set()


def test_failed_computations_leave_nothing_behind(client: TestClient) -> None:
    """The answer cache kept one lock per failing request, for ever."""
    snapshot = client.app.state.service.current()

    def fails() -> None:
        raise ValueError("boom")

    for i in range(200):
        with pytest.raises(ValueError):
            snapshot.memo(("test", "fails", i), fails)
    assert snapshot.pending == 0
    for i in range(50):  # bad periods through the API, likewise
        client.get("/v1/themes", params={"period": f"2026-W{60 + i}"}, headers=HEADERS)
    assert snapshot.pending == 0


# -- dashboard sessions and CSRF --------------------------------------------------------------
def _isolating(client: TestClient, *, pool: bool):
    """The module's snapshot computing cold answers in the service's long-lived workers, as it
    does by default (`pool`), or in a child forked per answer (a question that does not
    pickle); the suite otherwise computes on threads (see conftest)."""
    service = client.app.state.service
    snapshot = service.current()
    assert isolation.available()
    snapshot.isolate = True
    with snapshot._guard:  # each variant computes its own answers
        for key in [k for k in snapshot._memo if k[0] == "test"]:
            del snapshot._memo[key]
    if pool:
        snapshot.workers = service.workers
        service.workers.share(f"snapshot:test:{id(snapshot)}", snapshot)
    yield snapshot
    snapshot.isolate = False
    snapshot.workers = None
    service.workers.close()


@pytest.fixture(params=["worker", "child"])
def forking(client: TestClient, request: pytest.FixtureRequest):
    yield from _isolating(client, pool=request.param == "worker")


@pytest.fixture
def pooled(client: TestClient):
    yield from _isolating(client, pool=True)


def test_workers_are_reused_not_forked_per_answer(pooled) -> None:
    """A fork per answer stalled the server 20-40 ms each time (page tables of ~800 MB)."""
    snapshot = pooled
    first = snapshot.memo(("test", "worker-pid", 1), os.getpid)
    assert first != os.getpid()
    assert snapshot.memo(("test", "worker-pid", 2), os.getpid) == first


def test_a_question_that_does_not_pickle_gets_a_child_of_its_own(pooled) -> None:
    snapshot = pooled
    worker = snapshot.memo(("test", "worker-pid", 3), os.getpid)
    lock = threading.Lock()
    own = snapshot.memo(("test", "lock-in-question"), lambda: os.getpid() if lock else 0)
    assert own not in (os.getpid(), worker)


def test_workers_are_replaced_after_their_answers_a_crash_and_a_data_change(pooled) -> None:
    snapshot = pooled
    pool = snapshot.workers
    pool.max_answers = 2
    try:
        a = snapshot.memo(("test", "turn", 1), os.getpid)
        assert snapshot.memo(("test", "turn", 2), os.getpid) == a
        b = snapshot.memo(("test", "turn", 3), os.getpid)  # a answered twice: replaced
        assert b != a
        with pytest.raises(ChildFailedError, match="ended"):
            snapshot.memo(("test", "crash"), lambda: os._exit(3))
        c = snapshot.memo(("test", "turn", 4), os.getpid)
        assert c not in (a, b)
        pool.renew()  # the data changed: workers holding the old pages go
        assert snapshot.memo(("test", "turn", 5), os.getpid) not in (a, b, c)
        assert snapshot.pending == 0
    finally:
        pool.max_answers = 500


def test_cold_answers_are_computed_in_another_process(forking) -> None:
    """A cold computation on a thread held the interpreter lock and stalled warm requests."""
    snapshot = forking
    assert snapshot.memo(("test", "pid"), os.getpid) != os.getpid()
    assert snapshot.memo(("test", "pid"), os.getpid) != os.getpid()  # kept, not recomputed


def test_answers_found_in_the_child_come_back_with_it(forking) -> None:
    snapshot = forking
    period = snapshot.period("2026-W30")
    with snapshot._guard:  # as if never asked (other tests of this module may have)
        for kind in ("spikes", "themes"):
            snapshot._memo.pop((kind, period.name), None)
        snapshot._memo.pop(("test", "nested"), None)
    n = snapshot.memo(("test", "nested"), lambda: len(snapshot.theme_rows(period)))
    assert n == len(snapshot.themes)
    # what theme_rows needed on the way (the spike report) is kept too: no second computation
    assert ("spikes", period.name) in snapshot._memo
    assert ("themes", period.name) in snapshot._memo


def test_child_errors_arrive_as_they_were_raised(forking) -> None:
    snapshot = forking

    def not_found() -> None:
        raise NotFoundError("no such theme")

    def unpicklable() -> None:
        raise ValueError(threading.Lock())  # an argument that cannot be pickled

    with pytest.raises(NotFoundError, match="no such theme"):
        snapshot.memo(("test", "not-found"), not_found)
    with pytest.raises(RcaError, match="ValueError"):
        snapshot.memo(("test", "unpicklable-error"), unpicklable)
    # a value that cannot be sent back is computed here instead
    lock = snapshot.memo(("test", "unpicklable-value"), threading.Lock)
    assert lock.acquire(blocking=False)
    assert snapshot.pending == 0


def test_a_runaway_computation_is_killed(fitted_demo: Settings) -> None:
    app = create_app(
        hardened(fitted_demo, api_cold_process=True, api_cold_timeout_s=0.5), background=False
    )
    with TestClient(app, raise_server_exceptions=False):
        snapshot = app.state.service.current()
        started = time.monotonic()
        with pytest.raises(ChildFailedError, match="longer than"):
            snapshot.memo(("test", "runaway"), lambda: time.sleep(60))
        assert time.monotonic() - started < 5
        assert snapshot.pending == 0 and not isolation._children  # killed and reaped
        assert snapshot.memo(("test", "after"), os.getpid) != os.getpid()  # a new worker


def test_kept_answers_are_bounded_by_bytes(fitted_demo: Settings) -> None:
    app = create_app(hardened(fitted_demo, api_memo_mb=1), background=False)
    with TestClient(app, raise_server_exceptions=False):
        snapshot = app.state.service.current()
        for i in range(12):
            snapshot.memo(("test", "big", i), lambda: b"x" * 200_000, cheap=True)
        assert snapshot.memo_bytes <= 1_048_576
        assert ("test", "big", 11) in snapshot._memo and ("test", "big", 0) not in snapshot._memo


def test_non_ascii_csrf_tokens_are_400_not_500(client: TestClient) -> None:
    client.get("/ui/login")
    bad = {"api_key": READER, "csrf": "jeton-é-ü-中", "next": "/ui/"}
    assert client.post("/ui/login", data=bad).status_code == 400
    client.cookies.clear()
    cookie = login(client, WRITER)
    for path, data in (("/ui/classify", {"text": "my card", "csrf": "é"}),
                       ("/ui/taxonomy/rename", {"theme_id": "T0001", "label": "x", "csrf": "é"}),
                       ("/ui/logout", {"csrf": "日本"})):  # fmt: skip
        response = client.post(path, data=data, cookies={COOKIE: cookie})
        assert response.status_code == 400, (path, response.status_code)
    client.cookies.clear()


def test_logout_ends_the_session_even_for_a_copied_cookie(client: TestClient) -> None:
    cookie = login(client, WRITER)
    page = client.get("/ui/classify", cookies={COOKIE: cookie})
    assert page.status_code == 200
    out = client.post("/ui/logout", data={"csrf": csrf_of(page.text)}, cookies={COOKIE: cookie})
    assert out.status_code == 303
    client.cookies.clear()
    replay = client.get("/ui/", cookies={COOKIE: cookie})  # the cookie an attacker kept
    assert replay.status_code == 303 and replay.headers["location"].startswith("/ui/login")
    post = client.post("/ui/classify", data={"text": "x", "csrf": csrf_of(page.text)},
                       cookies={COOKIE: cookie})  # fmt: skip
    assert post.status_code == 303
    fresh = login(client, WRITER)  # a new login works
    assert client.get("/ui/", cookies={COOKIE: fresh}).status_code == 200
    client.cookies.clear()


def test_removing_a_key_ends_its_sessions(fitted_demo: Settings, tmp_path: Path) -> None:
    keys = tmp_path / "api_keys.toml"
    key = add_key(keys, role="reader", name="temp")
    app = create_app(hardened(fitted_demo, api_keys_file=keys), background=False)
    with TestClient(app, follow_redirects=False) as c:
        cookie = login(c, key)
        assert c.get("/ui/", cookies={COOKIE: cookie}).status_code == 200
        assert remove_key(keys, "temp") == ["temp"]
        assert c.get("/ui/", cookies={COOKIE: cookie}).status_code == 303
        assert c.get("/v1/model", headers={"X-API-Key": key}).status_code == 401


# -- the keys file ----------------------------------------------------------------------------
def test_a_broken_keys_file_keeps_the_last_good_keys(
    fitted_demo: Settings, tmp_path: Path, caplog
) -> None:
    keys = tmp_path / "api_keys.toml"
    key = add_key(keys, role="reader", name="ops")
    app = create_app(hardened(fitted_demo, api_keys_file=keys), background=False)
    with TestClient(app) as c:
        assert c.get("/v1/model", headers={"X-API-Key": key}).status_code == 200
        keys.write_text(keys.read_text() + "\n[[keys]\nname = 'typo", encoding="utf-8")
        with caplog.at_level(logging.ERROR, logger="rca.api"):
            response = c.get("/v1/model", headers={"X-API-Key": key})
        assert response.status_code == 200
        assert str(tmp_path) not in c.get("/v1/model", headers={"X-API-Key": "nope"}).text
        assert "last good keys" in caplog.text
        other = add_key(keys.with_name("fixed.toml"), role="reader", name="later")
        keys.write_text(keys.with_name("fixed.toml").read_text(), encoding="utf-8")
        assert c.get("/v1/model", headers={"X-API-Key": other}).status_code == 200
        assert c.get("/v1/model", headers={"X-API-Key": key}).status_code == 401


def _add_one(args: tuple[str, int]) -> str:
    return hash_key(add_key(Path(args[0]), role="reader", name=f"k{args[1]}"))


def test_parallel_adds_keep_every_key(tmp_path: Path) -> None:
    path = tmp_path / "api_keys.toml"
    with multiprocessing.get_context("fork").Pool(8) as pool:
        digests = pool.map(_add_one, [(str(path), i) for i in range(32)])
    ring = KeyRing.from_settings(Settings(home=tmp_path, api_keys_file=path))
    assert set(digests) <= set(ring.keys) and len(ring.keys) == 32


def test_apikey_remove_command(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert run_cli("apikey", "add", "--name", "bot", "--role", "writer", home=home).returncode == 0
    removed = run_cli("apikey", "remove", "bot", "--format", "json", home=home)
    assert removed.returncode == 0, removed.stderr
    assert json.loads(removed.stdout)["removed"] == ["bot"]
    listed = json.loads(run_cli("apikey", "list", "--format", "json", home=home).stdout)
    assert listed["keys"] == []
    assert run_cli("apikey", "remove", "bot", home=home).returncode == 1


# -- headers and figures ----------------------------------------------------------------------
def test_security_headers(client: TestClient, theme: str) -> None:
    login_page = client.get("/ui/login")
    csp = login_page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    cookie = login(client, READER)
    for url in ("/ui/", f"/ui/themes/{theme}", "/ui/model"):
        page = client.get(url, cookies={COOKIE: cookie})
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "same-origin"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    api = client.get("/v1/themes", headers=HEADERS)
    assert api.headers["cache-control"] == "no-store"
    assert api.headers["x-content-type-options"] == "nosniff"
    client.cookies.clear()


def test_pages_never_show_nan(client: TestClient, theme: str) -> None:
    assert num(float("nan"), "%.0f%%") == "—" and num(None) == "—"
    assert num(np.float32("nan"), "%.2f") == "—" and num(0.5, "%.2f") == "0.50"
    cookie = login(client, READER)
    snapshot = client.app.state.service.current()
    urls = ["/ui/model", "/ui/?period=1900-W02", f"/ui/themes/{theme}?period=1900-01-01"]
    urls += [f"/ui/themes/{t}" for t in snapshot.themes["theme_id"][:6]]
    urls += [f"/ui/?period={p.name}" for p in snapshot.analysis.periods[-3:]]
    for url in urls:
        page = client.get(url, cookies={COOKIE: cookie})
        assert page.status_code == 200, (url, page.status_code, page.text[-300:])
        text = re.sub(r"<[^>]+>", " ", page.text)
        assert not re.search(r"\bnan\b", text, re.IGNORECASE), url
    client.cookies.clear()


def test_a_theme_without_a_note_has_none_when_others_have_one() -> None:
    """pandas 3 keeps NaN in a string column where None is asked for: every theme page without
    a note printed "nan" once one theme of the model had a note (caught in CI)."""
    from rca.periods import periods_between
    from rca.queries.theme_figures import theme_table

    tz = ZoneInfo("Europe/London")
    created = pd.Timestamp("2026-11-02 10:00", tz="UTC")
    marked = pd.DataFrame(
        {"contact_id": ["c1", "c2"], "created_at": [created, created], "customer_id": [None, None],
         "theme_id": ["T1", "T2"], "repeat_status": ["first", "first"],
         "is_escalation": [False, False], "handle_time_s": [60.0, 60.0]}
    )  # fmt: skip
    themes = pd.DataFrame(
        {"theme_id": ["T1", "T2"], "label": ["a", "b"], "keywords": [["a"], ["b"]],
         "parent_group": ["G", "G"],
         "description": pd.array(["Template text: 80% …", None], dtype="str")}
    )  # fmt: skip
    periods = periods_between(created, created, "week", tz)
    table = theme_table(marked, themes, periods, periods[0])
    assert table["description"].tolist() == ["Template text: 80% …", None]


# -- terminal output --------------------------------------------------------------------------
def test_cli_tables_print_customer_text_as_written(capsys) -> None:
    """`[/]` crashed `rca examples`, `[link=…]` became a hyperlink, escapes reached the tty."""
    from rca.cli.output import Format, emit

    hostile = (
        "refund [/] now [link=https://evil.example]click[/link] \x1b]0;owned\x07\x1b[2J[bold]x\\"
    )
    emit({}, [{"text": hostile, "n": 1}], Format.table, title="cases [/] of [red]T1")
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "[/]" in out and "[link=https://evil.example]click[/link]" in out
    assert "[bold]x\\" in out and "cases [/] of [red]T1" in out


# -- shutdown ---------------------------------------------------------------------------------
def test_sigterm_stops_the_service_promptly_under_load(fitted_demo: Settings, tmp_path: Path):
    """SIGTERM once waited minutes for a computation in flight; now requests get
    RCA_API_SHUTDOWN_S, and the forked children computing cold answers are killed with it."""
    import signal
    import subprocess
    import sys

    import httpx

    from rca.api.server import free_port, is_ready

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    keys = f'["reader:{hash_key(READER)}:r"]'
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RCA_API_SHUTDOWN_S": "1", "RCA_API_KEYS": keys,
           "RCA_API_COLD_PROCESS": "true"}  # fmt: skip
    command = [sys.executable, "-m", "rca", "serve", "--home", str(fitted_demo.home),
               "--port", str(port), "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        while not is_ready(base):
            assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.3)
        latest = httpx.get(f"{base}/v1/themes", headers=HEADERS, params={"limit": 1}).json()
        newest = date.fromisoformat(latest["period_start"][:10])

        def ask(i: int) -> None:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"{base}/ui/", headers=HEADERS, timeout=30,
                          params={"period": (newest - timedelta(days=i)).isoformat()})  # fmt: skip
                httpx.get(f"{base}/v1/drivers", headers=HEADERS, timeout=30,
                          params={"period": (newest - timedelta(days=i)).isoformat()})  # fmt: skip

        threads = [threading.Thread(target=ask, args=(i,), daemon=True) for i in range(12)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)  # cold computations in flight
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        assert time.monotonic() - started < 10
        time.sleep(0.5)  # children share the server's command line: none may be left running
        assert not _serving_on(port), "cold computations outlived the service"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _serving_on(port: int) -> list[int]:
    """Live processes (not zombies) whose command line is `rca serve … --port PORT`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if b"serve" in command and str(port).encode() in command and state != "Z":
            found.append(int(entry.name))
    return found


#: Hostile values for the taxonomy's writes (issue 19): blanks, unknown and malformed ids,
#: ids of the wrong type, control characters, very long and non-ASCII names.
TAXONOMY_VALUES = ["", "   ", "T9999", "T0001", "../etc", "T0001\x00", "é" * 119, "x" * 5000,
                   None, 7, [], {"a": 1}, "日本語の名前", "E0001", "E9999"]  # fmt: skip
TAXONOMY_ROUTES = {
    "rename": ("theme_id", "label"),
    "merge": ("target", "sources"),
    "split": ("theme_id", "parts"),
    "accept": ("preview_id",),
    "move": ("theme_id", "parent_group", "ungroup"),
    "hide": ("theme_id",),
    "unhide": ("theme_id",),
    "create": ("label", "examples", "threshold"),
    "reassign": ("contact_ids", "theme_id", "teach", "threshold"),
    "reassign-cases": ("rows", "dry_run", "teach"),
}


def test_taxonomy_fuzzer_no_server_error(fitted_demo: Settings, tmp_path: Path) -> None:
    """Every taxonomy write, with every hostile value in every field: a 4xx that says why or
    a 200, never a 5xx; a reader's write is 403 and changes nothing."""
    from conftest import copy_home

    home = copy_home(fitted_demo, tmp_path / "home")
    app = create_app(hardened(home, api_assign_on_ingest=False), background=False)
    writer = {"X-API-Key": WRITER}
    rng = np.random.default_rng(19)
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as c:
        theme = c.get("/v1/taxonomy", headers=HEADERS).json()["themes"][0]["theme_id"]
        values = [*TAXONOMY_VALUES, theme, [theme], [theme, theme]]
        for route, fields in TAXONOMY_ROUTES.items():
            for _ in range(12):
                body = {f: values[rng.integers(len(values))] for f in fields}
                response = c.post(f"/v1/taxonomy/{route}", json=body, headers=writer)
                assert response.status_code < 500, (route, body, response.text)
            assert c.post(f"/v1/taxonomy/{route}", content=b"{not json", headers=writer
                          ).status_code == 422  # fmt: skip
        same = c.post("/v1/taxonomy/merge", json={"target": theme, "sources": [theme]},
                      headers=writer)  # fmt: skip
        assert same.status_code == 400 and "with itself" in same.json()["detail"]
        unknown = c.post("/v1/taxonomy/rename", json={"theme_id": "T9999", "label": "x"},
                         headers=writer)  # fmt: skip
        assert unknown.status_code == 404
        from rca.store import Store

        with Store(home.store_path).read() as con:
            (contact,) = con.execute(
                "SELECT contact_id FROM assignments WHERE theme_id <> ? "
                "ORDER BY contact_id LIMIT 1", [theme]).fetchone()  # fmt: skip
        filed = c.post(
            "/v1/taxonomy/reassign",
            headers=writer,
            json={"contact_ids": [contact], "theme_id": theme, "why": "misfiled"},
        )
        assert filed.status_code == 200, filed.text
        assert filed.json()["moved"] == 1 and filed.json()["edit"]["action"] == "reassign"
        assert (
            c.post(
                "/v1/taxonomy/reassign",
                headers=writer,  # a repeat changes nothing
                json={"contact_ids": [contact], "theme_id": theme},
            ).json()["changed"]
            is False
        )
        taught = c.post(
            "/v1/taxonomy/reassign",
            headers=writer,  # and contacts like it: a new edit, even for a filed contact
            json={"contact_ids": [contact], "theme_id": theme, "teach": True, "threshold": 0.9},
        )
        assert taught.status_code == 200 and taught.json()["changed"], taught.text
        assert taught.json()["learnt"] >= 0 and taught.json()["edit"]["params"] == {
            "contacts": [contact], "teach": True, "threshold": 0.9
        }  # fmt: skip
        again = c.post(
            "/v1/taxonomy/reassign",
            headers=writer,  # the same lesson again changes nothing
            json={"contact_ids": [contact], "theme_id": theme, "teach": True, "threshold": 0.9},
        )
        assert again.status_code == 200 and again.json()["changed"] is False
        loose = c.post(
            "/v1/taxonomy/reassign",
            headers=writer,
            json={"contact_ids": [contact], "theme_id": theme, "threshold": 0.9},
        )
        assert loose.status_code == 422 and "threshold is for teach" in loose.text
        missing = c.post(
            "/v1/taxonomy/reassign",
            headers=writer,
            json={"contact_ids": [contact, "C-nope"], "theme_id": theme},
        )
        assert missing.status_code == 404 and "C-nope" in missing.json()["detail"]
        edits = c.get("/v1/taxonomy/history", headers=HEADERS).json()["edits"]
        refused = c.post("/v1/taxonomy/hide", json={"theme_id": theme}, headers=HEADERS)
        assert refused.status_code == 403
        assert c.get("/v1/taxonomy/history", headers=HEADERS).json()["edits"] == edits
