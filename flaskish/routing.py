"""Flask's routing names in one place: :class:`Rule` (:mod:`flaskish.rules`),
:class:`Map` (:mod:`flaskish.url_map`), :class:`MapAdapter`, the
converters and the routing exceptions, as ``werkzeug.routing`` offers them.
"""

from __future__ import annotations

from .converters import (
    AnyConverter,
    BaseConverter,
    FloatConverter,
    IntegerConverter,
    PathConverter,
    UnicodeConverter,
    UUIDConverter,
    ValidationError,
)
from .map_adapter import MapAdapter
from .routing_exceptions import BuildError, RequestRedirect, RoutingException, WebsocketMismatch
from .rules import Rule
from .url_map import Map

__all__ = [
    "AnyConverter",
    "BaseConverter",
    "BuildError",
    "FloatConverter",
    "IntegerConverter",
    "Map",
    "MapAdapter",
    "PathConverter",
    "RequestRedirect",
    "RoutingException",
    "Rule",
    "UUIDConverter",
    "UnicodeConverter",
    "ValidationError",
    "WebsocketMismatch",
]
