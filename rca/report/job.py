"""`rca report` as a function: gather, render, then write a dry run or send once per list.

The order matters for idempotency: the ledger is checked before anything is sent, and a send is
recorded right after the server accepts it (a failure is recorded too, then re-raised), so a
rerun of the same period to the same list finds the row and sends nothing unless forced.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path

from rca.errors import InvalidInputError, RcaError
from rca.report import ledger
from rca.report.charts import render_chart
from rca.report.content import ReportModel
from rca.report.gather import gather_report
from rca.report.message import build_message, content_ids, sender_domain
from rca.report.render import render_html, render_text
from rca.report.smtp import SmtpConfig, send
from rca.settings import Settings
from rca.store import Store

SENT, SKIPPED, DRY_RUN, ALREADY_SENT = "sent", "skipped", "dry-run", "already-sent"


@dataclass
class ReportOutcome:
    """What one run did; `payload()` is the `rca report --format json` contract."""

    period: str
    subject: str
    n_spikes: int
    n_new_themes: int
    recipients: int
    status: str
    message_id: str | None = None
    files: list[str] = field(default_factory=list)
    bytes: int | None = None
    attempts: int | None = None
    refused: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    sent_at: datetime | None = None

    def payload(self) -> dict[str, object]:
        return {"command": "report", **self.__dict__}


@dataclass(frozen=True)
class RenderedReport:
    """Both parts and the charts, before they become a message or files."""

    model: ReportModel
    text: str
    html: str
    images: dict[str, bytes]


def parse_recipients(value: str | Sequence[str]) -> list[str]:
    """Comma-separated addresses, validated enough to catch typos (not RFC 5322 in full)."""
    items = value.split(",") if isinstance(value, str) else list(value)
    out = []
    for item in (i.strip() for i in items):
        if not item:
            continue
        _name, address = parseaddr(item)
        local, _, domain = address.rpartition("@")
        if not local or "." not in domain and domain != "localhost" or " " in address:
            raise InvalidInputError(f"--to: {item!r} is not an e-mail address")
        out.append(item)
    return out


def render_report(model: ReportModel, image_src: dict[str, str] | None = None) -> RenderedReport:
    """Charts and both parts; `image_src` defaults to the charts' file names."""
    images = {s.chart_name: render_chart(s.chart) for s in model.charted() if s.chart is not None}
    src = image_src if image_src is not None else {name: name for name in images}
    return RenderedReport(model, render_text(model), render_html(model, src), images)


def compose(
    model: ReportModel, settings: Settings, recipients: Sequence[str], now: datetime
) -> tuple[EmailMessage, RenderedReport]:
    """The message (with cid: images) and the rendered parts (with file names for a browser)."""
    rendered = render_report(model)
    cids = content_ids(list(rendered.images), sender_domain(settings.report_from))
    html = render_html(model, {name: f"cid:{cid}" for name, cid in cids.items()})
    msg = build_message(
        subject=model.subject, sender=settings.report_from, recipients=recipients,
        text=rendered.text, html=html, images=rendered.images, cids=cids, date=now,
    )  # fmt: skip
    return msg, rendered


def write_dry_run(out: Path, msg_bytes: bytes, rendered: RenderedReport) -> list[str]:
    """The .eml as it would be sent, plus an HTML a browser opens (charts as files)."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"report.eml": msg_bytes, "report.html": rendered.html.encode("utf-8"),
             "report.txt": rendered.text.encode("utf-8"), **rendered.images}  # fmt: skip
    for name, data in files.items():
        (out / name).write_bytes(data)
    return [str(out / name) for name in files]


def run_report(
    settings: Settings,
    *,
    period: str = "last-week",
    recipients: Sequence[str] = (),
    dry_run: bool = False,
    out: Path | None = None,
    force: bool = False,
    now: datetime | None = None,
    say: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ReportOutcome:
    """Build the report for `period` and send it (or write it to `out` for a dry run)."""
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    if dry_run and out is None:
        raise InvalidInputError("--dry-run needs --out DIR")
    if not dry_run and not recipients:
        raise InvalidInputError("--to: give at least one recipient (or use --dry-run --out DIR)")
    model = gather_report(settings, period, now=now).model
    outcome = ReportOutcome(
        period=model.period, subject=model.subject, n_spikes=model.n_spikes,
        n_new_themes=len(model.new_themes), recipients=len(recipients), status=SKIPPED,
    )  # fmt: skip
    if model.quiet and settings.report_when_quiet == "skip" and not dry_run:
        outcome.seconds = time.perf_counter() - started
        return outcome
    store = Store(settings.store_path)
    rhash = ledger.recipients_hash(recipients)
    if not dry_run and not force and (previous := ledger.last_sent(store, model.period, rhash)):
        outcome.status, outcome.message_id = ALREADY_SENT, previous.message_id
        outcome.sent_at = previous.sent_at
        outcome.seconds = time.perf_counter() - started
        return outcome
    to = list(recipients) or ["undisclosed-recipients:;"]
    msg, rendered = compose(model, settings, to, now)
    msg_bytes = msg.as_bytes()
    outcome.message_id, outcome.bytes = str(msg["Message-ID"]), len(msg_bytes)
    if dry_run:
        assert out is not None
        outcome.files = write_dry_run(out, msg_bytes, rendered)
        outcome.status = DRY_RUN
    else:
        try:
            result = send(msg, SmtpConfig.from_settings(settings), sleep=sleep, say=say)
        except RcaError as exc:
            ledger.record(
                store,
                period=model.period,
                rhash=rhash,
                at=datetime.now(UTC),
                status=ledger.FAILED,
                message_id=outcome.message_id,
                error=str(exc),
            )
            raise
        refused = "; ".join(f"{a}: {r}" for a, r in result.refused.items()) or None
        outcome.sent_at = datetime.now(UTC)
        ledger.record(
            store,
            period=model.period,
            rhash=rhash,
            at=outcome.sent_at,
            status=ledger.SENT,
            message_id=outcome.message_id,
            error=refused,
        )
        outcome.status, outcome.attempts, outcome.refused = SENT, result.attempts, result.refused
    outcome.seconds = time.perf_counter() - started
    return outcome
