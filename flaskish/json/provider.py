"""JSON providers: how an app turns Python objects into JSON and back
(``app.json``). Subclass :class:`DefaultJSONProvider` and set
``app.json_provider_class`` (or assign ``app.json``) to change it."""

from __future__ import annotations

import dataclasses
import decimal
import json
import uuid
import weakref
from datetime import date, datetime
from typing import IO, TYPE_CHECKING, Any

from ..response import http_date

if TYPE_CHECKING:
    from ..app import Flask
    from ..response import Response

__all__ = ["DefaultJSONProvider", "JSONProvider"]


class JSONProvider:
    """The interface of a JSON provider. Implement :meth:`dumps` and
    :meth:`loads`; the rest is built on them.

    :param app: the app this provider belongs to.
    """

    def __init__(self, app: Flask) -> None:
        # A weak proxy: the app owns its provider, not the other way round.
        self._app: Flask = weakref.proxy(app)  # type: ignore[assignment]

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialize *obj* to a JSON string."""
        raise NotImplementedError

    def dump(self, obj: Any, fp: IO[str], **kwargs: Any) -> None:
        """Serialize *obj* into a text file."""
        fp.write(self.dumps(obj, **kwargs))

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse a JSON string or bytes."""
        raise NotImplementedError

    def load(self, fp: IO[Any], **kwargs: Any) -> Any:
        """Parse JSON from a file."""
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
        """A JSON response of the arguments: one value, several (a list) or
        keyword arguments (an object)."""
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
    """JSON with the standard library, as Flask does it: dates become HTTP
    date strings, ``Decimal`` and ``UUID`` strings, dataclasses dicts,
    objects with ``__html__`` their HTML."""

    #: Converts objects :mod:`json` cannot serialize.
    default: Any = staticmethod(_default)
    #: Escape non-ASCII characters.
    ensure_ascii = True
    #: Sort object keys.
    sort_keys = True
    #: Compact output in responses; ``None``: indented in debug mode.
    compact: bool | None = None
    #: The mimetype of :meth:`response`.
    mimetype = "application/json"

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return json.dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return json.loads(s, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        dump_args: dict[str, Any] = {}
        if (self.compact is None and self._app.debug) or self.compact is False:
            dump_args["indent"] = 2
        else:
            dump_args["separators"] = (",", ":")
        return self._app.response_class(
            f"{self.dumps(obj, **dump_args)}\n", mimetype=self.mimetype
        )
