"""A package whose ``make_app`` is found by ``--app factory_pkg``."""

from __future__ import annotations

import click

from flaskish import Flask


def make_app() -> Flask:
    app = Flask(__name__)

    @app.cli.command()
    def where() -> None:
        click.echo(f"made by {__name__}.make_app")

    return app
