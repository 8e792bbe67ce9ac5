"""Runs the scenarios against each framework: the smoke check, the
in-process timings and the loopback (wrk) runs. ``run.py`` is the command
line; ``report.py`` turns the results into RESULTS.md and the chart.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable, Iterable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, ExitStack, nullcontext
from dataclasses import asdict, dataclass, field
from itertools import groupby
from pathlib import Path
from typing import Any

from .apps import Framework
from .disconnects import DisconnectResult, disconnect_load
from .inprocess import (
    AsgiCaller,
    HttpRequest,
    WsgiCaller,
    calibrate,
    event_loop_factory,
    median_us,
    run_batch,
)
from .loopback import HttpResult, pinning, send, serve, wrk
from .migrated_load import MixResult, mix_load, mix_smoke
from .scenarios import (
    SCENARIOS,
    STREAM_CLIENTS,
    STREAM_INTERVAL,
    STREAM_SECONDS,
    WS_CONNECTIONS,
    WS_IDLE_CONNECTIONS,
    WS_MESSAGE,
    Scenario,
)
from .streams import StreamResult, raise_fd_limit, stream_load
from .websocket_load import EchoResult, IdleResult, echo_load, idle_load

__all__ = [
    "Results",
    "SmokeFailure",
    "Timing",
    "disconnect_runs",
    "http_runs",
    "in_process",
    "mix_runs",
    "servable",
    "smoke_disconnects",
    "smoke_http",
    "smoke_mix",
    "smoke_streams",
    "smoke_websockets",
    "stream_runs",
    "websocket_runs",
]


class SmokeFailure(AssertionError):
    """A framework answered a scenario wrongly."""


@dataclass
class Timing:
    """How long to measure."""

    repeat: int = 7
    rep_seconds: float = 0.15
    http_seconds: float = 2.0
    http_warmup: float = 1.0
    http_rounds: int = 3
    connections: int = 16
    #: The streaming scenario: concurrent clients, and how long each stream lasts.
    stream_clients: int = STREAM_CLIENTS
    stream_seconds: float = STREAM_SECONDS
    stream_interval: float = STREAM_INTERVAL
    #: The websocket scenarios: echo connections (rounds as for wrk, of
    #: ``http_seconds``), the client processes sharing them out, and the
    #: idle connections held at once.
    ws_connections: int = WS_CONNECTIONS
    ws_client_processes: int = 2
    ws_idle_connections: int = WS_IDLE_CONNECTIONS
    #: The migrated app's mix (``connections`` client connections): rounds
    #: of ``mix_seconds`` each, the rows taking turns, after a warm-up each.
    mix_rounds: int = 7
    mix_seconds: float = 3.0
    mix_warmup: float = 1.0


@dataclass
class Results:
    """Everything one run measured, keyed ``[scenario][framework]``."""

    inprocess: dict[str, dict[str, float]] = field(default_factory=dict)
    #: ``[scenario][framework]``: each in-process repetition's µs per
    #: request, in the order taken (the frameworks took turns in each).
    inprocess_reps: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    http: dict[str, dict[str, HttpResult]] = field(default_factory=dict)
    #: ``[scenario][framework]``: each wrk round's (req/s, p99 ms), in the
    #: order taken (the frameworks took turns in each); ``http`` keeps the best.
    http_rounds: dict[str, dict[str, list[tuple[float, float]]]] = field(default_factory=dict)
    #: ``[scenario][framework]``: the streaming scenarios' runs.
    streams: dict[str, dict[str, StreamResult]] = field(default_factory=dict)
    #: ``[scenario][row]``: the websocket echo runs; a row is a framework,
    #: or a framework and a variant ("flaskish (def)").
    ws_echo: dict[str, dict[str, EchoResult]] = field(default_factory=dict)
    #: ``[scenario][framework]``: the idle websocket runs.
    ws_idle: dict[str, dict[str, IdleResult]] = field(default_factory=dict)
    #: ``[scenario][row]``: disconnect-to-``finally`` latencies.
    disconnects: dict[str, dict[str, DisconnectResult]] = field(default_factory=dict)
    #: ``[scenario][framework]``: every round of the migrated app's mix, in order.
    mix: dict[str, dict[str, list[MixResult]]] = field(default_factory=dict)
    #: ``[backend]``: the broadcast fan-out (``benchmarks/fanout.py``), as
    #: its :class:`~benchmarks.fanout.FanoutResult` fields.
    fanout: dict[str, dict[str, Any]] = field(default_factory=dict)
    unsupported: dict[str, dict[str, str]] = field(default_factory=dict)
    #: ``[scenario][framework]``: calls to ``receive`` while answering once.
    receive_calls: dict[str, dict[str, int]] = field(default_factory=dict)
    #: ``[scenario]``: flaskish ``session_interface.open_session`` calls.
    session_opens: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    #: How many (framework, scenario) answers were checked in-process.
    checked: int = 0

    def as_json(self) -> dict[str, Any]:
        """Plain data for ``results/latest.json``."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Results:
        """The results :meth:`as_json` wrote."""
        results = cls(**data)
        results.http = {
            scenario: {name: HttpResult(**run) for name, run in runs.items()}
            for scenario, runs in data["http"].items()
        }
        results.streams = {
            scenario: {name: StreamResult(**run) for name, run in runs.items()}
            for scenario, runs in data.get("streams", {}).items()
        }
        results.ws_echo = {
            scenario: {name: EchoResult(**run) for name, run in runs.items()}
            for scenario, runs in data.get("ws_echo", {}).items()
        }
        results.ws_idle = {
            scenario: {name: IdleResult(**run) for name, run in runs.items()}
            for scenario, runs in data.get("ws_idle", {}).items()
        }
        results.disconnects = {
            scenario: {name: DisconnectResult(**run) for name, run in runs.items()}
            for scenario, runs in data.get("disconnects", {}).items()
        }
        results.mix = {
            scenario: {name: [MixResult(**run) for run in rounds] for name, rounds in runs.items()}
            for scenario, runs in data.get("mix", {}).items()
        }
        return results


def check(
    framework: Framework,
    scenario: Scenario,
    status: int,
    body: bytes,
    headers: Iterable[tuple[str, str]] = (),
) -> None:
    """Raise :class:`SmokeFailure` unless the answer is 200 with the expected
    body (and header, if the scenario names one)."""
    if status != 200 or scenario.expect not in body:
        raise SmokeFailure(
            f"{framework.name} answered {scenario.name} ({scenario.method} {scenario.path}) "
            f"with {status} {body[:200]!r}; expected 200 containing {scenario.expect!r}"
        )
    if scenario.expect_header:
        name, value = scenario.expect_header
        if (name, value) not in [(k.lower(), v) for k, v in headers]:
            raise SmokeFailure(
                f"{framework.name} answered {scenario.name} without the header {name}: {value}"
            )


def _by_app(scenarios: Iterable[Scenario]) -> list[tuple[str, list[Scenario]]]:
    ordered = sorted(scenarios, key=lambda s: (s.app != "main", s.app))
    return [(name, list(group)) for name, group in groupby(ordered, key=lambda s: s.app)]


def supported(
    framework: Framework,
    scenarios: Iterable[Scenario],
    results: Results | None = None,
) -> list[Scenario]:
    """The scenarios *framework* can run; the others are noted in *results*."""
    unsupported = framework.unsupported()
    chosen = []
    for scenario in scenarios:
        reason = unsupported.get(scenario.name)
        if reason is None:
            chosen.append(scenario)
        elif results is not None:
            results.unsupported.setdefault(scenario.name, {})[framework.name] = reason
    return chosen


async def _call(caller: AsgiCaller | WsgiCaller, prepared: HttpRequest) -> Any:
    if isinstance(caller, WsgiCaller):
        # WSGI apps block: call them on a thread, never on the event loop.
        return await asyncio.to_thread(caller.call, prepared)
    return await caller.call(prepared)


async def _cookie(
    framework: Framework,
    caller: AsgiCaller | WsgiCaller,
    scenario: Scenario,
) -> str | None:
    """A session cookie from ``scenario.cookie_from``, when the framework has
    sessions."""
    if scenario.cookie_from is None or "session" in framework.unsupported():
        return None
    prime = HttpRequest("GET", scenario.cookie_from, "", b"", [("host", "localhost")])
    answer = await _call(caller, prime)
    cookie: str | None = answer.cookie()
    if answer.status != 200 or cookie is None:
        raise SmokeFailure(f"{framework.name}: {scenario.cookie_from} set no session cookie")
    return cookie


@dataclass
class _Case:
    """One framework running one scenario in-process."""

    framework: Framework
    scenario: Scenario
    batch: Callable[[int], Any]
    #: Its app's lifespan, when it runs only around this case's repetitions.
    lifespan: Callable[[], AbstractAsyncContextManager[Any]] | None = None
    #: The app (for the framework's ``verify``).
    app: Any = None
    number: int = 0
    seconds: list[float] = field(default_factory=list)

    def serving(self) -> AbstractAsyncContextManager[Any]:
        """Its app's own lifespan, or nothing when the app's is shared."""
        return self.lifespan() if self.lifespan else nullcontext()


async def _check_app(
    framework: Framework,
    caller: AsgiCaller | WsgiCaller,
    scenarios: list[Scenario],
    results: Results,
    lifespan: Callable[[], AbstractAsyncContextManager[Any]] | None = None,
) -> list[_Case]:
    """Answer each scenario once, check the answer, and return the cases to
    time. With *lifespan*, the app's lifespan runs around the check only."""
    counter = getattr(framework.code, "count_session_opens", None)
    verify = getattr(framework.code, "verify", None)
    cases = []
    for scenario in scenarios:
        case = _Case(framework, scenario, lambda n: None, lifespan, caller.app)
        async with case.serving():
            prepared = HttpRequest.for_scenario(
                scenario, await _cookie(framework, caller, scenario)
            )
            if counter is not None:
                with counter(caller.app) as opens:
                    answer = await _call(caller, prepared)
                results.session_opens[scenario.name] = opens[0]
            else:
                answer = await _call(caller, prepared)
            check(framework, scenario, answer.status, answer.body, answer.headers)
            problem = verify(caller.app, scenario.name) if verify else None
            if problem:
                raise SmokeFailure(f"{framework.name}, {scenario.name}: {problem}")
        results.checked += 1
        if isinstance(caller, AsgiCaller):
            results.receive_calls.setdefault(scenario.name, {})[framework.name] = (
                answer.receive_calls
            )
        case.batch = (
            caller.batch(prepared, scenario.concurrency, scenario.yield_every)
            if isinstance(caller, AsgiCaller)
            else caller.batch(prepared, scenario.concurrency)
        )
        cases.append(case)
    return cases


async def _in_process(
    apps: list[tuple[Framework, Any, list[Scenario]]],
    results: Results,
    timing: Timing | None,
    scenarios: list[Scenario],
    report: Callable[[str], None],
) -> None:
    async with AsyncExitStack() as running:
        cases: list[_Case] = []
        for framework, app, group in apps:
            caller: AsgiCaller | WsgiCaller
            lifespan = None
            if framework.kind == "wsgi":
                caller = WsgiCaller(app)
            elif any(s.own_lifespan for s in group):
                caller = AsgiCaller(app)
                lifespan = caller.running
            else:
                caller = await running.enter_async_context(AsgiCaller(app).running())
            cases += await _check_app(framework, caller, group, results, lifespan)
        if timing is None:
            return
        for together in _turns(scenarios):
            turn = [case for case in cases if case.scenario in together]
            for case in turn:
                async with case.serving():
                    case.number = await calibrate(
                        case.batch,
                        rep_seconds=timing.rep_seconds,
                        minimum=case.scenario.concurrency or 50,
                    )
            for repetition in range(timing.repeat):
                shift = repetition % max(len(turn), 1)
                for case in turn[shift:] + turn[:shift]:
                    async with case.serving():
                        case.seconds.append(await run_batch(case.batch, case.number))
                        _verify(case, results)
            for case in sorted(turn, key=lambda c: together.index(c.scenario)):
                name = case.scenario.name
                cost = median_us(case.seconds, case.number)
                results.inprocess.setdefault(name, {})[case.framework.name] = cost
                results.inprocess_reps.setdefault(name, {})[case.framework.name] = [
                    seconds / case.number * 1e6 for seconds in case.seconds
                ]
                report(f"  {case.framework.name:<10} {name:<20} {cost:10.1f} µs/request")


def _verify(case: _Case, results: Results) -> None:
    """Note what the framework's ``verify`` finds wrong after a repetition
    of a scenario with its own lifespan (once per scenario)."""
    verify = getattr(case.framework.code, "verify", None)
    if case.lifespan is None or verify is None:
        return
    problem = verify(case.app, case.scenario.name)
    prefix = f"{case.framework.name}, `{case.scenario.name}`:"
    if problem and not any(note.startswith(prefix) for note in results.notes):
        results.notes.append(f"{prefix} {problem}.")


def _turns(scenarios: list[Scenario]) -> list[list[Scenario]]:
    """Scenarios grouped for timing: each with those ``timed_with`` it."""
    names = {s.name for s in scenarios}
    turns = []
    for scenario in scenarios:
        if scenario.timed_with in names:
            continue
        turns.append([scenario] + [s for s in scenarios if s.timed_with == scenario.name])
    return turns


def in_process(
    frameworks: list[Framework],
    results: Results,
    timing: Timing | None,
    scenarios: list[Scenario] = SCENARIOS,
    report: Callable[[str], None] = print,
    cpu: int | None = None,
) -> None:
    """Answer every supported scenario once and check it; with *timing*,
    also time it in-process, on CPU *cpu* only if given. Scenarios measured
    over loopback only (``inprocess=False``) are left out."""
    scenarios = [s for s in scenarios if s.inprocess]
    pinned = cpu is not None and hasattr(os, "sched_setaffinity")
    if pinned:
        before = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {cpu})
    try:
        # Apps are built before the loop runs: building reads files.
        apps = [
            (framework, framework.build(app_name), group)
            for framework in frameworks
            for app_name, group in _by_app(supported(framework, scenarios, results))
        ]
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            runner.run(_in_process(apps, results, timing, scenarios, report))
    finally:
        if pinned:
            os.sched_setaffinity(0, before)


def servable(frameworks: list[Framework]) -> tuple[list[Framework], list[str]]:
    """The frameworks whose server is installed here, and a note for the others."""
    chosen = [f for f in frameworks if f.can_serve()]
    notes = [
        f"{f.name} not served over loopback: {f.server} is not installed in this "
        "environment (`make bench` installs it into benchmarks/.venv)"
        for f in frameworks
        if f not in chosen
    ]
    return chosen, notes


def _http_cookie(framework: Framework, server: Any, scenario: Scenario) -> str | None:
    if scenario.cookie_from is None or "session" in framework.unsupported():
        return None
    answer = send(server, HttpRequest("GET", scenario.cookie_from, "", b""))
    cookie: str | None = answer.cookie()
    if answer.status != 200 or cookie is None:
        raise SmokeFailure(f"{framework.name}: {scenario.cookie_from} set no session cookie")
    return cookie


def _prepare_http(framework: Framework, server: Any, scenario: Scenario) -> HttpRequest:
    """The request to load *server* with, checked once."""
    prepared = HttpRequest.for_scenario(scenario, _http_cookie(framework, server, scenario))
    answer = send(server, prepared)
    check(framework, scenario, answer.status, answer.body)
    return prepared


def http_runs(
    frameworks: list[Framework],
    results: Results,
    timing: Timing,
    *,
    python: str,
    scenarios: list[Scenario] = SCENARIOS,
    report: Callable[[str], None] = print,
    pin: bool = True,
    source: Path | None = None,
) -> None:
    """Serve every framework's app at once on loopback and load them with
    wrk, scenario by scenario, the frameworks taking turns: a warm-up run
    each, then ``timing.http_rounds`` rounds (in rotated order); the round
    with the most requests/s is kept."""
    served, notes = servable(frameworks)
    results.notes += notes
    wanted = [
        s
        for s in scenarios
        if s.http and not s.streams and not s.websocket and not s.disconnects and not s.mix
    ]
    for app_name, group in _by_app(wanted):
        plan = {f.name: supported(f, group) for f in served}
        with ExitStack() as running:
            servers = {
                f.name: running.enter_context(
                    serve(f, app_name, python=python, pin=pin, source=source)
                )
                for f in served
                if plan[f.name]
            }
            for scenario in group:
                turn = [f for f in served if scenario in plan[f.name]]
                for framework, result, rounds in _http_turns(turn, servers, scenario, timing, pin):
                    results.http.setdefault(scenario.name, {})[framework.name] = result
                    results.http_rounds.setdefault(scenario.name, {})[framework.name] = [
                        (run.requests_per_second, run.p99_ms) for run in rounds
                    ]
                    errors = f"  {result.errors} errors" if result.errors else ""
                    cpu = (
                        f"  server CPU {result.server_cpu_us:.0f} µs/request"
                        if result.server_cpu_us
                        else ""
                    )
                    report(
                        f"  {framework.name:<10} {scenario.name:<20} "
                        f"{result.requests_per_second:10,.0f} req/s  p50 {result.p50_ms:.2f} ms"
                        f"  p99 {result.p99_ms:.2f} ms{cpu}{errors}"
                    )


def _http_turns(
    turn: list[Framework],
    servers: dict[str, Any],
    scenario: Scenario,
    timing: Timing,
    pin: bool,
) -> list[tuple[Framework, HttpResult, list[HttpResult]]]:
    """Load each framework's server with *scenario*, taking turns: each
    framework's best round, and all its rounds in order."""
    prepared = {f.name: _prepare_http(f, servers[f.name], scenario) for f in turn}

    def load(framework: Framework, seconds: float) -> HttpResult:
        return wrk(
            servers[framework.name],
            scenario,
            prepared[framework.name],
            connections=scenario.concurrency or timing.connections,
            seconds=seconds,
            pin=pin,
        )

    for framework in turn:
        load(framework, timing.http_warmup)
    rounds: dict[str, list[HttpResult]] = {f.name: [] for f in turn}
    for round_number in range(timing.http_rounds):
        shift = round_number % len(turn)
        for framework in turn[shift:] + turn[:shift]:
            rounds[framework.name].append(load(framework, timing.http_seconds))
    return [
        (f, max(rounds[f.name], key=lambda r: r.requests_per_second), rounds[f.name]) for f in turn
    ]


def smoke_http(
    frameworks: list[Framework], *, python: str, scenarios: list[Scenario] = SCENARIOS
) -> int:
    """Serve each framework's main app on loopback (unpinned) and check one
    answer per scenario; return how many were checked. Frameworks whose
    server is not installed here are left out (see :func:`servable`)."""
    checked = 0
    for framework in servable(frameworks)[0]:
        group = [s for s in supported(framework, scenarios) if s.http and s.app == "main"]
        with serve(framework, "main", pin=False, python=python) as server:
            for scenario in group:
                _prepare_http(framework, server, scenario)
                checked += 1
    return checked


def _rows(
    framework: Framework,
    scenario: Scenario,
) -> list[tuple[str, Framework, str]]:
    """*framework*'s rows of *scenario*: (label, framework, path), its
    variants included where the framework has them."""
    unsupported = framework.unsupported()
    return [(framework.name, framework, scenario.path)] + [
        (f"{framework.name} ({label})", framework, path)
        for label, path in scenario.variants
        if f"{scenario.name} {label}" not in unsupported
    ]


def _stream_plan(
    frameworks: list[Framework],
    scenarios: list[Scenario],
    results: Results | None,
    disconnects: bool = False,
) -> list[tuple[Scenario, list[tuple[str, Framework, str]]]]:
    served = servable(frameworks)[0]
    plan = []
    for scenario in scenarios:
        wanted = scenario.disconnects if disconnects else scenario.streams
        if wanted and scenario.http:
            rows = [
                row
                for f in served
                if scenario in supported(f, [scenario], results)
                for row in _rows(f, scenario)
            ]
            if rows:
                plan.append((scenario, rows))
    return plan


def stream_runs(
    frameworks: list[Framework],
    results: Results,
    timing: Timing,
    *,
    python: str,
    scenarios: list[Scenario] = SCENARIOS,
    report: Callable[[str], None] = print,
    pin: bool = True,
    source: Path | None = None,
) -> None:
    """The streaming scenarios: each framework's app served on loopback, and
    ``timing.stream_clients`` streams opened against it at once
    (``streams.py``), one row (a framework, or one of its variants) after
    the other, each on a fresh server."""
    raise_fd_limit()
    client_prefix = pinning()[1] if pin else []
    for scenario, rows in _stream_plan(frameworks, scenarios, results):
        for label, framework, path in rows:
            with serve(framework, scenario.app, python=python, pin=pin, source=source) as server:
                result = stream_load(
                    server,
                    path,
                    clients=timing.stream_clients,
                    seconds=timing.stream_seconds,
                    interval=scenario.stream_interval or timing.stream_interval,
                    python=python,
                    prefix=client_prefix,
                )
            results.streams.setdefault(scenario.name, {})[label] = result
            report(f"  {label:<26} {scenario.name:<20} {_stream_line(result)}")


def disconnect_runs(
    frameworks: list[Framework],
    results: Results,
    *,
    python: str,
    clients: int,
    scenarios: list[Scenario] = SCENARIOS,
    report: Callable[[str], None] = print,
    pin: bool = True,
    source: Path | None = None,
) -> None:
    """The disconnect scenarios (``disconnects.py``): *clients* streams
    opened and closed per row, on a fresh server each."""
    raise_fd_limit()
    for scenario, rows in _stream_plan(frameworks, scenarios, results, disconnects=True):
        for label, framework, path in rows:
            with serve(framework, scenario.app, python=python, pin=pin, source=source) as server:
                result = disconnect_load(server, path, clients=clients, label=label)
            results.disconnects.setdefault(scenario.name, {})[label] = result
            report(f"  {label:<26} {scenario.name:<20} {_disconnect_line(result)}")


def _disconnect_line(result: DisconnectResult) -> str:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f} ms"

    return (
        f"{result.ended}/{result.clients} generators ended; client close to `finally`: "
        f"p50 {ms(result.p50_ms)}, p99 {ms(result.p99_ms)}, worst {ms(result.max_ms)}"
    )


def smoke_disconnects(
    frameworks: list[Framework],
    *,
    python: str,
    clients: int = 10,
    scenarios: list[Scenario] = SCENARIOS,
) -> int:
    """Each disconnect scenario, small: every generator must end within 1 s
    of its client leaving. Returns how many rows were checked."""
    checked = 0
    for scenario, rows in _stream_plan(frameworks, scenarios, None, disconnects=True):
        for label, framework, path in rows:
            with serve(framework, scenario.app, pin=False, python=python) as server:
                result = disconnect_load(server, path, clients=clients, label=label)
            if result.ended != clients or (result.max_ms or 0) > 1000:
                raise SmokeFailure(f"{label}, {scenario.name}: {_disconnect_line(result)}")
            checked += 1
    return checked


def _stream_line(result: StreamResult) -> str:
    def seconds(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f} s"

    errors = f", errors {result.errors}" if result.errors else ""
    return (
        f"{result.complete}/{result.clients} got all {result.events} events, all "
        f"streaming after {seconds(result.all_streaming_s)}, max gap "
        f"{seconds(result.max_gap_s)}, RSS peak {result.rss_peak_mb or 0:.0f} MB, "
        f"threads peak {result.threads_peak}, CPU {result.cpu_s or 0:.1f} s{errors}"
    )


def smoke_streams(
    frameworks: list[Framework],
    *,
    python: str,
    clients: int = 20,
    seconds: float = 1.0,
    scenarios: list[Scenario] = SCENARIOS,
) -> int:
    """Each streaming scenario, small (*clients* streams of *seconds*), per
    row (a framework, or one of its variants) served here (unpinned): every
    stream must get every event. Returns how many runs were checked."""
    raise_fd_limit()
    checked = 0
    for scenario, rows in _stream_plan(frameworks, scenarios, None):
        for label, framework, path in rows:
            with serve(framework, scenario.app, pin=False, python=python) as server:
                result = stream_load(
                    server,
                    path,
                    clients=clients,
                    seconds=seconds,
                    interval=scenario.stream_interval or STREAM_INTERVAL,
                    python=python,
                )
            if result.complete != clients:
                raise SmokeFailure(
                    f"{label}, {scenario.name}: {result.complete} of {clients} "
                    f"streams got all {result.events} events ({result.errors})"
                )
            checked += 1
    return checked


def _websocket_plan(
    frameworks: list[Framework],
    scenarios: list[Scenario],
    results: Results | None,
) -> list[tuple[Scenario, list[tuple[str, Framework, str]]]]:
    """Per websocket scenario, its rows: (label, framework, path), the
    scenario's variants included where the framework has them."""
    served = servable(frameworks)[0]
    plan = []
    for scenario in scenarios:
        if not (scenario.websocket and scenario.http):
            continue
        rows = []
        for framework in served:
            if not supported(framework, [scenario], results):
                continue
            rows.append((framework.name, framework, scenario.path))
            unsupported = framework.unsupported()
            rows += [
                (f"{framework.name} ({label})", framework, path)
                for label, path in scenario.variants
                if f"{scenario.name} {label}" not in unsupported
            ]
        if rows:
            plan.append((scenario, rows))
    return plan


def websocket_runs(
    frameworks: list[Framework],
    results: Results,
    timing: Timing,
    *,
    python: str,
    scenarios: list[Scenario] = SCENARIOS,
    report: Callable[[str], None] = print,
    pin: bool = True,
    source: Path | None = None,
) -> None:
    """The websocket scenarios (``websocket_load.py``). Echo: every
    framework's app served at once, the rows taking turns as wrk's do (a
    warm-up each, then ``timing.http_rounds`` rounds in rotated order, the
    best kept). Idle: each framework's app on a fresh server, one after the
    other, ``timing.ws_idle_connections`` held open against it."""
    raise_fd_limit()
    client_prefix = pinning()[1] if pin else []
    for scenario, rows in _websocket_plan(frameworks, scenarios, results):
        if scenario.websocket == "idle":
            for label, framework, path in rows:
                with serve(
                    framework, scenario.app, python=python, pin=pin, source=source
                ) as server:
                    idle = idle_load(
                        server,
                        path,
                        connections=timing.ws_idle_connections,
                        message=WS_MESSAGE,
                        python=python,
                        prefix=client_prefix,
                    )
                results.ws_idle.setdefault(scenario.name, {})[label] = idle
                report(f"  {label:<16} {scenario.name:<16} {_idle_line(idle)}")
            continue
        with ExitStack() as running:
            servers = {}
            for _, framework, _ in rows:
                if framework.name not in servers:
                    servers[framework.name] = running.enter_context(
                        serve(framework, scenario.app, python=python, pin=pin, source=source)
                    )
            rounds = _echo_turns(rows, servers, timing, python, client_prefix)
        for label, _, _ in rows:
            best = max(rounds[label], key=lambda r: r.round_trips_per_second)
            results.ws_echo.setdefault(scenario.name, {})[label] = best
            report(f"  {label:<16} {scenario.name:<16} {_echo_line(best)}")


def _echo_turns(
    rows: list[tuple[str, Framework, str]],
    servers: dict[str, Any],
    timing: Timing,
    python: str,
    prefix: list[str],
) -> dict[str, list[EchoResult]]:
    """Each row's echo rounds, the rows taking turns after a warm-up each."""

    def load(row: tuple[str, Framework, str], seconds: float) -> EchoResult:
        _, framework, path = row
        return echo_load(
            servers[framework.name],
            path,
            connections=timing.ws_connections,
            seconds=seconds,
            message=WS_MESSAGE,
            processes=timing.ws_client_processes,
            python=python,
            prefix=prefix,
        )

    for row in rows:
        load(row, timing.http_warmup)
    rounds: dict[str, list[EchoResult]] = {label: [] for label, _, _ in rows}
    for round_number in range(timing.http_rounds):
        shift = round_number % len(rows)
        for row in rows[shift:] + rows[:shift]:
            rounds[row[0]].append(load(row, timing.http_seconds))
    return rounds


def _echo_line(result: EchoResult) -> str:
    errors = f"  errors {result.errors}" if result.errors else ""
    return (
        f"{result.round_trips_per_second:10,.0f} round trips/s  p50 {result.p50_ms:.2f} ms"
        f"  p99 {result.p99_ms:.2f} ms  server CPU {result.server_cpu_us or 0:.0f} µs/trip "
        f"({result.server_cpu_share or 0:.0%})  client CPU "
        f"{result.client_cpu_share or 0:.0%}{errors}"
    )


def _idle_line(result: IdleResult) -> str:
    per = result.kb_per_connection
    errors = f", errors {result.errors}" if result.errors else ""
    return (
        f"{result.opened:,}/{result.connections:,} open at once, {result.answered:,} "
        f"answered; RSS {result.rss_before_mb or 0:.0f} → {result.rss_idle_mb or 0:.0f} MB"
        f" = {per or 0:.1f} KB per connection{errors}"
    )


def smoke_websockets(
    frameworks: list[Framework],
    *,
    python: str,
    connections: int = 4,
    idle: int = 20,
    scenarios: list[Scenario] = SCENARIOS,
) -> int:
    """Each websocket scenario, small, per row served here (unpinned): a
    few echo round trips on *connections* connections, every echo right;
    *idle* connections open at once, each answering. Returns how many
    (row, scenario) runs were checked."""
    raise_fd_limit()
    checked = 0
    for scenario, rows in _websocket_plan(frameworks, scenarios, None):
        for framework, group in groupby(rows, key=lambda row: row[1]):
            with serve(framework, scenario.app, pin=False, python=python) as server:
                for label, _, path in group:
                    if scenario.websocket == "idle":
                        held = idle_load(
                            server,
                            path,
                            connections=idle,
                            message=WS_MESSAGE,
                            python=python,
                            settle=0.0,
                        )
                        ok = held.opened == held.answered == idle and not held.errors
                        what = f"{held.opened} opened, {held.answered} answered ({held.errors})"
                    else:
                        echo = echo_load(
                            server,
                            path,
                            connections=connections,
                            seconds=0.1,
                            message=WS_MESSAGE,
                            processes=1,
                            python=python,
                        )
                        ok = echo.round_trips >= connections and not echo.errors
                        what = f"{echo.round_trips} round trips ({echo.errors})"
                    if not ok:
                        raise SmokeFailure(f"{label}, {scenario.name}: {what}")
                    checked += 1
    return checked


def _mix_missing(framework: Framework) -> list[str]:
    """What the migrated app needs on *framework* that is not installed here."""
    import importlib.util

    needs = getattr(framework.code, "MIGRATED_REQUIRES", ())
    return [name for name in needs if importlib.util.find_spec(name) is None]


def _mix_plan(
    frameworks: list[Framework],
    scenarios: list[Scenario],
    results: Results | None,
    notes: list[str],
) -> list[tuple[Scenario, Framework]]:
    """The migrated app's rows, (scenario, framework), among the installed
    *frameworks*; a note in *notes* for each one that cannot run here."""
    rows = []
    for scenario in scenarios:
        if not (scenario.mix and scenario.http):
            continue
        for framework in frameworks:
            if not supported(framework, [scenario], results):
                continue
            missing = _mix_missing(framework)
            if missing:
                notes.append(
                    f"{framework.name} skips {scenario.name}: {', '.join(missing)} not "
                    "installed in this environment (the dev extra and "
                    "benchmarks/requirements.txt install them)"
                )
                continue
            rows.append((scenario, framework))
    return rows


def mix_runs(
    frameworks: list[Framework],
    results: Results,
    timing: Timing,
    *,
    python: str,
    scenarios: list[Scenario] = SCENARIOS,
    report: Callable[[str], None] = print,
    pin: bool = True,
    source: Path | None = None,
) -> None:
    """The migrated app (``migrated_load.py``): every row's server up at
    once (each with its own fresh database), a warm-up each, then
    ``timing.mix_rounds`` rounds in rotated order (A B C, B C A, ...); every
    round is kept, for the medians and their spread."""
    notes: list[str] = []
    served, _ = servable(frameworks)
    rows = _mix_plan(served, scenarios, results, notes)
    results.notes += notes
    for note in notes:
        report(f"  {note}")
    if not rows:
        return
    client_prefix = pinning()[1] if pin else []
    with ExitStack() as running:
        servers = {
            (scenario.name, framework.name): running.enter_context(
                serve(framework, scenario.app, python=python, pin=pin, source=source)
            )
            for scenario, framework in rows
        }

        def load(row: tuple[Scenario, Framework], seconds: float) -> MixResult:
            return mix_load(
                servers[row[0].name, row[1].name],
                connections=timing.connections,
                seconds=seconds,
                python=python,
                prefix=client_prefix,
            )

        for row in rows:
            load(row, timing.mix_warmup)
        for round_number in range(timing.mix_rounds):
            shift = round_number % len(rows)
            for scenario, framework in rows[shift:] + rows[:shift]:
                result = load((scenario, framework), timing.mix_seconds)
                (
                    results.mix.setdefault(scenario.name, {})
                    .setdefault(framework.name, [])
                    .append(result)
                )
    for scenario, framework in rows:
        report(
            f"  {framework.name:<10} {scenario.name:<20} "
            f"{mix_line(results.mix[scenario.name][framework.name])}"
        )


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def mix_line(rounds: list[MixResult]) -> str:
    """One row's rounds in a line: medians, with min-max."""
    rps = [r.requests_per_second for r in rounds]
    p99 = [r.p99_ms for r in rounds]
    inside = [r.inside["wall_us"]["p50"] for r in rounds if r.inside.get("wall_us")]
    cpu = [r.inside["cpu_us"]["p50"] for r in rounds if r.inside.get("cpu_us")]
    errors = sum(sum(r.errors.values()) for r in rounds)
    text = (
        f"{_median(rps):8,.0f} req/s ({min(rps):,.0f}-{max(rps):,.0f})  "
        f"p99 {_median(p99):.1f} ms ({min(p99):.1f}-{max(p99):.1f})"
    )
    if inside:
        text += f"  inside p50 {_median(inside):.0f} µs wall"
    if cpu:
        text += f", {_median(cpu):.0f} µs CPU"
    return text + (f"  {errors} errors" if errors else "")


def smoke_mix(
    frameworks: list[Framework], *, python: str, scenarios: list[Scenario] = SCENARIOS
) -> tuple[int, list[str]]:
    """The migrated app, each request type once per row: over loopback where
    the framework's server is installed here, else through the framework's
    own test client (``benchmarks.migrated.check``, in a process of its own:
    flaskish's row calls ``install_as_flask``). Returns how many rows were
    checked, and a note for each row that could not run here."""
    notes: list[str] = []
    checked = 0
    for scenario, framework in _mix_plan(frameworks, scenarios, None, notes):
        if framework.can_serve():
            with serve(framework, scenario.app, pin=False, python=python) as server:
                mix_smoke(server, python=python)
        else:
            command = [python, "-m", "benchmarks.migrated.check", framework.name, scenario.app]
            done = subprocess.run(
                command,
                cwd=Path(__file__).resolve().parent.parent,
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
            )
            if done.returncode:
                raise SmokeFailure(
                    f"{framework.name}, {scenario.name} (test client): {done.stdout}{done.stderr}"
                )
            notes.append(
                f"{framework.name} answered {scenario.name} through its test client "
                f"({framework.server} is not installed here)"
            )
        checked += 1
    return checked, notes
