"""Flask (WSGI): ``def`` views only, as Flask apps are written. In-process it
is called as a WSGI app; over HTTP it runs on gunicorn's gthread worker."""

from __future__ import annotations

import time
from typing import Any

from ..scenarios import ROUTES, SECRET_KEY, TEMPLATE_CONTEXT, TEMPLATE_FOLDER

UNSUPPORTED = {
    "hello_async": "Flask runs `async def` views on a new event loop per request; "
    "its `def` hello is `hello_sync`",
    "form_async": "Flask has no `await request.form`; its `def` form is `form_sync`",
    "sleep_async": "Flask has no event loop to await on",
    "hello_async_detector": "Flask has no event loop, and no blocking-call detector",
    "sse_async": "a WSGI worker holds a thread per open stream; not a baseline here",
    "sse_disconnect": "issue 16's target is flaskish's own",
    "sse_with_sync_hooks": "a WSGI worker holds a thread per open stream (gunicorn "
    "gthread: 40 threads, 40 streams at once)",
    "websocket_echo": "Flask has no websockets (Flask-Sock holds a thread per connection)",
    "websocket_idle": "Flask has no websockets (Flask-Sock holds a thread per connection)",
    "migrated_app_async": "flaskish's own variant (Flask runs an `async def` view on a new "
    "event loop per request)",
}
#: What the migrated app (``benchmarks/migrated/app.py``) needs beyond Flask.
MIGRATED_REQUIRES = ("flask_login", "flask_sqlalchemy", "flask_wtf")


def build(name: str) -> Any:
    """The app serving the scenarios of app *name*."""
    if name == "main":
        return _main()
    if name == "hooks":
        return _hooks()
    if name == "migrated":
        from ..migrated.app import create_app

        return create_app()
    if name == "routes":
        return _routes("")
    if name == "routes_api":
        return _routes("/api")
    raise LookupError(name)


def _main() -> Any:
    from flask import Flask, render_template, request, session

    app = Flask("bench", template_folder=TEMPLATE_FOLDER)
    app.config["SECRET_KEY"] = SECRET_KEY

    @app.route("/hello/sync")
    def hello_sync() -> str:
        return "Hello, World"

    @app.route("/json")
    def json_view() -> dict[str, str]:
        return {"message": "Hello, World"}

    @app.route("/users/<int:user_id>/posts/<slug>")
    def user_post(user_id: int, slug: str) -> str:
        return f"{user_id + 1} {slug}"

    @app.route("/form/sync", methods=["POST"])
    def form_sync() -> str:
        return f"{request.form['name']} {request.form['count']}"

    @app.route("/block")
    def block() -> str:
        time.sleep(0.01)
        return "slept"

    @app.route("/session")
    def session_view() -> str:
        session["visits"] = session.get("visits", 0) + 1
        return f"visits {session['visits']}"

    @app.route("/template")
    def template() -> str:
        return render_template("page.html", **TEMPLATE_CONTEXT)

    @app.route("/untouched", methods=["POST"])
    def untouched() -> str:
        return "Hello, World"

    return app


def _hooks() -> Any:
    """The main app plus two ``def after_request`` hooks that return the
    response (one sets a header)."""
    from flask import Response

    app = _main()

    @app.after_request
    def mark(response: Response) -> Response:
        response.headers["X-After-Hook"] = "1"
        return response

    @app.after_request
    def unchanged(response: Response) -> Response:
        return response

    return app


def _routes(prefix: str) -> Any:
    from flask import Flask

    app = Flask("bench_routes")

    def make(i: int) -> Any:
        def view(item_id: int) -> str:
            return f"route {i} item {item_id}"

        return view

    for i in range(ROUTES):
        app.add_url_rule(f"{prefix}/r{i}/<int:item_id>", f"r{i}", make(i))
    return app
