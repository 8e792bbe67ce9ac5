"""Run the benchmarks side by side and write benchmarks/RESULTS.md and the
chart: ``python benchmarks/run.py`` (``make bench``).

``--smoke`` answers every scenario once in-process and once over loopback
(for the frameworks installed here) and checks the answers, without timing:
it is part of ``make test``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__":
    # Run as a script: import the harness as the ``benchmarks`` package, and keep
    # benchmarks/ itself off the path.
    sys.path[0] = str(ROOT)

from benchmarks.apps import available  # noqa: E402
from benchmarks.loopback import in_process_cpu, wrk_path  # noqa: E402
from benchmarks.measure import (  # noqa: E402
    Results,
    Timing,
    disconnect_runs,
    http_runs,
    in_process,
    mix_runs,
    servable,
    smoke_disconnects,
    smoke_http,
    smoke_mix,
    smoke_streams,
    smoke_websockets,
    stream_runs,
    websocket_runs,
)
from benchmarks.report import load_average, machine, write_chart, write_results  # noqa: E402
from benchmarks.scenarios import (  # noqa: E402
    DISCONNECT_CLIENTS,
    SCENARIOS,
    STREAM_CLIENTS,
    STREAM_SECONDS,
    WS_CONNECTIONS,
    WS_IDLE_CONNECTIONS,
)

HERE = ROOT / "benchmarks"


def snapshot_flaskish(into: Path) -> dict[str, str]:
    """Copy ``flaskish/`` into *into* and import it from there, so that one
    run measures one version of the code even while it is being edited.
    Returns where the copy came from (commit, uncommitted changes, a hash)."""
    if "flaskish" in sys.modules:
        raise RuntimeError("flaskish was imported before its snapshot was taken")
    shutil.rmtree(into, ignore_errors=True)
    shutil.copytree(
        ROOT / "flaskish", into / "flaskish", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    sys.path.insert(0, str(into))
    digest = hashlib.sha256()
    for path in sorted((into / "flaskish").rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(into)).encode())
            digest.update(path.read_bytes())

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else "?"

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": "yes" if git("status", "--porcelain", "--", "flaskish") else "no",
        "hash": digest.hexdigest()[:12],
    }


def smoke_fanout(python: str) -> str:
    """The broadcast fan-out (benchmarks/fanout.py), 10 subscribers, checked."""
    from benchmarks.fanout import fanout

    for backend in ("memory", "redis"):
        result = fanout(backend, subscribers=10, messages=5, python=python)
        if result.deliveries != 50:
            raise RuntimeError(f"fan-out on {backend}: {result.deliveries} of 50 delivered")
    return (
        "over loopback: broadcast fan-out checked (10 subscribers x 5 messages, memory and redis)"
    )


FANOUT_SUBSCRIBERS = 1_000
FANOUT_MESSAGES = 200


def fanout_runs(results: Results, python: str) -> None:
    """Issue 19's fan-out: the Redis backend (two workers) and the memory
    backend (one process), each once, into ``results.fanout``."""
    from dataclasses import asdict

    from benchmarks.fanout import fanout

    for backend in ("redis", "memory"):
        result = fanout(
            backend, subscribers=FANOUT_SUBSCRIBERS, messages=FANOUT_MESSAGES, python=python
        )
        results.fanout[backend] = asdict(result)
        print(
            f"  {backend}: {result.deliveries_per_second:,.0f} deliveries/s, "
            f"p99 {result.p99_ms:.0f} ms"
        )


def smoke(
    frameworks: list[str] | None = None,
    http: bool = True,
    stream_clients: int = 20,
    stream_seconds: float = 1.0,
) -> list[str]:
    """Answer every scenario once per installed framework and check it.
    Returns what was run and what was skipped, one line each."""
    chosen, notes = available(frameworks)
    results = Results()
    in_process(chosen, results, timing=None)
    lines = [f"in-process: {results.checked} answers checked ({', '.join(f.name for f in chosen)})"]
    if http:
        served, not_served = servable(chosen)
        checked = smoke_http(served, python=sys.executable)
        lines.append(
            f"over loopback: {checked} answers checked ({', '.join(f.name for f in served)})"
        )
        streamed = smoke_streams(
            served, python=sys.executable, clients=stream_clients, seconds=stream_seconds
        )
        lines.append(
            f"over loopback: {streamed} streaming runs checked ({stream_clients} "
            f"clients x {stream_seconds:g} s, every event received)"
        )
        left = smoke_disconnects(served, python=sys.executable)
        lines.append(
            f"over loopback: {left} disconnect runs checked (10 streams closed, "
            "every generator ended within 1 s)"
        )
        sockets = smoke_websockets(served, python=sys.executable)
        lines.append(
            f"over loopback: {sockets} websocket runs checked (4 connections echoing, "
            "20 idle ones each answering)"
        )
        lines.append(smoke_fanout(python=sys.executable))
        migrated, migrated_notes = smoke_mix(chosen, python=sys.executable)
        lines.append(
            f"migrated app: {migrated} rows checked (log in, page, JSON, a POST "
            "refused without its CSRF token, a POST with it, its flashed message)"
        )
        notes += not_served + migrated_notes
    lines += notes
    skipped: dict[str, list[str]] = {}
    for scenario, by_framework in results.unsupported.items():
        for framework, reason in by_framework.items():
            if framework == "flaskish":
                lines.append(f"flaskish skips {scenario}: {reason}")
            skipped.setdefault(framework, []).append(scenario)
    lines += [
        f"{framework} cannot run (n/a): {', '.join(names)}"
        for framework, names in skipped.items()
        if framework != "flaskish"
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--smoke", action="store_true", help="answer each scenario once and check it, no timing"
    )
    parser.add_argument("--frameworks", nargs="*", help="only these (names as in the tables)")
    parser.add_argument("--scenarios", nargs="*", help="only these scenarios")
    parser.add_argument("--no-http", action="store_true", help="skip the loopback runs")
    parser.add_argument("--repeat", type=int, default=7, help="in-process repetitions")
    parser.add_argument(
        "--rep-seconds", type=float, default=0.15, help="length of one in-process repetition"
    )
    parser.add_argument("--seconds", type=int, default=2, help="length of one wrk run")
    parser.add_argument("--warmup", type=int, default=1, help="wrk warm-up before the rounds")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="wrk runs per framework and scenario (the best is kept)",
    )
    parser.add_argument(
        "--connections", type=int, default=16, help="wrk connections (the 10 ms scenarios use 64)"
    )
    parser.add_argument(
        "--stream-clients",
        type=int,
        default=None,
        help=f"concurrent streams in the SSE scenario (default {STREAM_CLIENTS}; 20 with --smoke)",
    )
    parser.add_argument(
        "--stream-seconds",
        type=float,
        default=None,
        help=f"length of each SSE stream, one event per 0.5 s (default "
        f"{STREAM_SECONDS:g}; 1 with --smoke)",
    )
    parser.add_argument(
        "--ws-connections",
        type=int,
        default=WS_CONNECTIONS,
        help="connections of the websocket echo scenario",
    )
    parser.add_argument(
        "--ws-client-processes",
        type=int,
        default=2,
        help="client processes sharing the echo connections (one cannot keep the server busy)",
    )
    parser.add_argument(
        "--ws-idle-connections",
        type=int,
        default=WS_IDLE_CONNECTIONS,
        help="connections held open at once in the idle websocket scenario",
    )
    parser.add_argument(
        "--migrated",
        action="store_true",
        help="only the migrated app's scenarios (migrated_app, "
        "migrated_app_async): about 2 minutes",
    )
    parser.add_argument(
        "--mix-rounds",
        type=int,
        default=7,
        help="rounds of the migrated app's mix per row (all kept: medians and spread)",
    )
    parser.add_argument(
        "--mix-seconds",
        type=float,
        default=3.0,
        help="length of one round of the migrated app's mix",
    )
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="do not pin the in-process run, the servers and wrk to CPUs",
    )
    parser.add_argument(
        "--live-source",
        action="store_true",
        help="import flaskish from the working tree, not from a copy taken "
        "at the start (edits during the run then leak into it)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="rewrite RESULTS.md and the chart from results/latest.json",
    )
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--chart", type=Path, default=HERE / "ratios.png")
    args = parser.parse_args()

    raw = HERE / "results" / "latest.json"
    if args.report_only:
        results = Results.from_json(json.loads(raw.read_text()))
        write_results(results, args.output, args.chart)
        write_chart(results, args.chart)
        print(f"rewrote {args.output} and {args.chart} from {raw}")
        return

    if args.smoke:
        started = time.perf_counter()
        for line in smoke(
            args.frameworks,
            http=not args.no_http,
            stream_clients=args.stream_clients or 20,
            stream_seconds=args.stream_seconds or 1.0,
        ):
            print(f"benchmark smoke: {line}")
        print(f"benchmark smoke: every answer checked in {time.perf_counter() - started:.1f} s")
        return

    source = None if args.live_source else HERE / "results" / "source"
    origin = snapshot_flaskish(source) if source else None
    chosen, notes = available(args.frameworks)
    wanted = set(args.scenarios or [])
    if args.migrated:
        wanted |= {s.name for s in SCENARIOS if s.mix}
    scenarios = [s for s in SCENARIOS if not wanted or s.name in wanted]
    timing = Timing(
        args.repeat,
        args.rep_seconds,
        args.seconds,
        args.warmup,
        args.rounds,
        args.connections,
        args.stream_clients or STREAM_CLIENTS,
        args.stream_seconds or STREAM_SECONDS,
        ws_connections=args.ws_connections,
        ws_client_processes=args.ws_client_processes,
        ws_idle_connections=args.ws_idle_connections,
        mix_rounds=args.mix_rounds,
        mix_seconds=args.mix_seconds,
    )
    results = Results(notes=list(notes))
    results.meta = machine(chosen, timing)
    for note in notes:
        print(note)
    cpu = None if args.no_pin else in_process_cpu()
    results.meta["inprocess_cpu"] = cpu
    results.meta["source"] = origin
    results.meta["taskset"] = results.meta["taskset"] and not args.no_pin
    print("in-process (median µs per request):")
    in_process(chosen, results, timing, scenarios, cpu=cpu)
    imported = getattr(sys.modules.get("flaskish"), "__file__", None)
    if source and imported and not Path(imported).is_relative_to(source):
        raise RuntimeError(f"flaskish was imported from {imported}, not from its copy")
    if not args.no_http:
        print(
            f"over loopback, {timing.stream_clients} concurrent streams of "
            f"{timing.stream_seconds:g} s each:"
        )
        stream_runs(
            chosen,
            results,
            timing,
            python=sys.executable,
            scenarios=scenarios,
            pin=not args.no_pin,
            source=source,
        )
        print(f"over loopback, {DISCONNECT_CLIENTS} SSE streams opened and closed:")
        disconnect_runs(
            chosen,
            results,
            python=sys.executable,
            clients=DISCONNECT_CLIENTS,
            scenarios=scenarios,
            pin=not args.no_pin,
            source=source,
        )
        print(
            f"over loopback, websockets ({timing.ws_connections} echoing from "
            f"{timing.ws_client_processes} client processes; {timing.ws_idle_connections:,} "
            "idle):"
        )
        websocket_runs(
            chosen,
            results,
            timing,
            python=sys.executable,
            scenarios=scenarios,
            pin=not args.no_pin,
            source=source,
        )
        print(
            f"over loopback, the migrated app ({timing.connections} logged-in connections, "
            f"{timing.mix_rounds} rounds of {timing.mix_seconds:g} s, the rows taking turns):"
        )
        mix_runs(
            chosen,
            results,
            timing,
            python=sys.executable,
            scenarios=scenarios,
            pin=not args.no_pin,
            source=source,
        )
        if not wanted or "broadcast_fanout" in wanted:
            print(
                f"over loopback, broadcast fan-out ({FANOUT_SUBSCRIBERS:,} websocket "
                f"subscribers, {FANOUT_MESSAGES} messages; Redis with 2 workers, memory in 1):"
            )
            fanout_runs(results, python=sys.executable)
    if args.no_http:
        results.notes.append("Loopback runs skipped (--no-http).")
    elif wrk_path() is None:
        note = (
            "Loopback runs skipped: wrk is not installed "
            "(`sudo apt-get install wrk`, or `make bench` as root installs it)."
        )
        results.notes.append(note)
        print(note)
    else:
        print("over loopback (wrk):")
        http_runs(
            chosen,
            results,
            timing,
            python=sys.executable,
            scenarios=scenarios,
            pin=not args.no_pin,
            source=source,
        )
    results.meta["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    results.meta["load_after"] = load_average()
    raw.parent.mkdir(exist_ok=True)
    raw.write_text(json.dumps(results.as_json(), indent=2))
    write_results(results, args.output, args.chart)
    write_chart(results, args.chart)
    print(f"wrote {args.output}, {args.chart} and {raw}")


if __name__ == "__main__":
    main()
