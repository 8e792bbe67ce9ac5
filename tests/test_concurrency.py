"""The sync/async bridge: thread affinity, one thread hop per request,
async-only requests never on a thread, a blocking view never stalls the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from typing import Any

import anyio
import httpx2 as httpx
import pytest

from flaskish import Flask, g, request
from flaskish.concurrency import ThreadPool, call, drive, drive_blocking, run_in_loop


def test_sqlite_connection_opened_in_before_request_is_used_in_view_and_closed_in_teardown(
    app: Flask,
) -> None:
    """The DESIGN's example: with one to_thread hop per callable, sqlite
    would refuse the connection in the view."""
    closed: list[bool] = []

    @app.before_request
    def open_db() -> None:
        g.db = sqlite3.connect(":memory:")
        g.db.execute("create table t (x)")

    @app.route("/")
    def view() -> str:
        g.db.execute("insert into t values (1)")
        return str(g.db.execute("select count(*) from t").fetchone()[0])

    @app.teardown_appcontext
    def close_db(exc: BaseException | None) -> None:
        db = g.pop("db", None)
        if db is not None:
            db.close()
            closed.append(True)

    response = app.test_client().get("/")
    assert response.status_code == 200
    assert response.text == "1"
    assert closed == [True]


def test_every_sync_callable_of_a_request_runs_on_one_thread(app: Flask) -> None:
    threads: list[tuple[str, int]] = []

    def record(name: str) -> None:
        threads.append((name, threading.get_ident()))

    @app.url_value_preprocessor
    def pre(endpoint: str | None, values: dict[str, Any] | None) -> None:
        record("preprocessor")

    @app.before_request
    def before() -> None:
        record("before")

    @app.before_request
    async def async_before() -> None:
        record("async before")

    @app.route("/")
    def view() -> Any:
        record("view")

        def body() -> Any:
            record("generator")
            yield "a"
            record("generator")
            yield "b"

        return body()

    @app.after_request
    def after(response: Any) -> Any:
        record("after")
        return response

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        record("teardown")

    response = app.test_client().get("/")
    assert response.data == b"ab"
    sync = {ident for name, ident in threads if name != "async before"}
    assert len(sync) == 1, threads
    names = [name for name, _ in threads]
    # after_request sees the response before its body is streamed, as in Flask.
    assert names == ["preprocessor", "before", "async before", "view", "after",
                     "generator", "generator", "teardown"]


def test_a_request_with_only_async_callables_never_uses_a_worker_thread(app: Flask) -> None:
    seen: list[int] = []

    @app.before_request
    async def before() -> None:
        seen.append(threading.get_ident())

    @app.route("/")
    async def view() -> str:
        seen.append(threading.get_ident())
        return "ok"

    @app.teardown_request
    async def teardown(exc: BaseException | None) -> None:
        seen.append(threading.get_ident())

    with app.test_client() as client:
        assert client.get("/").text == "ok"
        loop_thread = seen[0]
        assert set(seen) == {loop_thread}
        assert app.worker_threads.busy == 0

    async def check() -> None:
        # Drive the same kind of pipeline here and watch the thread count.
        before = threading.active_count()
        await drive(_only_async(), ThreadPool(lambda: 1))
        assert threading.active_count() == before

    anyio.run(check)


async def _only_async() -> int:
    async def step() -> int:
        return 1

    return int(await call(step)) + int(await call(step))


def test_drive_moves_to_one_thread_at_the_first_sync_step_async_steps_stay_on_loop() -> None:
    idents: dict[str, int] = {}

    def sync_step(name: str) -> None:
        idents[name] = threading.get_ident()

    async def async_step() -> None:
        idents["async"] = threading.get_ident()

    async def pipeline() -> str:
        await call(async_step)
        idents["loop"] = idents["async"]
        await call(sync_step, "first")
        await call(async_step)
        await call(sync_step, "second")
        return "done"

    async def main() -> str:
        return await drive(pipeline(), ThreadPool(lambda: 2))

    assert anyio.run(main) == "done"
    assert idents["first"] == idents["second"] != idents["loop"]
    assert idents["async"] == idents["loop"]


def test_exceptions_from_steps_reach_the_pipeline_on_either_side() -> None:
    def fails() -> None:
        raise ValueError("sync")

    async def afails() -> None:
        raise KeyError("async")

    async def pipeline() -> list[str]:
        caught = []
        for step in (afails, fails, afails):
            try:
                await call(step)
            except (ValueError, KeyError) as exc:
                caught.append(type(exc).__name__)
        return caught

    async def main() -> list[str]:
        return await drive(pipeline(), ThreadPool(lambda: 1))

    assert anyio.run(main) == ["KeyError", "ValueError", "KeyError"]


def test_drive_blocking_runs_async_steps_without_a_running_loop() -> None:
    async def double(x: int) -> int:
        await anyio.sleep(0)
        return x * 2

    async def pipeline() -> int:
        return int(await call(double, 4)) + int(await call(lambda: 1))

    assert drive_blocking(pipeline()) == 9


def test_a_sync_function_that_returns_a_coroutine_is_awaited(app: Flask) -> None:
    """A plain ``def`` decorator around an ``async def`` view still works."""

    async def real_view() -> str:
        await anyio.sleep(0)
        return "awaited"

    def sync_decorator() -> Any:
        return real_view()

    app.add_url_rule("/", "index", sync_decorator)
    assert app.test_client().get("/").text == "awaited"


def test_run_in_loop_on_the_event_loop_thread_says_to_use_the_async_form() -> None:
    async def nothing() -> None:
        return None

    async def main() -> None:
        with pytest.raises(RuntimeError, match=r"async with app\.app_context"):
            run_in_loop(nothing)

    anyio.run(main)


def test_a_pipeline_may_await_any_awaitable_between_steps() -> None:
    """Foreign awaitables (asyncio futures, anyio primitives) pass through
    the driver to the event loop, before and after a ``def`` step."""

    async def pipeline() -> list[str]:
        seen = ["start"]
        await asyncio.sleep(0.01)
        event = anyio.Event()
        event.set()
        await event.wait()
        seen.append(await call(lambda: "def step"))
        await asyncio.sleep(0)
        seen.append(await call(lambda: "again"))
        return seen

    async def main() -> list[str]:
        return await drive(pipeline(), ThreadPool(lambda: 1))

    assert anyio.run(main) == ["start", "def step", "again"]


def test_thread_pool_size_must_be_a_positive_whole_number(app: Flask) -> None:
    app.config["THREAD_POOL_SIZE"] = 0

    @app.route("/")
    def view() -> str:
        return "x"

    with pytest.raises(ValueError, match="THREAD_POOL_SIZE"):
        app.test_client().get("/")


def test_worker_thread_stats_show_busy_and_waiting_requests(app: Flask) -> None:
    app.config["THREAD_POOL_SIZE"] = 2
    gate = threading.Event()
    stats: list[Any] = []

    @app.route("/block")
    def block() -> str:
        gate.wait(5)
        return "done"

    @app.route("/stats")
    async def show_stats() -> dict[str, int]:
        s = app.worker_threads
        return {"limit": s.limit, "busy": s.busy, "waiting": s.waiting}

    async def main() -> None:
        from flaskish.testing import AsyncFlaskClient

        async with AsyncFlaskClient(app) as client, anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(client.get, "/block")
            with anyio.fail_after(5):
                while True:
                    await anyio.sleep(0.01)
                    data = (await client.get("/stats")).json
                    if data["busy"] == 2 and data["waiting"] == 1:
                        stats.append(data)
                        break
            gate.set()

    anyio.run(main)
    assert stats == [{"limit": 2, "busy": 2, "waiting": 1}]


def test_a_blocking_def_view_does_not_stall_async_views_on_a_real_server(
    app: Flask, live_server: Any
) -> None:
    @app.route("/slow")
    def slow() -> str:
        time.sleep(1)
        return "slow"

    @app.route("/fast")
    async def fast() -> str:
        return "fast"

    async def main(url: str) -> tuple[float, list[float]]:
        async with httpx.AsyncClient(base_url=url) as http:
            started = time.monotonic()
            fast_times: list[float] = []

            async def get_slow() -> None:
                response = await http.get("/slow")
                assert response.text == "slow"

            async def get_fast() -> None:
                await anyio.sleep(0.2)  # the slow view is sleeping by now
                for _ in range(10):
                    t0 = time.monotonic()
                    response = await http.get("/fast")
                    assert response.text == "fast"
                    fast_times.append(time.monotonic() - t0)

            async with anyio.create_task_group() as tg:
                tg.start_soon(get_slow)
                tg.start_soon(get_fast)
            return time.monotonic() - started, fast_times

    with live_server(app) as server:
        total, fast_times = anyio.run(main, server.url)
    assert total >= 1.0
    assert max(fast_times) < 0.5, fast_times


def test_two_hundred_concurrent_requests_each_see_only_their_own_request_and_g(
    app: Flask,
) -> None:
    @app.before_request
    def remember() -> None:
        g.who = request.args["who"]

    @app.route("/sync")
    def sync_view() -> dict[str, str]:
        time.sleep(0.01)
        return {"who": g.who, "arg": request.args["who"], "path": request.path}

    @app.route("/async")
    async def async_view() -> dict[str, str]:
        await anyio.sleep(0.01)
        return {"who": g.who, "arg": request.args["who"], "path": request.path}

    from flaskish.testing import AsyncFlaskClient

    results: list[tuple[str, dict[str, str]]] = []

    async def one(client: AsyncFlaskClient, i: int) -> None:
        path = "/sync" if i % 2 else "/async"
        response = await client.get(path, query_string={"who": str(i)})
        results.append((str(i), response.json))

    async def main() -> None:
        async with AsyncFlaskClient(app) as client, anyio.create_task_group() as tg:
            for i in range(240):
                tg.start_soon(one, client, i)

    anyio.run(main)
    assert len(results) == 240
    for who, data in results:
        assert data["who"] == data["arg"] == who
