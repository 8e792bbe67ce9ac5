"""``create_app`` needs an argument: ``--app factory_needs_args`` cannot call it."""

from __future__ import annotations

from flaskish import Flask


def create_app(config_name: str) -> Flask:
    return Flask(config_name)
