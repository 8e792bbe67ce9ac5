"""The app most CLI tests load: ``flaskish --app hello ...`` from this folder."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import click

from flaskish import Flask, current_app, request, session, url_for

app = Flask(__name__)
app.config["SECRET_KEY"] = "the same secret in every worker"


@app.route("/")
def index() -> str:
    return "Hello from flaskish!"


@app.route("/user/<name>")
async def user(name: str) -> str:
    return f"Hello, {name}!"


@app.post("/login")
def login() -> dict[str, object]:
    session["user"] = request.args["user"]
    return {"pid": os.getpid()}


@app.route("/whoami")
def whoami() -> dict[str, object]:
    return {"pid": os.getpid(), "user": session.get("user")}


@app.route("/slow")
def slow() -> str:
    """Sleeps on a worker thread; touches ``marker`` first so a test knows it started."""
    Path(request.args["marker"]).touch()
    time.sleep(float(request.args.get("seconds", "1")))
    return "finished"


@app.route("/slow-async")
async def slow_async() -> str:
    Path(request.args["marker"]).touch()
    await asyncio.sleep(float(request.args.get("seconds", "1")))
    return "finished"


@app.route("/forwarded")
def forwarded() -> dict[str, object]:
    return {
        "remote_addr": request.remote_addr,
        "is_secure": request.is_secure,
        "url": url_for("index", _external=True),
    }


@app.shell_context_processor
def shell_names() -> dict[str, object]:
    return {"answer": 42}


@app.cli.command("init-db")
@click.option("--name", default="app.db")
def init_db(name: str) -> None:
    """Pretend to create the database."""
    click.echo(f"Initialized {name} for {current_app.name}.")


@app.cli.command("debug-status")
def debug_status() -> None:
    click.echo(f"debug={current_app.debug}")
