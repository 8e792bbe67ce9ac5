"""A chat room on flaskish: a blueprint, a name-only login kept in the
cookie session, a Jinja page with a few lines of JavaScript, and the same
websocket handler written twice, ``async def`` and ``def``.

Serve it with ``uvicorn --app-dir examples/chat --factory chat:create_app``
(see ``examples/chat/README.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flaskish import Flask

from . import views

__all__ = ["create_app"]


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Create the chat app.

    :param test_config: config values that replace the defaults and the
        environment's (tests pass ``{"TESTING": True, ...}``).
    """
    app = Flask(__name__)
    # Sign the session cookie with a real secret in production:
    # FLASK_SECRET_KEY=... in the environment (from_prefixed_env reads it).
    app.config.from_mapping(SECRET_KEY="dev")
    # Several workers or servers share the room through Redis:
    # FLASK_BROADCAST_URL=redis://127.0.0.1:6379 (memory:// by default).
    app.config.from_prefixed_env()
    if test_config is not None:
        app.config.update(test_config)

    app.register_blueprint(views.bp)
    return app
