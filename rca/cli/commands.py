"""Imports every command module so that each registers itself on the app."""

from rca.cli import cmd_demo, cmd_ingest, cmd_status, cmd_themes  # noqa: F401
