"""Counted nouns ("1 edit", "3 edits") for every surface: the CLI, the pages and the report say
a count the same way, and "1 edits" is the first thing a reader notices."""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun, plural unless ``n`` is 1 (``plural`` for irregular nouns)."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"
