"""API keys with roles: only SHA-256 digests are configured, keys are shown once at creation.

Keys are 256-bit random tokens, so an unsalted digest is as strong as a password hash would be
and lets a lookup be one dictionary access. Roles are ordered: reader (GET) < writer (also POST
contacts and classify) < admin (everything, e.g. forcing a reload). A missing or unknown key is
401, a known key with too small a role 403. The key itself is never logged or echoed.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import Depends, Request

from rca.errors import RcaError
from rca.settings import Settings

ROLES = ("reader", "writer", "admin")
KEY_PREFIX = "rca_"


@dataclass(frozen=True)
class ApiKey:
    name: str
    role: str


class AuthError(Exception):
    """401 (no or unknown key) or 403 (role too small), turned into problem+json."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def _check_role(role: str, where: str) -> str:
    if role not in ROLES:
        raise RcaError(f"{where}: role {role!r} is not one of {', '.join(ROLES)}")
    return role


def _parse_entry(entry: str) -> tuple[str, ApiKey]:
    """'role:sha256[:name]' from RCA_API_KEYS."""
    parts = entry.split(":", 2)
    if len(parts) < 2 or len(parts[1]) != 64:
        raise RcaError("RCA_API_KEYS entries are 'role:sha256-hex[:name]'")
    role = _check_role(parts[0], "RCA_API_KEYS")
    return parts[1].lower(), ApiKey(parts[2] if len(parts) == 3 else "env", role)


def _read_file(path: Path) -> dict[str, ApiKey]:
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RcaError(f"cannot read API keys file {path}: {exc}") from exc
    out = {}
    for i, item in enumerate(data.get("keys", [])):
        digest = str(item.get("sha256", "")).lower()
        if len(digest) != 64:
            raise RcaError(f"{path}: key {i + 1} needs a 64-character sha256")
        out[digest] = ApiKey(
            str(item.get("name", f"key{i + 1}")), _check_role(item["role"], path.name)
        )
    return out


@dataclass(frozen=True)
class KeyRing:
    """The configured keys by digest; `mtime` lets the service notice an edited keys file."""

    keys: dict[str, ApiKey]
    mtime: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        path = settings.resolved_api_keys_file
        keys = _read_file(path)
        keys.update(dict(_parse_entry(e) for e in settings.api_keys))
        return cls(keys, path.stat().st_mtime if path.exists() else None)

    def lookup(self, key: str | None) -> ApiKey | None:
        return self.keys.get(hash_key(key)) if key else None


def add_key(path: Path, *, role: str, name: str, replace: bool = False) -> str:
    """Create a key, append its digest to the keys file, return the key (shown once).

    `replace` drops earlier keys of the same name first (`rca demo` re-issues its key).
    """
    _check_role(role, "--role")
    key = new_key()
    entries = []
    if path.exists():
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        entries = [e for e in data.get("keys", []) if not (replace and e.get("name") == name)]
    entries.append({"name": name, "role": role, "sha256": hash_key(key)})
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "# API keys for `rca serve`: SHA-256 digests only. Add with `rca apikey add`.\n"
    for entry in entries:
        text += "\n[[keys]]\n" + "".join(
            f"{field} = {json.dumps(str(entry[field]))}\n" for field in ("name", "role", "sha256")
        )
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return key


def presented_key(request: Request, header: str) -> str | None:
    """The key from the configured header, or from `Authorization: Bearer <key>`."""
    key = request.headers.get(header)
    if key:
        return key.strip()
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token else None


def require(role: str) -> Callable[..., ApiKey]:
    """A dependency that admits keys of `role` or above."""
    needed = ROLES.index(_check_role(role, "require"))

    def dependency(request: Request) -> ApiKey:
        state = request.app.state.service
        key = state.keyring().lookup(presented_key(request, state.settings.api_key_header))
        if key is None:
            raise AuthError(
                401, f"missing or unknown API key (send it in {state.settings.api_key_header})"
            )
        if ROLES.index(key.role) < needed:
            raise AuthError(403, f"this key's role is {key.role}; {role} is needed")
        request.state.api_key_name = key.name
        return key

    return dependency


Reader = Depends(require("reader"))
Writer = Depends(require("writer"))
Admin = Depends(require("admin"))
