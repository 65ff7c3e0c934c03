"""Imports every command module so that each registers itself on the app."""

from rca.cli import (  # noqa: F401
    cmd_demo,
    cmd_drivers,
    cmd_ingest,
    cmd_refresh,
    cmd_report,
    cmd_serve,
    cmd_sop,
    cmd_spikes,
    cmd_status,
    cmd_taxonomy,
    cmd_themes,
)
