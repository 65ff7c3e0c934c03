"""The two mail parts from one model: HTML (Jinja2, inline styles, tables) and plain text.

Both templates read the same `ReportModel`, so the parts cannot disagree about the facts. The
HTML has no scripts, no external CSS and no web fonts: mail clients strip them. Images are
referenced through `image_src` (chart name → `cid:…` for the mail, a file name for the dry-run
copy a browser opens), so one template serves both.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from rca.report.content import ReportModel

SEVERITY_COLOURS = {"high": "#b03a2e", "medium": "#b9770e", "low": "#566573"}


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _growth(value: float) -> str:
    return f"×{value:.1f}" if value < 100 else "×99+"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


@cache
def _environment(html: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("rca.report", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default=html),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(count=_count, growth=_growth, percent=_percent)
    env.globals["severity_colours"] = SEVERITY_COLOURS
    return env


def render_html(model: ReportModel, image_src: Mapping[str, str]) -> str:
    """The HTML part; `image_src` maps each chart's name to its `src` (cid: or a file)."""
    return _environment(True).get_template("report.html").render(m=model, image_src=image_src)


def render_text(model: ReportModel) -> str:
    """The plain-text part: the same facts, readable in a terminal or a watch."""
    return _environment(False).get_template("report.txt").render(m=model)
