"""A soak of the HTTP service: a fixed request rate over mixed routes, cold periods included.

    python -m experiments.soak_api --home .rca --minutes 10     # after `make demo`

Starts `rca serve` as its own process (one worker) and sends requests on a fixed schedule
(open loop, default 100 per second; latency from the scheduled send time, so a slow server is
not flattered). Most requests are the warm questions of a week (themes, drivers, spikes, a
theme, the model); a share (`--cold-share`) asks for periods nobody asked before: days and
weeks inside the data, just after it, far in the future, far in the past and malformed. It
reports errors (any 5xx, or a transport failure), p50/p99 per kind, the 503s the compute limit
answered, and the server's resident memory at the start and the end.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import numpy as np

from rca.api.auth import hash_key, new_key
from rca.api.server import serving

FAILURES: Counter[str] = Counter()
WARM = ["/v1/themes", "/v1/drivers", "/v1/spikes", "/v1/model", "/v1/themes/{theme}"]


@dataclass
class Sample:
    kind: str
    status: int
    latency_s: float
    lag_s: float = 0.0  # how late the client sent it (its own event loop behind the schedule)


def server_rss_mb(port: int) -> tuple[float | None, float]:
    """Resident memory of the `rca serve` process listening on `port`, and of its forked
    cold-computation children at this moment (Linux /proc), in MB."""
    found: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            if b"serve" not in command or str(port).encode() not in command:
                continue
            fields = dict(
                line.split(":", 1) for line in (entry / "status").read_text().splitlines()
            )
            found[int(entry.name)] = (
                int(fields["PPid"].strip()),
                int(fields["VmRSS"].split()[0]) / 1024,
            )
        except (OSError, KeyError, ValueError):
            continue
    parents = [pid for pid, (ppid, _) in found.items() if ppid not in found]
    if not parents:
        return None, 0.0
    children = sum(rss for ppid, rss in found.values() if ppid == parents[0])
    return found[parents[0]][1], children


def cold_periods(newest: date, rng: np.random.Generator, n: int) -> list[str]:
    """Period names nobody asked before: in the data, just after, far away, malformed."""
    out = []
    for _ in range(n):
        pick = rng.integers(0, 5)
        if pick == 0:
            out.append((newest - timedelta(days=int(rng.integers(0, 100)))).isoformat())
        elif pick == 1:
            day = newest + timedelta(days=int(rng.integers(1, 200)))
            out.append(f"{day.isocalendar().year}-W{day.isocalendar().week:02d}")
        elif pick == 2:
            out.append(f"{rng.integers(2030, 2201)}-W{rng.integers(1, 53):02d}")
        elif pick == 3:
            out.append(f"{rng.integers(1900, 2020)}-{rng.integers(1, 13):02d}-01")
        else:
            out.append(f"{rng.integers(0, 10_000):04d}-W{rng.integers(0, 60):02d}")
    return out


async def soak(base: str, key: str, args: argparse.Namespace) -> tuple[list[Sample], float]:
    rng = np.random.default_rng(args.seed)
    # idle connections expire before uvicorn's 5 s keep-alive does: otherwise the client may
    # reuse one the server is closing, a client-side race that reads as "no answer"
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256, keepalive_expiry=3.0)
    async with httpx.AsyncClient(
        base_url=base, headers={"X-API-Key": key}, timeout=60, limits=limits
    ) as client:
        themes = (await client.get("/v1/themes", params={"limit": 5})).json()
        theme = themes["items"][0]["theme_id"]
        newest = date.fromisoformat(themes["period_start"][:10]) + timedelta(days=6)
        for path in WARM:  # the service warms these itself; make sure before timing
            await client.get(path.format(theme=theme))
        n = int(args.rate * args.minutes * 60)
        colds = iter(cold_periods(newest, rng, n))
        plan = []
        for _ in range(n):
            path = WARM[int(rng.integers(0, len(WARM)))].format(theme=theme)
            if rng.random() < args.cold_share:
                plan.append(("cold", path, {"period": next(colds)}))
            else:
                plan.append(("warm", path, {}))
        samples: list[Sample] = []
        start = time.perf_counter() + 0.1

        async def fire(i: int, kind: str, path: str, params: dict) -> None:
            scheduled = start + i / args.rate
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            lag = time.perf_counter() - scheduled
            try:
                status = (await client.get(path, params=params)).status_code
            except httpx.HTTPError as exc:  # no answer: say which failure, in the summary
                status = 0
                FAILURES[type(exc).__name__] += 1
            samples.append(Sample(kind, status, time.perf_counter() - scheduled, lag))

        await asyncio.gather(*(fire(i, *step) for i, step in enumerate(plan)))
        return samples, time.perf_counter() - start


def summary(samples: list[Sample], elapsed: float, rss: list[tuple[float | None, float]]) -> str:
    (before, _), (after, children) = rss
    lines = [
        f"{len(samples)} requests in {elapsed:.0f} s ({len(samples) / elapsed:.0f}/s); "
        f"server RSS {before:.0f} MB at start, {after:.0f} MB at the end "
        f"(+ {children:.0f} MB in cold-computation children running at the end)",
        "",
        "| kind | requests | p50 ms | p99 ms | max ms | statuses |",
        "|---|---|---|---|---|---|",
    ]
    for kind in ("warm", "cold"):
        mine = [s for s in samples if s.kind == kind]
        if not mine:
            continue
        ms = np.array([s.latency_s for s in mine]) * 1000
        statuses = Counter(s.status for s in mine)
        lines.append(
            f"| {kind} | {len(mine)} | {np.percentile(ms, 50):.1f} | {np.percentile(ms, 99):.1f}"
            f" | {ms.max():.0f} | {dict(sorted(statuses.items()))} |"
        )
    lag = np.array([s.lag_s for s in samples]) * 1000
    lines += ["", f"client send lag (the load generator behind its own schedule): p50 "
              f"{np.percentile(lag, 50):.1f} ms, p99 {np.percentile(lag, 99):.1f} ms, "
              f"max {lag.max():.0f} ms"]  # fmt: skip
    errors = sum(1 for s in samples if s.status == 0 or s.status >= 500 and s.status != 503)
    lines += ["", f"errors (5xx other than 503, or no answer): {errors}; "
              f"no answer by kind: {dict(FAILURES)}"]  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second")
    parser.add_argument("--cold-share", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--log", type=Path, default=None, help="the server's log (info level)")
    parser.add_argument(
        "--env", action="append", default=[], help="NAME=VALUE for the server (repeatable)"
    )
    args = parser.parse_args()
    key = new_key()
    env = {"RCA_API_KEYS": f'["reader:{hash_key(key)}:soak"]'}
    env |= dict(item.split("=", 1) for item in args.env)
    with serving(args.home, env=env, timeout_s=300, log_path=args.log, log_level="info") as base:
        port = int(base.rsplit(":", 1)[1])
        wait_for_warm_up(base)
        before = server_rss_mb(port)
        samples, elapsed = asyncio.run(soak(base, key, args))
        after = server_rss_mb(port)
        metrics = httpx.get(f"{base}/metrics", timeout=30).text
    print(summary(samples, elapsed, [before, after]))
    print("\n" + server_side(metrics))


def server_side(metrics: str) -> str:
    """The server's own latency histogram (arrival to response end), warm and cold together:
    what share of each route's requests took at most 50 ms, 250 ms and 1 s."""
    buckets: dict[str, dict[float, float]] = {}
    for line in metrics.splitlines():
        if not line.startswith("rca_http_request_duration_seconds_bucket"):
            continue
        labels, value = line.rsplit(" ", 1)
        route = labels.split('route="', 1)[1].split('"', 1)[0]
        le = labels.split('le="', 1)[1].split('"', 1)[0]
        buckets.setdefault(route, {})[float("inf") if le == "+Inf" else float(le)] = float(value)
    lines = [
        "| route (server side) | requests | ≤ 50 ms | ≤ 250 ms | ≤ 1 s |",
        "|---|---|---|---|---|",
    ]
    for route, counts in sorted(buckets.items()):
        total = counts[float("inf")]
        if total < 100:
            continue
        share = [counts.get(b, 0) / total for b in (0.05, 0.25, 1.0)]
        lines.append(f"| {route} | {total:.0f} | " + " | ".join(f"{x:.2%}" for x in share) + " |")
    return "\n".join(lines)


def wait_for_warm_up(base: str, limit_s: float = 600) -> None:
    """The service precomputes every theme's page after it starts: time the steady state."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if httpx.get(f"{base}/readyz", timeout=10).json().get("detail") is None:
            return
        time.sleep(1)


if __name__ == "__main__":
    main()
