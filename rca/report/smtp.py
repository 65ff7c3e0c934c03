"""Sending over SMTP: STARTTLS, implicit TLS or plain; login; retries on temporary failures.

Temporary failures (a 4xx reply, a refused or dropped connection, a timeout) are retried with
exponential backoff; permanent ones (5xx, a refused login, a TLS failure) are not. Every
failure ends as one `RcaError` line naming the server and what to check. The password comes
only from `Settings` (a `SecretStr`) and appears in no message or log.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from pydantic import SecretStr

from rca.errors import RcaError
from rca.settings import Settings


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str  # starttls | ssl | none
    username: str
    password: SecretStr
    timeout_s: float
    retries: int
    backoff_s: float
    ca_file: Path | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            security=settings.smtp_security,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout_s=settings.smtp_timeout_s,
            retries=settings.smtp_retries,
            backoff_s=settings.smtp_backoff_s,
            ca_file=settings.smtp_ca_file,
        )

    @property
    def server(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class SendResult:
    attempts: int
    refused: dict[str, str]  # recipients the server refused (the others got the message)


class TemporaryFailure(Exception):
    """Worth another try: the server or the network may be fine in a moment."""


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(message.split())}".strip()


def _context(config: SmtpConfig) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(config.ca_file) if config.ca_file else None)


def _open(config: SmtpConfig) -> smtplib.SMTP:
    if config.security == "ssl":
        return smtplib.SMTP_SSL(
            config.host, config.port, timeout=config.timeout_s, context=_context(config)
        )
    client = smtplib.SMTP(config.host, config.port, timeout=config.timeout_s)
    if config.security == "starttls":
        client.ehlo()
        if not client.has_extn("starttls"):
            client.close()
            raise RcaError(
                f"SMTP server {config.server} does not offer STARTTLS; set RCA_SMTP_SECURITY "
                "to ssl (port 465) or none (a local relay only)"
            )
        client.starttls(context=_context(config))
        client.ehlo()
    return client


def _attempt(msg: EmailMessage, config: SmtpConfig) -> dict[str, str]:
    """One connection, login and send; raises TemporaryFailure or RcaError."""
    try:
        client = _open(config)
    except (ConnectionError, TimeoutError, socket.gaierror,
            smtplib.SMTPServerDisconnected) as exc:  # fmt: skip
        raise TemporaryFailure(f"unreachable ({type(exc).__name__}: {exc})") from exc
    except smtplib.SMTPResponseException as exc:  # the greeting or STARTTLS refused
        reply = _reply(exc.smtp_code, exc.smtp_error)
        if 400 <= exc.smtp_code < 500:
            raise TemporaryFailure(f"refused the connection ({reply})") from exc
        raise RcaError(f"SMTP server {config.server} refused the connection: {reply}") from exc
    except ssl.SSLError as exc:
        raise RcaError(f"TLS with SMTP server {config.server} failed: {exc.reason}") from exc
    except OSError as exc:
        raise TemporaryFailure(f"unreachable ({type(exc).__name__}: {exc})") from exc
    try:
        if config.username:
            client.login(config.username, config.password.get_secret_value())
        refused = client.send_message(msg)
        return {addr: _reply(code, text) for addr, (code, text) in refused.items()}
    except smtplib.SMTPAuthenticationError as exc:
        raise RcaError(
            f"SMTP login to {config.server} as {config.username!r} refused "
            f"({_reply(exc.smtp_code, exc.smtp_error)}): check RCA_SMTP_USERNAME and "
            "RCA_SMTP_PASSWORD"
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise RcaError(f"SMTP server {config.server}: {exc}") from exc
    except smtplib.SMTPRecipientsRefused as exc:
        replies = {a: _reply(c, t) for a, (c, t) in exc.recipients.items()}
        if all(400 <= c < 500 for c, _ in exc.recipients.values()):
            raise TemporaryFailure(f"recipients deferred: {replies}") from exc
        raise RcaError(f"SMTP server {config.server} refused every recipient: {replies}") from exc
    except smtplib.SMTPResponseException as exc:
        reply = _reply(exc.smtp_code, exc.smtp_error)
        if 400 <= exc.smtp_code < 500:
            raise TemporaryFailure(reply) from exc
        raise RcaError(f"SMTP server {config.server} refused the message: {reply}") from exc
    except (smtplib.SMTPServerDisconnected, ConnectionError, TimeoutError) as exc:
        raise TemporaryFailure(f"connection lost ({type(exc).__name__}: {exc})") from exc
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


def send(
    msg: EmailMessage,
    config: SmtpConfig,
    *,
    sleep: Callable[[float], None] = time.sleep,
    say: Callable[[str], None] | None = None,
) -> SendResult:
    """Deliver `msg`, retrying temporary failures `config.retries` times with backoff."""
    delay = config.backoff_s
    for attempt in range(1, config.retries + 2):
        try:
            refused = _attempt(msg, config)
            return SendResult(attempts=attempt, refused=refused)
        except TemporaryFailure as exc:
            if attempt > config.retries:
                if str(exc).startswith("unreachable"):
                    raise RcaError(
                        f"SMTP server {config.server} {exc} after {attempt} attempts"
                    ) from exc
                raise RcaError(
                    f"SMTP server {config.server} kept failing temporarily ({exc}) after "
                    f"{attempt} attempts"
                ) from exc
            if say:
                say(f"SMTP attempt {attempt} failed temporarily ({exc}); retrying in {delay:g} s")
            sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover
