"""Many concurrent server-sent-event streams against one server on 127.0.0.1.

wrk cannot hold streams open, so the streaming scenario
(``sse_with_sync_hooks``) has a client of its own: ``clients`` streams
opened at once, each with an httpx2 ``AsyncClient`` of its own, reading its
stream to the end and noting when each event arrived. (One client whose
pool holds all the connections does work proportional to the pool at every
stream's end: with 1,000 streams ending together, the client itself delayed
the last events by 3 s, for every server alike.) The client runs in a
process of its own (``python -m benchmarks.streams URL ...``, pinned to the
CPU wrk would use) and prints a JSON summary; meanwhile the harness
samples the server's resident memory (``VmRSS``) and thread count from
``/proc/<pid>/status``, its CPU time, and, where the app has ``/threads``
(flaskish), how many worker threads are busy, waiting and parked.

Measured per framework: how many clients received every event, the time
until every client was streaming (had its first event), the longest gap
between two events of one stream, and the server's peak RSS, threads and CPU
seconds over the run.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import resource
import ssl
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["StreamResult", "raise_fd_limit", "stream_load"]

ROOT = Path(__file__).resolve().parent.parent


def raise_fd_limit() -> int:
    """Raise this process's open-file limit (soft) to its hard limit, which
    every server and client started afterwards inherits; return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@dataclass
class StreamResult:
    """One framework's streaming run."""

    clients: int
    events: int
    interval: float
    #: Clients that received all ``events`` events and a clean end.
    complete: int
    #: Error name -> how many clients ended with it (status, reset, timeout...).
    errors: dict[str, int]
    #: Seconds from the start until every client had its first event.
    all_streaming_s: float | None
    median_first_event_s: float | None
    #: The longest gap between two events of one stream, over all streams.
    max_gap_s: float | None
    #: The 99th percentile, over the streams, of each stream's longest gap.
    p99_gap_s: float | None
    #: Seconds from the start until the last stream ended.
    wall_s: float
    #: Server resident memory in MB: before the clients connect, the peak
    #: sampled during the run, and after every stream ended.
    rss_start_mb: float | None = None
    rss_peak_mb: float | None = None
    rss_end_mb: float | None = None
    threads_start: int | None = None
    threads_peak: int | None = None
    threads_end: int | None = None
    #: Server user + system CPU seconds over the run.
    cpu_s: float | None = None
    #: flaskish's ``app.worker_threads`` peaks (``None`` for other servers).
    peak_busy: int | None = None
    peak_waiting: int | None = None
    peak_parked: int | None = None
    thread_limit: int | None = None


# -- the client (its own process) -------------------------------------------


async def _one(
    url: str,
    started: float,
    timeout: float,
    tls: ssl.SSLContext,
) -> tuple[list[float], str | None]:
    """Read one stream to its end: when each event arrived, and the error
    that ended it, if any."""
    import httpx2

    arrivals: list[float] = []
    try:
        # trust_env=False: no proxy from the environment, the request goes to
        # 127.0.0.1; one TLS context for all (unused: plain http).
        async with (
            httpx2.AsyncClient(
                timeout=httpx2.Timeout(timeout, pool=None), verify=tls, trust_env=False
            ) as client,
            client.stream("GET", url) as response,
        ):
            kind = response.headers.get("content-type", "")
            if response.status_code != 200 or not kind.startswith("text/event-stream"):
                return arrivals, f"HTTP {response.status_code} {kind}"
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    arrivals.append(time.monotonic() - started)
    except Exception as error:  # every failure is counted, none stops the run
        return arrivals, type(error).__name__
    return arrivals, None


async def _clients(url: str, clients: int, events: int, timeout: float) -> dict[str, Any]:
    tls = ssl.create_default_context()
    started = time.monotonic()
    runs = await asyncio.gather(*(_one(url, started, timeout, tls) for _ in range(clients)))
    wall = time.monotonic() - started
    firsts = [arrivals[0] for arrivals, _ in runs if arrivals]
    gaps = [
        max(b - a for a, b in itertools.pairwise(arrivals))
        for arrivals, _ in runs
        if len(arrivals) > 1
    ]
    errors = Counter(error for arrivals, error in runs if error)
    short = sum(1 for arrivals, error in runs if not error and len(arrivals) != events)
    if short:
        errors[f"ended after fewer than {events} events"] += short
    return {
        "complete": sum(1 for arrivals, error in runs if not error and len(arrivals) == events),
        "errors": dict(errors),
        "all_streaming_s": max(firsts) if len(firsts) == clients else None,
        "median_first_event_s": statistics.median(firsts) if firsts else None,
        "max_gap_s": max(gaps) if gaps else None,
        "p99_gap_s": (
            statistics.quantiles(gaps, n=100)[98] if len(gaps) > 1 else gaps[0] if gaps else None
        ),
        "wall_s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("url", help="the stream's URL, on 127.0.0.1")
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="connect / read timeout of each stream, in seconds",
    )
    args = parser.parse_args()
    if not args.url.startswith("http://127.0.0.1:"):
        parser.error("streams are only opened to http://127.0.0.1")
    raise_fd_limit()
    try:
        import uvloop
    except ImportError:
        run = asyncio.run
    else:
        run = uvloop.run
    print(json.dumps(run(_clients(args.url, args.clients, args.events, args.timeout))))


# -- the harness side ---------------------------------------------------------


def _status(pid: int) -> tuple[float, int] | None:
    """VmRSS in MB and the thread count of *pid*, from ``/proc/<pid>/status``."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    try:
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["Threads"])
    except (KeyError, ValueError):
        return None


@dataclass
class _Sampler:
    """Samples the server while the clients run (a thread of the harness)."""

    pid: int
    port: int
    stats: bool
    rss: list[float] = field(default_factory=list)
    threads: list[int] = field(default_factory=list)
    workers: list[dict[str, int]] = field(default_factory=list)

    def sample(self, stop: threading.Event) -> None:
        last_stats = 0.0
        while not stop.wait(0.05):
            status = _status(self.pid)
            if status:
                self.rss.append(status[0])
                self.threads.append(status[1])
            if self.stats and time.monotonic() - last_stats > 0.5:
                last_stats = time.monotonic()
                self._poll_stats()

    def _poll_stats(self) -> None:
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("GET", "/threads")
            response = connection.getresponse()
            if response.status == 200:
                self.workers.append(json.loads(response.read()))
            else:
                self.stats = False  # this server has no /threads
        except (OSError, ValueError):
            pass
        finally:
            connection.close()


@contextmanager
def _sampling(sampler: _Sampler) -> Iterator[None]:
    stop = threading.Event()
    thread = threading.Thread(target=sampler.sample, args=(stop,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def stream_load(
    server: Any,
    path: str,
    *,
    clients: int,
    seconds: float,
    interval: float,
    python: str = sys.executable,
    prefix: list[str] | None = None,
) -> StreamResult:
    """Open *clients* streams of ``seconds / interval`` events at once
    against *server* (a :class:`~benchmarks.loopback.Server`) and measure
    them; the client process runs under *prefix* (``taskset``)."""
    from .loopback import request, server_cpu_seconds

    events = max(1, round(seconds / interval))
    url = f"{server.base_url}{path}?count={events}&interval={interval:g}"
    pid = server.process.pid
    start = _status(pid)
    has_stats = request(server, "GET", "/threads").status == 200
    sampler = _Sampler(pid, server.port, has_stats)
    cpu_before = server_cpu_seconds(pid)
    command = [
        *(prefix or []),
        python,
        "-m",
        "benchmarks.streams",
        url,
        "--clients",
        str(clients),
        "--events",
        str(events),
        "--timeout",
        str(max(30.0, 3 * interval)),
    ]
    with _sampling(sampler):
        done = subprocess.run(
            command,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
            timeout=seconds * 3 + 120,
        )
    cpu_after = server_cpu_seconds(pid)
    time.sleep(0.2)  # let the server finish the streams' teardown before the last sample
    end = _status(pid)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    workers = sampler.workers

    def peak(key: str) -> int | None:
        return max(w[key] for w in workers) if workers else None

    return StreamResult(
        clients=clients,
        events=events,
        interval=interval,
        **summary,
        rss_start_mb=start[0] if start else None,
        rss_peak_mb=max(sampler.rss, default=None),
        rss_end_mb=end[0] if end else None,
        threads_start=start[1] if start else None,
        threads_peak=max(sampler.threads, default=None),
        threads_end=end[1] if end else None,
        cpu_s=(
            cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
        ),
        peak_busy=peak("busy"),
        peak_waiting=peak("waiting"),
        peak_parked=peak("parked"),
        thread_limit=workers[0]["limit"] if workers else None,
    )


if __name__ == "__main__":
    main()
