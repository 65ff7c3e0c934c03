"""The embedded DuckDB store: schema, connections, and the tables' read/write functions."""

from rca.store.db import Store

__all__ = ["Store"]
