"""API keys with roles: only SHA-256 digests are configured, keys are shown once at creation.

Keys are 256-bit random tokens, so an unsalted digest is as strong as a password hash would be
and lets a lookup be one dictionary access. Roles are ordered: reader (GET) < writer (also POST
contacts and classify) < admin (everything, e.g. forcing a reload). A missing or unknown key is
401, a known key with too small a role 403. The key itself is never logged or echoed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def env_keys(settings: Settings) -> dict[str, ApiKey]:
    """The keys given in RCA_API_KEYS."""
    return dict(_parse_entry(e) for e in settings.api_keys)


def _read_file(path: Path) -> dict[str, ApiKey]:
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RcaError(f"cannot read API keys file {path}: {exc}") from exc
    out = {}
    entries = data.get("keys", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise RcaError(f"{path}: keys must be [[keys]] tables")
    for i, item in enumerate(entries):
        digest = str(item.get("sha256", "")).lower()
        if len(digest) != 64:
            raise RcaError(f"{path}: key {i + 1} needs a 64-character sha256")
        role = _check_role(str(item.get("role", "")), f"{path.name} key {i + 1}")
        out[digest] = ApiKey(str(item.get("name", f"key{i + 1}")), role)
    return out


@dataclass(frozen=True)
class KeyRing:
    """The configured keys by digest; `mtime` lets the service notice an edited keys file."""

    keys: dict[str, ApiKey]
    mtime: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> KeyRing:
        path = settings.resolved_api_keys_file
        mtime = path.stat().st_mtime if path.exists() else None
        keys = _read_file(path)
        keys.update(env_keys(settings))
        return cls(keys, mtime)

    def lookup(self, key: str | None) -> ApiKey | None:
        return self.keys.get(hash_key(key)) if key else None


@contextmanager
def _locked(path: Path) -> Iterator[list[dict[str, Any]]]:
    """The keys file's entries, under an exclusive lock, written back atomically on exit.

    Two `rca apikey add` at once each read the file and wrote it back whole, so one key was
    lost; the lock makes read-modify-write one step, and the rename means the service never
    reads a half-written file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        entries: list[dict[str, Any]] = []
        if path.exists():
            try:
                entries = list(tomllib.loads(path.read_text(encoding="utf-8")).get("keys", []))
            except tomllib.TOMLDecodeError as exc:
                raise RcaError(f"cannot read API keys file {path}: {exc}") from exc
        yield entries
        text = "# API keys for `rca serve`: SHA-256 digests only. Add with `rca apikey add`.\n"
        for entry in entries:
            text += "\n[[keys]]\n" + "".join(
                f"{field} = {json.dumps(str(entry[field]))}\n"
                for field in ("name", "role", "sha256")
            )
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)


def add_key(path: Path, *, role: str, name: str, replace: bool = False) -> str:
    """Create a key, append its digest to the keys file, return the key (shown once).

    `replace` drops earlier keys of the same name first (`rca demo` re-issues its key).
    """
    _check_role(role, "--role")
    key = new_key()
    with _locked(path) as entries:
        if replace:
            entries[:] = [e for e in entries if e.get("name") != name]
        entries.append({"name": name, "role": role, "sha256": hash_key(key)})
    return key


def remove_key(path: Path, name_or_digest: str) -> list[str]:
    """Remove the keys named so (or whose digest starts so, at least 8 characters); their
    dashboard sessions end with them. Returns the names removed."""
    wanted = name_or_digest.strip().lower()
    if not wanted:
        raise RcaError("name the key to remove (its name or the start of its sha256)")

    def matches(entry: dict[str, Any]) -> bool:
        digest = str(entry.get("sha256", "")).lower()
        by_digest = len(wanted) >= 8 and digest.startswith(wanted.rstrip("…"))
        return str(entry.get("name", "")).lower() == wanted or by_digest

    if not path.exists():
        return []
    with _locked(path) as entries:
        removed = [str(e.get("name", "")) for e in entries if matches(e)]
        entries[:] = [e for e in entries if not matches(e)]
    return removed


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
