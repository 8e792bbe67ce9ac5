"""Background tasks: ``app.add_background_task`` and Starlette's
``response.background`` run after the response, in an app context of their
own, ``def`` ones on a worker thread, and are counted, logged and drained."""

from __future__ import annotations

import logging
import threading
from typing import Any

import anyio
import pytest
from starlette.background import BackgroundTask, BackgroundTasks

from flaskish import Flask, current_app, g, has_request_context, websocket


@pytest.fixture
def notes() -> list[Any]:
    return []


def test_tasks_run_after_the_response_and_teardown(app: Flask, notes: list[Any]) -> None:
    def sync_task(value: int) -> None:
        notes.append(("def task", value, threading.current_thread() is threading.main_thread()))

    async def async_task(value: int, *, twice: bool) -> None:
        await anyio.sleep(0)
        notes.append(("async task", value * 2 if twice else value))

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        notes.append("teardown")

    @app.get("/")
    def index() -> str:
        app.add_background_task(sync_task, 1)
        app.add_background_task(async_task, 2, twice=True)
        notes.append("view")
        return "ok"

    response = app.test_client().get("/")
    assert response.text == "ok"
    # The test client returns once the request's tasks are done.
    assert notes[:2] == ["view", "teardown"]
    assert sorted(map(str, notes[2:])) == ["('async task', 4)", "('def task', 1, False)"]
    stats = app.background_task_stats
    assert (stats.running, stats.completed, stats.failed, stats.cancelled) == (0, 2, 0, 0)


def test_a_task_has_an_app_context_of_its_own_and_no_request(app: Flask) -> None:
    seen: dict[str, Any] = {}

    def task() -> None:
        seen["app"] = current_app.name
        seen["request"] = has_request_context()
        seen["g"] = g.get("user")

    @app.get("/")
    async def index() -> str:
        g.user = "ada"
        app.add_background_task(task)
        return "ok"

    app.test_client().get("/")
    assert seen == {"app": app.name, "request": False, "g": None}


def test_a_failing_task_is_logged_with_its_name_and_the_response_is_unharmed(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    async def send_welcome_mail() -> None:
        raise ConnectionError("smtp is down")

    @app.get("/")
    def index() -> str:
        app.add_background_task(send_welcome_mail)
        return "signed up"

    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/")
    assert response.status_code == 200 and response.text == "signed up"
    record = next(r for r in caplog.records if "Background task" in r.getMessage())
    assert "send_welcome_mail" in record.getMessage()
    assert record.exc_info is not None and "smtp is down" in str(record.exc_info[1])
    assert app.background_task_stats.failed == 1


def test_a_starlette_background_set_on_the_response_runs(app: Flask, notes: list[Any]) -> None:
    def sync_task(value: str) -> None:
        notes.append(value)

    async def async_task(value: str) -> None:
        notes.append(value)

    @app.get("/one")
    def one() -> Any:
        response = app.make_response("one")
        response.background = BackgroundTask(sync_task, "single")
        return response

    @app.get("/many")
    async def many() -> Any:
        response = app.make_response("many")
        tasks = BackgroundTasks()
        tasks.add_task(sync_task, "first")
        tasks.add_task(async_task, value="second")
        response.background = tasks
        return response

    client = app.test_client()
    assert client.get("/one").text == "one"
    assert notes == ["single"]
    assert client.get("/many").text == "many"
    assert sorted(notes[1:]) == ["first", "second"]


def test_a_wrong_response_background_is_an_error_that_names_the_fix(app: Flask) -> None:
    @app.get("/")
    def index() -> Any:
        response = app.make_response("x")
        response.background = print
        return response

    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(TypeError, match=r"app\.add_background_task"):
        app.test_client().get("/")


def test_passing_a_call_instead_of_a_function_is_an_error(app: Flask) -> None:
    def send(address: str) -> None:
        pass

    @app.get("/")
    def index() -> str:
        app.add_background_task(send("ada@example.com"))  # type: ignore[func-returns-value]
        return "x"

    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(TypeError, match=r"not app.add_background_task\(send_mail\(address\)\)"):
        app.test_client().get("/")


def test_outside_a_request_a_task_needs_the_app_served(app: Flask) -> None:
    with app.app_context(), pytest.raises(RuntimeError, match="needs the app to be served"):
        app.add_background_task(print)


def test_outside_a_request_a_task_starts_at_once_while_served(app: Flask) -> None:
    started = threading.Event()

    def task() -> None:
        started.set()

    with app.test_client(), app.app_context():
        app.add_background_task(task)
        assert started.wait(5)


@pytest.mark.anyio
async def test_tasks_still_running_at_shutdown_are_cancelled(app: Flask) -> None:
    app.config["BACKGROUND_TASK_SHUTDOWN_TIMEOUT"] = 0.1
    ended: list[str] = []

    async def forever() -> None:
        try:
            await anyio.sleep(3600)
        finally:
            ended.append("forever")

    async def quick() -> None:
        await anyio.sleep(0.01)
        ended.append("quick")

    async with app.test_client():
        async with app.app_context():
            app.add_background_task(forever)
            app.add_background_task(quick)
        await anyio.sleep(0.05)
        assert app.background_task_stats.running == 1
    assert ended == ["quick", "forever"]
    stats = app.background_task_stats
    assert (stats.running, stats.completed, stats.cancelled) == (0, 1, 1)


def test_a_websocket_handler_starts_its_task_at_once(app: Flask) -> None:
    done = threading.Event()

    @app.websocket("/ws")
    async def handler() -> None:
        await websocket.accept()
        app.add_background_task(done.set)
        await websocket.send("queued")
        await websocket.receive()  # the task runs while the connection is open

    with app.test_client() as client, client.websocket("/ws") as ws:
        assert ws.receive() == "queued"
        assert done.wait(5)
        ws.send("bye")
