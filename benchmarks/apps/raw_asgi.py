"""The ceiling: bare ASGI callables that do only what each scenario needs."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import anyio.to_thread

from ..scenarios import WS_ECHO_PATH

Send = Callable[[dict[str, Any]], Awaitable[None]]
Receive = Callable[[], Awaitable[dict[str, Any]]]

UNSUPPORTED = {
    "form_sync": "a raw ASGI app has no `def` views",
    "routes_first": "a raw ASGI app has no router (the scenario measures one)",
    "routes_last": "a raw ASGI app has no router (the scenario measures one)",
    "routes_api_first": "a raw ASGI app has no router (the scenario measures one)",
    "routes_api_last": "a raw ASGI app has no router (the scenario measures one)",
    "session": "a raw ASGI app has no sessions",
    "template": "a raw ASGI app has no templates",
    "def_with_after_hooks": "a raw ASGI app has no hooks",
    "hello_async_detector": "a raw ASGI app has no blocking-call detector",
    "sse_async": "not a baseline of this scenario (Starlette and sse-starlette are)",
    "sse_disconnect": "issue 16's target is flaskish's own",
    "sse_with_sync_hooks": "not a baseline of this scenario (Starlette is)",
    "migrated_app": "the migrated app is Flask code (its baselines are Flask and Quart)",
    "migrated_app_async": "flaskish's own variant of the migrated app",
    "websocket_echo def": "a raw ASGI app has no `def` handlers",
    "websocket_idle": "not a baseline of this scenario (Starlette is)",
}

_TEXT = [(b"content-type", b"text/plain; charset=utf-8")]
_JSON = [(b"content-type", b"application/json")]
_USER_POST = re.compile(r"^/users/(?P<user_id>[0-9]+)/posts/(?P<slug>[^/]+)$")


async def _answer(send: Send, body: bytes, headers: list[tuple[bytes, bytes]] = _TEXT) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _hello(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    await _answer(send, b"Hello, World")


async def _hello_sync(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    body = await anyio.to_thread.run_sync(lambda: b"Hello, World")
    await _answer(send, body)


async def _json(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    await _answer(send, json.dumps({"message": "Hello, World"}).encode(), _JSON)


async def _form(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    form = dict(parse_qsl((await _read_body(receive)).decode()))
    await _answer(send, f"{form['name']} {form['count']}".encode())


async def _block(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    await anyio.to_thread.run_sync(time.sleep, 0.01)
    await _answer(send, b"slept")


async def _sleep(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    await asyncio.sleep(0.01)
    await _answer(send, b"slept")


_VIEWS = {
    "/hello/async": _hello,
    "/hello/sync": _hello_sync,
    "/json": _json,
    "/form/async": _form,
    "/block": _block,
    "/sleep": _sleep,
    "/untouched": _hello,
}


async def app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """One dict lookup (and one regex for the converters scenario) routes."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            kind = message["type"].rpartition(".")[2]
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return
    view = _VIEWS.get(scope["path"])
    if view is not None:
        await view(scope, receive, send)
        return
    match = _USER_POST.match(scope["path"])
    if match is not None:
        user_id = int(match["user_id"])
        await _answer(send, f"{user_id + 1} {match['slug']}".encode())
        return
    await send({"type": "http.response.start", "status": 404, "headers": _TEXT})
    await send({"type": "http.response.body", "body": b"Not Found"})


async def ws_app(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """The websocket echo: accept, then send back each message until the
    client goes away (an HTTP request, the harness's readiness probe, gets
    a 404)."""
    if scope["type"] == "lifespan":
        await app(scope, receive, send)
        return
    if scope["type"] != "websocket" or scope["path"] != WS_ECHO_PATH:
        await app(scope, receive, send)
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send(
            {"type": "websocket.send", "text": message.get("text"), "bytes": message.get("bytes")}
        )


def build(name: str) -> Any:
    """The app serving the scenarios of app *name* (``main`` or ``ws``)."""
    if name == "ws":
        return ws_app
    if name != "main":
        raise LookupError(name)
    return app
