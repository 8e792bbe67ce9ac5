"""The exceptions routing raises: ``RequestRedirect`` (a 308 to the
canonical URL, not passed to error handlers), ``BuildError`` (``url_for``
found no rule) and their base ``RoutingException``, as in
``werkzeug.routing``."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import BadRequest, HTTPException

from .helpers import redirect

if TYPE_CHECKING:
    from .url_map import Map

__all__ = ["BuildError", "RequestRedirect", "RoutingException", "WebsocketMismatch"]


class RoutingException(Exception):
    """Base class of the exceptions routing raises to steer a request."""


class RequestRedirect(HTTPException, RoutingException):
    """*308*: the URL has a canonical form (e.g. with a trailing slash) and
    the client is sent there. Not passed to error handlers."""

    code = 308

    def __init__(self, new_url: str) -> None:
        super().__init__(new_url)
        self.new_url = new_url

    def get_response(self, environ: Any = None, scope: Any = None) -> Any:
        return redirect(self.new_url, self.code)


class WebsocketMismatch(BadRequest):
    """*400*: the only rule for the path is a websocket rule and the request
    is HTTP, or the other way round (Werkzeug's ``WebsocketMismatch``)."""


class BuildError(RoutingException, LookupError):
    """:func:`~flaskish.url_for` could not build a URL for the endpoint
    with the given values."""

    def __init__(
        self,
        endpoint: str,
        values: Mapping[str, Any],
        method: str | None,
        url_map: Map | None = None,
    ) -> None:
        super().__init__(endpoint, values, method)
        self.endpoint = endpoint
        self.values = dict(values)
        self.method = method
        self.url_map = url_map

    def __str__(self) -> str:
        message = f"Could not build url for endpoint {self.endpoint!r}"
        if self.method:
            message += f" ({self.method!r})"
        if self.values:
            message += f" with values {sorted(self.values)!r}"
        message += "."
        rules = list(self.url_map.iter_rules(self.endpoint)) if self.url_map else []
        if rules:
            missing = set.intersection(
                *(rule.arguments - set(self.values) - set(rule.defaults or ()) for rule in rules)
            )
            if missing:
                message += f" Did you forget to specify values {sorted(missing)!r}?"
            elif self.method:
                methods = sorted({m for rule in rules for m in (rule.methods or ())})
                message += f" The endpoint accepts the methods {methods!r}."
        elif self.url_map is not None:
            close = _similar(self.endpoint, self.url_map.endpoints())
            if close:
                message += f" Did you mean {close!r} instead?"
            else:
                message += " No rule has that endpoint; check the name given to @app.route."
        return message


def _similar(name: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None
