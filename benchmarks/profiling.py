"""Profile one scenario in-process: ``python -m benchmarks.profiling hello_async``.

``--tool cprofile`` (the default) profiles every thread: the event loop and
the worker threads that run ``def`` views, merged into one table (sorted by
own time, then by cumulative time). ``--tool pyinstrument`` prints a call
tree of the event loop thread only (fine for ``async def`` scenarios).
The thread hand-offs (``anyio.to_thread.run_sync`` and
``anyio.from_thread.run``) one request makes are counted and printed.

``migrated_app`` and ``migrated_app_async`` (``benchmarks/migrated/``) are
profiled with one logged-in user sending the benchmark's mix (page GETs,
JSON GETs, CSRF-protected POSTs) in-process; ``--framework Flask`` profiles
the same code on real Flask (called as WSGI on a thread), for comparison.
Their tables add each package's share of the own time (flaskish, Flask,
Werkzeug, Flask-Login, Flask-WTF, SQLAlchemy, Jinja...).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

if __name__ == "__main__":
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from benchmarks.apps import FRAMEWORKS
from benchmarks.inprocess import AsgiCaller, HttpRequest, WsgiCaller, event_loop_factory
from benchmarks.migrated import MIX, PASSWORD, USERS, csrf_token_in
from benchmarks.scenarios import SCENARIOS, Scenario


@contextmanager
def count_hops() -> Iterator[dict[str, int]]:
    """Count the driver's hand-offs: loop -> thread where a request's sync
    stretch starts on its thread (``flaskish.concurrency._ThreadRun.run``:
    a hot thread's job on asyncio, a ``to_thread`` job on trio), and
    ``anyio.from_thread.run`` calls back."""
    import anyio.from_thread

    from flaskish import concurrency

    counts = {"to_thread": 0, "from_thread": 0}
    run, from_thread = concurrency._ThreadRun.run, anyio.from_thread.run

    def counting_run(thread_run: Any) -> Any:
        counts["to_thread"] += 1
        return run(thread_run)

    def counting_from_thread(*args: Any, **kwargs: Any) -> Any:
        counts["from_thread"] += 1
        return from_thread(*args, **kwargs)

    concurrency._ThreadRun.run = counting_run  # type: ignore[method-assign]
    anyio.from_thread.run = counting_from_thread
    try:
        yield counts
    finally:
        concurrency._ThreadRun.run = run  # type: ignore[method-assign]
        anyio.from_thread.run = from_thread


@contextmanager
def profile_new_threads() -> Iterator[list[cProfile.Profile]]:
    """cProfile every thread started inside the block (for its whole life:
    the few warm-up requests are included)."""
    profiles: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start_in_thread(*args: Any) -> None:
        profile = cProfile.Profile()
        with lock:
            profiles.append(profile)
        # Replaces this hook for the rest of the thread's life.
        profile.enable()

    threading.setprofile(start_in_thread)
    try:
        yield profiles
    finally:
        threading.setprofile(None)  # type: ignore[arg-type]


async def _requests(
    app: Any, scenario: Scenario, count: int, around: Callable[[], Any] | None = None
) -> dict[str, int]:
    async with AsgiCaller(app).running() as caller:
        cookie = None
        if scenario.cookie_from:
            prime = await caller.call(
                HttpRequest("GET", scenario.cookie_from, "", b"", [("host", "localhost")])
            )
            cookie = prime.cookie()
        prepared = HttpRequest.for_scenario(scenario, cookie)
        batch = caller.batch(prepared, scenario.concurrency)
        await batch(50)  # warm-up
        with count_hops() as hops:
            await batch(1)
        manager = around() if around else None
        if manager is not None:
            with manager:
                await batch(count)
        else:
            await batch(count)
        return hops


class _User:
    """One logged-in user of the migrated app, in-process: its cookie and
    the CSRF token of the last page it read."""

    def __init__(self, caller: AsgiCaller | WsgiCaller) -> None:
        self.caller = caller
        self.cookie: str | None = None
        self.token: str | None = None

    async def send(self, method: str, path: str, form: dict[str, str] | None = None) -> Any:
        from urllib.parse import urlencode

        headers = [("host", "localhost"), ("user-agent", "flaskish-bench")]
        body = urlencode(form).encode() if form is not None else b""
        if form is not None:
            headers += [
                ("content-type", "application/x-www-form-urlencoded"),
                ("content-length", str(len(body))),
            ]
        if self.cookie:
            headers.append(("cookie", self.cookie))
        prepared = HttpRequest(method, path, "", body, headers)
        # WSGI on this thread, inside the main thread's profile: nothing else
        # runs on the loop meanwhile.
        answer = (
            self.caller.call(prepared)
            if isinstance(self.caller, WsgiCaller)
            else await self.caller.call(prepared)
        )
        for name, value in answer.headers:
            if name.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.partition(";")[0]
        if answer.status not in (200, 302):
            raise RuntimeError(f"{method} {path}: {answer.status} {answer.body[:200]!r}")
        if method == "GET" and path in ("/", "/login"):
            self.token = csrf_token_in(answer.body)
        return answer

    async def login(self) -> None:
        await self.send("GET", "/login")
        await self.send(
            "POST",
            "/login",
            {"csrf_token": self.token or "", "name": USERS[0], "password": PASSWORD},
        )
        await self.send("GET", "/")

    async def mix(self, count: int) -> None:
        for step in range(count):
            kind = MIX[step % len(MIX)]
            if kind == "page":
                await self.send("GET", "/")
            elif kind == "json":
                await self.send("GET", "/api/notes")
            else:
                await self.send(
                    "POST",
                    "/notes",
                    {"csrf_token": self.token or "", "title": f"Note {step}", "body": "Profiled."},
                )


async def _mix_requests(
    app: Any, framework: str, count: int, around: Callable[[], Any]
) -> dict[str, int]:
    caller: AsgiCaller | WsgiCaller
    if framework == "Flask":
        caller = WsgiCaller(app)
        user = _User(caller)
        await user.login()
        await user.mix(50)
        with count_hops() as hops, around():
            await user.mix(count)
        return hops
    async with AsgiCaller(app).running() as running:
        user = _User(running)
        await user.login()
        await user.mix(50)  # warm-up
        with count_hops() as hops:
            await user.mix(len(MIX))
        hops = {key: round(value / len(MIX), 2) for key, value in hops.items()}
        with around():
            await user.mix(count)
        return hops  # type: ignore[return-value]


#: Package of a profiled function, from its file's path.
_PACKAGES = [
    ("flaskish", "flaskish/"),
    ("Flask", "/flask/"),
    ("Werkzeug", "/werkzeug/"),
    ("Flask-Login", "/flask_login/"),
    ("Flask-WTF", "/flask_wtf/"),
    ("WTForms", "/wtforms/"),
    ("Flask-SQLAlchemy", "/flask_sqlalchemy/"),
    ("SQLAlchemy", "/sqlalchemy/"),
    ("Jinja", "/jinja2/"),
    ("MarkupSafe", "/markupsafe/"),
    ("itsdangerous", "/itsdangerous/"),
    ("anyio", "/anyio/"),
    ("Starlette", "/starlette/"),
    ("the app", "benchmarks/migrated/"),
    ("the harness", "benchmarks/"),
]


#: Where a thread waits for another (the worker for its next request, the
#: loop for the worker): cProfile's wall clock counts it as own time.
_WAITS = {
    "<method 'acquire' of '_thread.lock' objects>",
    "<method 'control' of 'select.epoll' objects>",
    "<method 'poll' of 'select.epoll' objects>",
}


def _by_package(stats: pstats.Stats, requests: int) -> str:
    """Own time per package, µs per request and share; a thread waiting
    for another is left out (:data:`_WAITS`)."""
    totals: dict[str, float] = {}
    for (filename, _, function), row in stats.stats.items():  # type: ignore[attr-defined]
        own = row[2]
        if function in _WAITS:
            continue
        name = next((label for label, piece in _PACKAGES if piece in filename), None)
        if name is None:
            name = (
                "Python (C functions)"
                if filename == "~"
                else re.sub(r".*/(lib/python[\d.]+/)", "stdlib: ", filename).split("/")[0]
            )
            if function.startswith("<method") or filename == "~":
                name = "C functions and methods"
        totals[name] = totals.get(name, 0.0) + own
    everything = sum(totals.values())
    lines = [f"own time by package, µs per request ({requests} requests):"]
    for name, seconds in sorted(totals.items(), key=lambda item: -item[1])[:16]:
        lines.append(
            f"  {name:<28} {seconds / requests * 1e6:8.1f} µs  {seconds / everything:6.1%}"
        )
    lines.append(f"  {'total':<28} {everything / requests * 1e6:8.1f} µs")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenario", choices=[s.name for s in SCENARIOS if s.inprocess or s.mix])
    parser.add_argument(
        "--framework",
        default="flaskish",
        choices=[f.name for f in FRAMEWORKS if f.kind == "asgi"] + ["Flask"],
    )
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--tool", choices=["cprofile", "pyinstrument"], default="cprofile")
    parser.add_argument("--top", type=int, default=30, help="rows of the cProfile tables")
    args = parser.parse_args()

    scenario = next(s for s in SCENARIOS if s.name == args.scenario)
    framework = next(f for f in FRAMEWORKS if f.name == args.framework)
    if framework.kind == "wsgi" and not scenario.mix:
        parser.error("Flask is profiled on the migrated app's scenarios only")
    app = framework.build(scenario.app)
    runner = asyncio.Runner(loop_factory=event_loop_factory())

    def requests(around: Callable[[], Any]) -> Any:
        if scenario.mix:
            return _mix_requests(app, framework.name, args.requests, around)
        return _requests(app, scenario, args.requests, around)

    if args.tool == "pyinstrument":
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0001, async_mode="disabled")

        @contextmanager
        def around() -> Iterator[None]:
            profiler.start()
            try:
                yield
            finally:
                profiler.stop()

        with runner:
            hops = runner.run(requests(around))
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    else:
        main_thread = cProfile.Profile()

        @contextmanager
        def around() -> Iterator[None]:
            main_thread.enable()
            try:
                yield
            finally:
                main_thread.disable()

        with profile_new_threads() as profiles, runner:
            hops = runner.run(requests(around))
        profiles.append(main_thread)
        out = io.StringIO()
        stats = pstats.Stats(*profiles, stream=out)
        if scenario.mix:
            out.write(_by_package(stats, args.requests) + "\n")
        stats.strip_dirs()
        for order in ("tottime", "cumulative"):
            out.write(
                f"\n=== {framework.name} {scenario.name}, {args.requests} requests, "
                f"sorted by {order} ===\n"
            )
            stats.sort_stats(order).print_stats(args.top)
        print(out.getvalue())
    print(
        f"thread hand-offs per request: {hops['to_thread']} to a worker thread, "
        f"{hops['from_thread']} back to the event loop"
    )


if __name__ == "__main__":
    main()
