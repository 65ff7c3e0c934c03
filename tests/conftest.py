"""Shared fixtures: a temporary RCA_HOME, settings for it, and small contact exports."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# pytest-xdist runs one worker per core (`make test`: -n 2 on this machine's 2 cores). Each
# worker's torch, OpenMP and numba pools would otherwise start a thread per core too, and the
# spinning pools of two workers slow both: measured 224 s -> 188 s on the fit and taxonomy
# modules. Set before numpy, torch or numba load; the CLI subprocesses tests start inherit it.
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
if _WORKERS > 1:
    _THREADS = str(max(1, (os.cpu_count() or 1) // _WORKERS))
    for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ.setdefault(_var, _THREADS)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from rca.settings import Settings  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Cold API answers compute on threads in the suite: forking this multi-GB process costs 50-100 ms
# per answer and the period fuzzers ask for thousands. The forked path (the service's default)
# has its own tests (tests/test_api_hardening.py, `forking`) and the SIGTERM test's server.
os.environ.setdefault("RCA_API_COLD_PROCESS", "false")
REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

SAMPLE_TEXTS = (
    "My card has not arrived yet, it has been two weeks.",
    "I was charged twice for the same order.",
    "How do I reset my password? The link does not work.",
    "The parcel says delivered but I never got it.",
    "Why is my refund still pending after ten days?",
    "The app crashes when I open the payments screen.",
)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "rca-home"


@pytest.fixture
def settings(home: Path) -> Settings:
    return Settings(home=home, timezone="Europe/London")


def query_store(settings: Settings, sql: str) -> list[tuple]:
    """Rows of ``sql`` on the store, read-only, the connection closed after."""
    import duckdb

    con = duckdb.connect(str(settings.store_path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def make_contacts(n: int, seed: int = 0, start: str = "2026-09-01") -> pd.DataFrame:
    """A plain, valid export of n contacts (ids C00000..), deterministic for a seed."""
    rng = np.random.default_rng(seed)
    base = pd.Timestamp(start, tz="UTC")
    minutes = np.sort(rng.integers(0, 60 * 24 * 70, size=n))
    return pd.DataFrame(
        {
            "contact_id": [f"C{i:05d}" for i in range(n)],
            "created_at": [(base + pd.Timedelta(minutes=int(m))).isoformat() for m in minutes],
            "text": [SAMPLE_TEXTS[i] for i in rng.integers(0, len(SAMPLE_TEXTS), size=n)],
            "customer_id": [f"U{i:04d}" for i in rng.integers(0, max(1, n // 2), size=n)],
            "channel": rng.choice(["chat", "email", "phone"], size=n),
            "is_escalation": rng.choice(["true", "false"], size=n, p=[0.1, 0.9]),
            "handle_time_s": rng.integers(30, 900, size=n),
            "market": rng.choice(["UK", "DE", "FR"], size=n),
            "app_version": rng.choice(["5.1.0", "5.2.0"], size=n),
        }
    )


def run_cli(
    *args: str, home: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the real `rca` console script in a subprocess."""
    command = [sys.executable, "-m", "rca", *args]
    if home is not None:
        command += ["--home", str(home)]
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    return subprocess.run(
        command, capture_output=True, text=True, env=full_env, timeout=timeout, cwd=REPO
    )


@pytest.fixture(scope="session")
def fitted_demo(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A store with a 2,500-contact demo stream ingested, fitted and assigned (real parts).

    Shared by every module that only *reads* a fitted store (API, report): treat it as
    read-only. Tests that fit, promote or ingest build their own home.
    """
    from rca.demo import DemoConfig, write_demo
    from rca.ingest.pipeline import ingest_paths
    from rca.jobs.fit import fit_themes

    root = tmp_path_factory.mktemp("fitted-demo")
    settings = Settings(home=root / "home", timezone="Europe/London")
    contacts, _truth, _manifest = write_demo(
        root / "demo", settings.datasets_dir, DemoConfig(n_contacts=2_500, seed=1)
    )
    ingest_paths([str(contacts)], settings)
    fit_themes(settings, promote="auto")
    return settings


def copy_home(settings: Settings, target: Path, **overrides: object) -> Settings:
    """A writable copy of a fitted home (store, MLflow db and artifacts) for tests that ingest.

    MLflow keeps absolute artifact paths, so registry reads still resolve in the original;
    tests that *fit* in a copy write new artifacts beside the original's and register them in
    the copy's own database, leaving the original's database untouched.
    """
    import shutil

    shutil.copytree(settings.home, target)
    return settings.model_copy(update={"home": target, **overrides})
