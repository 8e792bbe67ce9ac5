"""URL rules in Flask's syntax, compiled into Starlette routes.

A rule such as ``/user/<int:id>`` becomes a :class:`Rule`, which *is* a
:class:`starlette.routing.Route` with a regular expression built from the
rule's converters. The app's :class:`Map` holds its rules, its own
converters (never Starlette's process-wide convertor table: two apps never
see each other's converters) and an index that finds the candidate rules for
a path without scanning them all.

Matching follows Flask (Werkzeug): static segments win over variable ones,
a rule ending in ``/`` requested without it redirects with 308, a path that
matches only for other methods is a 405 with ``Allow``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode

from starlette.routing import Match, Route

from .converters import (
    DEFAULT_CONVERTERS,
    AnyConverter,
    BaseConverter,
    FloatConverter,
    IntegerConverter,
    PathConverter,
    UnicodeConverter,
    UUIDConverter,
    ValidationError,
    _StarletteConvertor,
    parse_converter_args,
)
from .exceptions import MethodNotAllowed, NotFound
from .map_adapter import MapAdapter
from .routing_exceptions import BuildError, RequestRedirect, RoutingException

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

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
]


# -- rule syntax --------------------------------------------------------------

_rule_re = re.compile(
    r"""
    (?P<static>[^<]*)                             # text before the variable
    <
    (?:
        (?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)     # converter name
        (?:\((?P<args>.*?)\))?                    # optional (arguments)
        :                                         # separates it from the name
    )?
    (?P<variable>[a-zA-Z_][a-zA-Z0-9_]*)          # variable name
    >
    """,
    re.VERBOSE,
)

def parse_rule(rule: str) -> Iterator[tuple[str | None, str | None, str]]:
    """Split a rule into ``(converter, args, variable)`` parts, with
    ``(None, None, text)`` for static text."""
    position = 0
    for match in _rule_re.finditer(rule):
        if match.start() != position:
            break
        if match["static"]:
            yield None, None, match["static"]
        yield match["converter"] or "default", match["args"] or "", match["variable"]
        position = match.end()
    rest = rule[position:]
    if "<" in rest or ">" in rest:
        raise ValueError(
            f"Malformed URL rule {rule!r}: variables are written <name> or <converter:name>, "
            "e.g. '/user/<int:id>'."
        )
    if rest:
        yield None, None, rest


# -- rules --------------------------------------------------------------------


class Rule(Route):
    """One URL rule: ``Rule("/user/<int:id>", endpoint="user", methods=["GET"])``.

    A Starlette :class:`~starlette.routing.Route` (its ``path_regex``,
    ``path_format`` and ``param_convertors`` are set), with Flask's
    attributes: :attr:`rule`, :attr:`endpoint` (a name), :attr:`methods`,
    :attr:`arguments`, :attr:`defaults`, :attr:`strict_slashes`.
    """

    endpoint: str  # type: ignore[assignment]  # Flask: the endpoint *name*

    def __init__(
        self,
        string: str,
        defaults: Mapping[str, Any] | None = None,
        endpoint: str | None = None,
        methods: Iterable[str] | None = None,
        strict_slashes: bool | None = None,
        build_only: bool = False,
        redirect_to: str | None = None,
        websocket: bool = False,
        subdomain: str | None = None,
        host: str | None = None,
        **options: Any,
    ) -> None:
        if not string.startswith("/"):
            raise ValueError(f"URL rule {string!r} must start with a slash: '/{string}'.")
        self.rule = self.path = string
        self.endpoint = self.name = endpoint or ""
        self.defaults = dict(defaults) if defaults else None
        if methods is not None:
            if isinstance(methods, str):
                raise TypeError(
                    f"methods should be a list of strings, e.g. methods=[{methods!r}], "
                    f"not the string {methods!r}."
                )
            methods = {method.upper() for method in methods}
            if "HEAD" not in methods and "GET" in methods:
                methods.add("HEAD")
        self.methods: set[str] | None = methods
        self._strict_slashes = strict_slashes
        self.build_only = build_only
        self.redirect_to = redirect_to
        self.websocket = websocket
        self.subdomain = subdomain
        self.host = host
        self.provide_automatic_options = False
        self.include_in_schema = True
        self.map: Map | None = None
        self.arguments: set[str] = set(self.defaults or ())
        self._variables: list[str] = []
        self._parts: list[tuple[BaseConverter | None, str]] = []
        for key, value in options.items():
            setattr(self, key, value)

    @property
    def strict_slashes(self) -> bool:
        """Whether a trailing slash is significant (the map's setting unless
        the rule sets its own)."""
        if self._strict_slashes is not None:
            return self._strict_slashes
        return self.map.strict_slashes if self.map is not None else True

    def bind(self, map: Map) -> None:
        """Compile the rule with the converters of *map*."""
        if self.map is not None and self.map is not map:
            raise RuntimeError(f"The rule {self.rule!r} already belongs to another map.")
        self.map = map
        regex = ["^"]
        path_format = []
        self._parts = []
        self._variables = []
        self.param_convertors = {}
        # Werkzeug: the arguments are the variables and the defaults' keys.
        self.arguments = set(self.defaults or ())
        for converter_name, args, data in parse_rule(self.rule):
            if converter_name is None:
                self._parts.append((None, data))
                regex.append(re.escape(data))
                path_format.append(data)
                continue
            if data in self._variables:
                raise ValueError(f"The variable {data!r} appears twice in the rule {self.rule!r}.")
            converter_class = map.converters.get(converter_name)
            if converter_class is None:
                raise LookupError(
                    f"The rule {self.rule!r} uses the converter {converter_name!r}, which is "
                    f"not registered. Known converters: {', '.join(sorted(map.converters))}. "
                    f"Register it with app.url_map.converters[{converter_name!r}] = YourConverter."
                )
            c_args, c_kwargs = parse_converter_args(args or "")
            converter = converter_class(map, *c_args, **c_kwargs)
            self.arguments.add(data)
            self._variables.append(data)
            self._parts.append((converter, data))
            self.param_convertors[data] = _StarletteConvertor(converter)
            regex.append(f"(?P<{data}>{converter.regex})")
            path_format.append(f"{{{data}}}")
        if not self.strict_slashes:
            if self.rule.endswith("/") and self._parts[-1][0] is None:
                # The final slash of the last static text becomes optional.
                regex[-1] = re.escape(self._parts[-1][1][:-1]) + "/?"
            elif not self.rule.endswith("/"):
                regex.append("/?")
        regex.append("$")
        self.path_regex = re.compile("".join(regex))
        self.path_format = "".join(path_format)

    @property
    def is_static(self) -> bool:
        """Whether the rule has no variables."""
        return not self._variables

    def _sort_key(self) -> tuple[tuple[int, int, int], ...]:
        """Werkzeug's matching order, segment by segment: static text before
        variables; among variable segments, more static text first
        (``<name>.json`` before ``<name>``), then lighter converters (int)
        before heavier ones (path)."""
        segments = [[0, 0, 0]]
        for converter, data in self._parts:
            if converter is None:
                head, *tails = data.split("/")
                segments[-1][1] -= len(head)
                for tail in tails:
                    segments.append([0, -len(tail), 0])
            else:
                segments[-1][0] = 1
                segments[-1][2] = max(segments[-1][2], converter.weight)
        return tuple((kind, static, weight) for kind, static, weight in segments)

    def match_path(self, path: str) -> dict[str, Any] | None:
        """The view arguments if *path* matches this rule, else ``None``."""
        found = self.path_regex.match(path)
        if found is None:
            return None
        values: dict[str, Any] = dict(self.defaults) if self.defaults else {}
        if self._variables:
            try:
                for converter, name in self._parts:
                    if converter is not None:
                        values[name] = converter.to_python(found[name])
            except ValidationError:
                return None
        return values

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Starlette's matching interface, for tools that walk the routes."""
        if scope["type"] != ("websocket" if self.websocket else "http"):
            return Match.NONE, {}
        values = self.match_path(scope.get("path", ""))
        if values is None:
            return Match.NONE, {}
        child = {"endpoint": self.endpoint, "path_params": values}
        if self.methods and scope.get("method", "GET") not in self.methods:
            return Match.PARTIAL, child
        return Match.FULL, child

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError(
            "A flaskish Rule is dispatched by its app, not called directly; route requests "
            "through the Flask app."
        )

    def build(self, values: Mapping[str, Any], append_unknown: bool = True) -> str | None:
        """The URL path (and query string) for *values*, or ``None`` if this
        rule cannot take them."""
        defaults = self.defaults or {}
        for name in self.arguments:
            if name not in values and name not in defaults:
                return None
        for name, value in defaults.items():
            if name in values and values[name] != value:
                return None
        out = []
        for converter, data in self._parts:
            if converter is None:
                out.append(data)
            else:
                value = values[data] if data in values else defaults[data]
                out.append(converter.to_url(value))
        path = "".join(out)
        if append_unknown:
            query = [
                (key, value) for key, value in _query_items(values)
                if key not in self.arguments and key not in defaults
            ]
            if query:
                path += "?" + urlencode(query, safe="!$'()*,/:;?@")
        return path

    def __str__(self) -> str:
        return self.rule

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        methods = f" ({', '.join(sorted(self.methods))})" if self.methods else ""
        return f"<{type(self).__name__} {self.rule!r}{methods} -> {self.endpoint}>"


def _query_items(values: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    for key, value in values.items():
        if value is None:
            continue
        if hasattr(value, "getlist") and hasattr(value, "lists"):
            value = [item for _, items in value.lists() for item in items]
        if isinstance(value, (list, tuple)):
            for item in value:
                if item is not None:
                    yield key, item
        else:
            yield key, value


# -- the map ------------------------------------------------------------------


class _Index:
    """Candidate rules by path, built once the rules are final.

    * ``static``: exact path -> rules without variables.
    * ``by_prefix``: the static segments a variable rule starts with
      (``"/api/r5"`` for ``/api/r5/<int:id>``, ``""`` for ``/<name>``) ->
      the rules under that prefix *and under every shorter one*, in
      matching order. A path is looked up by its longest segment prefix
      that is a key, so 1000 rules under ``/api/`` are not scanned one by one.
    """

    def __init__(self, rules: list[Rule], by_endpoint: dict[str, list[Rule]]) -> None:
        self.static: dict[str, list[Rule]] = {}
        under: dict[str, list[Rule]] = {"": []}
        for rule in rules:
            if rule.build_only or rule.websocket:
                continue
            if rule.is_static:
                paths = [rule.rule]
                if not rule.strict_slashes and rule.rule != "/":
                    other = rule.rule[:-1] if rule.rule.endswith("/") else rule.rule + "/"
                    paths.append(other)
                for path in paths:
                    self.static.setdefault(path, []).append(rule)
                continue
            static_text = rule.rule[: rule.rule.index("<")]
            under.setdefault(static_text[: static_text.rfind("/")], []).append(rule)
        order = {id(rule): position for position, rule in enumerate(rules)}

        def priority(rule: Rule) -> tuple[Any, ...]:
            return (rule._sort_key(), order[id(rule)])

        self.by_prefix: dict[str, list[Rule]] = {}
        for key in under:
            merged = list(under[key])
            ancestor = key
            while ancestor:
                ancestor = ancestor[: ancestor.rfind("/")]
                merged.extend(under.get(ancestor, ()))
            self.by_prefix[key] = sorted(merged, key=priority)
        # Werkzeug's redirect_defaults: "/users/page/1" redirects to "/users/"
        # when a rule of the endpoint that builds first has the default page=1.
        self.default_providers: dict[int, list[Rule]] = {}
        for same_endpoint in by_endpoint.values():
            for position, rule in enumerate(same_endpoint):
                providers = [
                    other for other in same_endpoint[:position]
                    if other.defaults and not other.build_only
                    and other.arguments == rule.arguments
                ]
                if providers:
                    self.default_providers[id(rule)] = providers

    def candidates(self, path: str) -> list[Rule]:
        by_prefix = self.by_prefix
        key = path
        while key:
            found = by_prefix.get(key)
            if found is not None:
                return found
            key = key[: key.rfind("/")]
        return by_prefix[""]


class Map:
    """The URL rules of one app (``app.url_map``).

    Iterating gives the rules; :attr:`converters` holds this app's
    converters (add your own here).

    :param strict_slashes: the default for rules that do not set it.
    """

    default_converters: ClassVar[Mapping[str, type[BaseConverter]]] = DEFAULT_CONVERTERS

    def __init__(
        self,
        rules: Iterable[Rule] | None = None,
        strict_slashes: bool = True,
        converters: Mapping[str, type[BaseConverter]] | None = None,
        host_matching: bool = False,
    ) -> None:
        self.converters: dict[str, type[BaseConverter]] = dict(self.default_converters)
        if converters:
            self.converters.update(converters)
        self.strict_slashes = strict_slashes
        self.host_matching = host_matching
        self._rules: list[Rule] = []
        self._rules_by_endpoint: dict[str, list[Rule]] = {}
        self._index: _Index | None = None
        for rule in rules or ():
            self.add(rule)

    def add(self, rule: Rule) -> None:
        """Add and compile a rule."""
        rule.bind(self)
        self._rules.append(rule)
        same_endpoint = self._rules_by_endpoint.setdefault(rule.endpoint, [])
        same_endpoint.append(rule)
        # Werkzeug's build order: more arguments first, then more defaults.
        same_endpoint.sort(key=lambda r: (-len(r.arguments), -len(r.defaults or ())))
        self._index = None

    def bind(
        self,
        server_name: str,
        script_name: str | None = None,
        subdomain: str | None = None,
        url_scheme: str = "http",
        default_method: str = "GET",
        path_info: str | None = None,
        query_args: Mapping[str, Any] | str | None = None,
    ) -> MapAdapter:
        """This map bound to a server, to match paths and build URLs outside
        a request, as Werkzeug's ``Map.bind``.

        :param server_name: the host, e.g. ``"example.com"``.
        :param script_name: the prefix the app is served under.
        :param subdomain: not supported yet; must be ``None``.
        :param url_scheme: the scheme of the URLs built.
        :param default_method: the method :meth:`MapAdapter.match` assumes.
        :param path_info: the path :meth:`MapAdapter.match` assumes.
        :param query_args: the query string a slash redirect keeps.
        """
        if subdomain is not None:
            raise ValueError(
                "flaskish does not support subdomain matching yet, so url_map.bind() takes "
                "no subdomain; bind the full host name as server_name instead."
            )
        return MapAdapter(
            self, server_name, script_name or "/", url_scheme, path_info or "/",
            default_method, query_args,
        )

    def iter_rules(self, endpoint: str | None = None) -> Iterator[Rule]:
        """The rules, or those of one endpoint."""
        if endpoint is not None:
            return iter(self._rules_by_endpoint.get(endpoint, ()))
        return iter(self._rules)

    def endpoints(self) -> list[str]:
        """The endpoint names that have rules."""
        return list(self._rules_by_endpoint)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._rules!r})"

    def _candidates(self, path: str, host: str | None = None) -> tuple[list[Rule], list[Rule]]:
        index = self._index
        if index is None:
            index = self._index = _Index(self._rules, self._rules_by_endpoint)
        static, dynamic = index.static.get(path, []), index.candidates(path)
        if self.host_matching:
            # A rule with a host answers on that host only (static hosts; a
            # rule without one answers on any host).
            static = [rule for rule in static if rule.host in (None, host)]
            dynamic = [rule for rule in dynamic if rule.host in (None, host)]
        return static, dynamic

    def match(
        self, path: str, method: str, host: str | None = None
    ) -> tuple[Rule, dict[str, Any]]:
        """The rule and view arguments for *path* and *method* (and the
        request's *host*, with ``host_matching``).

        :raises NotFound: nothing matches the path.
        :raises MethodNotAllowed: the path matches, only for other methods.
        :raises RequestRedirect: the path matches with a trailing slash added.
        """
        static, dynamic = self._candidates(path, host)
        for rule in static:
            if rule.methods is None or method in rule.methods:
                return self._checked(rule, dict(rule.defaults) if rule.defaults else {}, method)
        if not static and path[-1:] != "/" and self._index is not None:
            # "/dir" for the static rule "/dir/" redirects, as in Werkzeug,
            # even when a variable rule would also match "/dir".
            for rule in self._index.static.get(path + "/", ()):
                if rule.strict_slashes and (rule.methods is None or method in rule.methods):
                    raise RequestRedirect(path + "/")
        for rule in dynamic:
            if rule.methods is None or method in rule.methods:
                values = rule.match_path(path)
                if values is not None:
                    return self._checked(rule, values, method)
        if not path.endswith("/"):
            slashed = path + "/"
            static, dynamic = self._candidates(slashed, host)
            for rule in (*static, *dynamic):
                if rule.strict_slashes and rule.match_path(slashed) is not None and (
                    rule.methods is None or method in rule.methods
                ):
                    raise RequestRedirect(slashed)
        allowed = self.allowed_methods(path, host)
        if allowed:
            raise MethodNotAllowed(sorted(allowed))
        raise NotFound()

    def _checked(
        self, rule: Rule, values: dict[str, Any], method: str
    ) -> tuple[Rule, dict[str, Any]]:
        providers = self._index.default_providers.get(id(rule)) if self._index else None
        if providers:
            for provider in providers:
                if provider.methods is not None and method not in provider.methods:
                    continue
                target = provider.build(values, append_unknown=False)
                if target is not None:
                    raise RequestRedirect(target)
        return rule, values

    def allowed_methods(self, path: str, host: str | None = None) -> set[str]:
        """Every method some rule accepts for *path* (on *host*)."""
        static, dynamic = self._candidates(path, host)
        allowed: set[str] = set()
        for rule in (*static, *dynamic):
            if rule.methods and (rule in static or rule.match_path(path) is not None):
                allowed |= rule.methods
        return allowed

    def build(
        self, endpoint: str, values: Mapping[str, Any], method: str | None = None,
        append_unknown: bool = True,
    ) -> str:
        """The path (with query string for unknown values) for *endpoint*.

        :raises BuildError: no rule of the endpoint can take the values.
        """
        return self._build(endpoint, values, method, append_unknown)[0]

    def _build(
        self, endpoint: str, values: Mapping[str, Any], method: str | None,
        append_unknown: bool = True,
    ) -> tuple[str, Rule]:
        for rule in self._rules_by_endpoint.get(endpoint, ()):
            if method is not None and rule.methods is not None and method not in rule.methods:
                continue
            try:
                path = rule.build(values, append_unknown)
            except ValidationError:
                continue
            if path is not None:
                return path, rule
        raise BuildError(endpoint, values, method, self)

