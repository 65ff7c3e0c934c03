"""`rca serve` as a real process on a loopback port: start, query, promote, query again.

The promotion is done the way an operator does it (`rca promote` in another process); the
server must pick the new champion up without a restart while a client keeps reading, and no
request during the switch may fail. Cursor pages stay consistent across an ingest.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import copy_home, run_cli

from rca.api.auth import hash_key, new_key
from rca.api.server import free_port, is_ready, serving
from rca.ingest.records import ingest_records
from rca.jobs.fit import fit_themes
from rca.settings import Settings

pytestmark = pytest.mark.slow
READER, WRITER = new_key(), new_key()


@pytest.fixture(scope="module")
def served(fitted_demo: Settings, tmp_path_factory: pytest.TempPathFactory):
    """A copy of the fitted demo home with its own registry, served by `rca serve`."""
    settings = copy_home(fitted_demo, tmp_path_factory.mktemp("served") / "home")
    (settings.home / "mlflow.db").unlink()  # a fresh registry: this module fits and promotes
    first = fit_themes(settings, promote="auto")
    assert first.promoted and first.registry_version == "1"
    env = {
        "RCA_API_REFRESH_S": "0.5",
        "RCA_API_KEYS": f'["reader:{hash_key(READER)}:r", "writer:{hash_key(WRITER)}:w"]',
    }
    log = settings.home / "server.log"
    with serving(settings.home, env=env, log_path=log, log_level="info", timeout_s=120) as base:
        client = httpx.Client(base_url=base, headers={"X-API-Key": READER}, timeout=30)
        yield settings, client, log
        client.close()


def wait_for(predicate, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_queries_against_the_running_server(served) -> None:
    _settings, client, _log = served
    page = client.get("/v1/themes", params={"limit": 5}).json()
    assert len(page["items"]) == 5 and page["model_version"]
    theme = page["items"][0]["theme_id"]
    assert client.get(f"/v1/themes/{theme}").json()["theme_id"] == theme
    assert client.get("/v1/drivers", params={"top": 3}).status_code == 200
    assert client.get("/v1/model").json()["registry_version"] == "1"
    assert client.get("/v1/themes/T9999").status_code == 404
    assert client.get("/v1/themes", headers={"X-API-Key": ""}).status_code == 401


def test_promotion_is_picked_up_without_restart_or_failed_requests(served) -> None:
    settings, client, log = served
    second = fit_themes(settings, seed=7, promote="never")
    assert not second.promoted and second.registry_version == "2"
    statuses: list[int] = []
    stop = threading.Event()

    def keep_reading() -> None:
        with httpx.Client(base_url=str(client.base_url), headers=client.headers) as reader:
            while not stop.is_set():
                statuses.append(reader.get("/v1/drivers", params={"top": 3}).status_code)
                statuses.append(reader.get("/v1/themes", params={"limit": 3}).status_code)

    thread = threading.Thread(target=keep_reading)
    thread.start()
    try:
        result = run_cli("promote", "2", home=settings.home)
        assert result.returncode == 0, result.stderr
        assert wait_for(lambda: client.get("/v1/model").json()["registry_version"] == "2")
    finally:
        stop.set()
        thread.join()
    assert statuses and set(statuses) == {200}, statuses
    model = client.get("/v1/model").json()
    assert model["model_version"] == second.catalog.model_version
    theme = client.get("/v1/themes", params={"limit": 1}).json()["items"][0]["theme_id"]
    assert client.get(f"/v1/themes/{theme}/examples", params={"n": 2}).status_code == 200
    assert READER not in log.read_text() and WRITER not in log.read_text()


def test_pages_stay_consistent_while_contacts_arrive(served) -> None:
    settings, client, _log = served
    first = client.get("/v1/themes", params={"limit": 5}).json()
    snapshot = client.get("/v1/model").json()["snapshot"]
    records = [
        {"contact_id": f"LATE-{i}", "created_at": first["period_start"],
         "text": "My virtual card does not work for online payments", "customer_id": f"L{i}"}
        for i in range(40)
    ]  # fmt: skip
    ingest_records(records, settings)
    assert wait_for(lambda: client.get("/v1/model").json()["snapshot"] != snapshot)
    seen = [t["theme_id"] for t in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = client.get("/v1/themes", params={"limit": 5, "cursor": cursor}).json()
        seen += [t["theme_id"] for t in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == first["total_themes"]


def test_posted_contacts_are_assigned_and_served(served) -> None:
    settings, client, _log = served
    body = {
        "contacts": [
            {"contact_id": "POST-1", "created_at": "2026-11-20T09:00:00Z",
             "text": "The courier says my parcel was delivered but I never got it",
             "customer_id": "P1", "dimensions": {"market": "FR"}}
        ]
    }  # fmt: skip
    response = client.post("/v1/contacts", json=body, headers={"X-API-Key": WRITER})
    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["status"] == "inserted"
    assert response.json()["assigned"] == 1
    denied = client.post("/v1/contacts", json=body)  # the reader key
    assert denied.status_code == 403
    assert Path(settings.store_path).exists()


def test_demo_ends_serving_with_a_curl_line_that_works(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "rca", "demo", "--contacts", "800", "--seed", "2",
         "--port", str(port), "--home", str(tmp_path / "home")],
        env={**os.environ, "HF_HUB_OFFLINE": "1"}, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        line = ""
        deadline = time.monotonic() + 300
        while "curl" not in line and time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line or proc.poll() is None, "rca demo exited before serving"
        command = shlex.split(line.strip())
        assert command[0] == "curl" and f"127.0.0.1:{port}" in command[-1]
        assert wait_for(lambda: is_ready(f"http://127.0.0.1:{port}"), 120)
        if shutil.which("curl"):  # the very line a user would paste
            out = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
            payload = json.loads(out.stdout)
        else:
            headers = dict([command[command.index("-H") + 1].split(": ", 1)])
            payload = httpx.get(command[-1], headers=headers, timeout=30).json()
        assert len(payload["drivers"]) == 3 and payload["drivers"][0]["examples"]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
