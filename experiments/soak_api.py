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
import json
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlencode

import httpx
import numpy as np

from rca.api.auth import hash_key, new_key
from rca.api.server import serving

FAILURES: Counter[str] = Counter()
MEMORY: list[tuple[float | None, float]] = []  # (server RSS, workers' private MB) each minute
KEEP_ALIVE_S = 3.0
WARM = ["/v1/themes", "/v1/drivers", "/v1/spikes", "/v1/model", "/v1/themes/{theme}"]


@dataclass
class Sample:
    kind: str
    status: int
    latency_s: float
    lag_s: float = 0.0  # how late the client sent it (its own event loop behind the schedule)
    at_s: float = 0.0  # when it was scheduled, from the start


def private_mb(pid: int) -> float:
    """Memory only this process holds (not the pages it still shares with its parent)."""
    fields = dict(
        line.split(":", 1)
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        if line.startswith("Private")
    )
    return sum(int(fields[k].split()[0]) for k in ("Private_Clean", "Private_Dirty")) / 1024


def server_rss_mb(port: int) -> tuple[float | None, float]:
    """Resident memory of the `rca serve` process listening on `port`, and the private memory
    of its forked cold-computation workers at this moment (Linux /proc), in MB."""
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
    children = 0.0
    for pid, (ppid, _) in found.items():
        if ppid == parents[0]:
            try:
                children += private_mb(pid)
            except OSError:  # it ended meanwhile
                continue
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


class Pool:
    """Keep-alive HTTP/1.1 connections over asyncio streams: a load generator this lean takes a
    few percent of a core at 100 requests a second (httpx took most of one on this machine, so
    its own queueing read as server latency). A request waits for a free connection when all
    `size` are busy, and that wait counts in its latency."""

    def __init__(self, host: str, port: int, key: str, size: int = 128) -> None:
        self.host, self.port, self.size = host, port, size
        self.head = f"Host: {host}:{port}\r\nX-API-Key: {key}\r\n\r\n".encode()
        # idle connections, with when each was freed: dropped before uvicorn's 5 s keep-alive
        # closes them, or a request may go out on a connection the server is closing
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self.open = 0
        self.freed = asyncio.Condition()

    async def _take(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with self.freed:
            while not self.idle and self.open >= self.size:
                await self.freed.wait()
            while self.idle:
                reader, writer, freed = self.idle.pop()
                if time.monotonic() - freed < KEEP_ALIVE_S:
                    return reader, writer
                writer.close()
                self.open -= 1
            self.open += 1
        try:
            return await asyncio.open_connection(self.host, self.port)
        except OSError:
            await self._drop()
            raise

    async def _drop(self) -> None:
        async with self.freed:
            self.open -= 1
            self.freed.notify()

    async def get(self, path: str) -> tuple[int, bytes]:
        reader, writer = await self._take()
        try:
            writer.write(f"GET {path} HTTP/1.1\r\n".encode() + self.head)
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            status = int(lines[0].split(" ", 2)[1])
            fields = {k.strip().lower(): v.strip() for k, v in
                      (line.split(":", 1) for line in lines[1:] if ":" in line)}  # fmt: skip
            body = await reader.readexactly(int(fields.get("content-length", "0")))
        except (OSError, asyncio.IncompleteReadError, ValueError):
            writer.close()
            await self._drop()
            raise
        if fields.get("connection", "").lower() == "close":
            writer.close()
            await self._drop()
        else:
            async with self.freed:
                self.idle.append((reader, writer, time.monotonic()))
                self.freed.notify()
        return status, body

    def close(self) -> None:
        for _, writer, _ in self.idle:
            writer.close()


async def soak(base: str, key: str, args: argparse.Namespace) -> tuple[list[Sample], float]:
    rng = np.random.default_rng(args.seed)
    host, port = base.removeprefix("http://").rsplit(":", 1)
    pool = Pool(host, int(port), key)
    _, body = await pool.get("/v1/themes?limit=5")
    themes = json.loads(body)
    theme = themes["items"][0]["theme_id"]
    newest = date.fromisoformat(themes["period_start"][:10]) + timedelta(days=6)
    for path in WARM:  # the service warms these itself; make sure before timing
        await pool.get(path.format(theme=theme))
    n = int(args.rate * args.minutes * 60)
    colds = iter(cold_periods(newest, rng, n))
    plan = []
    for _ in range(n):
        path = WARM[int(rng.integers(0, len(WARM)))].format(theme=theme)
        if rng.random() < args.cold_share:
            plan.append(("cold", f"{path}?{urlencode({'period': next(colds)})}"))
        else:
            plan.append(("warm", path))
    samples: list[Sample] = []
    start = time.perf_counter() + 0.1

    async def fire(scheduled: float, kind: str, path: str) -> None:
        lag = time.perf_counter() - scheduled
        try:
            status, _ = await pool.get(path)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            status = 0  # no answer: say which failure, in the summary
            FAILURES[type(exc).__name__] += 1
        samples.append(Sample(kind, status, time.perf_counter() - scheduled, lag,
                              scheduled - start))  # fmt: skip

    async def watch_memory() -> None:  # /proc reads take well under a millisecond
        while True:
            MEMORY.append(server_rss_mb(int(port)))
            await asyncio.sleep(60)

    watcher = asyncio.create_task(watch_memory())
    tasks = set()
    for i, (kind, path) in enumerate(plan):  # one timer at a time, not one per request
        scheduled = start + i / args.rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        task = asyncio.create_task(fire(scheduled, kind, path))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    watcher.cancel()
    pool.close()
    return samples, time.perf_counter() - start


def summary(samples: list[Sample], elapsed: float, rss: list[tuple[float | None, float]]) -> str:
    (before, _), (after, children) = rss
    lines = [
        f"{len(samples)} requests in {elapsed:.0f} s ({len(samples) / elapsed:.0f}/s); "
        f"server RSS {before:.0f} MB at start, {after:.0f} MB at the end "
        f"(+ {children:.0f} MB private to the cold-computation workers at the end)",
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
    slow = Counter(int(s.at_s // 60) for s in samples if s.kind == "warm" and s.latency_s > 0.05)
    series = "; ".join(f"{m}: {rss or 0:.0f} + {kids:.0f}" for m, (rss, kids) in enumerate(MEMORY))
    lines += ["", f"server RSS + workers' private memory (MB), by minute: {series}"]
    minutes = range(int(elapsed // 60) + 1)
    by_minute = ", ".join(f"{m}: {slow.get(m, 0)}" for m in minutes)
    lines += ["", f"warm requests over 50 ms, by minute: {by_minute}"]
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
