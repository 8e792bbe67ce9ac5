"""Message flashing: ``flash`` and ``get_flashed_messages`` (in
``flaskish.helpers``), stored in the session under ``"_flashes"`` as Flask
stores them, from ``def`` and ``async def`` views, and the
``message_flashed`` signal with sync and async receivers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from markupsafe import Markup

from flaskish import (
    Flask,
    flash,
    get_flashed_messages,
    redirect,
    render_template_string,
    request,
    session,
    url_for,
)
from flaskish.must_await import DONE
from flaskish.signals import message_flashed
from flaskish.testing import FlaskClient


@pytest.fixture
def app() -> Flask:
    app = Flask("flaskish_flash")
    app.config.update(TESTING=True, SECRET_KEY="flash secret")

    @app.post("/flash/<category>/<message>")
    def flash_one(category: str, message: str) -> str:
        flash(message, category)
        return "flashed"

    @app.post("/async-flash/<category>/<message>")
    async def async_flash_one(category: str, message: str) -> str:
        await flash(message, category)
        return "flashed"

    @app.get("/messages")
    def messages() -> Any:
        return {"messages": get_flashed_messages()}

    @app.get("/async-messages")
    async def async_messages() -> Any:
        return {"messages": get_flashed_messages()}

    @app.get("/with-categories")
    def with_categories() -> Any:
        return {"messages": get_flashed_messages(with_categories=True)}

    @app.get("/errors")
    def errors() -> Any:
        return {"messages": get_flashed_messages(category_filter=["error"])}

    return app


def test_a_flashed_message_is_shown_by_the_next_request(client: FlaskClient) -> None:
    client.post("/flash/message/Saved.")
    assert client.get("/messages").json == {"messages": ["Saved."]}


def test_messages_are_shown_once(client: FlaskClient) -> None:
    client.post("/flash/message/Saved.")
    client.get("/messages")
    assert client.get("/messages").json == {"messages": []}


def test_messages_keep_their_order_across_requests(client: FlaskClient) -> None:
    client.post("/flash/message/one")
    client.post("/flash/message/two")
    client.post("/flash/info/three")
    assert client.get("/messages").json == {"messages": ["one", "two", "three"]}


def test_with_categories_gives_category_message_pairs(app: Flask) -> None:
    @app.get("/pairs")
    def pairs() -> str:
        return repr(get_flashed_messages(with_categories=True))

    client = app.test_client()
    client.post("/flash/error/Bad.")
    client.post("/flash/message/Fine.")
    assert client.get("/pairs").text == "[('error', 'Bad.'), ('message', 'Fine.')]"


def test_the_default_category_is_message(app: Flask) -> None:
    @app.post("/default")
    def default() -> str:
        flash("Hello")
        return ""

    client = app.test_client()
    client.post("/default")
    assert client.get("/with-categories").json == {"messages": [["message", "Hello"]]}


def test_a_category_filter_shows_only_those_categories_and_consumes_all(
    client: FlaskClient,
) -> None:
    client.post("/flash/error/Bad.")
    client.post("/flash/info/FYI.")
    client.post("/flash/error/Worse.")
    assert client.get("/errors").json == {"messages": ["Bad.", "Worse."]}
    assert client.get("/messages").json == {"messages": []}


def test_the_arguments_combine_and_repeat_within_one_request(app: Flask) -> None:
    @app.get("/several")
    def several() -> Any:
        return {
            "all": get_flashed_messages(),
            "errors": get_flashed_messages(with_categories=True, category_filter=["error"]),
            "string filter": get_flashed_messages(category_filter="info"),
            "again": get_flashed_messages(),
        }

    client = app.test_client()
    client.post("/flash/error/Bad.")
    client.post("/flash/info/FYI.")
    assert client.get("/several").json == {
        "all": ["Bad.", "FYI."],
        "errors": [["error", "Bad."]],
        "string filter": ["FYI."],
        "again": ["Bad.", "FYI."],
    }


def test_a_message_flashed_while_showing_waits_for_the_next_request(app: Flask) -> None:
    @app.get("/show-then-flash")
    def show_then_flash() -> Any:
        shown = get_flashed_messages()
        flash("later")
        return {"shown": shown, "again": get_flashed_messages()}

    client = app.test_client()
    client.post("/flash/message/now")
    assert client.get("/show-then-flash").json == {"shown": ["now"], "again": ["now"]}
    assert client.get("/messages").json == {"messages": ["later"]}


@pytest.mark.parametrize(
    ("flash_path", "show_path"),
    [
        ("/flash", "/async-messages"),
        ("/async-flash", "/messages"),
        ("/async-flash", "/async-messages"),
    ],
)
def test_def_and_async_views_flash_and_show(
    client: FlaskClient, flash_path: str, show_path: str
) -> None:
    client.post(f"{flash_path}/message/hi")
    assert client.get(show_path).json == {"messages": ["hi"]}


def test_a_message_survives_a_redirect(app: Flask) -> None:
    @app.post("/save")
    def save() -> Any:
        flash("Your changes were saved.", "success")
        return redirect(url_for("with_categories"))

    response = app.test_client().post("/save", follow_redirects=True)
    assert response.json == {"messages": [["success", "Your changes were saved."]]}
    assert response.history[0].status_code == 302


def test_an_async_view_flashing_before_a_redirect(app: Flask) -> None:
    @app.post("/async-save")
    async def async_save() -> Any:
        flash("Saved without await.")
        await flash("Saved with await.")
        return redirect("/async-messages")

    response = app.test_client().post("/async-save", follow_redirects=True)
    assert response.json == {"messages": ["Saved without await.", "Saved with await."]}


def test_messages_are_stored_in_the_session_as_flask_stores_them(client: FlaskClient) -> None:
    with client:
        client.post("/flash/info/Saved.")
        assert session["_flashes"] == [("info", "Saved.")]
    with client.session_transaction() as sess:
        assert sess["_flashes"] == [("info", "Saved.")]
        sess["_flashes"].append(("error", "Planted."))
        sess.modified = True
    assert client.get("/with-categories").json == {
        "messages": [["info", "Saved."], ["error", "Planted."]]
    }


def test_showing_the_last_messages_deletes_an_otherwise_empty_session_cookie(
    client: FlaskClient,
) -> None:
    client.post("/flash/message/bye")
    assert client.get_cookie("session") is not None
    client.get("/messages")
    assert client.get_cookie("session") is None


def test_asking_when_nothing_was_flashed_sets_no_cookie(client: FlaskClient) -> None:
    response = client.get("/messages")
    assert response.json == {"messages": []}
    assert response.headers.getlist("Set-Cookie") == []


def test_markup_messages_come_back_as_markup(app: Flask) -> None:
    @app.post("/markup")
    def markup() -> str:
        flash(Markup("<b>Saved</b>"))
        return ""

    @app.get("/markup")
    def show_markup() -> str:
        [message] = get_flashed_messages()
        return type(message).__name__

    client = app.test_client()
    client.post("/markup")
    assert client.get("/markup").text == "Markup"


TEMPLATE = """\
{%- for category, message in get_flashed_messages(with_categories=true) -%}
<p class="{{ category }}">{{ message }}</p>
{%- endfor -%}"""


@pytest.mark.parametrize("kind", ["def", "async"])
def test_templates_show_flashed_messages(app: Flask, kind: str) -> None:
    @app.get("/def-page")
    def def_page() -> str:
        return render_template_string(TEMPLATE)

    @app.get("/async-page")
    async def async_page() -> str:
        return render_template_string(TEMPLATE)

    client = app.test_client()
    client.post("/flash/error/<b>Bad")
    assert client.get(f"/{kind}-page").text == '<p class="error">&lt;b&gt;Bad</p>'
    assert client.get(f"/{kind}-page").text == ""


def test_flashing_without_a_secret_key_says_to_set_one(app: Flask) -> None:
    app.config["SECRET_KEY"] = None
    with pytest.raises(RuntimeError, match="no secret key was set"):
        app.test_client().post("/flash/message/hi")
    assert app.test_client().get("/messages").json == {"messages": []}


def test_flash_outside_a_request_says_what_to_do() -> None:
    with pytest.raises(RuntimeError, match="Working outside of request context"):
        flash("hi")
    with pytest.raises(RuntimeError, match="Working outside of request context"):
        get_flashed_messages()


def test_flash_works_in_a_test_request_context(app: Flask) -> None:
    with app.test_request_context():
        flash("one", "info")
        assert get_flashed_messages(with_categories=True) == [("info", "one")]


# -- the message_flashed signal ------------------------------------------------------------


Record = list[tuple[str, Any, str, str, str, int]]


@pytest.fixture
def received(app: Flask) -> Iterator[Record]:
    """What a sync and an async receiver saw: (kind, sender, message,
    category, request path, thread)."""
    record: Record = []

    def sync_receiver(sender: Any, message: str, category: str) -> None:
        record.append(("sync", sender, message, category, request.path, threading.get_ident()))

    async def async_receiver(sender: Any, message: str, category: str) -> None:
        record.append(("async", sender, message, category, request.path, threading.get_ident()))

    with (
        message_flashed.connected_to(sync_receiver, app),
        message_flashed.connected_to(async_receiver, app),
    ):
        yield record


def test_a_def_view_sends_message_flashed_to_sync_and_async_receivers(
    app: Flask, received: Record
) -> None:
    @app.post("/thread")
    def thread() -> str:
        flash("hi", "info")
        assert [r[0] for r in received] == ["sync", "async"]  # both ran before flash returned
        return str(threading.get_ident())

    view_thread = int(app.test_client().post("/thread").text)
    assert [r[:5] for r in received] == [
        ("sync", app, "hi", "info", "/thread"),
        ("async", app, "hi", "info", "/thread"),
    ]
    sync_thread, async_thread = received[0][5], received[1][5]
    assert sync_thread == view_thread  # on the request's worker thread
    assert async_thread != view_thread  # on the event loop


def test_an_async_view_sends_message_flashed_to_both_when_flash_is_awaited(
    app: Flask, received: Record
) -> None:
    app.test_client().post("/async-flash/warning/careful")
    assert [r[:5] for r in received] == [
        ("sync", app, "careful", "warning", "/async-flash/warning/careful"),
        ("async", app, "careful", "warning", "/async-flash/warning/careful"),
    ]


def test_an_async_view_that_does_not_await_flash_fails_with_the_fix(
    app: Flask, received: Record
) -> None:
    @app.post("/forgot-await")
    async def forgot_await() -> Any:
        flash("hi")
        return "flashed"

    # Not a 200 with a receiver silently skipped: the request fails, saying why.
    with pytest.raises(RuntimeError, match=r"async_receiver.*Write `await flash\(message\)`"):
        app.test_client().post("/forgot-await")


def test_flash_in_a_test_request_context_runs_async_receivers(app: Flask, received: Record) -> None:
    with app.test_request_context("/somewhere"):
        result = flash("hi")
    assert result is DONE
    assert [(r[0], r[2], r[4]) for r in received] == [
        ("sync", "hi", "/somewhere"),
        ("async", "hi", "/somewhere"),
    ]


def test_receivers_of_another_app_are_not_called(app: Flask) -> None:
    other = Flask("other")
    calls: list[str] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        calls.append(kwargs["message"])

    with message_flashed.connected_to(receiver, other):
        app.test_client().post("/flash/message/hi")
    assert calls == []


def test_a_muted_signal_calls_no_receiver(app: Flask, received: Record) -> None:
    with message_flashed.muted():
        app.test_client().post("/flash/message/hi")
    assert received == []


def test_awaiting_flash_with_nothing_pending_is_harmless(app: Flask) -> None:
    @app.post("/await-twice")
    async def await_twice() -> str:
        flashed = flash("once")
        await flashed
        await flashed
        return "ok"

    client = app.test_client()
    assert client.post("/await-twice").text == "ok"
    assert client.get("/messages").json == {"messages": ["once"]}


# -- over a real server --------------------------------------------------------------------


def test_a_flashed_message_survives_a_redirect_over_a_real_server(
    app: Flask, live_server: Any
) -> None:
    @app.post("/login")
    async def login() -> Any:
        form = await request.form
        session["user"] = form["user"]
        await flash(f"Welcome, {form['user']}!", "success")
        return redirect(url_for("home"))

    @app.get("/")
    def home() -> Any:
        return {"user": session.get("user"), "messages": get_flashed_messages(True)}

    with live_server(app) as server, httpx.Client(base_url=server.url) as http:
        response = http.post("/login", data={"user": "ada"})
        assert response.status_code == 302
        assert "session=" in response.headers["set-cookie"]
        assert http.get("/").json() == {
            "user": "ada",
            "messages": [["success", "Welcome, ada!"]],
        }
        assert http.get("/").json() == {"user": "ada", "messages": []}
