"""The migrated app's entry module on flaskish: ``import flask`` is made to
mean flaskish first, then the unchanged Flask code is imported."""

from __future__ import annotations

import flaskish

flaskish.install_as_flask()

from .app import create_app  # noqa: E402  (after install_as_flask, on purpose)

__all__ = ["create_app"]
