"""A ``def`` request's hand-off to its thread (issue 18): one hop with no
loop cycle of its own spent on limiters, the pool bound still kept, more
than anyio's default 40 threads when the config says so, and the same
behaviour on trio."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import pytest

from flaskish import Flask, g, request
from flaskish.concurrency import ThreadPool, call, drive


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
