"""The chat example through the test client: logging in and out, the
page, and both websocket handlers fanning messages out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from flaskish.testing import FlaskClient, TestWebsocket, WebsocketDenied

LoggedIn = Callable[[str], FlaskClient]
Connect = Callable[[str, str], TestWebsocket]


def lines(ws: Any, count: int) -> list[str]:
    """The next *count* messages as the page shows them: ``"ada: hi"``,
    or the room's notices (``"ada joined"``)."""
    shown = []
    for _ in range(count):
        message = ws.receive_json()
        assert set(message) == {"user", "text"}
        user, text = message["user"], message["text"]
        shown.append(text if user is None else f"{user}: {text}")
    return shown


# -- pages ---------------------------------------------------------------------


def test_the_chat_page_sends_visitors_to_the_login_form(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/"
    assert "Your name" in client.get("/login").text


def test_logging_in_keeps_the_name_in_the_session_and_shows_the_chat(
    client: FlaskClient,
) -> None:
    response = client.post("/login", data={"name": "  ada  "})
    assert (response.status_code, response.headers["Location"]) == (302, "/")
    with client.session_transaction() as session:
        assert session["user"] == "ada"
    page = client.get("/").text
    assert '<strong id="me">ada</strong>' in page
    assert '"/ws"' in page  # the socket the page's script opens


def test_login_returns_to_the_page_it_came_from_but_only_to_one_of_ours(
    client: FlaskClient,
) -> None:
    assert client.get("/sync").headers["Location"] == "/login?next=/sync"
    response = client.post("/login?next=/sync", data={"name": "ada"})
    assert response.headers["Location"] == "/sync"
    assert '"/ws-sync"' in client.get("/sync").text
    response = client.post("/login?next=https://evil.example/", data={"name": "ada"})
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "Please enter a name."),
        ("   ", "Please enter a name."),
        ("x" * 33, "A name has at most 32 characters."),
    ],
)
def test_a_missing_or_long_name_is_refused(client: FlaskClient, name: str, error: str) -> None:
    response = client.post("/login", data={"name": name})
    assert response.status_code == 400
    assert error in response.text
    assert client.get("/").status_code == 302  # still logged out


def test_names_are_escaped_in_the_page(logged_in: LoggedIn) -> None:
    page = logged_in("<b>ada</b>").get("/").text
    assert "&lt;b&gt;ada&lt;/b&gt;" in page
    assert "<b>ada</b>" not in page


def test_logging_out_clears_the_session_and_closes_the_door(logged_in: LoggedIn) -> None:
    client = logged_in("ada")
    response = client.post("/logout")
    assert (response.status_code, response.headers["Location"]) == (302, "/login")
    with client.session_transaction() as session:
        assert "user" not in session
    assert client.get("/").status_code == 302
    with pytest.raises(WebsocketDenied) as denied, client.websocket("/ws"):
        pass
    assert denied.value.status_code == 401


def test_logging_out_is_a_post(logged_in: LoggedIn) -> None:
    assert logged_in("ada").get("/logout").status_code == 405


# -- websockets ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ws", "/ws-sync"])
def test_a_websocket_without_a_logged_in_user_is_refused_before_it_opens(
    client: FlaskClient,
    path: str,
) -> None:
    with pytest.raises(WebsocketDenied) as denied, client.websocket(path):
        pass
    assert denied.value.status_code == 401
    assert "Log in first" in denied.value.text


@pytest.mark.parametrize(
    ("first", "second"),
    [("/ws", "/ws"), ("/ws-sync", "/ws-sync"), ("/ws", "/ws-sync"), ("/ws-sync", "/ws")],
    ids=["async", "def", "async-and-def", "def-and-async"],
)
def test_messages_fan_out_to_everyone_in_the_room(
    connect: Connect,
    first: str,
    second: str,
) -> None:
    with connect("ada", first) as ada_ws:
        assert lines(ada_ws, 1) == ["ada joined"]
        with connect("bob", second) as bob_ws:
            assert lines(ada_ws, 1) == lines(bob_ws, 1) == ["bob joined"]

            ada_ws.send("hello bob")
            assert lines(ada_ws, 1) == lines(bob_ws, 1) == ["ada: hello bob"]
            bob_ws.send("hi ada")
            assert lines(ada_ws, 1) == lines(bob_ws, 1) == ["bob: hi ada"]

        assert lines(ada_ws, 1) == ["bob left"]


@pytest.mark.parametrize("path", ["/ws", "/ws-sync"])
def test_blank_and_binary_messages_are_ignored_and_long_ones_cut(
    connect: Connect,
    path: str,
) -> None:
    with connect("ada", path) as ws:
        assert lines(ws, 1) == ["ada joined"]
        ws.send("   ")
        ws.send(b"\x00binary")
        ws.send("  " + "x" * 600 + "  ")
        assert lines(ws, 1) == ["ada: " + "x" * 500]


def test_a_message_is_text_not_html(connect: Connect) -> None:
    """The server sends what was typed; the page shows it with textContent."""
    with connect("ada", "/ws") as ws:
        lines(ws, 1)
        ws.send("<img src=x onerror=alert(1)>")
        assert ws.receive_json() == {"user": "ada", "text": "<img src=x onerror=alert(1)>"}


@pytest.mark.parametrize("path", ["/ws", "/ws-sync"])
def test_the_room_forgets_who_left(app: Any, connect: Connect, path: str) -> None:
    with connect("ada", path) as ws:
        lines(ws, 1)
        assert app.broadcast.stats().subscribers == 1
    # The handler leaves the room as it ends; the client's close ends it
    # and the test transport waits for that.
    assert app.broadcast.stats().subscribers == 0
