"""An app factory: ``--app factory``, ``--app "factory:create_app('hi')"``."""

from __future__ import annotations

import os

import click

from flaskish import Flask, current_app

not_an_app = 42


def create_app(greeting: str | None = None, *, punctuation: str = "") -> Flask:
    app = Flask("factory")
    app.config["GREETING"] = (greeting or os.environ.get("GREETING", "hello")) + punctuation

    @app.route("/")
    def index() -> str:
        return str(app.config["GREETING"])

    @app.cli.command()
    def greet() -> None:
        click.echo(current_app.config["GREETING"])

    return app


def needs_args(name: str) -> Flask:
    return Flask(name)


def raises_type_error() -> Flask:
    raise TypeError("a bug inside the factory")
