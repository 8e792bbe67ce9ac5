"""``flaskish.json``: JSON helpers that use the current app's provider
(``app.json``) when an app context is pushed, and the standard library with
Flask's extra types (dates, ``UUID``, ``Decimal``, dataclasses, ``__html__``)
otherwise. The same functions as ``flask.json``."""

from __future__ import annotations

import json as _json
from typing import IO, TYPE_CHECKING, Any

from ..globals import _cv_app
from .provider import _default

if TYPE_CHECKING:
    from ..response import Response

__all__ = ["dump", "dumps", "jsonify", "load", "loads"]


def dumps(obj: Any, **kwargs: Any) -> str:
    """Serialize *obj* to a JSON string with ``current_app.json.dumps``, or
    with :func:`json.dumps` and Flask's extra types outside an app context.

    :param obj: the data to serialize.
    :param kwargs: passed on to the ``dumps`` implementation.
    """
    ctx = _cv_app.get(None)
    if ctx is not None:
        return ctx.app.json.dumps(obj, **kwargs)
    kwargs.setdefault("default", _default)
    return _json.dumps(obj, **kwargs)


def dump(obj: Any, fp: IO[str], **kwargs: Any) -> None:
    """Serialize *obj* to JSON into a text file, with
    ``current_app.json.dump`` (or :func:`json.dump` outside an app context).

    :param obj: the data to serialize.
    :param fp: a file opened for writing text (UTF-8).
    :param kwargs: passed on to the ``dump`` implementation.
    """
    ctx = _cv_app.get(None)
    if ctx is not None:
        ctx.app.json.dump(obj, fp, **kwargs)
    else:
        kwargs.setdefault("default", _default)
        _json.dump(obj, fp, **kwargs)


def loads(s: str | bytes, **kwargs: Any) -> Any:
    """Parse JSON text or UTF-8 bytes with ``current_app.json.loads`` (or
    :func:`json.loads` outside an app context).

    :param s: the JSON document.
    :param kwargs: passed on to the ``loads`` implementation.
    """
    ctx = _cv_app.get(None)
    if ctx is not None:
        return ctx.app.json.loads(s, **kwargs)
    return _json.loads(s, **kwargs)


def load(fp: IO[Any], **kwargs: Any) -> Any:
    """Parse JSON from a file (text or UTF-8 bytes) with
    ``current_app.json.load`` (or :func:`json.load` outside an app context).

    :param fp: a file opened for reading.
    :param kwargs: passed on to the ``load`` implementation.
    """
    ctx = _cv_app.get(None)
    if ctx is not None:
        return ctx.app.json.load(fp, **kwargs)
    return _json.load(fp, **kwargs)


def jsonify(*args: Any, **kwargs: Any) -> Response:
    """A JSON response (``application/json``) made by
    ``current_app.json.response``: ``jsonify(user=..., items=[...])`` gives
    an object, ``jsonify([1, 2, 3])`` or ``jsonify(1, 2, 3)`` an array,
    ``jsonify()`` ``null``. Positional or keyword arguments, not both.
    Indented in debug mode (see ``DefaultJSONProvider.compact``). Views may
    also return a ``dict`` or ``list``, which the provider turns into the
    same response. Needs an app context.
    """
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError(
            "jsonify() needs an application context, to use the app's JSON provider. Call it "
            "from a view, or inside `with app.app_context():`."
        )
    return ctx.app.json.response(*args, **kwargs)
