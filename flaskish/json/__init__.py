"""``flaskish.json``: JSON helpers that use the current app's provider
(``app.json``) when an app context is pushed."""

from __future__ import annotations

import json as _json
from typing import IO, TYPE_CHECKING, Any

from ..globals import _cv_app
from .provider import _default

if TYPE_CHECKING:
    from ..response import Response

__all__ = ["dump", "dumps", "jsonify", "load", "loads"]


def dumps(obj: Any, **kwargs: Any) -> str:
    """Serialize *obj* to JSON with the current app's provider (or the
    default rules outside an app context)."""
    ctx = _cv_app.get(None)
    if ctx is not None:
        return ctx.app.json.dumps(obj, **kwargs)
    kwargs.setdefault("default", _default)
    return _json.dumps(obj, **kwargs)


def dump(obj: Any, fp: IO[str], **kwargs: Any) -> None:
    """Serialize *obj* to JSON into a text file."""
    fp.write(dumps(obj, **kwargs))


def loads(s: str | bytes, **kwargs: Any) -> Any:
    """Parse JSON with the current app's provider."""
    ctx = _cv_app.get(None)
    if ctx is not None:
        return ctx.app.json.loads(s, **kwargs)
    return _json.loads(s, **kwargs)


def load(fp: IO[Any], **kwargs: Any) -> Any:
    """Parse JSON from a file."""
    return loads(fp.read(), **kwargs)


def jsonify(*args: Any, **kwargs: Any) -> Response:
    """A JSON response: ``jsonify(user=..., items=[...])`` or
    ``jsonify([1, 2, 3])``. Needs an app context."""
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError(
            "jsonify() needs an application context, to use the app's JSON settings. Call it "
            "from a view, or inside `with app.app_context():`."
        )
    return ctx.app.json.response(*args, **kwargs)
