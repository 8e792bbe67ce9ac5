"""A tiny app package for the template and static-file tests: ``templates/``
and ``static/`` sit beside this module, as in a Flask project, and
``secret.txt`` sits outside ``static/`` as the target of path traversal
attempts."""

from __future__ import annotations

from pathlib import Path

from flaskish import Flask

#: This package's folder: the root path of the apps built on it.
ROOT = Path(__file__).resolve().parent


def create_app() -> Flask:
    """An app found the Flask way, from its import name: its templates and
    static folders are the ones next to this module."""
    app = Flask(__name__)
    app.config.update(TESTING=True, SECRET_KEY="test secret")
    return app
