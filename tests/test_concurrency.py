"""The sync/async bridge: thread affinity, one thread hop per request,
async-only requests never on a thread, a blocking view never stalls the loop."""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
import sys
import threading
import time
from typing import Any

import anyio
import httpx2 as httpx
import pytest

from flaskish import Flask, concurrency, g, request
from flaskish.concurrency import (
    ThreadPool,
    await_here,
    call,
    drive,
    drive_blocking,
    in_worker_thread,
    run_in_loop,
)


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
    assert names == [
        "preprocessor",
        "before",
        "async before",
        "view",
        "after",
        "generator",
        "generator",
        "teardown",
    ]


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


def test_a_coroutine_returned_on_the_request_thread_runs_on_the_loop(app: Flask) -> None:
    """After a ``def`` hook the pipeline runs on the request's thread; a
    ``def`` decorator's coroutine is still awaited on the loop, all of it."""
    seen: dict[str, bool] = {}

    @app.before_request
    def sync_hook() -> None:
        seen["hook on worker"] = in_worker_thread()

    async def real_view() -> str:
        seen["view on loop"] = not in_worker_thread()
        await anyio.sleep(0)
        return "awaited"

    def sync_decorator() -> Any:
        return real_view()

    app.add_url_rule("/", "index", sync_decorator)
    assert app.test_client().get("/").text == "awaited"
    assert seen == {"hook on worker": True, "view on loop": True}


def test_a_def_hook_error_on_the_request_thread_is_a_500_after_teardown(
    app: Flask,
) -> None:
    """An ``after_request`` error raised on the request's thread is handled
    as Flask handles it: a 500, and teardown sees the error."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    torn_down: list[BaseException | None] = []

    @app.after_request
    def broken(response: Any) -> Any:
        raise KeyError("from the hook")

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        torn_down.append(exc)

    @app.get("/")
    def index() -> str:
        return "view"

    response = app.test_client().get("/")
    assert response.status_code == 500
    assert [type(exc) for exc in torn_down] == [KeyError]


def test_run_in_loop_from_a_def_view_gives_up_the_views_slot_meanwhile(app: Flask) -> None:
    """Sync code awaiting async work through ``run_in_loop`` parks its
    thread: the slot is free for other sync code while it waits."""
    app.config["THREAD_POOL_SIZE"] = 1

    async def stats() -> tuple[int, int]:
        await anyio.sleep(0)
        return app.worker_threads.busy, app.worker_threads.parked

    @app.get("/")
    def index() -> str:
        return str(run_in_loop(stats))

    assert app.test_client().get("/").text == "(0, 1)"  # (1, 0) if it held the slot


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


# -- capacity: a parked request holds its thread, not a slot -------------------------


class HandOffs:
    """Counts loop -> thread hand-offs (each runs a request's sync stretch,
    ``concurrency._ThreadRun.run``, once: a hot thread's job on asyncio,
    a ``to_thread`` job on trio) and thread -> loop ones
    (``anyio.from_thread``) made by the driver."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.to_thread = self.from_thread = 0
        real_run, real_from = concurrency._ThreadRun.run, anyio.from_thread.run

        def run(run: Any) -> Any:
            self.to_thread += 1
            return real_run(run)

        def from_thread(*args: Any, **kwargs: Any) -> Any:
            self.from_thread += 1
            return real_from(*args, **kwargs)

        monkeypatch.setattr(concurrency._ThreadRun, "run", run)
        monkeypatch.setattr(anyio.from_thread, "run", from_thread)

    def counts(self) -> tuple[int, int]:
        return self.to_thread, self.from_thread


def test_a_def_view_costs_one_hand_off_each_way(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.route("/")(lambda: "sync")
    client = app.test_client()
    client.get("/")  # the test transport's own first-use work
    hand_offs = HandOffs(monkeypatch)
    assert client.get("/").text == "sync"
    assert hand_offs.counts() == (1, 0)  # in; the return is the way back


def test_def_after_request_hooks_returning_the_response_cost_no_more_hand_offs(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``Response`` is awaitable but ready: it is never sent to the loop."""
    app.route("/")(lambda: "sync")

    @app.after_request
    def one(response: Any) -> Any:
        response.headers["X-One"] = "1"
        return response

    @app.after_request
    def two(response: Any) -> Any:
        return response

    client = app.test_client()
    client.get("/")
    hand_offs = HandOffs(monkeypatch)
    assert client.get("/").headers["X-One"] == "1"
    assert hand_offs.counts() == (1, 0)


def test_an_all_async_request_makes_no_hand_off(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def before() -> None:
        g.seen = "async"

    app.before_request(before)

    @app.route("/")
    async def index() -> str:
        return str(g.seen)

    client = app.test_client()
    client.get("/")
    hand_offs = HandOffs(monkeypatch)
    assert client.get("/").text == "async"
    assert hand_offs.counts() == (0, 0)


def test_an_async_view_after_a_def_hook_goes_back_to_the_loop_once(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    app.before_request(lambda: None)

    @app.route("/")
    async def index() -> str:
        await anyio.sleep(0)
        return "async"

    client = app.test_client()
    client.get("/")
    hand_offs = HandOffs(monkeypatch)
    assert client.get("/").text == "async"
    assert hand_offs.counts() == (1, 1)


def test_context_variables_flow_across_every_hand_off(app: Flask) -> None:
    """A ContextVar set by one step is seen by the next, whichever side of
    the loop/thread boundary each runs on, as within one coroutine."""
    import contextvars

    var: contextvars.ContextVar[list[str]] = contextvars.ContextVar("trail")

    async def async_before() -> None:
        var.set(["async before"])

    def sync_before() -> None:
        var.set([*var.get(), "def before"])

    app.before_request(async_before)
    app.before_request(sync_before)

    @app.route("/")
    async def index() -> str:
        var.set([*var.get(), "async view"])
        return "ok"

    seen: list[str] = []

    @app.after_request
    def sync_after(response: Any) -> Any:
        var.set([*var.get(), "def after"])
        return response

    @app.teardown_request
    async def async_teardown(exc: BaseException | None) -> None:
        seen.extend(var.get())

    assert app.test_client().get("/").text == "ok"
    assert seen == ["async before", "def before", "async view", "def after"]


def test_a_thread_parked_on_async_work_gives_up_its_slot_on_a_real_server(
    app: Flask, live_server: Any
) -> None:
    """With two slots and a ``def before_request``, six concurrent ``async
    def`` views awaiting 0.3 s finish together: each holds its thread (the
    hook and teardown run on it) but no slot while it awaits."""
    app.config["THREAD_POOL_SIZE"] = 2
    threads: dict[str, set[int]] = {}
    parked: list[int] = []

    @app.before_request
    def note_thread() -> None:
        threads.setdefault(request.args["i"], set()).add(threading.get_ident())

    @app.teardown_request
    def note_teardown(exc: BaseException | None) -> None:
        threads[request.args["i"]].add(threading.get_ident())

    @app.route("/wait")
    async def wait() -> str:
        await anyio.sleep(0.3)
        parked.append(app.worker_threads.parked)
        return "done"

    async def main(url: str) -> float:
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            started = time.monotonic()
            async with anyio.create_task_group() as tg:
                for i in range(6):
                    tg.start_soon(http.get, f"/wait?i={i}")
            return time.monotonic() - started

    with live_server(app) as server:
        elapsed = anyio.run(main, server.url)
    assert elapsed < 0.8, elapsed  # 0.9 s or more if they took turns on two slots
    assert all(len(ids) == 1 for ids in threads.values()), threads  # affinity kept
    assert max(parked) >= 3, parked


def test_a_def_teardown_never_delays_an_async_views_answer_on_a_real_server(
    app: Flask, live_server: Any
) -> None:
    """The README's promise, for a migrated app (a ``def`` teardown, as
    Flask-SQLAlchemy registers): with every slot taken by sleeping ``def``
    views, an ``async def`` view still answers at once; its teardown runs
    when a slot frees."""
    app.config["THREAD_POOL_SIZE"] = 2
    torn_down: list[str] = []

    @app.teardown_appcontext
    def close_db(exc: BaseException | None) -> None:
        torn_down.append(request.path if request else "?")

    @app.route("/slow")
    def slow() -> str:
        time.sleep(1)
        return "slow"

    @app.route("/fast")
    async def fast() -> str:
        return "fast"

    async def main(url: str) -> float:
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            answered: list[float] = []

            async def get_fast() -> None:
                await anyio.sleep(0.2)  # both slots are sleeping by now
                started = time.monotonic()
                assert (await http.get("/fast")).text == "fast"
                answered.append(time.monotonic() - started)

            async with anyio.create_task_group() as tg:
                tg.start_soon(http.get, "/slow")
                tg.start_soon(http.get, "/slow")
                tg.start_soon(get_fast)
            return answered[0]

    with live_server(app) as server:
        fast_time = anyio.run(main, server.url)
    assert fast_time < 0.3, fast_time
    # ("?": the app context of the server's lifespan, torn down at shutdown)
    assert sorted(path for path in torn_down if path != "?") == ["/fast", "/slow", "/slow"]


def test_an_async_override_may_await_anything_and_teardown_still_runs() -> None:
    torn_down: list[Any] = []

    class App(Flask):
        async def full_dispatch_request(self) -> Any:
            await asyncio.sleep(0.01)
            event = anyio.Event()
            event.set()
            await event.wait()
            if request.args.get("fail"):
                raise LookupError("from the override")
            return await super().full_dispatch_request()

    app = App(__name__)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.before_request(lambda: None)
    app.teardown_request(lambda exc: torn_down.append(exc))
    app.route("/")(lambda: "view")
    client = app.test_client()
    assert client.get("/").text == "view"
    assert client.get("/?fail=1").status_code == 500
    assert torn_down[0] is None
    assert isinstance(torn_down[1], LookupError)


def test_uploads_saved_from_async_views_use_the_apps_pool(app: Flask) -> None:
    import io

    from flaskish.concurrency import ThreadPoolStats

    seen: list[ThreadPoolStats] = []
    original_limiter = app.thread_pool.limiter

    def counting_limiter() -> Any:
        seen.append(app.worker_threads)
        return original_limiter()

    app.thread_pool.limiter = counting_limiter  # type: ignore[method-assign]

    @app.route("/", methods=["POST"])
    async def upload() -> str:
        files = await request.files
        target = io.BytesIO()
        await files["f"].save(target)
        return target.getvalue().decode()

    response = app.test_client().post("/", data={"f": (io.BytesIO(b"data"), "a.txt")})
    assert response.text == "data"
    assert seen, "the save did not go through the app's pool"


# -- load shedding -----------------------------------------------------------------------


def test_past_thread_pool_timeout_a_request_gets_a_503_with_retry_after(
    app: Flask, live_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """One slot, taken by a sleeping ``def`` view: three more ``def``
    requests wait 0.2 s for it, then get a 503 at once instead of queueing;
    the shedding is counted and logged once; their teardown still runs."""
    app.config.update(THREAD_POOL_SIZE=1, THREAD_POOL_TIMEOUT=0.2)
    torn_down: list[str] = []

    @app.route("/slow")
    def slow() -> str:
        time.sleep(1)
        return "slow"

    @app.route("/stats")
    async def stats() -> dict[str, int]:
        return {"shed": app.worker_threads.shed}

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        torn_down.append(request.path)

    async def main(url: str) -> list[tuple[int, str | None, float]]:
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            answers: list[tuple[int, str | None, float]] = []

            async def get(delay: float) -> None:
                await anyio.sleep(delay)
                started = time.monotonic()
                response = await http.get("/slow")
                answers.append(
                    (
                        response.status_code,
                        response.headers.get("retry-after"),
                        time.monotonic() - started,
                    )
                )

            async with anyio.create_task_group() as tg:
                tg.start_soon(get, 0)
                for _ in range(3):
                    tg.start_soon(get, 0.2)
            assert (await http.get("/stats")).json() == {"shed": 3}
            return sorted(answers)

    with caplog.at_level("WARNING"), live_server(app) as server:
        answers = anyio.run(main, server.url)
    assert [status for status, _, _ in answers] == [200, 503, 503, 503]
    for _, retry_after, took in answers[1:]:
        assert retry_after == "1" and took < 0.6, answers
    shed_logs = [r for r in caplog.records if "THREAD_POOL_TIMEOUT" in r.getMessage()]
    assert len(shed_logs) == 1, shed_logs
    # The shed requests' teardown runs too, once a slot freed.
    assert sorted(torn_down) == ["/slow"] * 4 + ["/stats"]


def test_thread_pool_timeout_must_be_a_positive_number_or_none(app: Flask) -> None:
    app.config["THREAD_POOL_TIMEOUT"] = 0
    app.route("/")(lambda: "x")
    with pytest.raises(ValueError, match="THREAD_POOL_TIMEOUT must be a number of seconds"):
        app.test_client().get("/")


def test_a_thread_never_runs_two_requests_interleaved(app: Flask) -> None:
    """Thread-local state written in ``before_request`` is the request's own
    when its teardown reads it, under 200 concurrent requests that park
    (await) between their sync steps."""
    local = threading.local()
    mismatches: list[tuple[str, str]] = []

    @app.before_request
    def claim() -> None:
        local.who = request.args["who"]

    @app.route("/")
    async def view() -> str:
        await anyio.sleep(0.01)  # parked: the thread waits, holding no slot
        return "ok"

    @app.teardown_request
    def check(exc: BaseException | None) -> None:
        if local.who != request.args["who"]:
            mismatches.append((local.who, request.args["who"]))

    from flaskish.testing import FlaskClient

    async def main() -> None:
        async with FlaskClient(app) as client, anyio.create_task_group() as tg:
            for i in range(200):
                tg.start_soon(client.get, f"/?who={i}")

    app.config["THREAD_POOL_SIZE"] = 4
    anyio.run(main)
    assert mismatches == []


def test_await_here_is_awaited_by_the_driver_until_a_def_step_then_inside_the_pipeline() -> None:
    """A websocket handler's step: before any ``def`` step the driver
    awaits it itself (the pipeline's frame is not resumed at each of its
    waits); after one, the pipeline awaits it in the request's context.
    Either way its value and its errors reach the pipeline."""
    seen: list[tuple[bool, Any]] = []
    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="unset")

    async def step(fail: bool) -> str:
        await anyio.sleep(0)
        frames = sys._getframe()
        inside = False
        while frames is not None:
            inside = inside or frames.f_code.co_name == "pipeline"
            frames = frames.f_back
        seen.append((inside, marker.get()))
        if fail:
            raise KeyError("step")
        return "value"

    def set_marker() -> None:
        marker.set("set by a def step")

    async def pipeline() -> list[Any]:
        results: list[Any] = [await await_here(step, False)]
        try:
            await await_here(step, True)
        except KeyError as exc:
            results.append(exc.args[0])
        await call(set_marker)
        results.append(await await_here(step, False))
        return results

    async def main() -> list[Any]:
        return await drive(pipeline(), ThreadPool(lambda: 1))

    assert anyio.run(main) == ["value", "step", "value"]
    assert seen == [(False, "unset"), (False, "unset"), (True, "set by a def step")]
