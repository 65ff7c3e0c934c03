"""Imports every command module so that each registers itself on the app."""

from rca.cli import cmd_demo, cmd_drivers, cmd_ingest, cmd_spikes, cmd_status, cmd_themes  # noqa: F401
