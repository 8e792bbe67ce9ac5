"""Fixtures for the chat example's tests: an app, test clients that log
in, and the app served on a real uvicorn on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import uvicorn
from chat import create_app

from flaskish import Flask
from flaskish.testing import FlaskClient, TestWebsocket


@pytest.fixture
def app() -> Flask:
    return create_app({"TESTING": True, "SECRET_KEY": "test"})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def logged_in(app: Flask) -> Callable[[str], FlaskClient]:
    """``logged_in("ada")``: a test client of its own (its own cookie jar),
    logged in as ada."""

    def login(name: str) -> FlaskClient:
        client = app.test_client()
        response = client.post("/login", data={"name": name})
        assert response.status_code == 302, response.text
        return client

    return login


@pytest.fixture
def connect(app: Flask) -> Iterator[Callable[[str, str], TestWebsocket]]:
    """``connect("ada", "/ws")``: a websocket opened as ada (use it with
    ``with``).

    Every connection goes through one test client, kept open with ``with``,
    so they all run on one event loop, as under uvicorn: two test clients
    would each bring a loop of their own. The client logs in before each
    handshake; a connection keeps the user it was opened with.
    """
    with app.test_client() as client:

        def open_as(name: str, path: str) -> TestWebsocket:
            response = client.post("/login", data={"name": name})
            assert response.status_code == 302, response.text
            return client.websocket(path)

        yield open_as


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server_url() -> Iterator[str]:
    """The app factory served by uvicorn on 127.0.0.1 (a free port), in a
    background thread, for as long as the test runs."""
    port = free_port()
    config = uvicorn.Config(
        create_app,
        factory=True,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start within 10 s")
        time.sleep(0.01)

    yield f"http://127.0.0.1:{port}"

    server.should_exit = True
    thread.join(10)
    assert not thread.is_alive(), "uvicorn did not stop within 10 s"
