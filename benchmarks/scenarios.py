"""The scenarios: one request each, answered by the same endpoint written in
every framework (``benchmarks/apps/``).

A scenario names the app that serves it (``main``, or one of the 1000-route
apps), the request to send and a piece of the answer to check, so a
framework that answers the wrong thing fails the smoke run instead of
looking fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "FORM_BODY",
    "SCENARIOS",
    "SECRET_KEY",
    "STREAM_CLIENTS",
    "STREAM_INTERVAL",
    "STREAM_SECONDS",
    "TEMPLATE_CONTEXT",
    "TEMPLATE_FOLDER",
    "UNTOUCHED_BODY",
    "WS_CONNECTIONS",
    "WS_ECHO_PATH",
    "WS_ECHO_SYNC_PATH",
    "WS_IDLE_CONNECTIONS",
    "WS_MESSAGE",
    "Scenario",
]

#: Every app signs its session cookie with this key.
SECRET_KEY = "benchmark secret key"
#: ``benchmarks/templates``: ``page.html`` is the small template.
TEMPLATE_FOLDER = str(Path(__file__).resolve().parent / "templates")
#: What ``page.html`` is rendered with (one value needs escaping).
TEMPLATE_CONTEXT = {
    "title": "Benchmark",
    "items": [f"item {i}" for i in range(9)] + ["<b>escaped</b>"],
}
#: The urlencoded form every form endpoint reads (the view answers
#: ``"{name} {count}"``).
FORM_BODY = (
    b"name=flaskish&email=dev%40example.com&count=3&tags=asgi&tags=wsgi"
    b"&message=Hello%2C+World%21+%C3%A9t%C3%A9"
)
#: A 4 KB urlencoded body sent to an endpoint that never reads it.
UNTOUCHED_BODY = b"padding=" + b"x" * 4088

ROUTES = 1000

#: The SSE scenario's defaults (``run.py --stream-clients/--stream-seconds``).
STREAM_CLIENTS = 1000
STREAM_SECONDS = 10.0
#: Seconds between two events of a stream.
STREAM_INTERVAL = 0.5
#: ``sse_async``: one event a second (issue 16's target).
SSE_INTERVAL = 1.0
#: ``sse_disconnect``: streams opened, then closed by their clients.
DISCONNECT_CLIENTS = 200

#: The websocket scenarios: the echo handler's route (``async def``; the
#: idle connections are held by it too) and the ``def`` one's.
WS_ECHO_PATH = "/ws/echo"
WS_ECHO_SYNC_PATH = "/ws/echo/sync"
#: The text message each echo round trip sends and expects back.
WS_MESSAGE = "Hello, World! A websocket echo."
#: Defaults of ``run.py --ws-connections/--ws-idle-connections``.
WS_CONNECTIONS = 64
WS_IDLE_CONNECTIONS = 5000


@dataclass(frozen=True)
class Scenario:
    """One request and what it measures.

    :param name: the key used in every table.
    :param summary: what the scenario measures, for the README.
    :param baseline: the framework(s) it is compared with, for the README.
    :param path: the request path (with query string, if any).
    :param expect: bytes the answer body must contain.
    :param app: which app of a framework serves it: ``main``, ``routes``
        (1000 rules ``/r{i}/<int:item_id>``) or ``routes_api`` (the same
        1000 rules under one shared ``/api/`` prefix).
    :param method: the HTTP method.
    :param body: the request body.
    :param content_type: the body's content type.
    :param cookie_from: a path to request first; its ``Set-Cookie`` is sent
        with every timed request (a valid session cookie).
    :param concurrency: requests in flight at once (in-process tasks, and
        wrk connections over HTTP); ``None`` for the default.
    :param http: whether it is also measured over loopback.
    :param inprocess: whether it is measured in-process.
    :param streams: measured over loopback by many concurrent streaming
        clients (``streams.py``) instead of wrk: *path* streams server-sent
        events; the harness adds ``?count=...&interval=...``.
    :param own_lifespan: its app's lifespan runs only around its own
        repetitions, not for the whole in-process run: what the lifespan
        starts (the blocking-call detector's beat) would otherwise run on the
        shared event loop under every other scenario too.
    :param yield_every: in-process, the batch hands the event loop over
        (``asyncio.sleep(0)``) after every that many requests, as a server's
        loop runs between requests: timers due (the blocking-call
        detector's beat) run on time, and a repetition never blocks the loop
        past the detector's threshold. ``None``: never (a batch of requests
        that never suspend holds the loop for the whole repetition).
    :param expect_header: a response header (lower-case name, value) the
        answer must carry.
    :param websocket: measured over loopback by the websocket client
        (``websocket_load.py``) instead of wrk: ``echo`` (round trips on
        ``concurrency`` connections) or ``idle`` (that many connections held
        open, the server's memory measured); *path* is the websocket route.
    :param variants: more routes measured in the same scenario, as
        ``(label, path)``: a row "framework label" each (the ``def``
        handler); a framework's ``UNSUPPORTED`` names them
        ``"scenario label"``.
    :param stream_interval: seconds between two events of a stream, if
        not the run's ``--stream-interval`` default.
    :param disconnects: measured by opening ``DISCONNECT_CLIENTS`` streams
        and closing them (``disconnects.py``): how long until the
        generator's ``finally`` ran, as the app noted it.
    :param timed_with: another scenario whose in-process repetitions take
        turns with this one's, so that their ratio (last route / first
        route, untouched / hello) comes from the same moments.
    :param mix: measured over loopback by the migrated app's client
        (``migrated_load.py``: logged-in users sending a mix of page GETs,
        JSON GETs and CSRF-protected POSTs) instead of wrk; *path* and
        *expect* are the page and a piece of it.
    """

    name: str
    summary: str
    baseline: str
    path: str
    expect: bytes
    app: str = "main"
    method: str = "GET"
    body: bytes = b""
    content_type: str | None = None
    cookie_from: str | None = None
    concurrency: int | None = None
    http: bool = True
    timed_with: str | None = None
    inprocess: bool = True
    streams: bool = False
    own_lifespan: bool = False
    yield_every: int | None = None
    expect_header: tuple[str, str] | None = None
    websocket: str | None = None
    variants: tuple[tuple[str, str], ...] = ()
    stream_interval: float | None = None
    disconnects: bool = False
    mix: bool = False


_FORM = "application/x-www-form-urlencoded"

SCENARIOS: list[Scenario] = [
    Scenario(
        "hello_async",
        "`async def` view answering plain text: the fixed cost of a request",
        "raw ASGI (ceiling), Starlette async endpoint, Quart",
        "/hello/async",
        b"Hello, World",
    ),
    Scenario(
        "hello_sync",
        "`def` view answering plain text: the cost of one thread hop per request",
        "raw ASGI + one `anyio.to_thread` hop, Starlette `def` endpoint, Quart `def` view, Flask",
        "/hello/sync",
        b"Hello, World",
    ),
    Scenario(
        "json",
        "`async def` view returning a dict as JSON (`def` for Flask)",
        "raw ASGI + `json.dumps`, Starlette `JSONResponse`, Quart, Flask",
        "/json",
        b'"message"',
    ),
    Scenario(
        "converters",
        "route `/users/<int:user_id>/posts/<slug>`: matching with two converters",
        "raw ASGI + one regex, Starlette `{user_id:int}`, Quart, Flask",
        "/users/42/posts/hello-world",
        b"43 hello-world",
    ),
    Scenario(
        "form_async",
        "urlencoded POST read in an `async def` view (`await request.form`)",
        "raw ASGI + `parse_qsl`, Starlette `await request.form()`, Quart",
        "/form/async",
        b"flaskish 3",
        method="POST",
        body=FORM_BODY,
        content_type=_FORM,
    ),
    Scenario(
        "form_sync",
        "urlencoded POST read in a `def` view (`request.form`; a small body is "
        "read before the hand-off, BODY_PREFETCH_BYTES)",
        "Flask (Starlette and Quart cannot read a form in a `def` view)",
        "/form/sync",
        b"flaskish 3",
        method="POST",
        body=FORM_BODY,
        content_type=_FORM,
    ),
    Scenario(
        "block_sync",
        "`def` view blocking 10 ms (`time.sleep`), 64 requests in flight: "
        "throughput of the worker threads",
        "raw ASGI + `anyio.to_thread`, Starlette `def` endpoint, Quart `def` view "
        "(default executor), Flask (gunicorn gthread, 40 threads)",
        "/block",
        b"slept",
        concurrency=64,
    ),
    Scenario(
        "sleep_async",
        "`async def` view awaiting 10 ms (`asyncio.sleep`), 64 requests in flight",
        "raw ASGI, Starlette, Quart",
        "/sleep",
        b"slept",
        concurrency=64,
    ),
    Scenario(
        "routes_first",
        f"{ROUTES} rules `/r{{i}}/<int:item_id>`, the first one matches",
        "Starlette (linear scan), Quart and Flask (Werkzeug's state machine)",
        "/r0/7",
        b"route 0 item 7",
        app="routes",
        http=False,
    ),
    Scenario(
        "routes_last",
        f"{ROUTES} rules `/r{{i}}/<int:item_id>`, the last one matches",
        "Starlette (linear scan), Quart and Flask (Werkzeug's state machine)",
        f"/r{ROUTES - 1}/7",
        f"route {ROUTES - 1} item 7".encode(),
        app="routes",
        timed_with="routes_first",
    ),
    Scenario(
        "routes_api_first",
        f"{ROUTES} rules `/api/r{{i}}/<int:item_id>` (one shared first "
        "segment), the first one matches",
        "Starlette, Quart, Flask",
        "/api/r0/7",
        b"route 0 item 7",
        app="routes_api",
        http=False,
    ),
    Scenario(
        "routes_api_last",
        f"{ROUTES} rules `/api/r{{i}}/<int:item_id>` (one shared first "
        "segment), the last one matches",
        "Starlette, Quart, Flask",
        f"/api/r{ROUTES - 1}/7",
        f"route {ROUTES - 1} item 7".encode(),
        app="routes_api",
        timed_with="routes_api_first",
    ),
    Scenario(
        "session",
        "`async def` view (`def` for Flask) that reads and writes the signed session cookie",
        "Starlette `SessionMiddleware` on that route, Quart, Flask",
        "/session",
        b"visits 2",
        cookie_from="/session",
    ),
    Scenario(
        "template",
        "`async def` view (`def` for Flask) rendering a small Jinja template (10 escaped items)",
        "Starlette `Jinja2Templates`, Quart, Flask",
        "/template",
        b"&lt;b&gt;escaped&lt;/b&gt;",
    ),
    Scenario(
        "untouched",
        "`async def` hello sent a session cookie and a 4 KB form body it never "
        "reads: must cost what `hello_async` costs",
        "flaskish's own `hello_async`; the peers for reference",
        "/untouched",
        b"Hello, World",
        method="POST",
        body=UNTOUCHED_BODY,
        content_type=_FORM,
        cookie_from="/session",
        http=False,
        timed_with="hello_async",
    ),
    Scenario(
        "def_with_after_hooks",
        "`def` hello view plus two `def after_request` hooks that "
        "return the response (one sets a header): a `def` hook returning a response costs no "
        "trip back to the event loop",
        "flaskish's own `hello_sync` (target ≤ 1.1x); Flask with the same two hooks for reference",
        "/hello/sync",
        b"Hello, World",
        app="hooks",
        http=False,
        timed_with="hello_sync",
        expect_header=("x-after-hook", "1"),
    ),
    Scenario(
        "hello_async_detector",
        "`hello_async` with `BLOCKING_WARN_MS=100`: the blocking-call "
        "detector beating on the event loop while the app is served",
        "flaskish's own `hello_async` (target ≤ 1.05x)",
        "/hello/async",
        b"Hello, World",
        app="detector",
        http=False,
        timed_with="hello_async",
        own_lifespan=True,
        yield_every=100,
    ),
    Scenario(
        "sse_with_sync_hooks",
        f"{STREAM_CLIENTS:,} concurrent SSE streams (one event every "
        f"{STREAM_INTERVAL:g} s for {STREAM_SECONDS:g} s) from an `async def` view returning an "
        "async generator, in an app with a `def before_request` and a `def after_request` "
        "hook and `THREAD_POOL_SIZE=40`, on one uvicorn worker: every request holds a "
        "(parked) thread, none may wait for one",
        "Starlette `StreamingResponse` (no hooks: Starlette has none), in the same run",
        "/events",
        b"data: event 0",
        app="sse",
        inprocess=False,
        streams=True,
    ),
    Scenario(
        "sse_async",
        f"{STREAM_CLIENTS:,} concurrent SSE streams, one event every "
        f"{SSE_INTERVAL:g} s from an `async def` generator (`flaskish.EventStream`), on one "
        "uvicorn worker: server CPU while the streams mostly wait, and RSS per stream",
        "Starlette `StreamingResponse` and sse-starlette's `EventSourceResponse` (Starlette "
        "rows), in the same run",
        "/sse",
        b"data: event 0",
        app="sse_async",
        inprocess=False,
        streams=True,
        stream_interval=SSE_INTERVAL,
        variants=(("sse-starlette", "/sse/sse-starlette"),),
    ),
    Scenario(
        "sse_disconnect",
        f"{DISCONNECT_CLIENTS} SSE streams opened, then closed by their "
        "clients: the time from a client closing its socket to the generator's `finally` "
        "(noted by the app), for an `async def` generator waiting between events and, as "
        "`def`, a generator yielding an event every 0.1 s (closed at its next `yield`)",
        "issue 16's target: p99 under 1 s (flaskish only)",
        "/sse/hold",
        b"data: held",
        app="sse_async",
        inprocess=False,
        disconnects=True,
        variants=(("def", "/sse/hold/sync"),),
    ),
    Scenario(
        "websocket_echo",
        f"websocket echo round trips, {WS_CONNECTIONS} connections each "
        "sending a text message and waiting for it to come back, on one uvicorn worker: round "
        "trips/s, p50/p99 latency; `async def` handler, and the `def` handler (its "
        "connection's worker thread) reported",
        "Starlette websocket route (target: `async def` ≥ 0.9x), raw ASGI (ceiling)",
        WS_ECHO_PATH,
        WS_MESSAGE.encode(),
        app="ws",
        inprocess=False,
        websocket="echo",
        concurrency=WS_CONNECTIONS,
        variants=(("def", WS_ECHO_SYNC_PATH),),
    ),
    Scenario(
        "websocket_idle",
        f"{WS_IDLE_CONNECTIONS:,} idle websocket connections held open at "
        "once by one uvicorn worker, each in an `async def` handler waiting in "
        "`receive()`: the server's RSS per connection (and every one still answering)",
        "Starlette websocket route, in the same run",
        WS_ECHO_PATH,
        WS_MESSAGE.encode(),
        app="ws",
        inprocess=False,
        websocket="idle",
        concurrency=WS_IDLE_CONNECTIONS,
    ),
    Scenario(
        "migrated_app",
        "one realistic Flask app run unchanged (`benchmarks/migrated/app.py`: "
        "Flask-Login user from the session, Flask-SQLAlchemy queries on a sqlite file, "
        "Flask-WTF forms with CSRF, a Jinja page extending a base with `url_for` and flashed "
        "messages, a `def before_request` and `def after_request`, a JSON API), loaded by "
        "logged-in users: 40% page GETs, 40% JSON GETs, 20% CSRF-protected form POSTs "
        "(a redirect each); req/s, p99, and the time inside the app (first `before_request` "
        "to last `after_request`, the app's own clock)",
        "the same code on Flask (gunicorn gthread, 40 threads; target: flaskish ≥ 1.3x its "
        "req/s, p99 ≤ 0.8x, time inside ≤ 1.0x), the same app written for Quart (target "
        "≥ 3x)",
        "/",
        b"notes of ",
        app="migrated",
        inprocess=False,
        mix=True,
    ),
    Scenario(
        "migrated_app_async",
        "`migrated_app` with its JSON API views `async def` (still under "
        "Flask-Login's `login_required`), the rest unchanged",
        "flaskish's own `migrated_app` (reported)",
        "/",
        b"notes of ",
        app="migrated_async",
        inprocess=False,
        mix=True,
    ),
]
