"""`rca report` end to end through a real SMTP server (aiosmtpd on a loopback port).

The report is read from a copy of the shared fitted demo store (the copy is writable, so the
`reports_sent` ledger can be exercised); the received bytes are parsed back and checked.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import socket
import ssl
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from html import unescape
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from rca.errors import RcaError
from rca.report import ledger
from rca.report.job import ALREADY_SENT, DRY_RUN, SENT, run_report
from rca.settings import Settings
from rca.store import Store
from tests.conftest import run_cli

USER, PASSWORD = "reporter", "s3cret-Pa55"
TO = ["pm.one@example.com", "PM.Two@example.com"]
NOW = dt.datetime(2026, 11, 23, 7, 0, tzinfo=dt.UTC)
PERIOD = "2026-W47"  # the demo stream's last full week
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE = re.compile(r"\+\d{1,3}[\s-]?\(?\d{2,4}\)?[\s-]?\d{3,4}[\s-]?\d{3,4}")
CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b")


class Recorder:
    """Collects delivered messages; answers 451 to the first `defer` DATA commands."""

    def __init__(self, defer: int = 0) -> None:
        self.defer = defer
        self.deferred = 0
        self.messages: list[EmailMessage] = []
        self.envelopes: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001
        if self.deferred < self.defer:
            self.deferred += 1
            return "451 4.3.0 Mailbox busy, try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.envelopes.append(list(envelope.rcpt_tos))
        return "250 2.0.0 OK"


def _authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:  # noqa: ANN001
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(handler: Recorder, **kwargs: object) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), **kwargs)
    controller.start()
    return controller


@pytest.fixture(scope="module")
def report_home(fitted_demo: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A writable copy of the shared fitted store (the report touches only the DuckDB file)."""
    home = tmp_path_factory.mktemp("report") / "home"
    home.mkdir()
    shutil.copy2(fitted_demo.store_path, home / fitted_demo.store_path.name)
    return home


def _settings(home: Path, port: int, **extra: object) -> Settings:
    values: dict[str, object] = {
        "home": home, "timezone": "Europe/London", "smtp_host": "127.0.0.1", "smtp_port": port,
        "smtp_security": "none", "smtp_backoff_s": 0.01, "smtp_retries": 2, "smtp_timeout_s": 5,
        "report_from": "rca@reports.example.com", "report_base_url": "https://rca.example.com",
    }  # fmt: skip
    return Settings(**{**values, **extra})


@pytest.fixture
def plain_server() -> Iterator[tuple[Controller, Recorder]]:
    handler = Recorder()
    controller = _serve(handler)
    yield controller, handler
    controller.stop()


def _body_parts(msg: EmailMessage) -> tuple[str, str, dict[str, bytes]]:
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    images = {
        part["Content-ID"].strip().strip("<>"): part.get_content()
        for part in msg.walk()
        if part.get_content_type() == "image/png"
    }
    return text, html, images


def test_report_is_delivered_and_parses_back(report_home: Path, plain_server) -> None:
    controller, handler = plain_server
    settings = _settings(report_home, controller.port)
    outcome = run_report(settings, period=PERIOD, recipients=TO, now=NOW, sleep=lambda _s: None)
    assert outcome.status == SENT and outcome.attempts == 1
    assert len(handler.messages) == 1
    msg = handler.messages[0]
    assert sorted(handler.envelopes[0]) == sorted(TO)
    assert msg["Subject"] == outcome.subject
    assert re.fullmatch(r"rca: (\d+ emerging spikes?( \(\d+ new themes?\))?|all quiet), "
                        r"week 2026-W47", msg["Subject"])  # fmt: skip
    assert msg["Message-ID"] == outcome.message_id
    assert msg.get_content_type() == "multipart/alternative"
    text, html, images = _body_parts(msg)
    referenced = set(re.findall(r'src="cid:([^"]+)"', html))
    assert referenced == set(images), "every chart is attached and referenced by its CID"
    assert len(images) == outcome.n_spikes
    assert all(png.startswith(b"\x89PNG") for png in images.values())
    # the same facts in both parts
    for label in re.findall(r"^\d+\. \[\w+\] (.+) \(T\d+\)", text, re.MULTILINE):
        assert label in unescape(html)  # "Can't" is "Can&#39;t" in the HTML part
    assert "REPEAT-COMPLAINT DRIVERS" in text and "repeat-complaint drivers" in html
    link = "https://rca.example.com/v1/themes/T"
    assert link in text and link in html
    # no raw PII in what people read
    for body in (text, re.sub(r'cid:[^"]+', "", html)):  # Content-IDs look like addresses
        assert not EMAIL.search(body), EMAIL.search(body)
        assert not PHONE.search(body), PHONE.search(body)
        assert not CARD.search(body), CARD.search(body)
    rows = ledger.history(Store(settings.store_path), outcome.period)
    assert [(r.status, r.message_id) for r in rows] == [("sent", outcome.message_id)]
    assert rows[0].recipients_hash == ledger.recipients_hash(TO)


def test_rerun_sends_nothing_and_force_sends_again(report_home: Path, plain_server) -> None:
    controller, handler = plain_server
    settings = _settings(report_home, controller.port)
    first = run_report(settings, period=PERIOD, recipients=["ops@example.com"], now=NOW)
    again = run_report(settings, period=PERIOD, recipients=[" OPS@Example.com "], now=NOW)
    assert first.status == SENT and again.status == ALREADY_SENT
    assert again.message_id == first.message_id and len(handler.messages) == 1
    forced = run_report(settings, period=PERIOD, recipients=["ops@example.com"], force=True,
                        now=NOW)  # fmt: skip
    assert forced.status == SENT and forced.message_id != first.message_id
    assert len(handler.messages) == 2
    other_list = run_report(settings, period=PERIOD, recipients=["cto@example.com"], now=NOW)
    assert other_list.status == SENT and len(handler.messages) == 3
    rows = [r for r in ledger.history(Store(settings.store_path), PERIOD)
            if r.recipients_hash == ledger.recipients_hash(["ops@example.com"])]  # fmt: skip
    assert [r.status for r in rows] == ["sent", "sent"]


def test_temporary_failure_is_retried_once_delivered(report_home: Path) -> None:
    handler = Recorder(defer=1)
    controller = _serve(handler)
    waits: list[float] = []
    try:
        settings = _settings(report_home, controller.port)
        outcome = run_report(settings, period=PERIOD, recipients=["retry@example.com"],
                             now=NOW, sleep=waits.append)  # fmt: skip
    finally:
        controller.stop()
    assert outcome.status == SENT and outcome.attempts == 2
    assert handler.deferred == 1 and len(handler.messages) == 1
    assert waits == [0.01]


def test_wrong_login_is_one_clear_line_and_a_failure_row(report_home: Path) -> None:
    handler = Recorder()
    controller = _serve(handler, authenticator=_authenticator, auth_require_tls=False)
    try:
        settings = _settings(report_home, controller.port, smtp_username=USER,
                             smtp_password="wrong-password")  # fmt: skip
        with pytest.raises(RcaError) as info:
            run_report(settings, period=PERIOD, recipients=["auth@example.com"], now=NOW)
        good = _settings(report_home, controller.port, smtp_username=USER, smtp_password=PASSWORD)
        ok = run_report(good, period=PERIOD, recipients=["auth@example.com"], now=NOW)
    finally:
        controller.stop()
    message = str(info.value)
    assert "\n" not in message and "login" in message and "RCA_SMTP_PASSWORD" in message
    assert "wrong-password" not in message and "535" in message
    assert ok.status == SENT and len(handler.messages) == 1
    rows = [r for r in ledger.history(Store(settings.store_path), PERIOD)
            if r.recipients_hash == ledger.recipients_hash(["auth@example.com"])]  # fmt: skip
    assert [r.status for r in rows] == ["failed", "sent"]
    assert "login" in rows[0].error


def test_unreachable_server_fails_after_retries(report_home: Path) -> None:
    settings = _settings(report_home, _free_port(), smtp_retries=1)
    waits: list[float] = []
    with pytest.raises(RcaError, match=r"unreachable .* after 2 attempts") as info:
        run_report(settings, period=PERIOD, recipients=["down@example.com"], now=NOW,
                   sleep=waits.append)  # fmt: skip
    assert "\n" not in str(info.value) and waits == [0.01]


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pkcs8, clear = serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, pkcs8, clear))
    return cert_path, key_path


def test_starttls_with_login(report_home: Path, tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = Recorder()
    controller = _serve(handler, tls_context=context, require_starttls=True,
                        authenticator=_authenticator)  # fmt: skip
    try:
        settings = _settings(
            report_home,
            controller.port,
            smtp_security="starttls",
            smtp_username=USER,
            smtp_password=PASSWORD,
            smtp_ca_file=cert,
        )
        outcome = run_report(settings, period=PERIOD, recipients=["tls@example.com"], now=NOW)
        untrusted = _settings(report_home, controller.port, smtp_security="starttls",
                              smtp_username=USER, smtp_password=PASSWORD)  # fmt: skip
        with pytest.raises(RcaError, match="TLS with SMTP server"):
            run_report(untrusted, period=PERIOD, recipients=["tls2@example.com"], now=NOW)
    finally:
        controller.stop()
    assert outcome.status == SENT and len(handler.messages) == 1


def test_cli_dry_run_writes_eml_html_and_charts(report_home: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli("report", "--period", PERIOD, "--dry-run", "--out", str(out),
                     "--format", "json", home=report_home)  # fmt: skip
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["command"] == "report" and payload["status"] == DRY_RUN
    assert payload["period"] == PERIOD and payload["subject"].startswith("rca: ")
    names = {Path(f).name for f in payload["files"]}
    assert {"report.eml", "report.html", "report.txt"} <= names
    assert sum(n.endswith(".png") for n in names) == payload["n_spikes"]
    assert all((out / n).stat().st_size > 0 for n in names)
    html = (out / "report.html").read_text()
    assert "cid:" not in html  # the browser copy points at the chart files
    eml = message_from_bytes((out / "report.eml").read_bytes(), policy=policy.default)
    assert eml["Subject"] == payload["subject"]


def test_cli_login_failure_exit_1_one_line_no_secret(report_home: Path) -> None:
    handler = Recorder()
    controller = _serve(handler, authenticator=_authenticator, auth_require_tls=False)
    env = {"RCA_SMTP_HOST": "127.0.0.1", "RCA_SMTP_PORT": str(controller.port),
           "RCA_SMTP_SECURITY": "none", "RCA_SMTP_USERNAME": USER,
           "RCA_SMTP_PASSWORD": "not-the-password", "RCA_SMTP_BACKOFF_S": "0"}  # fmt: skip
    try:
        result = run_cli("report", "--period", PERIOD, "--to", "cli@example.com",
                         home=report_home, env=env)  # fmt: skip
    finally:
        controller.stop()
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: SMTP login to 127.0.0.1:")
    assert "not-the-password" not in result.stderr + result.stdout
    assert not handler.messages


def test_quiet_period_sends_all_quiet_or_nothing(report_home: Path, plain_server) -> None:
    from rca.queries.spike_report import detect_spikes

    controller, handler = plain_server
    settings = _settings(report_home, controller.port, report_when_quiet="skip")
    # quiet: no theme spike and no volume surge (a surge leads the message on its own)
    weeks = ("2026-W40", "2026-W38", "2026-W42", "2026-W36", "2026-W44")
    reports = {w: detect_spikes(settings, w) for w in weeks}
    quiet = next(w for w, r in reports.items() if not r.spikes and not r.total.get("alert"))
    skipped = run_report(settings, period=quiet, recipients=["quiet@example.com"], now=NOW)
    assert skipped.status == "skipped" and not handler.messages
    sending = settings.model_copy(update={"report_when_quiet": "send"})
    sent = run_report(sending, period=quiet, recipients=["quiet@example.com"], now=NOW)
    assert sent.status == SENT and handler.messages[0]["Subject"] == f"rca: all quiet, week {quiet}"
    text, _html, images = _body_parts(handler.messages[0])
    assert "All quiet" in text and not images


def test_implicit_tls(report_home: Path, tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = Recorder()
    controller = _serve(handler, ssl_context=context)
    try:
        settings = _settings(report_home, controller.port, smtp_security="ssl", smtp_ca_file=cert)
        outcome = run_report(settings, period=PERIOD, recipients=["ssl@example.com"], now=NOW)
    finally:
        controller.stop()
    assert outcome.status == SENT and len(handler.messages) == 1
