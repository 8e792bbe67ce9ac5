"""JSON providers: how an app turns Python objects into JSON and back
(``app.json``), as in Flask. Subclass :class:`DefaultJSONProvider` (or
implement :class:`JSONProvider` for another JSON library) and set
``json_provider_class`` on a ``Flask`` subclass, or assign an instance to
``app.json``. Everything that makes or reads JSON for the app goes through
it: :func:`~flaskish.json.jsonify`, ``dict`` and ``list`` returned from
views, ``flaskish.json.dumps`` / ``loads`` in an app context, the test
client's ``json=`` and ``response.json``, and the session cookie's tagged
JSON."""

from __future__ import annotations

import dataclasses
import decimal
import json
import uuid
import weakref
from datetime import date, datetime
from typing import IO, TYPE_CHECKING, Any

from werkzeug.http import http_date

if TYPE_CHECKING:
    from ..app import Flask
    from ..response import Response

__all__ = ["DefaultJSONProvider", "JSONProvider"]


class JSONProvider:
    """The interface of a JSON provider. Implement :meth:`dumps` and
    :meth:`loads`; the rest is built on them.

    :param app: the app this provider belongs to, kept as a
        :func:`weakref.proxy` in ``self._app``.
    """

    def __init__(self, app: Flask) -> None:
        # A weak proxy: the app owns its provider, not the other way round.
        self._app: Flask = weakref.proxy(app)  # type: ignore[assignment]

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialize *obj* to a JSON string.

        :param obj: the data to serialize.
        :param kwargs: may be passed on to the JSON library.
        """
        raise NotImplementedError

    def dump(self, obj: Any, fp: IO[str], **kwargs: Any) -> None:
        """Serialize *obj* into a text file (opened for UTF-8 text)."""
        fp.write(self.dumps(obj, **kwargs))

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse JSON text or UTF-8 bytes.

        :param s: the JSON document.
        :param kwargs: may be passed on to the JSON library.
        """
        raise NotImplementedError

    def load(self, fp: IO[Any], **kwargs: Any) -> Any:
        """Parse JSON from a file opened for reading text or UTF-8 bytes."""
        return self.loads(fp.read(), **kwargs)

    def _prepare_response_obj(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if args and kwargs:
            raise TypeError("app.json.response() takes either args or kwargs, not both.")
        if not args and not kwargs:
            return None
        if len(args) == 1:
            return args[0]
        return args or kwargs

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """A JSON response (``application/json``) of the arguments: one
        value, several (a list), keyword arguments (an object), or nothing
        (``null``). Positional and keyword arguments together raise
        :class:`TypeError`. :func:`~flaskish.json.jsonify` calls this."""
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self.dumps(obj), mimetype="application/json")


def _default(o: Any) -> Any:
    if isinstance(o, date):
        return http_date(o if isinstance(o, datetime) else datetime(o.year, o.month, o.day))
    if isinstance(o, (decimal.Decimal, uuid.UUID)):
        return str(o)
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    if hasattr(o, "__html__"):
        return str(o.__html__())
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


class DefaultJSONProvider(JSONProvider):
    """JSON with the standard library, as Flask's: ``datetime`` and
    ``date`` become HTTP date strings (``"Wed, 21 Oct 2015 07:28:00 GMT"``;
    a naive datetime is taken as UTC), ``Decimal`` and ``UUID`` strings,
    dataclass instances dicts (:func:`dataclasses.asdict`), objects with an
    ``__html__`` method (``Markup``) its result. Anything else raises
    :class:`TypeError`."""

    #: Called for objects :mod:`json` cannot serialize; returns something it
    #: can, or raises :class:`TypeError`.
    default: Any = staticmethod(_default)
    #: Escape non-ASCII characters (``"\\u00e9"``); ``False`` writes them as is.
    ensure_ascii = True
    #: Sort the keys of objects (they must then all be strings).
    sort_keys = True
    #: :meth:`response` output: ``True`` compact, ``False`` indented,
    #: ``None`` compact except in debug mode.
    compact: bool | None = None
    #: The mimetype of :meth:`response`.
    mimetype = "application/json"

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """:func:`json.dumps` with :attr:`default`, :attr:`ensure_ascii` and
        :attr:`sort_keys` as defaults for the keyword arguments."""
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return json.dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """:func:`json.loads`."""
        return json.loads(s, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """Like :meth:`JSONProvider.response`, with :attr:`mimetype`, a
        trailing newline, and :attr:`compact` deciding the layout."""
        obj = self._prepare_response_obj(args, kwargs)
        indent = (self.compact is None and self._app.debug) or self.compact is False
        if type(self).dumps is DefaultJSONProvider.dumps:
            text = self._encoder(indent).encode(obj)  # dumps, without a new encoder each time
        elif indent:
            text = self.dumps(obj, indent=2)
        else:
            text = self.dumps(obj, separators=(",", ":"))
        return self._app.response_class(f"{text}\n", mimetype=self.mimetype)

    def _encoder(self, indent: bool) -> json.JSONEncoder:
        settings = (self.default, self.ensure_ascii, self.sort_keys, indent)
        cached = self.__dict__.get("_cached_encoder")
        if cached is None or cached[0] != settings:
            encoder = json.JSONEncoder(
                default=self.default,
                ensure_ascii=self.ensure_ascii,
                sort_keys=self.sort_keys,
                indent=2 if indent else None,
                separators=None if indent else (",", ":"),
            )
            cached = self.__dict__["_cached_encoder"] = (settings, encoder)
        return cached[1]
