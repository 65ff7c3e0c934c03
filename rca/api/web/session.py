"""Dashboard sessions: an API key exchanged once for a signed, HTTP-only, expiring cookie.

The cookie holds the key's SHA-256 digest (never the key), a CSRF token and a random session
id, signed with `itsdangerous` (the signer Starlette's own sessions use) and checked for age
on every request. Three things end a session: its age (`RCA_UI_SESSION_HOURS`), its key
leaving the live key ring (`rca apikey remove`), and logout, which records the session id in
a revocation list that every worker of the home reads (`Revoked`, SQLite under RCA_HOME), so
a copy of the cookie replayed after logout is refused. Forms carry the CSRF token; the login
form, which has no session yet, uses a double-submit cookie.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

from rca.api.auth import ROLES, KeyRing, hash_key
from rca.settings import Settings

COOKIE = "rca_session"
LOGIN_CSRF_COOKIE = "rca_login_csrf"
SALT = "rca.ui.session"
log = logging.getLogger("rca.api")


@dataclass(frozen=True)
class Session:
    digest: str
    name: str
    role: str
    csrf: str
    sid: str = ""

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def secret_for(settings: Settings) -> str:
    """The signing key: configured, or one random key per home kept in RCA_HOME/ui_secret."""
    configured = settings.ui_secret.get_secret_value()
    if configured:
        return configured
    path = settings.home / "ui_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


class Revoked:
    """Session ids ended by logout, until their cookies would have expired anyway.

    SQLite in RCA_HOME: shared by every worker process of the home and kept across restarts.
    Where the home cannot be written (served read-only), the list is kept in memory: logout
    still ends the session in this process, and the failure is logged once.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._memory: dict[str, float] = {}
        self._lock = threading.Lock()
        self._usable = True

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=5)
        con.execute("CREATE TABLE IF NOT EXISTS revoked (sid TEXT PRIMARY KEY, until REAL)")
        return con

    def add(self, sid: str, until: float) -> None:
        with self._lock:
            self._memory[sid] = until
            if not self._usable:
                return
            try:
                with closing(self._connect()) as con, con:  # closed, and committed
                    con.execute("INSERT OR REPLACE INTO revoked VALUES (?, ?)", (sid, until))
                    con.execute("DELETE FROM revoked WHERE until < ?", (time.time(),))
            except (sqlite3.Error, OSError) as exc:
                self._usable = False
                log.warning("session revocations kept in memory only (%s): %s", self.path, exc)

    def __contains__(self, sid: str) -> bool:
        if sid in self._memory:
            return True
        if not self._usable or not self.path.exists():
            return False
        try:
            with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)) as con:
                row = con.execute("SELECT 1 FROM revoked WHERE sid = ?", (sid,)).fetchone()
        except sqlite3.Error:
            return False
        return row is not None


class SessionCodec:
    def __init__(self, settings: Settings) -> None:
        self.serializer = URLSafeTimedSerializer(secret_for(settings), salt=SALT)
        self.max_age = int(settings.ui_session_hours * 3600)
        self.revoked = Revoked(settings.home / "ui_sessions.sqlite")

    def issue(self, key: str, keyring: KeyRing) -> tuple[str, Session] | None:
        """A cookie value for a valid key, or None."""
        found = keyring.lookup(key)
        if found is None:
            return None
        session = Session(
            hash_key(key), found.name, found.role, secrets.token_urlsafe(24),
            secrets.token_urlsafe(16),
        )  # fmt: skip
        value = self.serializer.dumps([session.digest, session.csrf, session.sid])
        return value, session

    def read(self, value: str | None, keyring: KeyRing) -> Session | None:
        """The session of a cookie that is well signed, young enough, not logged out and of
        a live key."""
        if not value:
            return None
        try:
            digest, csrf, sid = self.serializer.loads(value, max_age=self.max_age)
        except (BadSignature, ValueError, TypeError):
            return None
        key = keyring.keys.get(str(digest))
        if key is None or str(sid) in self.revoked:
            return None
        return Session(str(digest), key.name, key.role, str(csrf), str(sid))

    def end(self, session: Session) -> None:
        """Logout: this session id is refused from now on, whoever presents the cookie."""
        self.revoked.add(session.sid, time.time() + self.max_age)


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time equality; bytes, because `compare_digest` refuses non-ASCII strings."""
    if not expected or not given:
        return False
    return hmac.compare_digest(str(expected).encode("utf-8"), str(given).encode("utf-8"))
