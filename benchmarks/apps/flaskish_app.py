"""flaskish: the same code as the Flask app, ``async def`` where the peers
are async, ``def`` where the scenario says so."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

from ..scenarios import (
    DISCONNECT_CLIENTS,
    ROUTES,
    SECRET_KEY,
    TEMPLATE_CONTEXT,
    TEMPLATE_FOLDER,
    WS_ECHO_PATH,
    WS_ECHO_SYNC_PATH,
)

UNSUPPORTED: dict[str, str] = {
    "sse_async sse-starlette": "sse-starlette's response is measured in Starlette's app",
}
#: What the migrated app (``benchmarks/migrated/app.py``) needs: the Flask
#: extensions it imports (``flask`` itself is flaskish there).
MIGRATED_REQUIRES = ("flask_login", "flask_sqlalchemy", "flask_wtf")


def has_templates() -> bool:
    """Whether this flaskish has ``render_template`` yet."""
    import flaskish

    return hasattr(flaskish, "render_template")


if not has_templates():
    UNSUPPORTED["template"] = "flaskish has no templates yet (the endpoint is written, skipped)"


def build(name: str) -> Any:
    """The app serving the scenarios of app *name*."""
    if name == "main":
        return _main()
    if name == "detector":
        app = _main()
        app.config["BLOCKING_WARN_MS"] = 100
        return app
    if name == "hooks":
        return _hooks()
    if name in ("migrated", "migrated_async"):
        # The unchanged Flask code, with ``flask`` made to mean flaskish
        # first: only in the server's own process (install_as_flask is
        # process-wide).
        from ..migrated.on_flaskish import create_app

        return create_app(async_api=name == "migrated_async")
    if name == "sse":
        return _sse()
    if name == "sse_async":
        return _sse_async()
    if name == "ws":
        return _ws()
    if name == "routes":
        return _routes("")
    if name == "routes_api":
        return _routes("/api")
    raise LookupError(name)


def _main() -> Any:
    from flaskish import Flask, request, session

    app = Flask("bench", template_folder=TEMPLATE_FOLDER)
    app.config["SECRET_KEY"] = SECRET_KEY

    @app.route("/hello/async")
    async def hello_async() -> str:
        return "Hello, World"

    @app.route("/hello/sync")
    def hello_sync() -> str:
        return "Hello, World"

    @app.route("/json")
    async def json_view() -> dict[str, str]:
        return {"message": "Hello, World"}

    @app.route("/users/<int:user_id>/posts/<slug>")
    async def user_post(user_id: int, slug: str) -> str:
        return f"{user_id + 1} {slug}"

    @app.route("/form/async", methods=["POST"])
    async def form_async() -> str:
        form = await request.form
        return f"{form['name']} {form['count']}"

    @app.route("/form/sync", methods=["POST"])
    def form_sync() -> str:
        return f"{request.form['name']} {request.form['count']}"

    @app.route("/block")
    def block() -> str:
        time.sleep(0.01)
        return "slept"

    @app.route("/sleep")
    async def sleep() -> str:
        await asyncio.sleep(0.01)
        return "slept"

    @app.route("/session")
    async def session_view() -> str:
        session["visits"] = session.get("visits", 0) + 1
        return f"visits {session['visits']}"

    if has_templates():
        from flaskish import render_template

        @app.route("/template")
        async def template() -> str:
            return render_template("page.html", **TEMPLATE_CONTEXT)

    @app.route("/untouched", methods=["POST"])
    async def untouched() -> str:
        return "Hello, World"

    return app


def _hooks() -> Any:
    """The main app plus two ``def after_request`` hooks that return the
    response (one sets a header): ``/hello/sync`` is then ``hello_sync``
    plus the hooks, nothing else."""
    from flaskish import Response

    app = _main()

    @app.after_request
    def mark(response: Response) -> Response:
        response.headers["X-After-Hook"] = "1"
        return response

    @app.after_request
    def unchanged(response: Response) -> Response:
        return response

    return app


def _sse() -> Any:
    from flaskish import Flask, Response, g, request

    app = Flask("bench_sse")
    app.config["THREAD_POOL_SIZE"] = 40

    @app.before_request
    def started() -> None:
        g.started = time.monotonic()

    @app.after_request
    def mark(response: Response) -> Response:
        response.headers["X-After-Hook"] = "1"
        return response

    @app.route("/events")
    async def events() -> Response:
        count = request.args.get("count", 20, type=int)
        interval = request.args.get("interval", 0.5, type=float)

        async def stream() -> AsyncIterator[str]:
            for i in range(count):
                if i:
                    await asyncio.sleep(interval)
                yield f"data: event {i}\n\n"

        return Response(stream(), mimetype="text/event-stream")

    @app.route("/threads")
    async def threads() -> dict[str, int]:
        stats = app.worker_threads
        return {
            "limit": stats.limit,
            "busy": stats.busy,
            "waiting": stats.waiting,
            "parked": stats.parked,
        }

    return app


def _sse_async() -> Any:
    """``sse_async`` and ``sse_disconnect``: :class:`flaskish.EventStream`
    in an app with no hooks (Starlette's has none)."""
    from flaskish import EventStream, Flask, Response, request

    app = Flask("bench_sse_async")
    # A def generator holds a running slot while it blocks (time.sleep):
    # enough slots for every stream of sse_disconnect's def row.
    app.config["THREAD_POOL_SIZE"] = DISCONNECT_CLIENTS + 50

    @app.route("/sse")
    async def sse() -> Response:
        count = request.args.get("count", 20, type=int)
        interval = request.args.get("interval", 1.0, type=float)

        async def stream() -> AsyncIterator[str]:
            for i in range(count):
                if i:
                    await asyncio.sleep(interval)
                yield f"event {i}"

        return EventStream(stream())

    # sse_disconnect: when each stream's generator ended, by the client's id.
    ended: dict[str, float] = {}

    @app.route("/sse/hold")
    async def hold() -> Response:
        key = request.args["id"]

        async def stream() -> AsyncIterator[str]:
            try:
                yield "held"
                await asyncio.sleep(3600)
            finally:
                ended[key] = time.time()

        return EventStream(stream())

    @app.route("/sse/hold/sync")
    def hold_sync() -> Response:
        key = request.args["id"]

        def stream() -> Iterator[str]:
            try:
                yield "held"
                while True:
                    time.sleep(0.1)
                    yield "tick"
            finally:
                ended[key] = time.time()

        return EventStream(stream())

    @app.route("/sse/ended")
    async def ended_at() -> dict[str, float]:
        return ended

    return app


def _ws() -> Any:
    """The websocket scenarios: an echo with an ``async def`` handler (the
    idle connections are held by it, waiting in ``receive()``) and with a
    ``def`` handler."""
    from flaskish import Flask, websocket

    app = Flask("bench_ws")

    @app.websocket(WS_ECHO_PATH)
    async def echo() -> None:
        while True:
            await websocket.send(await websocket.receive())

    @app.websocket(WS_ECHO_SYNC_PATH)
    def echo_sync() -> None:
        while True:
            websocket.send(websocket.receive())

    return app


def verify(app: Any, scenario: str) -> str | None:
    """What is wrong with *app* serving *scenario*, if anything: the
    detector scenario must run with the blocking-call detector on, and (the
    batches hand the loop over often) without a stall reported."""
    if scenario == "hello_async_detector":
        detector = getattr(app, "blocking_detector", None)
        if detector is None or abs(detector.threshold - 0.1) > 1e-9:
            return "the blocking-call detector is not running at 100 ms"
        if detector.stalls:
            return (
                f"the detector reported {len(detector.stalls)} stalls of the loop "
                f"(longest {max(s.seconds for s in detector.stalls) * 1000:.0f} ms)"
            )
    return None


def _routes(prefix: str) -> Any:
    from flaskish import Flask

    app = Flask("bench_routes")

    def make(i: int) -> Any:
        async def view(item_id: int) -> str:
            return f"route {i} item {item_id}"

        return view

    for i in range(ROUTES):
        app.add_url_rule(f"{prefix}/r{i}/<int:item_id>", f"r{i}", make(i))
    return app


@contextmanager
def count_session_opens(app: Any) -> Iterator[list[int]]:
    """Count calls to ``app.session_interface.open_session`` (a one-item list)."""
    interface = app.session_interface
    original = interface.open_session
    calls = [0]

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    interface.open_session = counting
    try:
        yield calls
    finally:
        del interface.open_session
