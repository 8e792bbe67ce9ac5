"""Every dual-mode call made without ``await`` in async code either does
its work or fails at once with an error that says what to write: nothing
returns 200 having silently done nothing."""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import pytest

from flaskish import (
    Flask,
    flash,
    make_response,
    render_template_string,
    request,
    send_file,
    send_from_directory,
)
from flaskish.must_await import MustAwait


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    app = Flask(__name__, root_path=str(tmp_path))
    app.config.update(TESTING=True, SECRET_KEY="s")
    (tmp_path / "hello.txt").write_text("hello")
    return app


def upload() -> dict[str, Any]:
    return {"f": (io.BytesIO(b"data"), "f.txt")}


def test_saving_an_upload_without_await_fails_the_request(app: Flask, tmp_path: Path) -> None:
    @app.post("/")
    async def view() -> str:
        files = await request.files
        files["f"].save(tmp_path / "out")
        return "saved"

    with pytest.raises(RuntimeError, match=r"FileStorage.save\(\).*Write `await file.save"):
        app.test_client().post("/", data=upload())
    assert not (tmp_path / "out").exists()


def test_saving_an_upload_with_await_saves(app: Flask, tmp_path: Path) -> None:
    @app.post("/")
    async def view() -> str:
        files = await request.files
        await files["f"].save(tmp_path / "out")
        return "saved"

    assert app.test_client().post("/", data=upload()).text == "saved"
    assert (tmp_path / "out").read_bytes() == b"data"


def test_reading_an_upload_without_await_says_what_to_write(app: Flask) -> None:
    @app.post("/")
    async def view() -> str:
        files = await request.files
        return str(len(files["f"].read()))

    with pytest.raises(RuntimeError, match=r"Write `data = await file.read\(\)`"):
        app.test_client().post("/", data=upload())


def test_a_def_view_saves_and_reads_without_await(app: Flask, tmp_path: Path) -> None:
    @app.post("/")
    def view() -> Any:
        upload = request.files["f"]
        upload.save(tmp_path / "out")
        upload.stream.seek(0)
        return upload.read()

    assert app.test_client().post("/", data=upload()).data == b"data"
    assert (tmp_path / "out").read_bytes() == b"data"


@pytest.mark.parametrize("sender", ["send_file", "send_from_directory"])
def test_changing_an_unawaited_file_response_says_what_to_write(
    app: Flask, tmp_path: Path, sender: str
) -> None:
    @app.get("/")
    async def view() -> Any:
        if sender == "send_file":
            response = send_file(tmp_path / "hello.txt")
        else:
            response = send_from_directory(tmp_path, "hello.txt")
        response.headers["X-Kind"] = "greeting"
        return response

    with pytest.raises(RuntimeError, match=rf"{sender}\(\).*Write `response = await {sender}"):
        app.test_client().get("/")


@pytest.mark.parametrize("awaited", [False, True])
def test_returning_a_file_response_works_awaited_or_not(
    app: Flask, tmp_path: Path, awaited: bool
) -> None:
    @app.get("/")
    async def view() -> Any:
        response = send_file(tmp_path / "hello.txt")
        return (await response) if awaited else response

    assert app.test_client().get("/").text == "hello"


def test_flash_render_template_and_make_response_work_without_await(app: Flask) -> None:
    @app.get("/")
    async def view() -> Any:
        flash("saved")  # no async receivers: nothing left to run
        response = make_response(render_template_string("{{ 1 + 1 }}"))
        response.headers["X-Two"] = "2"
        return response

    response = app.test_client().get("/")
    assert response.text == "2" and response.headers["X-Two"] == "2"


def test_awaiting_twice_is_an_error(app: Flask, tmp_path: Path) -> None:
    @app.get("/")
    async def view() -> Any:
        pending = send_file(tmp_path / "hello.txt")
        await pending
        return await pending

    with pytest.raises(RuntimeError, match="awaited twice"):
        app.test_client().get("/")


def test_outside_a_request_a_dropped_call_warns() -> None:
    pending = MustAwait("thing()", "await thing()", lambda: None)  # type: ignore[arg-type, return-value]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del pending
    assert [str(w.message) for w in caught] == [
        "thing() was called in async code without await, and does nothing until it is "
        "awaited. Write `await thing()`."
    ]


@pytest.mark.blocking_allowed  # the view calls sqlite on the loop: the mistake under test
def test_a_thread_bound_object_used_from_an_async_view_gets_a_note_that_names_the_fix(
    app: Flask,
) -> None:
    import sqlite3

    from flaskish import g

    @app.before_request
    def open_db() -> None:
        g.db = sqlite3.connect(":memory:")

    @app.teardown_appcontext
    def close_db(exc: BaseException | None) -> None:
        db = g.pop("db", None)
        if db is not None:
            try:
                db.close()
            except sqlite3.ProgrammingError:
                pass  # made on another thread: it goes with that thread

    @app.get("/")
    async def index() -> str:
        return str(g.db.execute("select 1").fetchone()[0])

    with pytest.raises(sqlite3.ProgrammingError) as caught:
        app.test_client().get("/")
    [note] = caught.value.__notes__
    assert "runs on the event loop's thread" in note and "Keep the function def" in note
