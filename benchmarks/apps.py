"""The same endpoints written for each framework under test.

Each ``make_*`` function returns ``{scenario: (app, kind, method, path, body,
headers)}`` where *kind* is ``"asgi"`` or ``"wsgi"``.
"""

from __future__ import annotations

from typing import Any

Scenario = tuple[Any, str, str, str, bytes, list[tuple[bytes, bytes]]]


def make_raw_asgi() -> dict[str, Scenario]:
    """The ceiling: an ASGI callable that does nothing but answer."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", b"12")]})
        await send({"type": "http.response.body", "body": b"Hello, World"})

    return {"hello_async": (app, "asgi", "GET", "/", b"", [])}


def make_starlette() -> dict[str, Scenario]:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def hello_async(request: Any) -> PlainTextResponse:
        return PlainTextResponse("Hello, World")

    def hello_sync(request: Any) -> PlainTextResponse:
        return PlainTextResponse("Hello, World")

    app = Starlette(routes=[Route("/", hello_async), Route("/sync", hello_sync)])
    return {
        "hello_async": (app, "asgi", "GET", "/", b"", []),
        "hello_sync": (app, "asgi", "GET", "/sync", b"", []),
    }


def make_flaskish() -> dict[str, Scenario]:
    from flaskish import Flask

    app = Flask("bench")

    @app.route("/")
    async def hello_async() -> str:
        return "Hello, World"

    @app.route("/sync")
    def hello_sync() -> str:
        return "Hello, World"

    return {
        "hello_async": (app, "asgi", "GET", "/", b"", []),
        "hello_sync": (app, "asgi", "GET", "/sync", b"", []),
    }


FRAMEWORKS = {
    "raw ASGI": make_raw_asgi,
    "Starlette": make_starlette,
    "flaskish": make_flaskish,
}
