"""A ``def`` request's hand-off to its thread (issue 18): on asyncio one
lean hop to a request thread that stays hot, on trio anyio's hop with no
loop cycle spent on limiters; either way the pool bound kept, more than
anyio's default 40 threads when the config says so, cancellation reaching
what the thread awaits, and the thread an anyio worker thread."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import pytest

import flaskish.concurrency
from flaskish import Flask, g, request
from flaskish.concurrency import ThreadPool, call, drive, run_in_loop


async def _get(app: Flask, path: str = "/") -> tuple[int, bytes]:
    """One GET straight through the app's ASGI interface."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 5000),
        "server": ("localhost", 80),
    }
    with anyio.fail_after(10):
        await app(scope, receive, send)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_a_def_request_keeps_its_thread_on_either_backend(app: Flask, backend: str) -> None:
    """Hooks and view on one worker thread, an async hook between them on
    the loop, the answer sent from the loop: on asyncio and on trio."""
    threads: list[int] = []

    @app.before_request
    def first() -> None:
        g.db = threading.get_ident()
        threads.append(threading.get_ident())

    @app.before_request
    async def between() -> None:
        g.between = threading.get_ident()

    @app.route("/")
    def index() -> str:
        threads.append(threading.get_ident())
        return f"{request.path} {g.db == threading.get_ident()}"

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        threads.append(threading.get_ident())

    async def main() -> tuple[int, bytes]:
        loop_thread = threading.get_ident()
        answer = await _get(app)
        assert loop_thread not in threads
        return answer

    assert anyio.run(main, backend=backend) == (200, b"/ True")
    assert len(threads) == 3 and len(set(threads)) == 1


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_more_threads_than_anyios_default_run_at_once_when_configured(
    app: Flask, backend: str
) -> None:
    """``THREAD_POOL_SIZE`` above 40 (anyio's default thread limit) is
    honoured: 45 blocking views all run at the same time."""
    app.config["THREAD_POOL_SIZE"] = 45
    together = threading.Barrier(45, timeout=5)

    @app.route("/")
    def index() -> str:
        together.wait()  # raises BrokenBarrierError unless all 45 get here
        return "ok"

    async def main() -> list[tuple[int, bytes]]:
        answers: list[tuple[int, bytes]] = []

        async def one() -> None:
            answers.append(await _get(app))

        async with anyio.create_task_group() as tasks:
            for _ in range(45):
                tasks.start_soon(one)
        return answers

    assert anyio.run(main, backend=backend) == [(200, b"ok")] * 45


def test_the_pool_size_still_bounds_sync_code_running(app: Flask) -> None:
    app.config["THREAD_POOL_SIZE"] = 2
    lock = threading.Lock()
    running = [0]
    most = [0]

    @app.route("/")
    def index() -> str:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        threading.Event().wait(0.05)
        with lock:
            running[0] -= 1
        return "ok"

    async def main() -> None:
        async with anyio.create_task_group() as tasks:
            for _ in range(6):
                tasks.start_soon(_get, app)

    anyio.run(main)
    assert most == [2]


def test_a_request_cancelled_while_its_thread_runs_waits_for_the_thread() -> None:
    """The hop is shielded, as anyio's is: a cancelled request's sync step
    finishes before the request gives up its thread and slot."""
    pool = ThreadPool(lambda: 1)
    finished = threading.Event()
    started = threading.Event()

    def blocking() -> str:
        started.set()
        threading.Event().wait(0.2)
        finished.set()
        return "done"

    async def pipeline() -> Any:
        return await call(blocking)

    async def main() -> None:
        with anyio.move_on_after(0.05):
            await drive(pipeline(), pool)
        assert finished.is_set() and started.is_set()
        assert pool.stats().busy == 0

    anyio.run(main)


def test_a_cancelled_request_cancels_what_its_thread_awaits() -> None:
    """The request's thread waiting on the loop (a body read, an async
    step) is woken by the request's cancellation, not left to finish, as
    with anyio's own hop on asyncio (on trio, anyio's hop never did)."""
    pool = ThreadPool(lambda: 1)
    seen: list[str] = []

    def blocking() -> None:
        try:
            run_in_loop(anyio.sleep, 5)
        except BaseException as exc:
            seen.append(type(exc).__name__)
            raise
        seen.append("slept")

    async def pipeline() -> Any:
        return await call(blocking)

    async def main() -> float:
        started = time.monotonic()
        with anyio.move_on_after(0.1):
            await drive(pipeline(), pool)
        return time.monotonic() - started

    assert anyio.run(main) < 2
    assert seen == ["CancelledError"]


def test_one_loop_hands_each_def_request_to_a_hot_thread(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On asyncio a request thread stays hot between requests: one anyio
    job hosts it, and each request is one hand-off to it and one back."""
    threads: list[threading.Thread] = []

    @app.route("/")
    def index() -> str:
        threads.append(threading.current_thread())
        return threading.current_thread().name

    hops: list[str] = []
    real_hop = flaskish.concurrency._HotThreads.run
    real_to_thread = anyio.to_thread.run_sync

    async def counting_hop(self: Any, *args: Any) -> Any:
        hops.append("hop")
        return await real_hop(self, *args)

    async def counting_to_thread(*args: Any, **kwargs: Any) -> Any:
        hops.append("anyio job")
        return await real_to_thread(*args, **kwargs)

    monkeypatch.setattr(flaskish.concurrency._HotThreads, "run", counting_hop)
    monkeypatch.setattr(anyio.to_thread, "run_sync", counting_to_thread)

    async def main() -> list[tuple[int, bytes]]:
        return [await _get(app) for _ in range(5)]

    answers = anyio.run(main)
    assert answers == [(200, b"AnyIO worker thread")] * 5
    assert hops == ["hop", "anyio job", "hop", "hop", "hop", "hop"]
    assert len(set(threads)) == 1
    threads[0].join(5)  # it ended with its loop
    assert not threads[0].is_alive()


def test_a_def_view_is_on_an_anyio_worker_thread(app: Flask) -> None:
    """``anyio.from_thread`` finds the loop without a token, as in
    Starlette's ``def`` endpoints."""

    async def answer() -> str:
        return "from the loop"

    app.route("/")(lambda: anyio.from_thread.run(answer))
    assert anyio.run(_get, app) == (200, b"from the loop")


def test_an_idle_hot_thread_ends_while_the_loop_runs(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(flaskish.concurrency._HotThreads, "MAX_IDLE", 0.05)
    monkeypatch.setattr(flaskish.concurrency._HotThreads, "POLL", 0.02)
    app.route("/")(lambda: str(threading.get_ident()))

    async def main() -> None:
        first = await _get(app)
        hot = app.thread_pool._threads().hot
        assert hot is not None
        await anyio.sleep(0.3)
        assert hot.idle and all(thread.stopped for thread in hot.idle)
        second = await _get(app)  # a new hot thread serves the next
        assert first[0] == second[0] == 200

    anyio.run(main)


def test_a_loop_that_stops_without_cancelling_its_tasks_does_not_keep_the_thread(
    app: Flask,
) -> None:
    """``run_until_complete`` returning leaves the host task pending: the
    thread notices the loop no longer runs and ends (the process can exit)."""
    threads: list[threading.Thread] = []

    @app.route("/")
    def index() -> str:
        threads.append(threading.current_thread())
        return "ok"

    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(_get(app)) == (200, b"ok")
        threads[0].join(5)
        assert not threads[0].is_alive()
    finally:
        loop.close()
