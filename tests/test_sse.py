"""Server-sent events (:mod:`flaskish.sse`) through the test client: the
wire format of what a generator yields, keep-alive pings, the headers
proxies need, ``Last-Event-ID``, and the errors misuse gets."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import anyio
import pytest

from flaskish import EventStream, Flask, Response, ServerSentEvent, last_event_id, request
from flaskish.testing import FlaskClient


def serve(app: Flask, events: list[Any], kind: str, pause: float = 0, **options: Any) -> None:
    """``/events`` streams *events* from a ``def`` or ``async def``
    generator (``kind``), pausing *pause* seconds before the last one."""

    def sync_events() -> Iterator[Any]:
        for n, item in enumerate(events):
            if pause and n == len(events) - 1:
                time.sleep(pause)
            yield item

    async def async_events() -> AsyncIterator[Any]:
        for n, item in enumerate(events):
            if pause and n == len(events) - 1:
                await anyio.sleep(pause)
            yield item

    if kind == "def":

        @app.route("/events")
        def sync_view() -> Any:
            return EventStream(sync_events(), **options)
    else:

        @app.route("/events")
        async def async_view() -> Any:
            return EventStream(async_events(), **options)


kinds = pytest.mark.parametrize("kind", ["def", "async def"])


@kinds
def test_a_str_is_the_data_and_each_line_break_starts_a_data_line(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    serve(app, ["hello", "one\ntwo\r\nthree\rfour", "ends with a break\n", ""], kind)
    assert client.get("/events").text == (
        "data: hello\n\n"
        "data: one\ndata: two\ndata: three\ndata: four\n\n"
        "data: ends with a break\ndata: \n\n"
        "data: \n\n"
    )


@kinds
def test_events_and_dicts_carry_event_id_retry_and_comment(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    serve(
        app,
        [
            ServerSentEvent("payload", event="update", id="42", retry=3000),
            {"event": "tick", "data": "1"},
            {"comment": "a note\nover two lines"},
            ServerSentEvent(id=""),  # resets the browser's last event id
            b"data: already encoded\n\n",
        ],
        kind,
    )
    assert client.get("/events").text == (
        "event: update\nid: 42\nretry: 3000\ndata: payload\n\n"
        "event: tick\ndata: 1\n\n"
        ": a note\n: over two lines\n\n"
        "id: \n\n"
        "data: already encoded\n\n"
    )


@kinds
def test_the_headers_are_the_ones_proxies_need_and_hooks_still_run(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    serve(app, ["x"], kind)

    @app.after_request
    def tag(response: Any) -> Any:
        response.headers["X-Seen-By-Hook"] = str(isinstance(response, EventStream))
        return response

    response = client.get("/events")
    assert response.headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert "Content-Length" not in response.headers
    assert response.headers["X-Seen-By-Hook"] == "True"


def test_headers_given_to_the_stream_are_added_or_replace_the_defaults(
    app: Flask, client: FlaskClient
) -> None:
    serve(app, ["x"], "def", headers={"Cache-Control": "no-store", "X-Extra": "1"})
    response = client.get("/events")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Extra"] == "1"


def test_the_body_is_marked_for_code_that_compresses_or_buffers_to_leave_it_alone() -> None:
    stream = EventStream(iter(["x"]))
    assert stream.direct_passthrough and stream.is_streamed


@kinds
def test_a_ping_goes_out_while_the_generator_produces_nothing(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    # A def generator blocked in time.sleep, an async one awaiting: either
    # way the silence is filled with pings.
    serve(app, ["first", "last"], kind, pause=0.3, ping=0.05)
    body = client.get("/events").text
    assert body.startswith("data: first\n\n: ping\n\n")
    assert body.endswith(": ping\n\ndata: last\n\n")
    assert re.fullmatch(r"data: first\n\n(: ping\n\n)+data: last\n\n", body)


@kinds
def test_no_ping_goes_out_while_events_keep_coming(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    # Ten events 0.03 s apart (0.3 s in all) with a 0.1 s ping: the stream
    # is never silent that long, so a ping would be a wasted write.
    def sync_events() -> Iterator[str]:
        for n in range(10):
            time.sleep(0.03)
            yield str(n)

    async def async_events() -> AsyncIterator[str]:
        for n in range(10):
            await anyio.sleep(0.03)
            yield str(n)

    @app.route("/events")
    def events() -> Any:
        return EventStream(sync_events() if kind == "def" else async_events(), ping=0.1)

    body = client.get("/events").text
    assert body == "".join(f"data: {n}\n\n" for n in range(10))


def test_the_ping_interval_comes_from_sse_ping_interval(app: Flask, client: FlaskClient) -> None:
    app.config["SSE_PING_INTERVAL"] = 0.05
    serve(app, ["first", "last"], "async def", pause=0.3)
    assert ": ping" in client.get("/events").text
    assert Flask(__name__).config["SSE_PING_INTERVAL"] == 15


@pytest.mark.parametrize("value", ["soon", 0, -1, True, None])
def test_a_bad_sse_ping_interval_is_refused_when_a_stream_is_made(app: Flask, value: Any) -> None:
    app.config["SSE_PING_INTERVAL"] = value
    with (
        app.app_context(),
        pytest.raises(ValueError, match="SSE_PING_INTERVAL must be a number of seconds above 0"),
    ):
        EventStream(iter(["x"]))


def test_a_bad_ping_argument_is_refused() -> None:
    with pytest.raises(ValueError, match=r"EventStream\(ping=...\) must be a number"):
        EventStream(iter(["x"]), ping=0)


def test_a_def_generator_runs_on_the_requests_own_thread_between_pings(
    app: Flask, client: FlaskClient
) -> None:
    threads: dict[str, int] = {}

    @app.before_request
    def note() -> None:
        threads["hook"] = threading.get_ident()

    @app.route("/events")
    def events() -> Any:
        def generate() -> Iterator[str]:
            threads["first"] = threading.get_ident()
            yield "a"
            time.sleep(0.15)  # pings go out meanwhile
            threads["after pings"] = threading.get_ident()
            yield "b"

        return EventStream(generate(), ping=0.05)

    assert ": ping" in client.get("/events").text
    assert threads["first"] == threads["after pings"] == threads["hook"]


def test_last_event_id_is_what_a_reconnecting_browser_sent(app: Flask, client: FlaskClient) -> None:
    @app.route("/events")
    def events() -> Any:
        start = int(last_event_id() or 0)
        return EventStream(
            ServerSentEvent(f"event {n}", id=str(n)) for n in range(start + 1, start + 3)
        )

    assert client.get("/events").text == "id: 1\ndata: event 1\n\nid: 2\ndata: event 2\n\n"
    resumed = client.get("/events", headers={"Last-Event-ID": "2"}).text
    assert resumed == "id: 3\ndata: event 3\n\nid: 4\ndata: event 4\n\n"
    with app.test_request_context(headers={"Last-Event-ID": "7"}):
        assert last_event_id() == request.headers["Last-Event-ID"] == "7"
    with app.test_request_context():
        assert last_event_id() is None


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: ServerSentEvent("x", event="a\nb"), ValueError, "only data= may span lines"),
        (lambda: ServerSentEvent("x", id="1\r2"), ValueError, "id= .* cannot hold a line break"),
        (lambda: ServerSentEvent("x", id="1\x002"), ValueError, "NUL"),
        (lambda: ServerSentEvent("x", retry="5"), TypeError, "whole number of milliseconds"),
        (lambda: ServerSentEvent("x", retry=True), TypeError, "whole number of milliseconds"),
        (lambda: ServerSentEvent("x", retry=-1), TypeError, "whole number of milliseconds"),
        (lambda: ServerSentEvent({"a": 1}), TypeError, r"data= .*data=json\.dumps"),  # type: ignore[arg-type]
    ],
)
def test_an_event_the_format_cannot_carry_is_refused_saying_what_to_do(
    make: Callable[[], Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        make()


@kinds
@pytest.mark.parametrize(
    ("item", "message"),
    [
        (5, "yielded int. Yield a str .*, a dict .*, or a ServerSentEvent"),
        (None, "yielded NoneType. Yield a str"),
        ({"data": "x", "name": "y"}, r"dict with the key\(s\) \['name'\]; an event's keys are"),
    ],
)
def test_yielding_what_is_not_an_event_says_what_to_yield(
    app: Flask, client: FlaskClient, kind: str, item: Any, message: str
) -> None:
    serve(app, ["fine", item], kind)
    with pytest.raises(TypeError, match=message):
        client.get("/events")


def test_passing_a_generator_function_uncalled_says_to_call_it() -> None:
    def events() -> Iterator[str]:
        yield "x"

    with pytest.raises(TypeError, match=r"not a generator function \(call it: "):
        EventStream(events)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["data: x", {"data": "x"}, ServerSentEvent("x"), 5])
def test_passing_something_other_than_events_says_what_to_pass(value: Any) -> None:
    with pytest.raises(TypeError, match="EventStream\\(\\) takes a generator"):
        EventStream(value)


def test_an_event_compares_and_shows_by_its_fields() -> None:
    assert ServerSentEvent("x", id="1") == ServerSentEvent("x", id="1")
    assert ServerSentEvent("x", id="1") != ServerSentEvent("x", id="2")
    assert repr(ServerSentEvent("x", retry=5)) == "ServerSentEvent(data='x', retry=5)"


def test_an_event_stream_streams_under_a_custom_response_class() -> None:
    from flaskish import Response

    class AppResponse(Response):
        pass

    app = Flask(__name__)
    app.response_class = AppResponse

    @app.get("/events")
    def events() -> EventStream:
        return EventStream(iter(["one", "two"]))

    response = app.test_client().get("/events")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert response.text == "data: one\n\ndata: two\n\n"


def test_an_app_with_a_response_class_of_its_own_streams_events_as_they_come(
    app: Flask, client: FlaskClient
) -> None:
    """make_response makes every response the app's class: an EventStream
    becomes one as well, and still streams (pings included), never buffered."""

    class AppResponse(Response):
        def marked(self) -> str:
            return "app's own"

    app.response_class = AppResponse
    seen: list[tuple[bool, bool, str]] = []

    async def events() -> AsyncIterator[str]:
        yield "first"
        await anyio.sleep(0.25)
        yield "last"

    @app.route("/events")
    async def stream() -> Any:
        return EventStream(events(), ping=0.05)

    @app.after_request
    def look(response: Any) -> Any:
        seen.append((isinstance(response, AppResponse), response.is_streamed, response.marked()))
        return response

    body = client.get("/events").text
    assert re.fullmatch(r"data: first\n\n(: ping\n\n)+data: last\n\n", body)
    assert seen == [(True, True, "app's own")]
