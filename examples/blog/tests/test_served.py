"""The blog on a real uvicorn on loopback, driven by httpx with its own
cookie jar: what a browser does, end to end."""

import functools
import socket
import threading
import time

import httpx2 as httpx
import pytest
import uvicorn

from flaskr import create_app


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server_url(app):
    """Serve the app factory on 127.0.0.1 in a background thread, with the
    test database that the ``app`` fixture created and filled."""
    port = free_port()
    factory = functools.partial(create_app, {"DATABASE": app.config["DATABASE"]})
    config = uvicorn.Config(
        factory, factory=True, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)

    yield f"http://127.0.0.1:{port}"

    server.should_exit = True
    thread.join(10)
    assert not thread.is_alive()


def test_register_login_post_over_a_real_server(server_url):
    with httpx.Client(base_url=server_url) as http:
        assert http.get("/static/style.css").headers["content-type"].startswith("text/css")

        response = http.post("/auth/register", data={"username": "ada", "password": "pw"})
        assert (response.status_code, response.headers["location"]) == (302, "/auth/login")

        response = http.post("/auth/login", data={"username": "ada", "password": "nope"})
        assert "Incorrect password." in response.text

        response = http.post("/auth/login", data={"username": "ada", "password": "pw"})
        assert (response.status_code, response.headers["location"]) == (302, "/")
        assert "session" in http.cookies

        response = http.post("/create", data={"title": "Served", "body": "over uvicorn"})
        assert (response.status_code, response.headers["location"]) == (302, "/")

        index = http.get("/")
        assert "<span>ada</span>" in index.text
        assert "<h1>Served</h1>" in index.text
        assert "over uvicorn" in index.text
        assert "test title" in index.text  # the other user's post from data.sql

        response = http.get("/auth/logout")
        assert (response.status_code, response.headers["location"]) == (302, "/")
        assert "Log In" in http.get("/").text
        assert http.post("/create").headers["location"] == "/auth/login"
