"""`rca demo` end to end: generate, ingest, and each later stage it runs."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli


def test_demo_generates_and_ingests(tmp_path: Path) -> None:
    home = tmp_path / "h"
    result = run_cli(
        "demo", "--contacts", "1500", "--seed", "3", "--format", "json", "--no-fit", home=home
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    stages = {s["stage"]: s for s in payload["stages"]}
    assert stages["generate"]["items"] == 1500
    manifest = json.loads(Path(payload["manifest_file"]).read_text())
    assert manifest["config"]["seed"] == 3
    # the social channel: every message read, the brand's replies kept as context
    social = Path(payload["messaging_file"])
    social_manifest = json.loads((social.parent / "messaging_manifest.json").read_text())
    assert stages["ingest"]["items"] == 1500 + social_manifest["messages"]
    status = json.loads(run_cli("status", "--format", "json", home=home).stdout)
    assert status["contacts"] == 1500 + social_manifest["customer_messages"]
    assert status["quarantined"] == 0
