"""Profile one scenario in-process: ``python -m benchmarks.profiling hello_async``.

``--tool cprofile`` (the default) profiles every thread: the event loop and
the worker threads that run ``def`` views, merged into one table (sorted by
own time, then by cumulative time). ``--tool pyinstrument`` prints a call
tree of the event loop thread only (fine for ``async def`` scenarios).
``--hops`` counts the thread hand-offs (``anyio.to_thread.run_sync`` and
``anyio.from_thread.run``) one request makes.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

if __name__ == "__main__":
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from benchmarks.apps import FRAMEWORKS
from benchmarks.inprocess import AsgiCaller, HttpRequest, event_loop_factory
from benchmarks.scenarios import SCENARIOS, Scenario


@contextmanager
def count_hops() -> Iterator[dict[str, int]]:
    """Count ``anyio.to_thread.run_sync`` and ``anyio.from_thread.run`` calls."""
    import anyio.from_thread
    import anyio.to_thread

    counts = {"to_thread": 0, "from_thread": 0}
    to_thread, from_thread = anyio.to_thread.run_sync, anyio.from_thread.run

    async def counting_to_thread(*args: Any, **kwargs: Any) -> Any:
        counts["to_thread"] += 1
        return await to_thread(*args, **kwargs)

    def counting_from_thread(*args: Any, **kwargs: Any) -> Any:
        counts["from_thread"] += 1
        return from_thread(*args, **kwargs)

    anyio.to_thread.run_sync = counting_to_thread
    anyio.from_thread.run = counting_from_thread
    try:
        yield counts
    finally:
        anyio.to_thread.run_sync = to_thread
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


async def _requests(app: Any, scenario: Scenario, count: int,
                    around: Callable[[], Any] | None = None) -> dict[str, int]:
    async with AsgiCaller(app).running() as caller:
        cookie = None
        if scenario.cookie_from:
            prime = await caller.call(HttpRequest("GET", scenario.cookie_from, "", b"",
                                                  [("host", "localhost")]))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=[s.name for s in SCENARIOS if s.inprocess])
    parser.add_argument("--framework", default="flaskish",
                        choices=[f.name for f in FRAMEWORKS if f.kind == "asgi"])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--tool", choices=["cprofile", "pyinstrument"], default="cprofile")
    parser.add_argument("--top", type=int, default=30, help="rows of the cProfile tables")
    args = parser.parse_args()

    scenario = next(s for s in SCENARIOS if s.name == args.scenario)
    framework = next(f for f in FRAMEWORKS if f.name == args.framework)
    app = framework.build(scenario.app)
    runner = asyncio.Runner(loop_factory=event_loop_factory())

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
            hops = runner.run(_requests(app, scenario, args.requests, around))
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
            hops = runner.run(_requests(app, scenario, args.requests, around))
        profiles.append(main_thread)
        out = io.StringIO()
        stats = pstats.Stats(*profiles, stream=out)
        stats.strip_dirs()
        for order in ("tottime", "cumulative"):
            out.write(f"\n=== {framework.name} {scenario.name}, {args.requests} requests, "
                      f"sorted by {order} ===\n")
            stats.sort_stats(order).print_stats(args.top)
        print(out.getvalue())
    print(f"thread hand-offs per request: {hops['to_thread']} to a worker thread, "
          f"{hops['from_thread']} back to the event loop")


if __name__ == "__main__":
    main()
