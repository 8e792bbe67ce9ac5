"""Starlette: async endpoints, and ``def`` endpoints (run in its threadpool)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from ..scenarios import ROUTES, SECRET_KEY, TEMPLATE_CONTEXT, TEMPLATE_FOLDER, WS_ECHO_PATH

UNSUPPORTED = {
    "form_sync": "a Starlette `def` endpoint cannot read the body (`request.form()` is async)",
    "def_with_after_hooks": "Starlette has no `after_request` hooks",
    "hello_async_detector": "Starlette has no blocking-call detector",
    "websocket_echo def": "a Starlette websocket endpoint is `async` only",
    "sse_disconnect": "issue 16's target is flaskish's own",
    "migrated_app": "the migrated app is Flask code (its baselines are Flask and Quart)",
    "migrated_app_async": "flaskish's own variant of the migrated app",
}
try:
    import sse_starlette  # noqa: F401 - benchmarks/requirements.txt; not in the project's .venv
except ImportError:
    UNSUPPORTED["sse_async sse-starlette"] = "sse-starlette is not installed here"


def build(name: str) -> Any:
    """The app serving the scenarios of app *name*."""
    if name == "main":
        return _main()
    if name in ("sse", "sse_async"):
        return _sse()
    if name == "ws":
        return _ws()
    if name == "routes":
        return _routes("")
    if name == "routes_api":
        return _routes("/api")
    raise LookupError(name)


def _main() -> Any:
    import jinja2
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.sessions import SessionMiddleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse, PlainTextResponse, Response
    from starlette.routing import Route
    from starlette.templating import Jinja2Templates

    # Flask's production default: templates are not re-checked on disk per render.
    templates = Jinja2Templates(
        env=jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATE_FOLDER),
            autoescape=True,
            auto_reload=False,
        )
    )

    async def hello_async(request: Request) -> Response:
        return PlainTextResponse("Hello, World")

    def hello_sync(request: Request) -> Response:
        return PlainTextResponse("Hello, World")

    async def json_view(request: Request) -> Response:
        return JSONResponse({"message": "Hello, World"})

    async def user_post(request: Request) -> Response:
        params = request.path_params
        return PlainTextResponse(f"{params['user_id'] + 1} {params['slug']}")

    async def form_async(request: Request) -> Response:
        form = await request.form()
        return PlainTextResponse(f"{form['name']} {form['count']}")

    def block(request: Request) -> Response:
        time.sleep(0.01)
        return PlainTextResponse("slept")

    async def sleep(request: Request) -> Response:
        await asyncio.sleep(0.01)
        return PlainTextResponse("slept")

    async def session(request: Request) -> Response:
        request.session["visits"] = request.session.get("visits", 0) + 1
        return PlainTextResponse(f"visits {request.session['visits']}")

    async def template(request: Request) -> Response:
        return templates.TemplateResponse(request, "page.html", TEMPLATE_CONTEXT)

    # Only the session route pays for the session middleware, as in flaskish.
    sessions = [Middleware(SessionMiddleware, secret_key=SECRET_KEY)]
    return Starlette(
        routes=[
            Route("/hello/async", hello_async),
            Route("/hello/sync", hello_sync),
            Route("/json", json_view),
            Route("/users/{user_id:int}/posts/{slug}", user_post),
            Route("/form/async", form_async, methods=["POST"]),
            Route("/block", block),
            Route("/sleep", sleep),
            Route("/session", session, middleware=sessions),
            Route("/template", template),
            Route("/untouched", hello_async, methods=["POST"]),
        ]
    )


def _sse() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route

    async def events(request: Request) -> Response:
        count = int(request.query_params.get("count", 20))
        interval = float(request.query_params.get("interval", 0.5))

        async def stream() -> AsyncIterator[str]:
            for i in range(count):
                if i:
                    await asyncio.sleep(interval)
                yield f"data: event {i}\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def sse_stream(request: Request) -> Response:
        count = int(request.query_params.get("count", 20))
        interval = float(request.query_params.get("interval", 1))

        async def stream() -> AsyncIterator[str]:
            for i in range(count):
                if i:
                    await asyncio.sleep(interval)
                yield f"data: event {i}\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    async def sse_starlette_stream(request: Request) -> Response:
        from sse_starlette import EventSourceResponse  # an optional baseline

        count = int(request.query_params.get("count", 20))
        interval = float(request.query_params.get("interval", 1))

        async def stream() -> AsyncIterator[dict[str, str]]:
            for i in range(count):
                if i:
                    await asyncio.sleep(interval)
                yield {"data": f"event {i}"}

        return EventSourceResponse(stream())

    return Starlette(
        routes=[
            Route("/events", events),
            Route("/sse", sse_stream),
            Route("/sse/sse-starlette", sse_starlette_stream),
        ]
    )


def _ws() -> Any:
    """The websocket echo as the Starlette docs write it (``iter_text``, which
    ends when the client goes away); the idle connections wait in it."""
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket

    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        async for message in websocket.iter_text():
            await websocket.send_text(message)

    return Starlette(routes=[WebSocketRoute(WS_ECHO_PATH, echo)])


def _routes(prefix: str) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    def make(i: int) -> Any:
        async def view(request: Request) -> Response:
            return PlainTextResponse(f"route {i} item {request.path_params['item_id']}")

        return view

    return Starlette(
        routes=[
            Route(f"{prefix}/r{i}/{{item_id:int}}", make(i), name=f"r{i}") for i in range(ROUTES)
        ]
    )
