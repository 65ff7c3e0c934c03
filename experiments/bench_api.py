"""Latency and throughput of the HTTP service on the demo store, with a load generator on loopback.

    python -m experiments.bench_api --home .rca            # after `make demo`

Starts `rca serve` as its own process (one worker), then for each route:

- **fixed rate** (open loop, default 100 requests/s for 15 s): requests are sent on a schedule
  whatever the server does, and latency is measured from the scheduled send time, so a slow
  server is not flattered by the client waiting for it (no coordinated omission);
- **fixed concurrency** (closed loop, default 8 clients for 10 s): the throughput the route
  sustains.

The client is asyncio + httpx in this process, so on a 2-core machine it competes with the
server for CPU: the figures are an upper bound on latency. Prints a markdown table and writes
it to experiments/results/bench_api.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np

from rca.api.auth import hash_key, new_key
from rca.api.server import serving
from rca.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results" / "bench_api.md"


@dataclass
class Route:
    name: str
    method: str
    path: str
    body: Callable[[int], dict] | None = None
    rate: float | None = None  # open-loop rate, when not the default of its kind


def _texts(n: int) -> Callable[[int], dict]:
    phrases = [
        "My card payment was declined at the supermarket",
        "Where is my parcel? It should have arrived on Monday",
        "I was charged twice for the same order",
        "The app crashes when I open my statements",
        "How do I get a refund for a cancelled order?",
        "My virtual card does not work online",
    ]
    return lambda i: {"texts": [f"{phrases[(i + j) % len(phrases)]} #{i}-{j}" for j in range(n)]}


async def _one(client: httpx.AsyncClient, route: Route, i: int) -> int:
    if route.method == "GET":
        response = await client.get(route.path)
    else:
        response = await client.post(route.path, json=route.body(i) if route.body else None)
    return response.status_code


async def fixed_rate(client: httpx.AsyncClient, route: Route, rate: float, seconds: float) -> dict:
    n = int(rate * seconds)
    latencies = np.zeros(n)
    statuses: list[int] = []
    start = time.perf_counter() + 0.05

    async def fire(i: int) -> None:
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        statuses.append(await _one(client, route, i))
        latencies[i] = time.perf_counter() - scheduled

    await asyncio.gather(*(fire(i) for i in range(n)))
    elapsed = time.perf_counter() - start
    return {
        "p50_ms": float(np.percentile(latencies, 50) * 1000),
        "p95_ms": float(np.percentile(latencies, 95) * 1000),
        "p99_ms": float(np.percentile(latencies, 99) * 1000),
        "achieved_rps": n / elapsed,
        "errors": sum(1 for s in statuses if s != 200),
    }


async def fixed_concurrency(
    client: httpx.AsyncClient, route: Route, workers: int, seconds: float
) -> dict:
    stop = time.perf_counter() + seconds
    latencies: list[float] = []
    errors = 0
    counter = 0

    async def worker() -> None:
        nonlocal errors, counter
        while time.perf_counter() < stop:
            counter += 1
            t0 = time.perf_counter()
            status = await _one(client, route, counter)
            latencies.append(time.perf_counter() - t0)
            errors += status != 200

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    elapsed = time.perf_counter() - t0
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": float(np.percentile(latencies, 50) * 1000),
        "p99_ms": float(np.percentile(latencies, 99) * 1000),
        "errors": errors,
    }


def _session_cookies(base: str, key: str) -> httpx.Cookies:
    """Log in to the dashboard as a browser would: the login form's CSRF, then the key."""
    import re

    with httpx.Client(base_url=base) as client:
        form = client.get("/ui/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
        client.post("/ui/login", data={"api_key": key, "csrf": csrf, "next": "/ui/"})
        return client.cookies


async def run(
    base: str,
    key: str,
    routes: list[Route],
    args: argparse.Namespace,
    cookies: httpx.Cookies | None = None,
) -> list[dict]:
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    rows = []
    async with httpx.AsyncClient(
        base_url=base, headers={"X-API-Key": key}, timeout=60, limits=limits, cookies=cookies
    ) as client:
        for route in routes:
            for i in range(20):  # warm: memoised answers, connection pool, encoder
                await _one(client, route, i)
            rate = args.post_rate if route.method == "POST" else args.rate
            if route.name.startswith("page"):
                rate = args.page_rate
            rate = route.rate or rate
            open_loop = await fixed_rate(client, route, rate, args.seconds)
            closed = await fixed_concurrency(client, route, args.concurrency, args.closed_seconds)
            rows.append({"route": route.name, "rate": rate, **open_loop, "closed": closed})
            print(_row(rows[-1]), flush=True)
    return rows


def _row(r: dict) -> str:
    c = r["closed"]
    return (
        f"| {r['route']} | {r['rate']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | "
        f"{r['p99_ms']:.1f} | {r['errors']} | {c['rps']:.0f} | {c['p50_ms']:.1f} | "
        f"{c['p99_ms']:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path(".rca"))
    parser.add_argument("--rate", type=float, default=100.0, help="GET requests/s (open loop)")
    parser.add_argument("--post-rate", type=float, default=10.0, help="classify requests/s")
    parser.add_argument("--page-rate", type=float, default=20.0, help="dashboard pages/s")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--closed-seconds", type=float, default=10.0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    settings = Settings(home=args.home)
    key, writer_key = new_key(), new_key()
    keys = f'["reader:{hash_key(key)}:bench", "writer:{hash_key(writer_key)}:bench-writer"]'
    started = time.perf_counter()
    with serving(settings.home, env={"RCA_API_KEYS": keys}) as base:
        ready_s = time.perf_counter() - started
        while httpx.get(f"{base}/readyz", timeout=5).json().get("detail"):
            time.sleep(0.5)  # background warm-up of every theme page: measure after it
        warm_s = time.perf_counter() - started
        headers = {"X-API-Key": key}
        theme = httpx.get(f"{base}/v1/drivers?top=1", headers=headers).json()["drivers"][0]
        routes = [
            Route("GET /v1/drivers", "GET", "/v1/drivers?top=10"),
            Route(
                "GET /v1/themes/{id}/examples",
                "GET",
                f"/v1/themes/{theme['theme_id']}/examples?n=10",
            ),  # fmt: skip
            Route("GET /v1/themes", "GET", "/v1/themes?limit=50"),
            Route("POST /v1/classify (1 text)", "POST", "/v1/classify", _texts(1)),
            Route("POST /v1/classify (32 texts)", "POST", "/v1/classify", _texts(32), rate=2.0),
        ]
        header = (
            "| route | open-loop rate (req/s) | p50 ms | p95 ms | p99 ms | errors | "
            f"closed-loop req/s ({args.concurrency} clients) | p50 ms | p99 ms |\n"
            "|---|---|---|---|---|---|---|---|---|"
        )
        print(header, flush=True)
        rows = asyncio.run(run(base, key, routes[:3], args))
        rows += asyncio.run(run(base, writer_key, routes[3:], args))
        pages = [
            Route("page /ui/ (this week)", "GET", "/ui/"),
            Route("page /ui/themes/{id}", "GET", f"/ui/themes/{theme['theme_id']}"),
            Route("page /ui/model", "GET", "/ui/model"),
        ]
        rows += asyncio.run(run(base, key, pages, args, cookies=_session_cookies(base, key)))
    lines = [
        "# HTTP service benchmark",
        "",
        f"`python -m experiments.bench_api --home {args.home}`: one `rca serve` worker on the "
        f"demo store, client on loopback in the same machine ({os.cpu_count()} cores). "
        f"Server ready {ready_s:.1f} s after start (snapshot load and warm-up of the latest "
        f"week), every theme page precomputed at {warm_s:.1f} s; measured after that. Open loop: "
        f"{args.seconds:.0f} s at a fixed rate, latency from the scheduled send time. Closed "
        f"loop: {args.concurrency} clients for {args.closed_seconds:.0f} s.",
        "",
        header,
        *(_row(r) for r in rows),
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
