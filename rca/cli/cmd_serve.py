"""`rca serve` (the HTTP service) and `rca apikey` (keys for it)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from rca.cli.app import HomeOption, app, settings_for, stderr
from rca.cli.output import Format, emit

apikey_app = typer.Typer(
    help="Create, list and remove API keys for `rca serve` (hashes only are kept)."
)
app.add_typer(apikey_app, name="apikey")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
    home: HomeOption = None,
) -> None:
    """Serve themes, spikes, drivers and example cases over HTTP (OpenAPI at /docs)."""
    import uvicorn

    settings = settings_for(home)
    os.environ["RCA_HOME"] = str(settings.home.resolve())  # reaches every worker process
    if not settings.store_path.exists():
        stderr(f"note: no store at {settings.store_path} yet; /readyz answers 503 until one exists")
    keys = settings.resolved_api_keys_file
    if not keys.exists() and not settings.api_keys:
        stderr(f"note: no API keys yet: `rca apikey add --role reader` writes {keys}")
    stderr(f"rca serving {settings.home} on http://{host}:{port} (docs at /docs)")
    uvicorn.run(
        "rca.api.server:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        proxy_headers=False,
        timeout_graceful_shutdown=settings.api_shutdown_s,  # SIGTERM: requests get this long
    )


@apikey_app.command("add")
def apikey_add(
    role: Annotated[str, typer.Option(help="reader | writer | admin")] = "reader",
    name: Annotated[str, typer.Option(help="Who or what uses the key.")] = "default",
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """Create a key: its SHA-256 goes into the keys file, the key is printed once."""
    from rca.api.auth import add_key

    settings = settings_for(home)
    path = settings.resolved_api_keys_file
    key = add_key(path, role=role, name=name)
    if fmt is Format.table:
        stderr(f"{role} key {name!r} added to {path}; it is shown only now:")
        typer.echo(key)
        return
    emit({"command": "apikey add", "name": name, "role": role, "key": key, "file": str(path)},
         [{"name": name, "role": role, "key": key}], fmt, title="API key")  # fmt: skip


@apikey_app.command("list")
def apikey_list(
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """The configured keys' names, roles and hash prefixes (never the keys)."""
    from rca.api.auth import KeyRing

    ring = KeyRing.from_settings(settings_for(home))
    rows = [{"name": k.name, "role": k.role, "sha256": d[:12] + "…"} for d, k in ring.keys.items()]
    emit({"command": "apikey list", "keys": rows}, rows, fmt, title="API keys")


@apikey_app.command("remove")
def apikey_remove(
    key: Annotated[str, typer.Argument(help="The key's name, or the start of its sha256.")],
    fmt: Annotated[Format, typer.Option("--format", "-f")] = Format.table,
    home: HomeOption = None,
) -> None:
    """Remove a key: requests with it get 401 and its dashboard sessions end at once."""
    from rca.api.auth import remove_key

    path = settings_for(home).resolved_api_keys_file
    removed = remove_key(path, key)
    if not removed:
        stderr(f"no key named {key!r} (or with that sha256 prefix) in {path}")
        raise typer.Exit(1)
    rows = [{"name": name} for name in removed]
    emit({"command": "apikey remove", "removed": removed, "file": str(path)}, rows, fmt,
         title="API keys removed")  # fmt: skip
