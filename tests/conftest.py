"""Shared fixtures: an ``app`` and its ``client``, a check that no test
leaves a context pushed, a check that nothing blocks the event loop, and a
real uvicorn server on loopback for the tests that need one."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from blockbuster import blockbuster_ctx

from flaskish import Flask
from flaskish.globals import _cv_app, _cv_request
from flaskish.testing import FlaskClient


@pytest.fixture
def app() -> Flask:
    app = Flask("flaskish_test_app")
    app.config.update(TESTING=True, SECRET_KEY="test secret")
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(autouse=True)
def leak_detector() -> Iterator[None]:
    """Every test must leave no app or request context pushed."""
    yield
    leaked = []
    while (ctx := _cv_request.get(None)) is not None:
        leaked.append(ctx)
        ctx._reset()
    while (app_ctx := _cv_app.get(None)) is not None:
        leaked.append(app_ctx)
        app_ctx._reset()
    assert not leaked, f"contexts left pushed: {leaked!r}"


@pytest.fixture(autouse=True)
def no_blocking_on_the_event_loop(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test if flaskish (or a test's async code) blocks the event loop
    (except tests marked ``blocking_allowed``: the blocking-call detector's,
    which block the loop on purpose)."""
    if request.node.get_closest_marker("blocking_allowed"):
        yield
        return
    with blockbuster_ctx(["flaskish", "tests"]) as bb:
        for name in ("os.stat", "io.BufferedReader.read", "io.TextIOWrapper.read"):
            # Reading source lines for tracebacks, and httpx reading its
            # package metadata when a client is created in an async test.
            bb.functions[name].can_block_in("traceback.py", {"format", "format_exception"})
            bb.functions[name].can_block_in("importlib/metadata/__init__.py", {"read_text"})
        # Jinja's FileSystemLoader reads a template file once (get_source:
        # isfile, open, read, getmtime) and then serves it from its cache;
        # with auto-reload, uptodate() stats the file. render_template is sync
        # CPU work that Flask apps call from async views, so this small I/O
        # (once per template; one stat per render with auto-reload, a
        # development setting) is accepted on the event loop.
        for name in ("os.stat", "io.TextIOWrapper.read"):
            bb.functions[name].can_block_in("jinja2/loaders.py", {"get_source", "uptodate"})
        # The debug page's template is read once per process, in debug mode
        # only, by the first failing request (an async view's, on the loop).
        bb.functions["io.TextIOWrapper.read"].can_block_in("flaskish/debug_page.py", {"_template"})
        # The test client's User-Agent names Werkzeug's version, looked up in
        # its package metadata once per process (first client, maybe on the
        # loop of an async test).
        for name in ("os.stat", "os.listdir", "os.scandir", "io.TextIOWrapper.read"):
            bb.functions[name].can_block_in("flaskish/testing_environ.py", {"_werkzeug_version"})
        yield


def wait_until_listening(
    port: int, process: subprocess.Popen[Any], log: Path | None = None, timeout: float = 20
) -> None:
    """Wait until the server *process* accepts connections on 127.0.0.1:*port*;
    fail (killing it) if it exits or does not start in time, with its *log*
    in the message."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                shown = log.read_text() if log is not None and log.exists() else "(no log)"
                raise AssertionError(f"the server did not start: {shown}") from None
            time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """A uvicorn server running an app on 127.0.0.1 in a background thread."""

    def __init__(self, app: object, **options: object) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on", **options
        )  # type: ignore[arg-type]
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def live_server() -> Iterator[type[LiveServer]]:
    """Start apps on a real uvicorn: ``with live_server(app) as server:``."""
    with contextlib.ExitStack():
        yield LiveServer
