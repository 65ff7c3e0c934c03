"""Command-line interface; `rca.cli.main` is the console-script entry point."""

from rca.cli.app import app, main

__all__ = ["app", "main"]
