"""The uvicorn entry point, and `serving()`: `rca serve` as a child process on loopback.

`rca serve --workers N` starts N processes; each imports `app_from_env`, so `--home` reaches
them through RCA_HOME in the environment rather than through a module global. `serving()` is
what the real-server tests, the benchmark and the screenshot script share: start the command,
wait for /readyz, hand over the base URL, stop it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from fastapi import FastAPI

from rca.api.app import create_app
from rca.settings import get_settings


def app_from_env() -> FastAPI:
    return create_app(get_settings())


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def is_ready(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def serving(
    home: Path,
    *,
    env: Mapping[str, str] | None = None,
    log_path: Path | None = None,
    log_level: str = "warning",
    timeout_s: float = 300.0,
) -> Iterator[str]:
    """Run `rca serve --home HOME` on a free loopback port; yield its base URL once ready.

    Raises RuntimeError (with the log's tail when there is one) if the server exits or is not
    ready within `timeout_s`. Output goes to `log_path`, else nowhere.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "rca", "serve", "--home", str(home), "--port", str(port),
               "--log-level", log_level]  # fmt: skip
    full_env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
    with open(log_path or os.devnull, "w") as sink:
        proc = subprocess.Popen(command, env=full_env, stdout=sink, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout_s
        while not is_ready(base):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text()[-2000:] if log_path else ""
                raise RuntimeError(f"rca serve did not become ready at {base}: {tail}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
