"""The app's logger (``app.logger``), set up as Flask does it."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import Flask

__all__ = ["create_logger", "default_handler", "has_level_handler"]


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of the record (test
    runners swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


#: The handler added to ``app.logger`` if no handler of the logger's level
#: is configured. Remove it with ``app.logger.removeHandler(default_handler)``.
default_handler: logging.Handler = _StderrHandler()
default_handler.setFormatter(
    logging.Formatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s")
)


def has_level_handler(logger: logging.Logger) -> bool:
    """Whether a handler on the logger or its parents handles the logger's
    effective level."""
    level = logger.getEffectiveLevel()
    current: logging.Logger | None = logger
    while current:
        if any(handler.level <= level for handler in current.handlers):
            return True
        if not current.propagate:
            break
        current = current.parent
    return False


def create_logger(app: Flask) -> logging.Logger:
    """The logger named after the app, at DEBUG level in debug mode, with
    :data:`default_handler` if nothing else would show its records."""
    logger = logging.getLogger(app.name)
    if app.debug and not logger.level:
        logger.setLevel(logging.DEBUG)
    if not has_level_handler(logger):
        logger.addHandler(default_handler)
    return logger


def __getattr__(name: str) -> Any:
    # Flask logs to the WSGI error stream; ASGI has none, so it is stderr.
    if name == "wsgi_errors_stream":
        return sys.stderr
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
