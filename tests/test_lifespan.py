"""Startup and shutdown: before_serving, after_serving and while_serving,
run by the server's lifespan (and by ``with app.test_client():``)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx2 as httpx
import pytest

from flaskish import Flask, current_app, g


def test_while_serving_generators_wrap_serving_in_order(app: Flask) -> None:
    events: list[str] = []

    @app.before_serving
    def before() -> None:
        events.append("before")

    @app.while_serving
    async def async_resource() -> AsyncIterator[None]:
        events.append(f"async up {current_app.name}")
        yield
        events.append("async down")

    @app.while_serving
    def sync_resource() -> Iterator[None]:
        events.append("sync up")
        yield
        events.append("sync down")

    @app.after_serving
    async def after() -> None:
        events.append("after")

    @app.route("/")
    def index() -> str:
        return ",".join(events)

    with app.test_client() as client:
        assert client.get("/").text == "before,async up flaskish_test_app,sync up"
    assert events[-3:] == ["after", "sync down", "async down"]


def test_a_while_serving_function_that_never_yields_fails_startup(app: Flask) -> None:
    @app.while_serving
    def broken() -> Iterator[None]:
        return
        yield  # a generator function that ends at once

    with pytest.raises(RuntimeError, match="did not yield"), app.test_client():
        pass


def test_a_while_serving_function_that_yields_twice_fails_shutdown(app: Flask) -> None:
    @app.while_serving
    async def twice() -> AsyncIterator[None]:
        yield
        yield

    with pytest.raises(RuntimeError, match="more than once"), app.test_client():
        pass


def test_lifespan_hooks_run_under_a_real_server(app: Flask, live_server: Any) -> None:
    events: list[str] = []
    shared: dict[str, Any] = {}

    @app.while_serving
    def resource() -> Iterator[None]:
        shared["thread"] = threading.get_ident()
        events.append("up")
        yield
        events.append("down")

    @app.route("/")
    async def index() -> dict[str, Any]:
        g.seen = True
        return {"events": events}

    with live_server(app) as server:
        assert httpx.get(server.url + "/").json() == {"events": ["up"]}
    assert events == ["up", "down"]
