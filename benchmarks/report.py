"""RESULTS.md and the ratio chart, from one run's :class:`~benchmarks.measure.Results`.

Ratios are always flaskish against a peer from the same run. In-process
they are cost ratios (flaskish µs / peer µs: lower is better); over HTTP
they are throughput ratios (flaskish req/s / peer req/s: higher is better).
The chart shows both as relative speed (higher is better).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .apps import FRAMEWORKS, Framework, version_of
from .scenarios import (
    SCENARIOS,
    STREAM_CLIENTS,
    STREAM_SECONDS,
    WS_CONNECTIONS,
    WS_IDLE_CONNECTIONS,
)

if TYPE_CHECKING:
    from .measure import Results, Timing
    from .migrated_load import MixResult

__all__ = ["load_average", "machine", "targets", "write_chart", "write_results"]

ME = "flaskish"
PEERS = [f.name for f in FRAMEWORKS if f.name != ME]
DISTRIBUTIONS = [
    "flaskish",
    "starlette",
    "quart",
    "flask",
    "werkzeug",
    "uvicorn",
    "gunicorn",
    "uvloop",
    "httptools",
    "websockets",
    "anyio",
    "jinja2",
    "itsdangerous",
    "python-multipart",
]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _wrk_version() -> str:
    binary = shutil.which("wrk")
    if binary is None:
        return "not installed"
    done = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).split("[")[0].replace("wrk", "").strip() or "?"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def machine(frameworks: list[Framework], timing: Timing) -> dict[str, Any]:
    """The machine, versions, date and settings of a run."""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {name: version_of(name) for name in DISTRIBUTIONS},
        "wrk": _wrk_version(),
        "taskset": shutil.which("taskset") is not None and (os.cpu_count() or 1) > 1,
        "frameworks": [f.name for f in frameworks],
        "load_before": load_average(),
        "timing": asdict(timing),
    }


# -- numbers ----------------------------------------------------------------


def _cost_ratio(results: Results, scenario: str, peer: str, mine: str = ME) -> float | None:
    costs = results.inprocess.get(scenario, {})
    if mine in costs and peer in costs:
        return costs[mine] / costs[peer]
    return None


def _rps_ratio(results: Results, scenario: str, peer: str) -> float | None:
    runs = results.http.get(scenario, {})
    if ME in runs and peer in runs and runs[peer].requests_per_second:
        return runs[ME].requests_per_second / runs[peer].requests_per_second
    return None


def _p99_ratio(results: Results, scenario: str, peer: str) -> float | None:
    runs = results.http.get(scenario, {})
    if ME in runs and peer in runs and runs[peer].p99_ms:
        return runs[ME].p99_ms / runs[peer].p99_ms
    return None


def _own_ratio(results: Results, mine: str, base: str) -> float | None:
    """flaskish's cost in scenario *mine* over its cost in scenario *base*."""
    costs = results.inprocess
    if ME in costs.get(mine, {}) and ME in costs.get(base, {}):
        return costs[mine][ME] / costs[base][ME]
    return None


def _spread(pairs: list[tuple[float, float]], what: str) -> str:
    """The spread of a ratio: its value for each pair of measurements taken
    side by side (a repetition or round of each, in turn), lowest to
    highest; empty with fewer than two pairs."""
    ratios = [mine / peer for mine, peer in pairs if peer]
    if len(ratios) < 2:
        return ""
    return f" ({what}: {min(ratios):.2f}-{max(ratios):.2f}x; {len(ratios)} each)"


_REPETITIONS = "one repetition against the same repetition"
_ROUNDS = "one round against the same round"


def _cost_spread(results: Results, scenario: str, peer: str, mine: str = ME) -> str:
    reps = results.inprocess_reps.get(scenario, {})
    return _spread(list(zip(reps.get(mine, []), reps.get(peer, []), strict=False)), _REPETITIONS)


def _own_spread(results: Results, mine: str, base: str) -> str:
    reps = results.inprocess_reps
    pairs = zip(reps.get(mine, {}).get(ME, []), reps.get(base, {}).get(ME, []), strict=False)
    return _spread(list(pairs), _REPETITIONS)


def _rps_spread(results: Results, scenario: str, peer: str) -> str:
    rounds = results.http_rounds.get(scenario, {})
    pairs = zip(rounds.get(ME, []), rounds.get(peer, []), strict=False)
    return _spread([(mine[0], theirs[0]) for mine, theirs in pairs], _ROUNDS)


def _p99_spread(results: Results, scenario: str, peer: str) -> str:
    rounds = results.http_rounds.get(scenario, {})
    pairs = zip(rounds.get(ME, []), rounds.get(peer, []), strict=False)
    return _spread([(mine[1], theirs[1]) for mine, theirs in pairs], _ROUNDS)


def targets(results: Results) -> Iterator[tuple[bool | None, str, str]]:
    """Issue 4's, 12's, 15's and 18's targets: (met, goal, measured); ``met``
    is ``None`` when the run did not measure it. Where issue 18 set a new
    target for a scenario, it replaces the first build's."""

    def line(
        ratio: float | None,
        ok: Any,
        goal: str,
        what: str = "measured",
        extra: str = "",
        spread: str = "",
    ) -> tuple[bool | None, str, str]:
        if ratio is None:
            return None, goal, "not measured in this run"
        met = bool(ok(ratio))
        shown = f"{ratio:.2f}"
        if bool(ok(float(shown))) != met:
            shown = f"{ratio:.3f}"  # 0.996 is a gap that "1.00" would hide
        return met, goal, f"{what} **{shown}x**{spread}{extra}" + ("" if met else " (gap)")

    yield line(
        _cost_ratio(results, "hello_async", "Starlette"),
        lambda r: r <= 1.2,
        "`async def` hello in-process ≤ 1.2x Starlette's cost",
        spread=_cost_spread(results, "hello_async", "Starlette"),
    )
    yield line(
        _rps_ratio(results, "hello_async", "Starlette"),
        lambda r: r >= 0.95,
        "`async def` hello over HTTP ≥ 0.95x Starlette's req/s",
        spread=_rps_spread(results, "hello_async", "Starlette"),
    )
    yield line(
        _p99_ratio(results, "hello_async", "Starlette"),
        lambda r: r <= 1.2,
        "`async def` hello over HTTP: p99 latency ≤ 1.2x Starlette's",
        spread=_p99_spread(results, "hello_async", "Starlette"),
    )
    yield line(
        _rps_ratio(results, "hello_async", "Quart"),
        lambda r: r >= 3,
        "`async def` hello over HTTP ≥ 3x Quart's req/s",
        spread=_rps_spread(results, "hello_async", "Quart"),
    )
    yield line(
        _rps_ratio(results, "hello_sync", "Starlette"),
        lambda r: r >= 1,
        "`def` hello over HTTP ≥ Starlette `def` endpoint's req/s",
        spread=_rps_spread(results, "hello_sync", "Starlette"),
    )
    yield line(
        _cost_ratio(results, "hello_sync", "Starlette"),
        lambda r: r <= 1,
        "`def` hello in-process ≤ Starlette `def` endpoint's cost",
        spread=_cost_spread(results, "hello_sync", "Starlette"),
    )
    yield line(
        _cost_ratio(results, "form_sync", "Flask"),
        lambda r: r <= 0.8,
        "`def` view reading a form in-process ≤ 0.8x Flask's cost",
        spread=_cost_spread(results, "form_sync", "Flask"),
    )
    yield line(
        _cost_ratio(results, "session", "Starlette"),
        lambda r: r <= 1.3,
        "session read + write in-process ≤ 1.3x Starlette `SessionMiddleware`'s cost",
        spread=_cost_spread(results, "session", "Starlette"),
    )
    yield line(
        _rps_ratio(results, "session", "Starlette"),
        lambda r: r >= 0.8,
        "session read + write over HTTP ≥ 0.8x Starlette's req/s",
        spread=_rps_spread(results, "session", "Starlette"),
    )
    yield line(
        _cost_ratio(results, "template", "Starlette"),
        lambda r: r <= 1.0,
        "template (base + loop) in-process ≤ Starlette `Jinja2Templates`' cost",
        spread=_cost_spread(results, "template", "Starlette"),
    )
    yield line(
        _rps_ratio(results, "block_sync", "Starlette"),
        lambda r: r >= 0.95,
        "10 ms blocking `def` view, 64 connections, ≥ 0.95x Starlette `def`'s req/s",
        spread=_rps_spread(results, "block_sync", "Starlette"),
    )
    yield line(
        _rps_ratio(results, "block_sync", "Quart"),
        lambda r: r >= 4,
        "10 ms blocking `def` view, 64 connections, ≥ 4x Quart's req/s",
        spread=_rps_spread(results, "block_sync", "Quart"),
    )
    for shape, rule in (
        ("routes", "/r{i}/<int:item_id>"),
        ("routes_api", "/api/r{i}/<int:item_id>"),
    ):
        costs = results.inprocess.get(f"{shape}_last", {})
        extra = ""
        if ME in costs and "Flask" in costs:
            extra = (
                f"; last route {costs[ME]:.0f} µs vs Flask's {costs['Flask']:.0f} µs "
                f"and Starlette's {costs.get('Starlette', float('nan')):.0f} µs"
            )
        yield line(
            _own_ratio(results, f"{shape}_last", f"{shape}_first"),
            lambda r: r <= 1.5,
            f"1000 routes `{rule}`, last route ≤ 1.5x the first (in-process)",
            "last/first",
            extra,
            spread=_own_spread(results, f"{shape}_last", f"{shape}_first"),
        )
    goal = "a request that never touches `session` or the body pays nothing for them"
    receives = results.receive_calls.get("untouched", {}).get(ME)
    opens = results.session_opens.get("untouched")
    ratio = _own_ratio(results, "untouched", "hello_async")
    if receives is None or opens is None:
        yield None, goal, "not measured in this run"
    else:
        cost = f"; cost vs `hello_async` **{ratio:.2f}x**" if ratio else ""
        yield (
            receives == 0 and opens == 0,
            goal,
            (f"`receive` called {receives} times, `open_session` {opens} times{cost}"),
        )
    yield from _issue_12(results, line)
    yield from _issue_15(results, line)
    yield from _issue_18(results, line)


def _issue_12(results: Results, line: Any) -> Iterator[tuple[bool | None, str, str]]:
    """Issue 12's targets: `def` hooks, the blocking-call detector, streams
    through `def` hooks."""
    costs = results.inprocess
    hooks, plain = costs.get("def_with_after_hooks", {}), costs.get("hello_sync", {})
    extra = ""
    if ME in hooks and ME in plain:
        extra = f" ({hooks[ME]:.1f} µs vs {plain[ME]:.1f} µs"
        if "Flask" in hooks and "Flask" in plain:
            extra += (
                f"; Flask with the same hooks {hooks['Flask']:.1f} µs vs "
                f"{plain['Flask']:.1f} µs, {hooks['Flask'] / plain['Flask']:.2f}x"
            )
        extra += ")"
    yield line(
        _own_ratio(results, "def_with_after_hooks", "hello_sync"),
        lambda r: r <= 1.1,
        "`def` hello with two `def after_request` hooks in-process ≤ 1.1x plain `def` hello's cost",
        "hooked/plain",
        extra,
        spread=_own_spread(results, "def_with_after_hooks", "hello_sync"),
    )
    detector, plain = costs.get("hello_async_detector", {}), costs.get("hello_async", {})
    extra = (
        f" ({detector[ME]:.1f} µs vs {plain[ME]:.1f} µs)" if ME in detector and ME in plain else ""
    )
    yield line(
        _own_ratio(results, "hello_async_detector", "hello_async"),
        lambda r: r <= 1.05,
        "`async def` hello with `BLOCKING_WARN_MS=100` in-process ≤ 1.05x without",
        "with/without",
        extra,
        spread=_own_spread(results, "hello_async_detector", "hello_async"),
    )
    runs = results.streams.get("sse_with_sync_hooks", {})
    timing = results.meta.get("timing", {})
    clients = timing.get("stream_clients", STREAM_CLIENTS)
    seconds = timing.get("stream_seconds", STREAM_SECONDS)
    goal = (
        f"{clients:,} SSE streams through `def` hooks on one worker (`THREAD_POOL_SIZE=40`): "
        f"every client gets every event, all streaming before the first stream ends "
        f"({seconds:g} s; with a slot held per stream, client 41 would wait that long)"
    )
    mine = runs.get(ME)
    if mine is None:
        yield None, goal, "not measured in this run"
        return
    met = mine.complete == mine.clients and (mine.all_streaming_s or seconds) < seconds
    peer = runs.get("Starlette")
    versus = (
        f" (Starlette `StreamingResponse`: {peer.complete:,}, {_seconds(peer.all_streaming_s)})"
        if peer
        else ""
    )
    yield (
        met,
        goal,
        (
            f"**{mine.complete:,}/{mine.clients:,}** got all {mine.events} events, all streaming "
            f"after **{_seconds(mine.all_streaming_s)}**{versus}; longest gap between events "
            f"{_seconds(mine.max_gap_s)}" + ("" if met else " (gap)")
        ),
    )


def _issue_15(results: Results, line: Any) -> Iterator[tuple[bool | None, str, str]]:
    """Issue 15's targets: websocket echo round trips, idle connections' memory."""
    echo = results.ws_echo.get("websocket_echo", {})
    timing = results.meta.get("timing", {})
    connections = timing.get("ws_connections", WS_CONNECTIONS)
    ratio = None
    extra = ""
    if ME in echo and "Starlette" in echo and echo["Starlette"].round_trips_per_second:
        base = echo["Starlette"].round_trips_per_second
        ratio = echo[ME].round_trips_per_second / base
        extra = (
            f" ({echo[ME].round_trips_per_second:,.0f} vs {base:,.0f} round trips/s; "
            f"server CPU {_us(echo[ME].server_cpu_us)} vs "
            f"{_us(echo['Starlette'].server_cpu_us)} per round trip"
        )
        sync = echo.get(f"{ME} (def)")
        if sync is not None:
            extra += (
                f"; `def` handler {sync.round_trips_per_second:,.0f}/s, "
                f"**{sync.round_trips_per_second / base:.2f}x**"
            )
        extra += ")"
    yield line(
        ratio,
        lambda r: r >= 0.9,
        f"websocket echo, {connections} connections, `async def` handler ≥ 0.9x "
        "Starlette's round trips/s (`def` handler reported)",
        "measured",
        extra,
    )
    idle = results.ws_idle.get("websocket_idle", {})
    count = timing.get("ws_idle_connections", WS_IDLE_CONNECTIONS)
    goal = (
        f"{count:,} idle websocket connections (`async def` handlers in `receive()`) held "
        "at once by one worker; server RSS per connection reported vs Starlette"
    )
    mine = idle.get(ME)
    if mine is None:
        yield None, goal, "not measured in this run"
        return
    met = mine.opened == mine.answered == mine.connections
    peer = idle.get("Starlette")
    versus = ""
    if peer is not None and mine.kb_per_connection and peer.kb_per_connection:
        versus = (
            f" vs Starlette's {peer.kb_per_connection:.1f} KB "
            f"(**{mine.kb_per_connection / peer.kb_per_connection:.2f}x**)"
        )
    yield (
        met,
        goal,
        (
            f"**{mine.opened:,}/{mine.connections:,}** open at once and answering, "
            f"**{_kb(mine.kb_per_connection)} KB** per connection{versus}"
            + ("" if met else " (gap)")
        ),
    )


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _mix_rounds(results: Results, scenario: str, row: str) -> list[MixResult]:
    return results.mix.get(scenario, {}).get(row, [])


def _inside(run: MixResult, clock: str, key: str = "p50") -> float | None:
    summary = run.inside.get(f"{clock}_us")
    return None if not summary else float(summary[key])


def _paired(
    mine: list[MixResult],
    base: list[MixResult],
    value: Callable[[MixResult], float | None],
) -> tuple[float, float, float] | None:
    """The ratio of the medians of *value* over the rounds, and the lowest and
    highest ratio of one round to the same round of the other row (the rows
    took turns, so round i of each ran at about the same time)."""
    pairs = [(value(a), value(b)) for a, b in zip(mine, base, strict=False)]
    pairs = [(a, b) for a, b in pairs if a is not None and b]
    if not pairs:
        return None
    ratios = [a / b for a, b in pairs]
    return (
        _median([a for a, _ in pairs]) / _median([b for _, b in pairs]),
        min(ratios),
        max(ratios),
    )


def _issue_18(results: Results, line: Any) -> Iterator[tuple[bool | None, str, str]]:
    """Issue 18's targets: the migrated app against Flask and Quart, and its
    async-API variant."""
    mine = _mix_rounds(results, "migrated_app", ME)
    flask = _mix_rounds(results, "migrated_app", "Flask")
    quart = _mix_rounds(results, "migrated_app", "Quart")
    mine_async = _mix_rounds(results, "migrated_app_async", ME)

    def rps(run: MixResult) -> float:
        return run.requests_per_second

    def p99(run: MixResult) -> float:
        return run.p99_ms

    def spread(found: tuple[float, float, float] | None, what: str = "") -> str:
        return (
            ""
            if found is None
            else (
                f" (one round against the same round: {found[1]:.2f}-{found[2]:.2f}x"
                f"{what}; {len(mine)} rounds each)"
            )
        )

    def rates(a: list[MixResult], b: list[MixResult], names: str) -> str:
        return (
            (
                f"; median {_median([rps(r) for r in a]):,.0f} vs "
                f"{_median([rps(r) for r in b]):,.0f} req/s ({names})"
            )
            if a and b
            else ""
        )

    found = _paired(mine, flask, rps)
    yield line(
        found and found[0],
        lambda r: r >= 1.3,
        "`migrated_app` over HTTP ≥ 1.3x the same code's req/s on Flask (gunicorn gthread)",
        "measured",
        spread(found) + rates(mine, flask, "flaskish, Flask"),
    )
    found = _paired(mine, flask, p99)
    extra = ""
    if found:
        extra = (
            f" (median p99 {_median([p99(r) for r in mine]):.1f} ms vs "
            f"{_median([p99(r) for r in flask]):.1f} ms; one round against the same "
            f"round: {found[1]:.2f}-{found[2]:.2f}x)"
        )
    yield line(
        found and found[0],
        lambda r: r <= 0.8,
        "`migrated_app` over HTTP: p99 latency ≤ 0.8x Flask's",
        "measured",
        extra,
    )
    found = _paired(mine, flask, lambda r: _inside(r, "wall"))
    extra = ""
    cpu = _paired(mine, flask, lambda r: _inside(r, "cpu"))

    def middle(rounds: list[MixResult], clock: str) -> float:
        return _median([_inside(r, clock) or 0.0 for r in rounds])

    if found:
        extra = (
            f" (median of the rounds' p50: {middle(mine, 'wall'):.0f} µs vs "
            f"{middle(flask, 'wall'):.0f} µs; rounds {found[1]:.2f}-{found[2]:.2f}x"
        )
        if cpu:
            extra += (
                f"; the thread's CPU time {middle(mine, 'cpu'):.0f} µs vs "
                f"{middle(flask, 'cpu'):.0f} µs, **{cpu[0]:.2f}x**"
            )
        extra += ")"
    yield line(
        found and found[0],
        lambda r: r <= 1.0,
        "`migrated_app`: time inside the app (first `before_request` to last "
        "`after_request`, wall p50) ≤ 1.0x Flask's",
        "measured",
        extra,
    )
    found = _paired(mine_async, mine, rps)
    yield line(
        found and found[0],
        lambda r: True,
        "`migrated_app_async` (the JSON API views `async def`) vs `migrated_app`, req/s (reported)",
        "measured",
        spread(found) + rates(mine_async, mine, "async API, def API"),
    )
    found = _paired(mine, quart, rps)
    yield line(
        found and found[0],
        lambda r: r >= 3,
        "`migrated_app` over HTTP ≥ 3x the same app written for Quart, req/s",
        "measured",
        spread(found) + rates(mine, quart, "flaskish, Quart"),
    )


def _mix_table(results: Results) -> list[str]:
    """The migrated app's section of RESULTS.md."""
    rows = [
        (scenario, name, rounds)
        for scenario in ("migrated_app", "migrated_app_async")
        for name, rounds in results.mix.get(scenario, {}).items()
    ]
    if not rows:
        return []
    timing = results.meta.get("timing", {})
    first = rows[0][2][0]
    out = [
        "",
        "## Over loopback: the migrated app (`migrated_app`, `migrated_app_async`)",
        "",
        "One Flask app (`benchmarks/migrated/app.py`) run unchanged by Flask (gunicorn, one "
        "gthread worker, 40 threads) and by flaskish (uvicorn, one worker; "
        "`install_as_flask()` first), its JSON API views made `async def` "
        "(`migrated_app_async`), and the same app written for Quart (uvicorn), each on a "
        "fresh sqlite file; every server pinned to CPU 0, the client "
        f"(`migrated_load.py`) to CPU 1. {first.connections} connections, each logged in "
        "once, then sending 40% page GETs, 40% JSON GETs and 20% CSRF-protected POSTs "
        "(each answered by a redirect, counted, not followed). After a "
        f"{timing.get('mix_warmup', 1):g} s warm-up each, the rows took turns for "
        f"{len(rows[0][2])} rounds of {timing.get('mix_seconds', 3):g} s; "
        'every round is kept: medians, with the lowest and highest round. "inside": the '
        "app's own clock from its first `before_request` to its last `after_request` hook "
        "(the extensions' hooks included, the session's saving not), p50 / p99 over the "
        "round's requests, median over the rounds; CPU is the thread's (`thread_time`), "
        "not measured for Quart (its hooks run on the event loop among other requests).",
        "",
    ]
    flask = results.mix.get("migrated_app", {}).get("Flask")
    table = []
    for scenario, name, rounds in rows:
        label = name if scenario == "migrated_app" else f"{name} (async API)"
        per = [r.requests_per_second for r in rounds]
        p99s = [r.p99_ms for r in rounds]
        cpus = [r.server_cpu_us for r in rounds if r.server_cpu_us]

        def inside(clock: str, rounds: list[MixResult] = rounds) -> str:
            p50 = [v for r in rounds if (v := _inside(r, clock)) is not None]
            top = [v for r in rounds if (v := _inside(r, clock, "p99")) is not None]
            return f"{_median(p50):,.0f} / {_median(top):,.0f}" if p50 else "-"

        errors = sum(sum(r.errors.values()) for r in rounds)
        versus = _paired(rounds, flask, lambda r: r.requests_per_second) if flask else None
        table.append(
            [
                label,
                f"**{_median(per):,.0f}** ({min(per):,.0f}-{max(per):,.0f})",
                f"{_median([r.p50_ms for r in rounds]):.1f}",
                f"{_median(p99s):.1f} ({min(p99s):.1f}-{max(p99s):.1f})",
                f"{_median(cpus):,.0f}" if cpus else "-",
                inside("wall"),
                inside("cpu"),
                str(errors),
                "-" if versus is None else f"{versus[0]:.2f} ({versus[1]:.2f}-{versus[2]:.2f})",
            ]
        )
    out += _table(
        [
            "row",
            "req/s, median (min-max)",
            "p50 ms",
            "p99 ms, median (min-max)",
            "server CPU µs / request",
            "inside µs, wall p50 / p99",
            "inside µs, CPU p50 / p99",
            "errors",
            "req/s vs Flask (round ratios)",
        ],
        table,
    )
    out += ["", "Per request type, p50 / p99 latency in ms (median over the rounds):", ""]
    kinds = ["page", "json", "post"]

    def latency(rounds: list[MixResult], kind: str) -> str:
        found = [r.kinds[kind] for r in rounds if kind in r.kinds]
        if not found:
            return "-"
        return (
            f"{_median([k['p50_ms'] for k in found]):.1f} / "
            f"{_median([k['p99_ms'] for k in found]):.1f}"
        )

    out += _table(
        ["row", *kinds],
        [
            [name if scenario == "migrated_app" else f"{name} (async API)"]
            + [latency(rounds, kind) for kind in kinds]
            for scenario, name, rounds in rows
        ],
    )
    return out


def _us(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} µs"


def _kb(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _websockets_table(results: Results) -> list[str]:
    """The websocket scenarios' section of RESULTS.md."""
    out: list[str] = []
    timing = results.meta.get("timing", {})
    for scenario in SCENARIOS:
        echo = results.ws_echo.get(scenario.name)
        if echo:
            first = next(iter(echo.values()))
            out += [
                "",
                f"## Over loopback: websocket echo, {first.connections} connections "
                f"(`{scenario.name}`)",
                "",
                "Each connection sends a short text message and waits for it to come back, "
                "again and again; one uvicorn worker (uvloop, httptools, uvicorn's `auto` "
                "websocket protocol: websockets' sans-IO implementation) pinned to CPU 0; "
                f"the connections shared by {first.client_processes} client processes "
                "(`websocket_load.py`, websockets' sans-IO client protocol) on CPU 1. The "
                "rows take turns like wrk's: a "
                f"{timing.get('http_warmup', 1):g} s warm-up each, then "
                f"{timing.get('http_rounds', 3)} rounds of "
                f"{timing.get('http_seconds', 2):g} s, the best kept. Server and client "
                "CPU are shares of one CPU over the timed window: the server near 100% is "
                "the limit, as it should be.",
                "",
            ]
            base = echo.get("Starlette")
            rows = []
            for label, run in echo.items():
                ratio = (
                    run.round_trips_per_second / base.round_trips_per_second
                    if base and base.round_trips_per_second
                    else None
                )
                errors = ", ".join(f"{n} {what}" for what, n in run.errors.items()) or "0"
                rows.append(
                    [
                        label,
                        f"{run.round_trips_per_second:,.0f}",
                        f"{run.p50_ms:.2f} / {run.p99_ms:.2f}",
                        _us(run.server_cpu_us),
                        _share(run.server_cpu_share),
                        _share(run.client_cpu_share),
                        errors,
                        _ratio_cell(ratio),
                    ]
                )
            out += _table(
                [
                    "handler",
                    "round trips/s",
                    "p50 / p99 ms",
                    "server CPU per round trip",
                    "server CPU",
                    "client CPU",
                    "errors",
                    "vs Starlette",
                ],
                rows,
            )
        idle = results.ws_idle.get(scenario.name)
        if idle:
            one = next(iter(idle.values()))
            out += [
                "",
                f"## Over loopback: {one.connections:,} idle websocket connections "
                f"(`{scenario.name}`)",
                "",
                "One client process (CPU 1) opens every connection (at most 200 "
                "handshakes at a time) to one uvicorn worker (CPU 0, a fresh one per "
                "framework) and holds them; the server's `VmRSS` is read before, once "
                "all are open and idle for 1 s, after one message echoed on each (all "
                "open and served at once), and 1 s after they closed. RSS per connection: "
                "(idle - before) / connections. File-descriptor limit (`RLIMIT_NOFILE`, "
                f"raised to the hard limit for the servers and the client): "
                f"{one.fd_limit}.",
                "",
            ]
            base_kb = idle["Starlette"].kb_per_connection if "Starlette" in idle else None
            rows = []
            for label, held in idle.items():
                per = held.kb_per_connection
                errors = ", ".join(f"{n} {what}" for what, n in held.errors.items()) or "0"
                rows.append(
                    [
                        label,
                        f"{held.opened:,} / {held.connections:,}",
                        f"{held.answered:,}",
                        errors,
                        _seconds(held.open_seconds),
                        f"{_mb(held.rss_before_mb)} → {_mb(held.rss_idle_mb)} → "
                        f"{_mb(held.rss_checked_mb)} → {_mb(held.rss_closed_mb)}",
                        f"**{_kb(per)}**",
                        _ratio_cell(per / base_kb if per and base_kb else None),
                    ]
                )
            out += _table(
                [
                    "framework",
                    "open at once",
                    "answered",
                    "errors",
                    "opened in",
                    "RSS MB (before → idle → after a message → closed)",
                    "KB per connection",
                    "vs Starlette",
                ],
                rows,
            )
    return out


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _streams_table(results: Results) -> list[str]:
    """The streaming scenarios' section of RESULTS.md."""
    out = []
    for scenario in SCENARIOS:
        runs = results.streams.get(scenario.name)
        if not runs:
            continue
        first = next(iter(runs.values()))
        out += [
            "",
            f"## Over loopback: {first.clients:,} concurrent SSE streams (`{scenario.name}`)",
            "",
            f"{scenario.summary}.",
            "",
            f"Each client opens one stream of {first.events} events, one every "
            f"{first.interval:g} s, all clients at once, against one uvicorn worker "
            "(pinned to CPU 0; the client, one httpx2 `AsyncClient` per stream, on CPU 1). "
            "Server memory and threads are sampled from `/proc/<pid>/status` every 50 ms "
            '("end": after the last stream ended); RSS per stream is (peak - start) / '
            "streams, server CPU the share of one core over the run.",
            "",
        ]
        if scenario.name == "sse_with_sync_hooks":
            out += [
                "flaskish's app has a `def before_request` and a `def after_request` hook "
                "and `THREAD_POOL_SIZE=40`; Starlette's `StreamingResponse` has no hooks.",
                "",
            ]
        rows = []
        for name, run in runs.items():
            errors = ", ".join(f"{n} {what}" for what, n in run.errors.items()) or "0"
            workers = (
                "-"
                if run.peak_busy is None
                else f"{run.peak_busy} / {run.peak_waiting} / {run.peak_parked}"
            )
            per_stream = (
                "-"
                if run.rss_peak_mb is None or run.rss_start_mb is None
                else f"{(run.rss_peak_mb - run.rss_start_mb) * 1024 / run.clients:.0f}"
            )
            share = "-" if run.cpu_s is None else f"{run.cpu_s / run.wall_s:.1%}"
            rows.append(
                [
                    name,
                    f"{run.complete:,} / {run.clients:,}",
                    errors,
                    _seconds(run.all_streaming_s),
                    _seconds(run.median_first_event_s),
                    f"{_seconds(run.max_gap_s)} / {_seconds(run.p99_gap_s)}",
                    f"{_mb(run.rss_start_mb)} → {_mb(run.rss_peak_mb)} → {_mb(run.rss_end_mb)}",
                    per_stream,
                    f"{run.threads_start} → {run.threads_peak} → {run.threads_end}",
                    "-" if run.cpu_s is None else f"{run.cpu_s:.2f}",
                    share,
                    workers,
                ]
            )
        out += _table(
            [
                "framework",
                "got every event",
                "errors",
                "all streaming after",
                "median first event",
                "longest gap (worst / p99)",
                "RSS MB (start → peak → end)",
                "RSS KB per stream",
                "threads (start → peak → end)",
                "server CPU s",
                "server CPU",
                "flaskish busy / waiting / parked (peak)",
            ],
            rows,
        )
        if scenario.name == "sse_with_sync_hooks":
            out += [
                "",
                '"waiting" counts requests that waited for one of the '
                "`THREAD_POOL_SIZE` slots to run their `def before_request` while 1,000 "
                'arrived at once; "parked" counts requests holding their thread, '
                "without a slot, while the stream runs (the `/threads` poll itself is one "
                "of them). Idle worker threads stay until anyio retires them at the next "
                "thread call after 10 s idle.",
            ]
    for scenario in SCENARIOS:
        left = results.disconnects.get(scenario.name)
        if not left:
            continue
        first = next(iter(left.values()))
        out += [
            "",
            f"## Over loopback: client leaves, generator ends (`{scenario.name}`)",
            "",
            f"{scenario.summary}. {first.clients} streams per row, opened one after the "
            "other, then closed one after the other; target: p99 under 1 s.",
            "",
        ]
        out += _table(
            ["row", "generators ended", "p50", "p99", "worst"],
            [
                [
                    name,
                    f"{run.ended} / {run.clients}",
                    _ms(run.p50_ms),
                    _ms(run.p99_ms),
                    _ms(run.max_ms),
                ]
                for name, run in left.items()
            ],
        )
    return out


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


# -- RESULTS.md ---------------------------------------------------------------


def _frameworks(results: Results) -> list[str]:
    return [name for name in (f.name for f in FRAMEWORKS) if name in results.meta["frameworks"]]


def _na(results: Results, scenario: str, framework: str) -> str:
    return "n/a" if framework in results.unsupported.get(scenario, {}) else "-"


def _ratio_cell(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio:.2f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _source_line(source: dict[str, str] | None) -> str:
    if not source:
        return "* **flaskish:** imported from the working tree while the run went on."
    dirty = " plus uncommitted changes" if source["dirty"] == "yes" else ""
    return (
        f"* **flaskish:** commit {source['commit']}{dirty} (source hash "
        f"{source['hash']}), copied at the start so the whole run measures one version."
    )


def _markdown(results: Results, chart: Path) -> list[str]:
    meta = results.meta
    names = _frameworks(results)
    peers = [name for name in names if name != ME]
    versions = meta["versions"]
    timing = meta["timing"]
    out = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`benchmarks/run.py`); do not edit by hand. What each "
        "scenario measures: [README.md](README.md).",
        "",
        f"* **Date:** {meta['date']}",
        f"* **Machine:** {meta['cpu']}, {meta['cpus']} CPUs, {meta['platform']}. "
        "A **shared** machine: other jobs (test suites) may have run at the same time; "
        f"load average (1, 5, 15 min) {meta['load_before']} at the start, "
        f"{meta.get('load_after', '?')} at the end (the run itself adds about 2: a server "
        "and wrk, each busy on its CPU). Ratios come from the frameworks taking turns, so "
        "they move less than the absolute numbers.",
        _source_line(meta.get("source")),
        f"* **Python** {meta['python']}; "
        + ", ".join(
            f"{name} {versions[name]}" for name in DISTRIBUTIONS if versions.get(name, "-") != "-"
        )
        + f"; wrk {meta['wrk']}.",
        f"* **In-process:** median of {timing['repeat']} repetitions of about "
        f"{timing['rep_seconds']} s each after a warm-up, the frameworks taking turns "
        "repetition by repetition; ASGI apps on one uvloop event loop with their lifespan "
        "started, Flask called as WSGI on a thread"
        + (
            f"; pinned to CPU {meta['inprocess_cpu']}"
            if meta.get("inprocess_cpu") is not None
            else ""
        )
        + ". Scenarios with 64 requests in flight report wall time / requests.",
        "* **Over loopback:** every app served at once, one server process each on "
        "127.0.0.1 (uvicorn, one worker, uvloop + httptools, for ASGI; gunicorn, one gthread "
        f"worker with 40 threads, for Flask); wrk with 1 thread, {timing['connections']} "
        f"connections (64 for the 10 ms scenarios); per scenario a {timing['http_warmup']:g} s "
        f"warm-up each, then {timing['http_rounds']} rounds of {timing['http_seconds']:g} s "
        "with the frameworks taking turns, the best round kept; "
        + (
            "servers pinned to CPU 0 and wrk to CPU 1 with taskset."
            if meta["taskset"]
            else "no CPU pinning (taskset or a second CPU missing)."
        ),
        "",
        "## Targets (issues 4, 12, 15 and 18)",
        "",
    ]
    for met, goal, measured in targets(results):
        mark = {True: "✅", False: "❌", None: "⬜"}[met]
        out.append(f"- {mark} {goal}: {measured}")
    out += ["", "## In-process: µs per request (lower is better)", ""]
    scenario_names = [s.name for s in SCENARIOS]
    rows = []
    for name in scenario_names:
        costs = results.inprocess.get(name, {})
        if not costs:
            continue
        rows.append(
            [f"`{name}`"]
            + [f"{costs[f]:,.1f}" if f in costs else _na(results, name, f) for f in names]
        )
    out += _table(["scenario", *names], rows)
    out += ["", "## In-process: flaskish cost / peer cost (below 1: flaskish is faster)", ""]
    rows = []
    for name in scenario_names:
        if ME not in results.inprocess.get(name, {}):
            continue
        rows.append([f"`{name}`"] + [_ratio_cell(_cost_ratio(results, name, p)) for p in peers])
    out += _table(["scenario", *(f"vs {p}" for p in peers)], rows)
    if results.http:
        out += ["", "## Over loopback: requests/s (p50 / p99 latency in ms)", ""]
        rows = []
        for name in scenario_names:
            runs = results.http.get(name, {})
            if not runs:
                continue
            cells = []
            for f in names:
                run = runs.get(f)
                if run is None:
                    cells.append(_na(results, name, f))
                    continue
                errors = f", {run.errors} errors" if run.errors else ""
                cells.append(
                    f"{run.requests_per_second:,.0f} ({run.p50_ms:.2f} / {run.p99_ms:.2f}{errors})"
                )
            rows.append([f"`{name}`", *cells])
        out += _table(["scenario", *names], rows)
        out += [
            "",
            "## Over loopback: server CPU µs per request (lower is better)",
            "",
            "User + system CPU time of the server process(es) during the kept wrk run, "
            "divided by the requests served: less sensitive than req/s to other load on "
            "the machine.",
            "",
        ]
        rows = []
        for name in scenario_names:
            runs = results.http.get(name, {})
            if not runs:
                continue
            rows.append(
                [f"`{name}`"]
                + [
                    f"{runs[f].server_cpu_us:,.0f}"
                    if f in runs and runs[f].server_cpu_us
                    else _na(results, name, f)
                    for f in names
                ]
            )
        out += _table(["scenario", *names], rows)
        out += [
            "",
            "## Over loopback: flaskish req/s / peer req/s (above 1: flaskish is faster)",
            "",
        ]
        rows = []
        for name in scenario_names:
            if ME not in results.http.get(name, {}):
                continue
            rows.append([f"`{name}`"] + [_ratio_cell(_rps_ratio(results, name, p)) for p in peers])
        out += _table(["scenario", *(f"vs {p}" for p in peers)], rows)
    out += _streams_table(results)
    out += _websockets_table(results)
    out += _mix_table(results)
    out += _fanout_table(results)
    out += ["", f"![flaskish speed relative to each peer]({chart.name})", "", "## Notes", ""]
    out += [f"- {note}" for note in results.notes]
    out.append("- `n/a`: the framework cannot run the scenario, or is not its baseline:")
    for name in scenario_names:
        for framework, reason in results.unsupported.get(name, {}).items():
            out.append(f"  - {framework}, `{name}`: {reason}.")
    out.append("- `-`: not measured in this run.")
    return out


def write_results(results: Results, path: Path, chart: Path) -> None:
    """Write RESULTS.md."""
    path.write_text("\n".join(_markdown(results, chart)) + "\n")


# -- chart --------------------------------------------------------------------


def write_chart(results: Results, path: Path) -> None:
    """A bar chart of flaskish's speed relative to each peer (log scale)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    peers = [name for name in _frameworks(results) if name != ME]
    panels = [("in-process: peer µs / flaskish µs", results.inprocess, True)]
    if results.http:
        panels.append(("over loopback: flaskish req/s / peer req/s", results.http, False))
    figure, axes = plt.subplots(len(panels), 1, figsize=(13, 4.8 * len(panels)), squeeze=False)
    colours = {
        "raw ASGI": "#7f7f7f",
        "Starlette": "#1f77b4",
        "Quart": "#ff7f0e",
        "Flask": "#2ca02c",
    }
    for axis, (title, data, invert) in zip(axes[:, 0], panels, strict=True):
        # Only scenarios with a peer to compare with (not flaskish-only ones).
        names = [
            s.name
            for s in SCENARIOS
            if ME in data.get(s.name, {}) and set(data[s.name]) & set(peers)
        ]
        width = 0.8 / max(len(peers), 1)
        for index, peer in enumerate(peers):
            xs, ys = [], []
            for position, name in enumerate(names):
                ratio = (
                    _cost_ratio(results, name, peer) if invert else _rps_ratio(results, name, peer)
                )
                if ratio:
                    xs.append(position + (index - (len(peers) - 1) / 2) * width)
                    ys.append(1 / ratio if invert else ratio)
            axis.bar(xs, ys, width, label=f"vs {peer}", color=colours.get(peer))
        axis.axhline(1, color="black", linewidth=0.8)
        axis.set_yscale("log")
        axis.set_xticks(range(len(names)), names, rotation=25, ha="right")
        axis.set_ylabel("flaskish speed ÷ peer speed")
        axis.set_title(title + "  (above 1: flaskish is faster)")
        if peers:
            axis.legend(fontsize="small", ncols=len(peers))
        axis.grid(axis="y", which="both", alpha=0.3)
    figure.suptitle(f"flaskish vs peers, {results.meta['date']}, {results.meta['cpu']}")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _fanout_table(results: Results) -> list[str]:
    """Issue 19's fan-out section of RESULTS.md."""
    runs = results.fanout
    if not runs:
        return []
    first = next(iter(runs.values()))
    out = [
        "",
        f"## Over loopback: broadcast fan-out, {first['subscribers']:,} websocket "
        f"subscribers, {first['messages']} messages",
        "",
        "One publisher POSTs the messages one after another; every subscriber (a websocket "
        "relaying `app.broadcast.subscribe`) records when each arrives. Deliveries per "
        "second count messages x subscribers from the first publish to the last delivery; "
        "latency is publish to receive. The client is one Python process holding every "
        "connection, so it bounds both rows.",
        "",
    ]
    rows = []
    for backend, run in runs.items():
        rows.append(
            [
                f"`{backend}://`",
                str(run["workers"]),
                f"{run['deliveries']:,}",
                f"{run['deliveries_per_second']:,.0f}",
                f"{run['p50_ms']:.0f}",
                f"{run['p99_ms']:.0f}",
            ]
        )
    out += _table(["backend", "workers", "deliveries", "deliveries/s", "p50 ms", "p99 ms"], rows)
    if "redis" in runs and "memory" in runs and runs["memory"]["deliveries_per_second"]:
        ratio = runs["redis"]["deliveries_per_second"] / runs["memory"]["deliveries_per_second"]
        out += [
            "",
            f"Redis (two workers) reaches {ratio:.2f}x the memory backend's deliveries per second.",
        ]
    return out
