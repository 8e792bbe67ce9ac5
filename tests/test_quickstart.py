"""The quickstart example (Flask's quickstart, only the import changed),
in-process through the test client and over a real uvicorn on loopback."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def quickstart() -> Any:
    sys.path.insert(0, str(EXAMPLES))
    try:
        module = importlib.import_module("quickstart")
        yield importlib.reload(module)  # a fresh app per test
    finally:
        sys.path.remove(str(EXAMPLES))
        sys.modules.pop("quickstart", None)


EXPECTED_PAGES = [
    ("/", 200, "Hello, World!"),
    ("/async/", 200, "Hello, async World!"),
    ("/hello/<b>ada", 200, "Hello, &lt;b&gt;ada!"),
    ("/user/ada", 200, "User ada"),
    ("/post/42", 200, "Post 42"),
    ("/async/post/42", 200, "Post 42 (async)"),
    ("/path/a/b/c", 200, "Subpath a/b/c"),
    ("/projects/", 200, "The project page"),
    ("/about", 200, "The about page"),
    ("/about/", 404, "This page does not exist"),
    ("/post/forty-two", 404, "This page does not exist"),
    ("/search?q=flask", 200, "Searching for flask"),
]


@pytest.mark.parametrize(("path", "status", "text"), EXPECTED_PAGES)
def test_quickstart_pages_in_process(quickstart: Any, path: str, status: int, text: str) -> None:
    response = quickstart.app.test_client().get(path)
    assert (response.status_code, response.text) == (status, text)


def test_quickstart_login_flow_in_process(quickstart: Any) -> None:
    client = quickstart.app.test_client()
    response = client.post("/login", data={"username": "ada"})
    assert response.status_code == 302
    assert response.location == "/"
    assert client.get("/").text == "Logged in as ada"
    assert client.get("/me").json == {"username": "ada", "theme": "dark"}
    assert client.get("/logout", follow_redirects=True).text == "Hello, World!"


def test_quickstart_login_without_a_username_is_a_bad_request(quickstart: Any) -> None:
    response = quickstart.app.test_client().post("/login", data={})
    assert response.status_code == 400


def test_quickstart_over_a_real_server(quickstart: Any, live_server: Any) -> None:
    """Every page, redirects, errors, and login / logout with a real cookie jar."""
    with live_server(quickstart.app) as server, httpx.Client(base_url=server.url) as http:
        for path, status, text in EXPECTED_PAGES:
            response = http.get(path)
            assert (response.status_code, response.text) == (status, text), path

        response = http.get("/projects")
        assert response.status_code == 308
        assert response.headers["location"] == "/projects/"

        response = http.get("/secret")
        assert response.status_code == 401
        assert "Unauthorized" in response.text

        response = http.get("/go-to-login")
        assert response.status_code == 302
        assert response.headers["location"] == "/login"

        response = http.delete("/about")
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, HEAD, OPTIONS"

        response = http.head("/about")
        assert response.status_code == 200
        assert response.content == b""
        assert response.headers["content-length"] == str(len("The about page"))

        assert http.get("/login").status_code == 200
        response = http.post("/login", data={"username": "grace"})
        assert response.status_code == 302
        assert "HttpOnly" in response.headers["set-cookie"]
        assert http.get("/").text == "Logged in as grace"
        assert http.get("/me").json() == {"username": "grace", "theme": "dark"}

        response = http.post("/async/login", data={"username": "ada"})
        assert response.status_code == 302
        assert http.get("/").text == "Logged in as ada"

        assert http.get("/logout", follow_redirects=True).text == "Hello, World!"
        assert http.get("/async/users").json() == [{"name": "ada"}, {"name": "grace"}]
