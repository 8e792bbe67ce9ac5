"""The cheap path of a request (issue 18): a request whose app has no hook,
no teardown function, no receiver and no override makes no coroutine for
the steps that would call nothing, a ``str`` view's response is made
without ``Response.__init__``'s tests, and ``g`` is made on first use.
Whatever the app adds or changes after its first request is still seen
the way Flask sees it: what ``@app.before_request`` and the other setup
methods refuse stays refused, what is put straight into the hook dicts,
connected to a signal, or assigned (``response_class``, a method) works
from the next request on."""

from __future__ import annotations

from typing import Any

import pytest
from blinker import Signal
from kinds import as_kind, both_kinds

from flaskish import Flask, Request, Response, after_this_request, g, jsonify, session
from flaskish.signals import (
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    request_finished,
    request_started,
    request_tearing_down,
)
from flaskish.testing import FlaskClient


@pytest.fixture
def hello(app: Flask) -> Flask:
    @app.route("/")
    async def index() -> str:
        return "Hello"

    @app.route("/sync")
    def sync_index() -> str:
        return "Hello"

    return app


# -- what is changed after the first request -----------------------------------


@pytest.mark.parametrize(
    "register",
    ["before_request", "after_request", "teardown_request", "teardown_appcontext"],
)
def test_a_hook_registered_after_the_first_request_is_refused_as_in_flask(
    hello: Flask, client: FlaskClient, register: str
) -> None:
    assert client.get("/").text == "Hello"
    with pytest.raises(AssertionError, match=f"'{register}' can no longer be called"):
        getattr(hello, register)(lambda *args: None)


@both_kinds
def test_hooks_put_straight_into_the_dicts_after_the_first_request_run(
    hello: Flask, client: FlaskClient, kind: str
) -> None:
    """Flask reads ``before_request_funcs`` and the others on every request;
    so does flaskish, whatever it skipped while they were empty."""
    assert client.get("/").text == "Hello"
    seen: list[str] = []

    def before() -> None:
        seen.append("before")

    def after(response: Response) -> Response:
        seen.append("after")
        response.headers["X-After"] = "yes"
        return response

    def teardown_request(exc: BaseException | None) -> None:
        seen.append("teardown_request")

    def teardown_appcontext(exc: BaseException | None) -> None:
        seen.append("teardown_appcontext")

    hello.before_request_funcs.setdefault(None, []).append(as_kind(kind, before))
    hello.after_request_funcs.setdefault(None, []).append(as_kind(kind, after))
    hello.teardown_request_funcs.setdefault(None, []).append(as_kind(kind, teardown_request))
    hello.teardown_appcontext_funcs.append(as_kind(kind, teardown_appcontext))

    for path in ("/", "/sync"):
        seen.clear()
        response = client.get(path)
        assert response.headers["X-After"] == "yes"
        assert seen == ["before", "after", "teardown_request", "teardown_appcontext"]


def test_a_url_value_preprocessor_put_in_its_dict_later_runs(
    app: Flask, client: FlaskClient
) -> None:
    @app.route("/<lang>/page")
    async def page(**values: Any) -> str:
        return f"{values} {g.get('lang')}"

    assert client.get("/en/page").text == "{'lang': 'en'} None"

    def pull_lang(endpoint: str | None, values: dict[str, Any] | None) -> None:
        assert values is not None
        g.lang = values.pop("lang")

    app.url_value_preprocessors.setdefault(None, []).append(pull_lang)
    assert client.get("/en/page").text == "{} en"


@pytest.mark.parametrize(
    "signal",
    [
        request_started,
        request_finished,
        request_tearing_down,
        appcontext_tearing_down,
        appcontext_pushed,
        appcontext_popped,
    ],
    ids=lambda signal: signal.name,
)
@both_kinds
def test_a_receiver_connected_after_the_first_request_is_called(
    hello: Flask, client: FlaskClient, signal: Signal, kind: str
) -> None:
    assert client.get("/").text == "Hello"
    calls: list[Any] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        calls.append(sender)

    with signal.connected_to(as_kind(kind, receiver), hello):
        assert client.get("/").text == "Hello"
        assert client.get("/sync").text == "Hello"
    assert calls == [hello, hello]
    assert client.get("/").text == "Hello"  # disconnected: not called again
    assert calls == [hello, hello]


def test_a_method_assigned_after_the_first_request_is_used(
    hello: Flask, client: FlaskClient
) -> None:
    assert client.get("/").text == "Hello"
    calls: list[str] = []
    original = hello.finalize_request

    def finalize_request(rv: Any, from_error_handler: bool = False) -> Any:
        calls.append("finalize_request")
        return original(rv, from_error_handler)

    hello.finalize_request = finalize_request  # type: ignore[method-assign]
    assert client.get("/").text == "Hello"
    assert calls == ["finalize_request"]
    del hello.finalize_request
    assert client.get("/").text == "Hello"
    assert calls == ["finalize_request"]


def test_a_response_class_assigned_after_the_first_request_is_used(
    hello: Flask, client: FlaskClient
) -> None:
    assert client.get("/").headers["Content-Type"] == "text/html; charset=utf-8"

    class TextResponse(Response):
        default_mimetype = "text/plain"

    hello.response_class = TextResponse
    assert client.get("/").headers["Content-Type"] == "text/plain; charset=utf-8"


# -- the responses made for str, bytes, dict and list ------------------------------


@pytest.mark.parametrize(
    "rv",
    ["Hello", "", "héllo", b"bytes", {"a": 1}, [1, 2]],
    ids=["str", "empty", "utf8", "bytes", "dict", "list"],
)
def test_a_plain_return_value_makes_the_response_the_general_path_makes(
    app: Flask, rv: Any
) -> None:
    """The quick branch of ``make_response`` gives what its general branch
    gives (reached here through a ``(body, 200)`` tuple)."""
    with app.test_request_context():
        quick, general = app.make_response(rv), app.make_response((rv, 200))
    assert type(quick) is type(general) is Response
    assert quick.status == general.status == "200 OK"
    assert list(quick.headers.items()) == list(general.headers.items())
    assert quick.get_data() == general.get_data()
    assert quick._encode_headers() == general._encode_headers()


def test_a_response_class_with_its_own_init_is_called_as_flask_calls_it(
    hello: Flask, client: FlaskClient
) -> None:
    calls: list[tuple[Any, ...]] = []

    class Recording(Response):
        def __init__(self, response: Any = None, status: Any = 201, **kwargs: Any) -> None:
            calls.append((response, status, kwargs))
            super().__init__(response, status, **kwargs)

    hello.response_class = Recording
    response = client.get("/")
    assert calls == [("Hello", None, {"headers": None})]  # Flask passes status=None
    assert response.status_code == 200


def test_a_response_subclass_default_mimetype_and_status_are_honoured() -> None:
    class Plain(Response):
        default_mimetype = None

    class Created(Response):
        default_status = 201

    plain = Plain._of_text("x")
    assert "Content-Type" not in plain.headers
    assert plain.headers["Content-Length"] == "1"
    created = Created._of_text("x")
    assert created.status == "201 CREATED"
    created_again = Created._of_text("x")  # the status line is cached by now
    assert created_again.status == "201 CREATED"
    assert created_again.status_code == 201


def test_a_response_made_from_text_has_the_usual_attributes() -> None:
    response = Response._of_text("Hello")
    assert response.direct_passthrough is False
    assert response.background is None
    assert response._sendable_later
    closed: list[str] = []
    response.call_on_close(lambda: closed.append("closed"))
    assert not response._sendable_later
    response.close()
    assert closed == ["closed"]
    assert Response._of_text("other")._on_close == ()  # not shared


def test_a_str_subclass_a_tuple_and_jsonify_still_take_the_general_path(
    app: Flask, client: FlaskClient
) -> None:
    class Text(str):
        pass

    @app.route("/subclass")
    async def subclass() -> str:
        return Text("sub")

    @app.route("/tuple")
    async def tuple_view() -> Any:
        return "made", 201, {"X-Made": "1"}

    @app.route("/jsonify")
    async def jsonify_view() -> Any:
        return jsonify(a=1)

    assert client.get("/subclass").text == "sub"
    made = client.get("/tuple")
    assert (made.status_code, made.text, made.headers["X-Made"]) == (201, "made", "1")
    assert client.get("/jsonify").json == {"a": 1}


def test_a_head_request_on_the_quick_path_has_the_length_and_no_body(
    hello: Flask, client: FlaskClient
) -> None:
    response = client.head("/")
    assert response.data == b""
    assert response.headers["Content-Length"] == "5"


def test_a_make_response_override_is_used_for_a_str(client: FlaskClient) -> None:
    class App(Flask):
        def make_response(self, rv: Any) -> Any:
            response = super().make_response(rv)
            response.headers["X-Made-By"] = "override"
            return response

    app = App(__name__)

    @app.route("/")
    async def index() -> str:
        return "Hello"

    assert app.test_client().get("/").headers["X-Made-By"] == "override"


# -- what a view does with no hooks around it --------------------------------


@both_kinds
def test_a_session_used_by_a_view_without_hooks_is_saved(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def set_name() -> str:
        session["name"] = "ada"
        return "set"

    def get_name() -> str:
        return str(session.get("name"))

    app.add_url_rule("/set", view_func=as_kind(kind, set_name))
    app.add_url_rule("/get", view_func=as_kind(kind, get_name))
    assert client.get("/set").text == "set"
    assert client.get("/get").text == "ada"


def test_a_session_emptied_by_a_view_is_deleted(app: Flask, client: FlaskClient) -> None:
    @app.route("/set")
    async def set_name() -> str:
        session["name"] = "ada"
        return "set"

    @app.route("/clear")
    async def clear() -> str:
        session.clear()  # an empty session is falsy: it must still be saved
        return "cleared"

    client.get("/set")
    response = client.get("/clear")
    assert "session=;" in response.headers["Set-Cookie"]


@both_kinds
def test_after_this_request_runs_without_any_after_request_hook(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def view() -> str:
        def add_header(response: Response) -> Response:
            response.headers["X-This"] = "yes"
            return response

        after_this_request(add_header)
        return "ok"

    app.add_url_rule("/", view_func=as_kind(kind, view))
    assert client.get("/").headers["X-This"] == "yes"


def test_g_is_made_on_first_use_from_app_ctx_globals_class(app: Flask, client: FlaskClient) -> None:
    class Globals:
        made = 0

        def __init__(self) -> None:
            Globals.made += 1

    app.app_ctx_globals_class = Globals  # type: ignore[assignment]

    @app.route("/untouched")
    async def untouched() -> str:
        return "ok"

    @app.route("/touched")
    async def touched() -> str:
        g.count = getattr(g, "count", 0) + 1  # a fresh g for each request
        assert type(g._get_current_object()) is Globals
        return str(g.count)

    assert client.get("/untouched").text == "ok"
    assert Globals.made == 0
    assert client.get("/touched").text == "1"
    assert client.get("/touched").text == "1"
    assert Globals.made == 2


def test_g_can_be_assigned_on_an_app_context(app: Flask) -> None:
    with app.app_context() as ctx:
        replacement = app.app_ctx_globals_class()
        ctx.g = replacement
        g.name = "ada"
        assert ctx.g is replacement
        assert replacement.name == "ada"  # type: ignore[attr-defined]


@both_kinds
def test_a_request_subclass_close_is_called_when_nothing_tears_down(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    closed: list[str] = []

    class ClosingRequest(Request):
        def close(self) -> None:
            closed.append(self.path)
            super().close()

    app.request_class = ClosingRequest

    def view() -> str:
        return "ok"

    app.add_url_rule("/", view_func=as_kind(kind, view))
    assert client.get("/").text == "ok"
    assert closed == ["/"]


def test_a_404_and_an_automatic_options_answer_on_the_quick_path(
    hello: Flask, client: FlaskClient
) -> None:
    assert client.get("/missing").status_code == 404
    options = client.options("/")
    assert options.status_code == 200
    assert options.headers["Allow"] == "GET, HEAD, OPTIONS"


def test_an_error_from_make_response_goes_to_the_error_handlers(
    app: Flask, client: FlaskClient
) -> None:
    app.config["TESTING"] = False  # a 500, not the exception raised in the test

    @app.route("/none")
    async def none() -> None:
        return None

    @app.errorhandler(500)
    async def on_500(error: Exception) -> tuple[str, int]:
        return f"handled {type(error.original_exception).__name__}", 500  # type: ignore[attr-defined]

    response = client.get("/none")
    assert (response.status_code, response.text) == (500, "handled TypeError")


# -- a view's str sent as its ASGI messages ------------------------------------


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("text", ["Hello", "", "héllo €"])
def test_a_str_sent_without_a_response_object_is_what_the_response_would_send(
    text: str, method: str
) -> None:
    Response("warm the caches")
    quick = Response._text_messages(text, head=method == "HEAD")
    assert quick is not None
    response = Response._of_text(text)
    general = response._buffered_messages({"method": method}, response._encode_headers())
    assert (quick.start, quick.body) == (general.start, general.body)


@both_kinds
def test_the_client_gets_the_same_answer_with_and_without_a_hook(kind: str) -> None:
    """The same view in an app with an ``after_request`` function (its
    response made and processed) and in one without (its str sent as ASGI
    messages) gives the same status, headers and body."""
    answers = []
    for with_hook in (False, True):
        app = Flask(__name__)

        def index() -> str:
            return "héllo"

        app.add_url_rule("/", view_func=as_kind(kind, index))
        if with_hook:
            app.after_request(lambda response: response)
        client = app.test_client()
        client.get("/")  # the first answer fills the caches
        for method in ("GET", "HEAD"):
            response = client.open("/", method=method)
            answers.append(
                (with_hook, method, response.status, list(response.headers.items()), response.data)
            )
    quick, general = answers[:2], answers[2:]
    assert [answer[1:] for answer in quick] == [answer[1:] for answer in general]


def test_a_str_that_cannot_be_encoded_is_a_500_either_way(app: Flask) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/")
    async def index() -> str:
        return "lone \ud800 surrogate"

    client = app.test_client()
    client.get("/")
    assert client.get("/").status_code == 500
    app.after_request_funcs.setdefault(None, []).append(lambda response: response)
    assert client.get("/").status_code == 500


def test_a_response_class_default_changed_at_runtime_is_sent(
    hello: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get("/").headers["Content-Type"] == "text/html; charset=utf-8"
    monkeypatch.setattr(Response, "default_mimetype", "text/plain")
    assert client.get("/").headers["Content-Type"] == "text/plain; charset=utf-8"
    assert client.get("/").headers["Content-Type"] == "text/plain; charset=utf-8"
    monkeypatch.setattr(Response, "default_status", 202)
    assert client.get("/").status_code == 202


def test_an_init_given_to_a_response_class_later_is_called(
    hello: Flask, client: FlaskClient
) -> None:
    class Later(Response):
        pass

    hello.response_class = Later
    assert client.get("/").text == "Hello"
    calls: list[Any] = []

    def __init__(self: Response, *args: Any, **kwargs: Any) -> None:
        calls.append(kwargs)
        Response.__init__(self, *args, **kwargs)

    Later.__init__ = __init__  # type: ignore[method-assign]
    assert client.get("/").text == "Hello"
    assert calls == [{"status": None, "headers": None}]


def test_a_make_response_assigned_to_the_app_is_used_until_deleted(
    hello: Flask, client: FlaskClient
) -> None:
    assert client.get("/").text == "Hello"
    original = hello.make_response

    def make_response(rv: Any) -> Any:
        response = original(rv)
        response.headers["X-Made-By"] = "assigned"
        return response

    hello.make_response = make_response  # type: ignore[method-assign]
    assert client.get("/").headers["X-Made-By"] == "assigned"
    del hello.make_response
    assert "X-Made-By" not in client.get("/").headers


@pytest.mark.parametrize(
    "setting",
    [
        ("default_mimetype", None),
        ("automatically_set_content_length", False),
        ("default_status", 204),
        ("default_status", "200 OK"),
    ],
    ids=lambda setting: f"{setting[0]}={setting[1]!r}",
)
def test_a_str_is_not_sent_as_messages_for_a_class_that_would_send_it_otherwise(
    setting: tuple[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    Response("warm the caches")
    monkeypatch.setattr(Response, *setting)
    assert Response._text_messages("text", head=False) is None


def test_direct_passthrough_is_kept_by_the_quick_constructor() -> None:
    assert Response(iter([b"x"]), direct_passthrough=True).direct_passthrough is True
    assert Response("x", direct_passthrough=True).direct_passthrough is True
    assert Response("x").direct_passthrough is False


def test_resetting_a_request_context_that_is_not_current_is_refused(app: Flask) -> None:
    from flaskish.ctx import RequestContext

    outer = RequestContext(app, {"type": "http", "method": "GET", "path": "/", "headers": []})
    inner = RequestContext(app, {"type": "http", "method": "GET", "path": "/", "headers": []})
    outer._push()
    outer_app_ctx = outer._tokens[0][1]
    assert outer_app_ctx is not None
    inner._push()
    with pytest.raises(RuntimeError, match="Popped the wrong request context"):
        outer._reset()
    inner._reset()
    app_ctx = app.app_context()
    app_ctx._push()  # an app context pushed over the request's own
    with pytest.raises(RuntimeError, match="Popped the wrong app context"):
        outer._reset()
    app_ctx._reset()
    with pytest.raises(RuntimeError, match="Popped the wrong request context"):
        outer._reset()  # its request context was reset before the error
    outer_app_ctx._reset()
