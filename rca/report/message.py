"""The MIME message: multipart/alternative of plain text and an HTML part with inline charts.

Structure (what mail clients expect for inline images):

    multipart/alternative
    ├── text/plain
    └── multipart/related
        ├── text/html          <img src="cid:…">
        └── image/png …        Content-ID: <…>, inline

Pure apart from the random Message-ID and Content-IDs (unique across sends).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

#: Mail-client hints that this is a machine-sent report (no out-of-office replies to it).
AUTO_HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}


def sender_domain(sender: str) -> str:
    """The domain for Message-ID and Content-IDs: the sender's, so ids look like its mail."""
    domain = sender.rsplit("@", 1)[-1].strip(" >") if "@" in sender else ""
    return domain or "rca.local"


def new_message_id(sender: str) -> str:
    """A globally unique id short enough that the header is never folded."""
    return f"<rca-report.{secrets.token_hex(10)}@{sender_domain(sender)}>"


def content_ids(names: Sequence[str], domain: str) -> dict[str, str]:
    """A unique Content-ID (without angle brackets) for each chart name: short random ids, so
    the header stays on one line (some clients mishandle folded Content-IDs)."""
    return {name: f"{name.rsplit('.', 1)[0]}.{secrets.token_hex(6)}@{domain}" for name in names}


def build_message(
    *,
    subject: str,
    sender: str,
    recipients: Sequence[str],
    text: str,
    html: str,
    images: Mapping[str, bytes],
    cids: Mapping[str, str],
    date: datetime,
    message_id: str | None = None,
) -> EmailMessage:
    """Assemble the message; `html` must reference each image as `cid:{cids[name]}`."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id or new_message_id(sender)
    for name, value in AUTO_HEADERS.items():
        msg[name] = value
    msg.set_content(text, subtype="plain", charset="utf-8")
    msg.add_alternative(html, subtype="html", charset="utf-8")
    html_part = msg.get_payload()[1]
    for name, data in images.items():
        html_part.add_related(
            data, maintype="image", subtype="png", cid=f"<{cids[name]}>", filename=name,
            disposition="inline",
        )  # fmt: skip
    return msg
