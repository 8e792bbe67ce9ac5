"""Flask's signals (``flaskish.signals``): each is sent at the point Flask
sends it, with Flask's arguments, to receivers connected for the app or for
any sender; ``def`` and ``async def`` receivers both work, in ``def`` and
``async def`` views; blinker's ``connected_to``, ``connect_via`` and
``muted`` work as with Flask."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import anyio
import pytest
from blinker import ANY, Signal
from kinds import as_kind

from flaskish import (
    Flask,
    abort,
    current_app,
    flash,
    has_app_context,
    has_request_context,
    render_template_string,
    request,
    stream_template_string,
)
from flaskish import signals as signals_module
from flaskish.signals import (
    AsyncReceiverError,
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    before_render_template,
    request_finished,
    request_started,
    request_tearing_down,
    template_rendered,
)
from flaskish.testing import FlaskClient

F = TypeVar("F", bound=Callable[..., Any])

KINDS = ["def", "async def"]
#: Run a test with a ``def`` and an ``async def`` view (or hook).
view_kinds = pytest.mark.parametrize("view", KINDS)
#: Run a test with ``def`` and ``async def`` receivers.
receiver_kinds = pytest.mark.parametrize("receiver", KINDS)

ALL_SIGNALS = [
    "template_rendered",
    "before_render_template",
    "request_started",
    "request_finished",
    "request_tearing_down",
    "got_request_exception",
    "appcontext_tearing_down",
    "appcontext_pushed",
    "appcontext_popped",
    "message_flashed",
]


@contextlib.contextmanager
def connected(pairs: list[tuple[Signal, Callable[..., Any]]], sender: Any = ANY) -> Iterator[None]:
    """Connect each ``(signal, receiver)`` for *sender* while the block runs."""
    with contextlib.ExitStack() as stack:
        for signal, receiver in pairs:
            stack.enter_context(signal.connected_to(receiver, sender))
        yield


class Recorder:
    """Receivers that append ``(signal name, sender, sorted kwargs names)``
    and the values worth checking to :attr:`events`."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.events: list[Any] = []

    def receiver(self, name: str) -> Callable[..., Any]:
        def receive(sender: Any, **kwargs: Any) -> None:
            values = {
                k: v for k, v in kwargs.items() if k in ("exc", "exception", "message", "category")
            }
            if "response" in kwargs:
                values["response"] = kwargs["response"].status_code
            if "template" in kwargs:
                values["template"] = kwargs["template"].name
                values["context"] = sorted(kwargs["context"])
            self.events.append((name, sender, sorted(kwargs), values))

        receive.__name__ = receive.__qualname__ = f"on_{name}"
        return as_kind(self.kind, receive)

    def pairs(self, *names: str) -> list[tuple[Signal, Callable[..., Any]]]:
        return [(getattr(signals_module, name), self.receiver(name)) for name in names]

    def names(self) -> list[str]:
        return [e if isinstance(e, str) else e[0] for e in self.events]


def hooks(app: Flask, events: list[Any], kind: str) -> None:
    """Register one of each hook, appending its name to *events*."""

    def before() -> None:
        events.append("before_request")

    def after(response: Any) -> Any:
        events.append("after_request")
        return response

    def teardown_request(exc: BaseException | None) -> None:
        events.append("teardown_request")

    def teardown_appcontext(exc: BaseException | None) -> None:
        events.append("teardown_appcontext")

    app.before_request(as_kind(kind, before))
    app.after_request(as_kind(kind, after))
    app.teardown_request(as_kind(kind, teardown_request))
    app.teardown_appcontext(as_kind(kind, teardown_appcontext))


# -- the signals themselves ------------------------------------------------------------


def test_the_signals_are_flasks_names_and_blinker_names() -> None:
    """The same module-level names as ``flask.signals``, the same blinker
    names, and re-exported from ``flaskish``."""
    flask_signals = pytest.importorskip("flask.signals")
    import flaskish

    theirs = {n: s.name for n, s in vars(flask_signals).items() if isinstance(s, Signal)}
    ours = {n: s.name for n, s in vars(signals_module).items() if isinstance(s, Signal)}
    assert ours == theirs
    assert sorted(ours) == sorted(ALL_SIGNALS)
    for name in ALL_SIGNALS:
        assert getattr(flaskish, name) is getattr(signals_module, name)


# -- request signals, their order and arguments ---------------------------------------


@view_kinds
@receiver_kinds
def test_request_signals_are_sent_in_flasks_order_with_flasks_arguments(
    app: Flask, view: str, receiver: str
) -> None:
    """appcontext_pushed, request_started, before_request, view, after_request,
    request_finished (with the response), teardown_request,
    request_tearing_down (exc), teardown_appcontext, appcontext_tearing_down
    (exc), appcontext_popped: Flask 3.1's order."""
    rec = Recorder(receiver)
    hooks(app, rec.events, view)

    def index() -> str:
        rec.events.append("view")
        return "ok"

    app.add_url_rule("/", view_func=as_kind(view, index))
    with connected(rec.pairs(*ALL_SIGNALS), app):
        assert app.test_client().get("/").text == "ok"
    assert rec.events == [
        ("appcontext_pushed", app, [], {}),
        ("request_started", app, [], {}),
        "before_request",
        "view",
        "after_request",
        ("request_finished", app, ["response"], {"response": 200}),
        "teardown_request",
        ("request_tearing_down", app, ["exc"], {"exc": None}),
        "teardown_appcontext",
        ("appcontext_tearing_down", app, ["exc"], {"exc": None}),
        ("appcontext_popped", app, [], {}),
    ]


@view_kinds
@receiver_kinds
def test_an_unhandled_exception_sends_got_request_exception_before_the_500_handler(
    app: Flask, view: str, receiver: str
) -> None:
    """got_request_exception gets the exception; the teardown signals get it
    as ``exc``; request_finished gets the 500 response."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    rec = Recorder(receiver)
    error = ZeroDivisionError("boom")

    def index() -> str:
        rec.events.append("view")
        raise error

    def on_500(e: Any) -> Any:
        rec.events.append("handler")
        assert e.original_exception is error
        return "handled", 500

    app.add_url_rule("/", view_func=as_kind(view, index))
    app.register_error_handler(500, as_kind(view, on_500))
    with connected(rec.pairs(*ALL_SIGNALS), app):
        response = app.test_client().get("/")
    assert (response.status_code, response.text) == (500, "handled")
    assert rec.events == [
        ("appcontext_pushed", app, [], {}),
        ("request_started", app, [], {}),
        "view",
        ("got_request_exception", app, ["exception"], {"exception": error}),
        "handler",
        ("request_finished", app, ["response"], {"response": 500}),
        ("request_tearing_down", app, ["exc"], {"exc": error}),
        ("appcontext_tearing_down", app, ["exc"], {"exc": error}),
        ("appcontext_popped", app, [], {}),
    ]


@receiver_kinds
def test_got_request_exception_is_sent_before_the_exception_propagates_in_tests(
    app: Flask, client: FlaskClient, receiver: str
) -> None:
    rec = Recorder(receiver)

    @app.route("/")
    def index() -> str:
        raise KeyError("missing")

    with connected(rec.pairs("got_request_exception"), app), pytest.raises(KeyError):
        client.get("/")
    [(name, sender, _, values)] = rec.events
    assert (name, sender) == ("got_request_exception", app)
    assert isinstance(values["exception"], KeyError)


@view_kinds
def test_handled_errors_and_http_errors_send_no_got_request_exception(
    app: Flask, client: FlaskClient, view: str
) -> None:
    """As in Flask: only exceptions that reach ``handle_exception`` count;
    an ``abort(404)``, a missing form key (400) and an exception with an
    error handler do not."""
    rec = Recorder("def")

    def not_found() -> str:
        abort(404)

    def bad_key() -> str:
        return str(request.args["nope"])

    def handled() -> str:
        raise ValueError

    for func in (not_found, bad_key, handled):
        app.add_url_rule(f"/{func.__name__}", view_func=as_kind(view, func))
    app.register_error_handler(ValueError, lambda e: ("handled", 400))
    with connected(rec.pairs("got_request_exception", "request_finished"), app):
        codes = [
            client.get(f"/{p}").status_code
            for p in ("not_found", "bad_key", "handled", "no-such-route")
        ]
    assert codes == [404, 400, 400, 404]
    assert rec.names() == ["request_finished"] * 4


def test_a_before_request_response_still_sends_request_finished(
    app: Flask, client: FlaskClient
) -> None:
    rec = Recorder("def")

    @app.before_request
    def stop() -> str:
        return "stopped early"

    @app.route("/")
    def index() -> str:
        raise AssertionError("not reached")

    with connected(rec.pairs("request_started", "request_finished"), app):
        assert client.get("/").text == "stopped early"
    assert rec.names() == ["request_started", "request_finished"]


@receiver_kinds
def test_request_finished_can_change_the_response_before_it_is_sent(
    app: Flask, client: FlaskClient, receiver: str
) -> None:
    @app.route("/")
    async def index() -> str:
        return "ok"

    def stamp(sender: Flask, response: Any, **extra: Any) -> None:
        response.headers["X-Finished"] = "yes"

    with connected([(request_finished, as_kind(receiver, stamp))], app):
        assert client.get("/").headers["X-Finished"] == "yes"


@receiver_kinds
def test_a_request_started_receiver_that_aborts_gives_that_response(
    app: Flask, client: FlaskClient, receiver: str
) -> None:
    """request_started is sent inside Flask's ``full_dispatch_request``
    ``try``: what a receiver raises is handled like a hook's error."""

    @app.route("/")
    def index() -> str:
        return "not reached"

    def deny(sender: Flask, **extra: Any) -> None:
        abort(403)

    with connected([(request_started, as_kind(receiver, deny))], app):
        assert client.get("/").status_code == 403


@view_kinds
@receiver_kinds
def test_request_receivers_see_the_request_and_the_app(
    app: Flask, client: FlaskClient, view: str, receiver: str
) -> None:
    seen: list[Any] = []

    def look(sender: Flask, **extra: Any) -> None:
        seen.append((request.path, current_app.name, sender is app))

    app.add_url_rule("/here", view_func=as_kind(view, lambda: "ok"))
    pairs = [
        (s, as_kind(receiver, look))
        for s in (request_started, request_finished, request_tearing_down)
    ]
    with connected(pairs, app):
        client.get("/here")
    assert seen == [("/here", app.name, True)] * 3


# -- async receivers are awaited, def receivers keep thread affinity --------------------


@view_kinds
def test_async_receivers_are_awaited_before_the_pipeline_goes_on(
    app: Flask, client: FlaskClient, view: str
) -> None:
    events: list[str] = []

    async def slow(sender: Flask, **extra: Any) -> None:
        await anyio.sleep(0.01)
        events.append("receiver done")

    def before() -> None:
        events.append("before_request")

    def teardown(exc: BaseException | None) -> None:
        events.append("teardown")

    app.before_request(as_kind(view, before))
    app.teardown_request(as_kind(view, teardown))
    app.add_url_rule("/", view_func=as_kind(view, lambda: "ok"))
    with connected([(request_started, slow), (request_tearing_down, slow)], app):
        client.get("/")
    assert events == ["receiver done", "before_request", "teardown", "receiver done"]


def test_def_receivers_run_on_the_requests_worker_thread_and_async_ones_on_the_loop(
    app: Flask, client: FlaskClient
) -> None:
    """A ``def`` receiver is a sync callable of the request like a hook: it
    runs on the same worker thread as the ``def`` view and teardown (so it
    can use a sqlite connection opened in ``before_request``). ``async def``
    receivers run on the event loop."""
    threads: dict[str, int] = {}

    @app.before_request
    async def on_loop() -> None:
        threads["loop"] = threading.get_ident()

    @app.route("/")
    def index() -> str:
        threads["view"] = threading.get_ident()
        return "ok"

    @app.teardown_appcontext
    def teardown(exc: BaseException | None) -> None:
        threads["teardown"] = threading.get_ident()

    def sync_receiver(sender: Flask, **extra: Any) -> None:
        threads["def receiver"] = threading.get_ident()

    async def async_receiver(sender: Flask, **extra: Any) -> None:
        threads["async receiver"] = threading.get_ident()

    with connected([(request_finished, sync_receiver), (request_finished, async_receiver)], app):
        client.get("/")
    assert threads["def receiver"] == threads["view"] == threads["teardown"]
    assert threads["async receiver"] == threads["loop"] != threads["view"]


def test_a_def_receiver_in_an_async_request_runs_on_a_worker_thread(
    app: Flask, client: FlaskClient
) -> None:
    """Like a ``def`` hook, a ``def`` receiver never runs on the event loop
    of a pipeline signal: an otherwise all-``async def`` request moves to a
    worker thread for it (the async view still runs on the loop)."""
    threads: dict[str, int] = {}

    @app.route("/")
    async def index() -> str:
        threads["view"] = threading.get_ident()
        return "ok"

    def sync_receiver(sender: Flask, **extra: Any) -> None:
        threads["receiver"] = threading.get_ident()

    with connected([(request_started, sync_receiver)], app):
        client.get("/")
    assert threads["receiver"] != threads["view"]


# -- senders ---------------------------------------------------------------------------


@receiver_kinds
def test_receivers_for_an_app_get_only_that_apps_signals_and_any_gets_all(
    app: Flask, receiver: str
) -> None:
    other = Flask("other")
    for each in (app, other):
        each.add_url_rule("/", view_func=lambda: "ok")
    for_app: list[Any] = []
    for_any: list[Any] = []
    with (
        connected([(request_started, as_kind(receiver, lambda s, **k: for_app.append(s)))], app),
        connected([(request_started, as_kind(receiver, lambda s, **k: for_any.append(s)))]),
    ):
        app.test_client().get("/")
        other.test_client().get("/")
    assert for_app == [app]
    assert for_any == [app, other]


def test_connect_via_and_connected_to_work(app: Flask, client: FlaskClient) -> None:
    """blinker's decorator and context manager, as Flask documents them."""
    seen: list[str] = []

    @request_started.connect_via(app)
    def when_started(sender: Flask, **extra: Any) -> None:
        seen.append("connect_via")

    @app.route("/")
    def index() -> str:
        return "ok"

    try:
        with request_finished.connected_to(
            lambda s, response, **k: seen.append("connected_to"), app
        ):
            client.get("/")
        client.get("/")
    finally:
        request_started.disconnect(when_started)  # from every sender: forgets it
    client.get("/")
    assert seen == ["connect_via", "connected_to", "connect_via"]


def test_a_muted_signal_calls_no_receiver(app: Flask, client: FlaskClient) -> None:
    """``signal.muted()`` silences the pipeline's and the templates' signals."""
    rec = Recorder("async def")

    @app.route("/")
    def index() -> str:
        return render_template_string("x")

    pairs = rec.pairs(
        "request_started", "request_finished", "template_rendered", "appcontext_pushed"
    )
    with (
        connected(pairs, app),
        request_started.muted(),
        template_rendered.muted(),
        appcontext_pushed.muted(),
    ):
        client.get("/")
    assert rec.names() == ["request_finished"]


# -- app contexts pushed by hand -------------------------------------------------------


@receiver_kinds
def test_with_app_context_sends_pushed_tearing_down_and_popped(app: Flask, receiver: str) -> None:
    """As Flask: pushed once the context is current, tearing down with the
    exception, popped once it is gone."""
    rec = Recorder(receiver)
    states: list[tuple[str, bool]] = []

    def state(name: str) -> Callable[..., Any]:
        return as_kind(receiver, lambda s, **k: states.append((name, has_app_context())))

    pairs = [
        *rec.pairs("appcontext_pushed", "appcontext_tearing_down", "appcontext_popped"),
        (appcontext_pushed, state("pushed")),
        (appcontext_popped, state("popped")),
    ]
    with connected(pairs, app):
        with app.app_context():
            rec.events.append("inside")
        with pytest.raises(ValueError), app.app_context():
            raise ValueError("in the block")
    assert rec.names() == [
        "appcontext_pushed",
        "inside",
        "appcontext_tearing_down",
        "appcontext_popped",
        "appcontext_pushed",
        "appcontext_tearing_down",
        "appcontext_popped",
    ]
    assert rec.events[2][3] == {"exc": None}
    assert isinstance(rec.events[5][3]["exc"], ValueError)
    assert states == [("pushed", True), ("popped", False)] * 2


@receiver_kinds
def test_async_with_app_context_sends_the_same_signals(app: Flask, receiver: str) -> None:
    rec = Recorder(receiver)
    states: list[tuple[str, bool]] = []

    def state(name: str) -> Callable[..., Any]:
        return as_kind(receiver, lambda s, **k: states.append((name, has_app_context())))

    async def main() -> None:
        async with app.app_context():
            rec.events.append("inside")

    pairs = [
        *rec.pairs("appcontext_pushed", "appcontext_tearing_down", "appcontext_popped"),
        (appcontext_pushed, state("pushed")),
        (appcontext_popped, state("popped")),
    ]
    with connected(pairs, app):
        anyio.run(main)
    assert rec.names() == [
        "appcontext_pushed",
        "inside",
        "appcontext_tearing_down",
        "appcontext_popped",
    ]
    assert states == [("pushed", True), ("popped", False)]


def test_sync_with_app_context_on_the_event_loop_cannot_run_async_receivers(
    app: Flask,
) -> None:
    """Sync ``with`` in async code cannot await an async receiver: the error
    says to write ``async with``."""

    async def receiver(sender: Flask, **extra: Any) -> None:
        raise AssertionError("not reached")

    async def main() -> None:
        with app.app_context():
            pass  # pragma: no cover - push fails

    with (
        connected([(appcontext_pushed, receiver)], app),
        pytest.raises(RuntimeError, match=r"async with app\.app_context"),
    ):
        anyio.run(main)


@receiver_kinds
def test_test_request_context_sends_app_and_request_teardown_signals(
    app: Flask, receiver: str
) -> None:
    rec = Recorder(receiver)
    with connected(rec.pairs(*ALL_SIGNALS), app), app.test_request_context("/x"):
        rec.events.append("inside")
    assert rec.names() == [
        "appcontext_pushed",
        "inside",
        "request_tearing_down",
        "appcontext_tearing_down",
        "appcontext_popped",
    ]


def test_a_request_inside_an_app_context_reuses_it_and_sends_no_push(app: Flask) -> None:
    """As Flask: a request (or test request context) in an app context of
    the same app pushes no second app context; a nested ``app_context()``
    does."""
    rec = Recorder("def")

    @app.route("/")
    def index() -> str:
        return "ok"

    with connected(rec.pairs("appcontext_pushed", "appcontext_popped"), app):
        with app.app_context():
            with app.test_request_context():
                rec.events.append("request context")
            app.test_client().get("/")
            with app.app_context():
                rec.events.append("nested")
    assert rec.names() == [
        "appcontext_pushed",
        "request context",
        "appcontext_pushed",
        "nested",
        "appcontext_popped",
        "appcontext_popped",
    ]


# -- template signals (sent from sync code) --------------------------------------------


@view_kinds
def test_template_signals_get_the_template_and_its_context(
    app: Flask, client: FlaskClient, view: str
) -> None:
    rec = Recorder("def")

    def page() -> str:
        return render_template_string("{{ name }}", name="ann")

    app.add_url_rule("/", view_func=as_kind(view, page))
    with connected(rec.pairs("before_render_template", "template_rendered"), app):
        assert client.get("/").text == "ann"
    [before, after] = rec.events
    assert before[:3] == ("before_render_template", app, ["context", "template"])
    assert after[:3] == ("template_rendered", app, ["context", "template"])
    # The caller's values, and g, request and session, as Flask's context has.
    assert before[3]["context"] == after[3]["context"] == ["g", "name", "request", "session"]


def test_the_template_context_sent_holds_g_and_request_as_in_flask(
    app: Flask, client: FlaskClient
) -> None:
    seen: list[list[str]] = []

    @app.route("/")
    def page() -> str:
        return render_template_string("{{ name }}", name="ann")

    with connected(
        [(template_rendered, lambda s, template, context, **k: seen.append(sorted(context)))], app
    ):
        client.get("/")
        with app.app_context():
            render_template_string("x")
    # Flask's default context processor adds the session in a request too.
    assert seen == [["g", "name", "request", "session"], ["g"]]


def test_async_template_receivers_run_for_a_def_view(app: Flask, client: FlaskClient) -> None:
    """From a ``def`` view's worker thread, an ``async def`` receiver runs on
    the event loop, and has finished when ``render_template`` returns."""
    threads: dict[str, int] = {}

    async def on_rendered(sender: Flask, template: Any, context: dict[str, Any]) -> None:
        await anyio.sleep(0)
        threads["receiver"] = threading.get_ident()

    @app.route("/")
    def page() -> str:
        text = render_template_string("x")
        threads["view"] = threading.get_ident()
        assert "receiver" in threads
        return text

    with connected([(template_rendered, on_rendered)], app):
        assert client.get("/").text == "x"
    assert threads["receiver"] != threads["view"]


def test_async_template_receivers_run_outside_any_event_loop(app: Flask) -> None:
    """In a script or a CLI command, an ``async def`` receiver runs on a
    short-lived event loop."""
    seen: list[str] = []

    async def on_rendered(sender: Flask, template: Any, context: dict[str, Any]) -> None:
        seen.append(context["who"])

    with connected([(template_rendered, on_rendered)], app), app.app_context():
        assert render_template_string("hi {{ who }}", who="bo") == "hi bo"
    assert seen == ["bo"]


def test_an_async_template_receiver_in_an_async_view_raises_a_clear_error(
    app: Flask, client: FlaskClient
) -> None:
    """``render_template`` in an ``async def`` view runs on the event loop,
    where sync code cannot await: an ``async def`` receiver raises
    AsyncReceiverError naming it and the fix, before any receiver runs (the
    ``def`` receiver connected beside it is not called either)."""
    ran: list[str] = []

    async def on_before(sender: Flask, **extra: Any) -> None:
        ran.append("async")

    @app.route("/")
    async def page() -> str:
        return render_template_string("x")

    with (
        connected(
            [
                (before_render_template, on_before),
                (before_render_template, lambda s, **k: ran.append("def")),
            ],
            app,
        ),
        pytest.raises(AsyncReceiverError) as caught,
    ):
        client.get("/")
    message = str(caught.value)
    assert "before_render_template" in message and "on_before" in message
    assert "plain def function" in message and "def view" in message
    assert isinstance(caught.value, RuntimeError)
    assert ran == []


def test_template_rendered_of_a_stream_may_have_async_receivers(
    app: Flask, client: FlaskClient
) -> None:
    """``stream_template`` in an ``async def`` view: template_rendered is sent
    when the stream ends, from the worker thread that iterates it, so an
    ``async def`` receiver runs."""
    seen: list[str] = []

    async def on_rendered(sender: Flask, **extra: Any) -> None:
        seen.append("rendered")

    @app.route("/")
    async def page() -> Any:
        return stream_template_string("{% for i in range(3) %}{{ i }}{% endfor %}")

    with connected([(template_rendered, on_rendered)], app):
        assert client.get("/").text == "012"
    assert seen == ["rendered"]


# -- message_flashed --------------------------------------------------------------------


@view_kinds
def test_message_flashed_gets_the_message_and_category(
    app: Flask, client: FlaskClient, view: str
) -> None:
    """(``tests/test_flash.py`` covers ``async def`` receivers and
    ``await flash(...)``.)"""
    rec = Recorder("def")

    def save() -> str:
        flash("Saved", "success")
        return "ok"

    app.add_url_rule("/", view_func=as_kind(view, save), methods=["POST"])
    with connected(rec.pairs("message_flashed"), app):
        client.post("/")
    assert rec.events == [
        (
            "message_flashed",
            app,
            ["category", "message"],
            {"message": "Saved", "category": "success"},
        )
    ]


# -- where Flask shows less context (bugs in ctx.py / pipeline.py) ---------------------


def test_appcontext_signals_of_manual_contexts_see_what_flask_shows(app: Flask) -> None:
    """With ``with app.test_request_context():`` the order is Flask's:
    ``appcontext_pushed`` before the request context exists, app-context
    teardown after it is gone, ``appcontext_popped`` after both."""
    seen: list[tuple[str, bool, bool]] = []

    def record(name: str) -> Any:
        return lambda sender, **kwargs: seen.append(
            (name, has_app_context(), has_request_context())
        )

    with connected(
        [
            (appcontext_pushed, record("pushed")),
            (appcontext_tearing_down, record("tearing down")),
            (appcontext_popped, record("popped")),
        ],
        app,
    ):
        with app.test_request_context():
            pass
    assert seen == [
        ("pushed", True, False),
        ("tearing down", True, False),
        ("popped", False, False),
    ]


def test_appcontext_signals_of_a_request_see_the_request(app: Flask, client: FlaskClient) -> None:
    """Inside a request the pipeline pushes and pops both contexts at once
    (its sync code keeps one worker thread), so ``appcontext_pushed``,
    ``appcontext_tearing_down`` and ``appcontext_popped`` receivers still see
    the request. A deliberate difference, in docs/migrating.md."""
    seen: list[tuple[str, bool]] = []

    @app.route("/")
    def index() -> str:
        return "ok"

    def record(name: str) -> Any:
        return lambda sender, **kwargs: seen.append((name, has_request_context()))

    with connected(
        [
            (appcontext_pushed, record("pushed")),
            (appcontext_tearing_down, record("tearing down")),
            (appcontext_popped, record("popped")),
        ],
        app,
    ):
        client.get("/")
    assert seen == [("pushed", True), ("tearing down", True), ("popped", True)]


@pytest.mark.parametrize("kept", [False, True])
def test_app_context_signals_are_balanced_with_and_without_with_client(kept: bool) -> None:
    app = Flask(__name__)
    counts = {"pushed": 0, "popped": 0}

    def pushed(sender: Flask, **kwargs: object) -> None:
        counts["pushed"] += 1

    def popped(sender: Flask, **kwargs: object) -> None:
        counts["popped"] += 1

    @app.get("/")
    def index() -> str:
        return "x"

    with appcontext_pushed.connected_to(pushed, app), appcontext_popped.connected_to(popped, app):
        client = app.test_client()
        if kept:
            with client:
                client.get("/")
                client.get("/")
                # The kept context was popped (signalled) at its request's end.
                assert counts["pushed"] == counts["popped"] == 3
        else:
            client.get("/")
            client.get("/")
    # Two requests (and, with `with client:`, the lifespan's startup and
    # shutdown contexts): each push has its pop.
    assert counts["pushed"] == counts["popped"] == (4 if kept else 2)


# -- every way a context is pushed sends balanced signals ----------------------------


class Balance:
    """Counts, per app, the app contexts pushed, torn down and popped, and
    the requests torn down (receivers for any sender)."""

    def __init__(self, kind: str = "def") -> None:
        self.counts: dict[tuple[str, str], int] = {}
        self.kind = kind

    def counter(self, name: str) -> Callable[..., Any]:
        def count(sender: Flask, **kwargs: Any) -> None:
            key = (sender.name, name)
            self.counts[key] = self.counts.get(key, 0) + 1

        return as_kind(self.kind, count)

    @contextlib.contextmanager
    def connected(self) -> Iterator[None]:
        names = [
            "appcontext_pushed",
            "appcontext_tearing_down",
            "appcontext_popped",
            "request_tearing_down",
        ]
        with connected([(getattr(signals_module, n), self.counter(n)) for n in names]):
            yield

    def of(self, app: Flask) -> tuple[int, int, int, int]:
        """(pushed, app torn down, popped, requests torn down) for *app*."""
        return tuple(  # type: ignore[return-value]
            self.counts.get((app.name, n), 0)
            for n in (
                "appcontext_pushed",
                "appcontext_tearing_down",
                "appcontext_popped",
                "request_tearing_down",
            )
        )


@receiver_kinds
def test_sync_with_contexts_send_balanced_signals(app: Flask, receiver: str) -> None:
    """``with app.app_context()`` and ``with app.test_request_context()``,
    nested or not, ended by an error or not: one push, one teardown, one
    pop per app context (a request context in one of its app reuses it)."""
    balance = Balance(receiver)
    with balance.connected():
        with app.app_context():
            pass
        with app.test_request_context("/"):
            pass
        with pytest.raises(ValueError), app.test_request_context("/"):
            raise ValueError("in the block")
        with app.app_context(), app.test_request_context("/"):
            pass
        ctx = app.test_request_context("/")
        ctx.push()
        ctx.pop()
    assert balance.of(app) == (5, 5, 5, 4)


@receiver_kinds
def test_async_with_contexts_send_balanced_signals(app: Flask, receiver: str) -> None:
    balance = Balance(receiver)

    async def main() -> None:
        async with app.app_context():
            pass
        async with app.test_request_context("/"):
            pass
        with pytest.raises(ValueError):
            async with app.test_request_context("/"):
                raise ValueError("in the block")
        async with app.app_context(), app.test_request_context("/"):
            pass

    with balance.connected():
        anyio.run(main)
    assert balance.of(app) == (4, 4, 4, 3)


def test_a_failing_teardown_still_pops_with_its_signal(app: Flask) -> None:
    """A teardown function that raises: its error comes out of the block,
    and the context is popped with ``appcontext_popped`` all the same."""
    balance = Balance()

    @app.teardown_appcontext
    def fail(exc: BaseException | None) -> None:
        raise RuntimeError("teardown failed")

    async def main() -> None:
        with pytest.raises(RuntimeError, match="teardown failed"):
            async with app.app_context():
                pass

    with balance.connected():
        with pytest.raises(RuntimeError, match="teardown failed"), app.app_context():
            pass
        anyio.run(main)
    assert balance.of(app)[0] == balance.of(app)[2] == 2
    assert not has_app_context()


@view_kinds
def test_requests_send_balanced_signals(app: Flask, client: FlaskClient, view: str) -> None:
    """The pipeline: a request, a failing request, a request inside an app
    context of its app (no second push), and a websocket."""
    balance = Balance()

    def index() -> str:
        return "ok"

    def fail() -> str:
        raise ValueError("view failed")

    def echo() -> None:
        from flaskish import websocket

        websocket.send(websocket.receive())

    app.add_url_rule("/", view_func=as_kind(view, index))
    app.add_url_rule("/fail", view_func=as_kind(view, fail))
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.websocket("/ws")(as_kind(view, echo) if view == "def" else _async_echo)
    with balance.connected():
        client.get("/")
        assert client.get("/fail").status_code == 500
        with app.app_context():
            client.get("/")
        with client.websocket("/ws") as ws:
            ws.send("hi")
            assert ws.receive() == "hi"
    # The websocket tears down with teardown_websocket, not teardown_request.
    assert balance.of(app) == (4, 4, 4, 3)


async def _async_echo() -> None:
    from flaskish import websocket

    await websocket.send(await websocket.receive())


def test_a_failing_teardown_in_a_request_still_sends_appcontext_popped(
    app: Flask, client: FlaskClient
) -> None:
    balance = Balance()

    @app.route("/")
    def index() -> str:
        return "ok"

    @app.teardown_request
    def fail(exc: BaseException | None) -> None:
        raise RuntimeError("teardown failed")

    with balance.connected(), pytest.raises(RuntimeError, match="teardown failed"):
        client.get("/")
    # request_tearing_down comes after the teardown functions (as in Flask).
    assert balance.of(app) == (1, 1, 1, 0)


def test_copy_current_request_context_pushes_no_second_app_context(
    app: Flask, client: FlaskClient
) -> None:
    """The copy shares the request's app context: it sends no signal of its
    own (``def`` or ``async def``, in another thread), and the request's are
    balanced."""
    from flaskish import copy_current_request_context

    seen: list[str] = []

    @app.route("/")
    def index() -> str:
        @copy_current_request_context
        def in_thread() -> None:
            seen.append(request.path)

        @copy_current_request_context
        async def in_task() -> None:
            seen.append(request.path)

        for worker in (
            threading.Thread(target=in_thread),
            threading.Thread(target=anyio.run, args=(in_task,)),
        ):
            worker.start()
            worker.join()
        return "ok"

    @app.route("/async")
    async def async_index() -> str:
        @copy_current_request_context
        async def in_task() -> None:
            seen.append(request.path)

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(in_task)
        return "ok"

    balance = Balance()
    with balance.connected():
        client.get("/")
        client.get("/async")
    assert seen == ["/", "/", "/async"]
    assert balance.of(app) == (2, 2, 2, 2)


def test_a_request_context_in_another_apps_app_context_pushes_its_own(app: Flask) -> None:
    """Inside an app context of app A, a request context (by hand or a
    request) of app B pushes an app context of B, with B's signals; A's are
    sent once."""
    other = Flask("other_app")

    @other.route("/")
    def index() -> str:
        return current_app.name

    balance = Balance()

    async def main() -> None:
        async with app.app_context(), other.test_request_context("/"):
            assert current_app.name == "other_app"

    with balance.connected():
        with app.app_context():
            with other.test_request_context("/"):
                assert current_app.name == "other_app"
            assert other.test_client().get("/").text == "other_app"
            assert current_app.name == app.name
        anyio.run(main)
    assert balance.of(app) == (2, 2, 2, 0)
    assert balance.of(other) == (3, 3, 3, 3)
