"""Dashboard sessions: an API key exchanged once for a signed, HTTP-only, expiring cookie.

The cookie holds the key's SHA-256 digest (never the key), its role and a CSRF token, signed
with `itsdangerous` (the signer Starlette's own sessions use) and checked for age on every
request. The digest is looked up in the live key ring each time, so deleting a key from the
keys file ends its sessions at once. Forms carry the CSRF token; the login form, which has no
session yet, uses a double-submit cookie.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

from rca.api.auth import ROLES, KeyRing, hash_key
from rca.settings import Settings

COOKIE = "rca_session"
LOGIN_CSRF_COOKIE = "rca_login_csrf"
SALT = "rca.ui.session"


@dataclass(frozen=True)
class Session:
    digest: str
    name: str
    role: str
    csrf: str

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


class SessionCodec:
    def __init__(self, settings: Settings) -> None:
        self.serializer = URLSafeTimedSerializer(secret_for(settings), salt=SALT)
        self.max_age = int(settings.ui_session_hours * 3600)

    def issue(self, key: str, keyring: KeyRing) -> tuple[str, Session] | None:
        """A cookie value for a valid key, or None."""
        found = keyring.lookup(key)
        if found is None:
            return None
        session = Session(hash_key(key), found.name, found.role, secrets.token_urlsafe(24))
        value = self.serializer.dumps([session.digest, session.csrf])
        return value, session

    def read(self, value: str | None, keyring: KeyRing) -> Session | None:
        """The session of a cookie that is well signed, young enough and of a live key."""
        if not value:
            return None
        try:
            digest, csrf = self.serializer.loads(value, max_age=self.max_age)
        except (BadSignature, ValueError, TypeError):
            return None
        key = keyring.keys.get(str(digest))
        if key is None:
            return None
        return Session(str(digest), key.name, key.role, str(csrf))


def same_token(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
