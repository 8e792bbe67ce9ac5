"""Quart: the Flask API on asyncio. ``def`` views run in the loop's default
executor; a ``def`` view cannot read the form (``request.form`` is awaitable)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ..scenarios import ROUTES, SECRET_KEY, TEMPLATE_CONTEXT, TEMPLATE_FOLDER

UNSUPPORTED = {
    "form_sync": "Quart's `request.form` must be awaited: a `def` view cannot read it",
    "def_with_after_hooks": "not a baseline of this scenario (flaskish's own `hello_sync` "
    "and Flask are)",
    "hello_async_detector": "Quart has no blocking-call detector (asyncio's debug mode is "
    "the nearest)",
    "sse_async": "not a baseline of this scenario (Starlette and sse-starlette are)",
    "sse_disconnect": "issue 16's target is flaskish's own",
    "sse_with_sync_hooks": "not a baseline of this scenario (Starlette is)",
    "websocket_echo": "not a baseline of this scenario (Starlette is)",
    "websocket_idle": "not a baseline of this scenario (Starlette is)",
    "migrated_app_async": "flaskish's own variant of the migrated app",
}
#: What the Quart version of the migrated app (``benchmarks/migrated/quart_app.py``)
#: needs.
MIGRATED_REQUIRES = ("sqlalchemy", "aiosqlite", "wtforms")


def build(name: str) -> Any:
    """The app serving the scenarios of app *name*."""
    if name == "main":
        return _main()
    if name == "migrated":
        from ..migrated.quart_app import create_app

        return create_app()
    if name == "routes":
        return _routes("")
    if name == "routes_api":
        return _routes("/api")
    raise LookupError(name)


def _main() -> Any:
    from quart import Quart, render_template, request, session

    app = Quart("bench", template_folder=TEMPLATE_FOLDER)
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

    @app.route("/template")
    async def template() -> str:
        return await render_template("page.html", **TEMPLATE_CONTEXT)

    @app.route("/untouched", methods=["POST"])
    async def untouched() -> str:
        return "Hello, World"

    return app


def _routes(prefix: str) -> Any:
    from quart import Quart

    app = Quart("bench_routes")

    def make(i: int) -> Any:
        async def view(item_id: int) -> str:
            return f"route {i} item {item_id}"

        return view

    for i in range(ROUTES):
        app.add_url_rule(f"{prefix}/r{i}/<int:item_id>", f"r{i}", make(i))
    return app
