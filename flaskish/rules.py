"""URL rules in Flask's syntax, compiled into Starlette routes.

A rule such as ``/user/<int:id>`` becomes a :class:`Rule`, which *is* a
:class:`starlette.routing.Route` with a regular expression built from the
rule's converters (the map's own: never Starlette's process-wide convertor
table, so two apps never see each other's converters). A rule may also
have a domain: a ``subdomain`` (``"admin"``, ``"<user>"``) or, with host
matching, a ``host`` (``"<tenant>.shop.test"``), compiled the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

from starlette.routing import Match, Route

from .converters import (
    BaseConverter,
    ValidationError,
    _StarletteConvertor,
    parse_converter_args,
)

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from .url_map import Map

__all__ = ["Rule", "parse_rule"]

_redirect_variable = re.compile(r"<([^>]+)>")  # a name in a redirect_to string
#: What stays unquoted in a built path (a WHATWG path-segment string).
_PATH_SAFE = "!$&'()*+,/:;=@"
#: What stays unquoted in a built query string.
_QUERY_SAFE = "!$'()*,/:;?@"
#: Text that ``quote_plus(text, safe=_QUERY_SAFE)`` gives back unchanged.
_unquoted_query_text = re.compile(r"[\w.~!$'()*,/:;?@-]*", re.ASCII).fullmatch
#: Text that ``quote(text, safe=_PATH_SAFE)`` gives back unchanged.
_unquoted_path_text = re.compile(r"[\w.~!$&'()*+,/:;=@-]*", re.ASCII).fullmatch


def _quoted_text(value: Any) -> str:
    """:meth:`BaseConverter.to_url <flaskish.converters.BaseConverter.to_url>`
    (``<name>``, ``<path:p>``), with one regular expression match instead of
    ``quote``'s six calls for text that needs no quoting."""
    text = str(value)
    if _unquoted_path_text(text) is not None:
        return text
    return quote(text, safe=_PATH_SAFE)


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
        subdomain: str | None = None,
        methods: Iterable[str] | None = None,
        build_only: bool = False,
        endpoint: str | None = None,
        strict_slashes: bool | None = None,
        merge_slashes: bool | None = None,
        redirect_to: str | Callable[..., str] | None = None,
        alias: bool = False,
        host: str | None = None,
        websocket: bool = False,
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
            if websocket and methods - {"GET", "HEAD", "OPTIONS"}:
                raise ValueError(
                    f"The websocket rule {string!r} takes methods={sorted(methods)}; a websocket "
                    "handshake is a GET: leave methods out (or use GET, HEAD, OPTIONS)."
                )
        self.methods: set[str] | None = methods
        self._strict_slashes = strict_slashes
        self._merge_slashes = merge_slashes
        self.build_only = build_only
        self.redirect_to = redirect_to
        self.alias = alias
        self.websocket = websocket
        self.subdomain = subdomain
        self.host = host
        self.provide_automatic_options = False
        self.include_in_schema = True
        self.map: Map | None = None
        self.arguments: set[str] = set(self.defaults or ())
        self._variables: list[str] = []
        self._parts: list[tuple[BaseConverter | None, str]] = []
        #: The host (host matching) or subdomain this rule answers on, when
        #: it has no variables; else ``None`` and :attr:`_domain_regex`.
        self._domain: str | None = ""
        self._domain_parts: list[tuple[BaseConverter | None, str]] = []
        self._domain_regex: re.Pattern[str] | None = None
        self._path_static = True
        #: What :meth:`build` needs, derived once from the rule in :meth:`bind`:
        #: the arguments that have no default, the path as text when it has
        #: no variables to fill (else ``None`` and :attr:`_build_parts`).
        self._required: frozenset[str] = frozenset()
        self._build_text: str | None = None
        self._build_parts: list[tuple[Callable[[Any], str] | None, str]] = []

    @property
    def strict_slashes(self) -> bool:
        """Whether a trailing slash is significant (the map's setting unless
        the rule sets its own)."""
        if self._strict_slashes is not None:
            return self._strict_slashes
        return self.map.strict_slashes if self.map is not None else True

    @property
    def merge_slashes(self) -> bool:
        """Whether a request path with repeated slashes (``/a//b``) is
        redirected to this rule's merged path (the map's setting unless the
        rule sets its own)."""
        if self._merge_slashes is not None:
            return self._merge_slashes
        return self.map.merge_slashes if self.map is not None else True

    def bind(self, map: Map) -> None:
        """Compile the rule with the converters of *map*."""
        if self.map is not None and self.map is not map:
            raise RuntimeError(f"The rule {self.rule!r} already belongs to another map.")
        self.map = map
        path_format = []
        self._variables = []
        self.param_convertors = {}
        # Werkzeug: the arguments are the variables and the defaults' keys.
        self.arguments = set(self.defaults or ())
        if map.host_matching:
            domain = self.host or ""
        else:
            domain = self.subdomain if self.subdomain is not None else map.default_subdomain
        self._domain_parts, domain_regex = self._compile(domain, map)
        self._domain = domain if not self._variables else None
        self._domain_regex = (
            re.compile("".join(domain_regex) + "$") if self._domain is None else None
        )
        self._parts, regex = self._compile(self.rule, map)
        regex.insert(0, "^")
        self._path_static = True
        for converter, data in self._parts:
            if converter is None:
                path_format.append(data)
            else:
                self._path_static = False
                self.param_convertors[data] = _StarletteConvertor(converter)
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
        self._prepare_build()
        if isinstance(self.redirect_to, str):
            unknown = set(_redirect_variable.findall(self.redirect_to)) - set(self._variables)
            if unknown:
                raise ValueError(
                    f"The rule {self.rule!r} redirects to {self.redirect_to!r}, which names "
                    f"{', '.join(sorted(unknown))}: not a variable of the rule. Write "
                    "redirect_to with the rule's own variable names, as <name>."
                )

    def _compile(
        self, string: str, map: Map
    ) -> tuple[list[tuple[BaseConverter | None, str]], list[str]]:
        """The parts of a rule's path or domain, and its regular expression's
        pieces (variables added to :attr:`arguments`)."""
        parts: list[tuple[BaseConverter | None, str]] = []
        regex: list[str] = []
        for converter_name, args, data in parse_rule(string):
            if converter_name is None:
                parts.append((None, data))
                regex.append(re.escape(data))
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
            parts.append((converter, data))
            regex.append(f"(?P<{data}>{converter.regex})")
        return parts, regex

    def _converters(self) -> dict[str, BaseConverter]:
        """The converter of each variable, by name."""
        return {
            name: converter
            for converter, name in (*self._domain_parts, *self._parts)
            if converter is not None
        }

    @property
    def is_static(self) -> bool:
        """Whether the rule's path has no variables."""
        return self._path_static

    def _sort_key(self) -> tuple[tuple[int, int, int], ...]:
        """Werkzeug's matching order, the domain first, then segment by
        segment: static text before variables; among variable segments, more static text first
        (``<name>.json`` before ``<name>``), then lighter converters (int)
        before heavier ones (path)."""
        domain = [0, 0, 0]
        for converter, data in self._domain_parts:
            if converter is None:
                domain[1] -= len(data)
            else:
                domain[0] = 1
                domain[2] = max(domain[2], converter.weight)
        segments = [domain, [0, 0, 0]]
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
        """The path's variables if *path* matches this rule, else ``None``
        (the map adds the domain's variables and the defaults)."""
        found = self.path_regex.match(path)
        if found is None:
            return None
        values: dict[str, Any] = {}
        if not self._path_static:
            try:
                for converter, name in self._parts:
                    if converter is not None:
                        values[name] = converter.to_python(found[name])
            except ValidationError:
                return None
        return values

    def match_domain(self, domain: str) -> dict[str, Any] | None:
        """The variables of this rule's host (with host matching) or
        subdomain if *domain* is one it answers on, else ``None``."""
        if self._domain is not None:
            return {} if domain == self._domain else None
        found = self._domain_regex.match(domain)  # type: ignore[union-attr]
        if found is None:
            return None
        try:
            return {
                name: converter.to_python(found[name])
                for converter, name in self._domain_parts
                if converter is not None
            }
        except ValidationError:
            return None

    def build_domain(self, values: Mapping[str, Any]) -> str:
        """This rule's host or subdomain for *values* (which :meth:`build`
        accepted)."""
        if self._domain is not None:
            return self._domain
        defaults = self.defaults or {}
        return "".join(
            data
            if converter is None
            else converter.to_url(values[data] if data in values else defaults[data])
            for converter, data in self._domain_parts
        )

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

    def _prepare_build(self) -> None:
        """Derive what :meth:`build` needs from the rule: static text quoted
        as Werkzeug quotes it (``/caf\u00e9`` builds ``/caf%C3%A9``), each
        variable's ``to_url``, and which arguments must be given."""
        defaults = self.defaults or {}
        self._required = frozenset(name for name in self.arguments if name not in defaults)
        parts: list[tuple[Callable[[Any], str] | None, str]] = []
        for converter, data in self._parts:
            if converter is None:
                parts.append((None, quote(data, safe=_PATH_SAFE)))
            elif getattr(converter.to_url, "__func__", None) is BaseConverter.to_url:
                parts.append((_quoted_text, data))  # string, path: the same, faster
            else:
                parts.append((converter.to_url, data))
        variables = any(to_url is not None for to_url, _ in parts)
        self._build_parts = parts
        self._build_text = None if variables else "".join(text for _, text in parts)

    def build(self, values: Mapping[str, Any], append_unknown: bool = True) -> str | None:
        """The URL path (and query string) for *values*, or ``None`` if this
        rule cannot take them (an argument missing, a value other than the
        rule's default for it). A variable that has a default is built from
        the default, as in Werkzeug.

        :raises ValidationError: from a converter's ``to_url``: the map
            tries the endpoint's next rule.
        """
        defaults = self.defaults
        if defaults:
            for name, value in defaults.items():
                if name in values and values[name] != value:
                    return None
        if not values.keys() >= self._required:
            return None
        path = self._build_text
        if path is None:
            # (A given value equals its default, checked above.)
            source = {**values, **defaults} if defaults else values
            path = "".join(
                [
                    text if to_url is None else to_url(source[text])
                    for to_url, text in self._build_parts
                ]
            )
        if append_unknown and not self.arguments.issuperset(values):
            query = [
                (key, value) for key, value in _query_items(values) if key not in self.arguments
            ]
            if query:
                if self.map is not None and self.map.sort_parameters:
                    query.sort(key=self.map.sort_key)
                path += "?" + _encode_query(query)
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


def _encode_query(query: Iterable[tuple[Any, Any]]) -> str:
    """``urlencode(query, safe=_QUERY_SAFE)`` (Werkzeug's query string),
    without ``quote_plus``'s calls for text that needs no quoting."""
    return "&".join([f"{_query_text(key)}={_query_text(value)}" for key, value in query])


def _query_text(value: Any) -> str:
    if isinstance(value, bytes):
        return quote_plus(value, safe=_QUERY_SAFE)
    text = str(value)
    if _unquoted_query_text(text) is not None:
        return text
    return quote_plus(text, safe=_QUERY_SAFE)


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
