"""The app's URL map (``app.url_map``): its rules, indexed for matching.

Matching follows Werkzeug's order. The request's *domain* comes first: its
host with ``host_matching``, else its subdomain (see :mod:`flaskish.urls`).
Rules with that exact domain are tried before rules whose domain has
variables; within each, static paths before variable ones (``_sort_key``).
A path matching only with a trailing slash added redirects (308), one with
repeated slashes redirects to its merged form (``merge_slashes``), one
matching only for other methods is a 405 with ``Allow``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, ClassVar

from .converters import DEFAULT_CONVERTERS, BaseConverter, ValidationError
from .exceptions import MethodNotAllowed, NotFound
from .map_adapter import MapAdapter
from .routing_exceptions import BuildError, RequestRedirect, WebsocketMismatch
from .rules import Rule

__all__ = ["Map"]

_repeated_slashes = re.compile("/{2,}")


class _Index:
    """Candidate rules by path, for rules of one domain (or for all the
    rules whose domain has variables).

    * ``static``: exact path -> rules without variables in their path.
    * ``by_prefix``: the static segments a variable rule starts with
      (``"/api/r5"`` for ``/api/r5/<int:id>``, ``""`` for ``/<name>``) ->
      the rules under that prefix *and under every shorter one*, in
      matching order. A path is looked up by its longest segment prefix
      that is a key, so 1000 rules under ``/api/`` are not scanned one by one.
    """

    def __init__(self, rules: list[Rule], order: dict[int, int]) -> None:
        self.static: dict[str, list[Rule]] = {}
        under: dict[str, list[Rule]] = {"": []}
        for rule in rules:
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

        def priority(rule: Rule) -> tuple[Any, ...]:
            return (rule._sort_key(), order[id(rule)])

        for same_path in self.static.values():
            same_path.sort(key=priority)
        self.by_prefix: dict[str, list[Rule]] = {}
        for key in under:
            merged = list(under[key])
            ancestor = key
            while ancestor:
                ancestor = ancestor[: ancestor.rfind("/")]
                merged.extend(under.get(ancestor, ()))
            self.by_prefix[key] = sorted(merged, key=priority)

    def candidates(self, path: str) -> list[Rule]:
        by_prefix = self.by_prefix
        key = path
        while key:
            found = by_prefix.get(key)
            if found is not None:
                return found
            key = key[: key.rfind("/")]
        return by_prefix[""]


class _Indexes:
    """The indexes of a map's HTTP (or websocket) rules: one per exact
    domain, one for the rules whose domain has variables, and the
    redirect-defaults providers."""

    def __init__(
        self, rules: list[Rule], by_endpoint: dict[str, list[Rule]], websocket: bool
    ) -> None:
        order = {id(rule): position for position, rule in enumerate(rules)}
        exact: dict[str, list[Rule]] = {}
        variable: list[Rule] = []
        for rule in rules:
            if rule.build_only or rule.websocket is not websocket:
                continue
            if rule._domain is None:
                variable.append(rule)
            else:
                exact.setdefault(rule._domain, []).append(rule)
        self.exact = {domain: _Index(same, order) for domain, same in exact.items()}
        self.variable = _Index(variable, order) if variable else None
        # Werkzeug's redirect_defaults: "/users/page/1" redirects to "/users/"
        # when a rule of the endpoint that builds first has the default page=1.
        self.default_providers: dict[int, list[Rule]] = {}
        for same_endpoint in by_endpoint.values():
            for position, rule in enumerate(same_endpoint):
                providers = [
                    other
                    for other in same_endpoint[:position]
                    if other.defaults and not other.build_only and other.arguments == rule.arguments
                ]
                if providers:
                    self.default_providers[id(rule)] = providers

    def groups(self, domain: str) -> list[tuple[_Index, str | None]]:
        """The indexes to try for *domain*, in order, each with the domain
        its rules must still be checked against (``None``: all match)."""
        groups: list[tuple[_Index, str | None]] = []
        index = self.exact.get(domain)
        if index is not None:
            groups.append((index, None))
        if self.variable is not None:
            groups.append((self.variable, domain))
        return groups


def _accepts(rule: Rule, method: str) -> bool:
    return rule.methods is None or method in rule.methods


class Map:
    """The URL rules of one app (``app.url_map``), with Werkzeug's
    ``Map`` options.

    Iterating gives the rules; :attr:`converters` holds this app's
    converters (add your own here).

    :param default_subdomain: the subdomain of rules that set none.
    :param strict_slashes: the default for rules that do not set it.
    :param merge_slashes: redirect ``/a//b`` to ``/a/b`` (the default for
        rules that do not set it).
    :param redirect_defaults: redirect a URL that spells out a rule's
        default values to the rule that has them (``/page/1`` to ``/``).
    :param sort_parameters: sort the query string of built URLs...
    :param sort_key: ...with this key function on ``(name, value)``.
    :param host_matching: match rules by the request's host (``host=``)
        instead of its subdomain.
    """

    default_converters: ClassVar[Mapping[str, type[BaseConverter]]] = DEFAULT_CONVERTERS

    def __init__(
        self,
        rules: Iterable[Rule] | None = None,
        default_subdomain: str = "",
        strict_slashes: bool = True,
        merge_slashes: bool = True,
        redirect_defaults: bool = True,
        converters: Mapping[str, type[BaseConverter]] | None = None,
        sort_parameters: bool = False,
        sort_key: Callable[[Any], Any] | None = None,
        host_matching: bool = False,
    ) -> None:
        self.converters: dict[str, type[BaseConverter]] = dict(self.default_converters)
        if converters:
            self.converters.update(converters)
        self.default_subdomain = default_subdomain
        self.strict_slashes = strict_slashes
        self.merge_slashes = merge_slashes
        self.redirect_defaults = redirect_defaults
        self.sort_parameters = sort_parameters
        self.sort_key = sort_key
        self.host_matching = host_matching
        self._rules: list[Rule] = []
        self._rules_by_endpoint: dict[str, list[Rule]] = {}
        self._indexes: _Indexes | None = None  # HTTP rules
        self._websocket_indexes: _Indexes | None = None
        for rule in rules or ():
            self.add(rule)

    def add(self, rule: Rule) -> None:
        """Add and compile a rule."""
        rule.bind(self)
        self._rules.append(rule)
        same_endpoint = self._rules_by_endpoint.setdefault(rule.endpoint, [])
        same_endpoint.append(rule)
        # Werkzeug's build order: aliases last, more arguments first, then
        # more defaults.
        same_endpoint.sort(key=lambda r: (r.alias, -len(r.arguments), -len(r.defaults or ())))
        self._indexes = self._websocket_indexes = None

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
        :param subdomain: the subdomain matched and built from (default:
            :attr:`default_subdomain`).
        :param url_scheme: the scheme of the URLs built.
        :param default_method: the method :meth:`MapAdapter.match` assumes.
        :param path_info: the path :meth:`MapAdapter.match` assumes.
        :param query_args: the query string a redirect keeps.
        """
        return MapAdapter(
            self,
            server_name,
            script_name or "/",
            url_scheme,
            path_info or "/",
            default_method,
            query_args,
            self.default_subdomain if subdomain is None else subdomain,
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

    def _ready(self, websocket: bool = False) -> _Indexes:
        if websocket:
            if self._websocket_indexes is None:
                self._websocket_indexes = _Indexes(self._rules, self._rules_by_endpoint, True)
            return self._websocket_indexes
        if self._indexes is None:
            self._indexes = _Indexes(self._rules, self._rules_by_endpoint, False)
        return self._indexes

    # -- matching -------------------------------------------------------------

    def match(
        self, path: str, method: str, domain: str = "", websocket: bool = False
    ) -> tuple[Rule, dict[str, Any]]:
        """The rule and view arguments for *path* and *method* on *domain*
        (the request's host with :attr:`host_matching`, else its subdomain).

        :raises NotFound: nothing matches the path.
        :raises MethodNotAllowed: the path matches, only for other methods.
        :raises WebsocketMismatch: only a websocket rule matches an HTTP
            request, or only an HTTP rule a websocket (a 400).
        :raises RequestRedirect: the path matches in another form (a
            trailing slash added, slashes merged, defaults left out).
        """
        indexes = self._indexes if not websocket else self._websocket_indexes
        if indexes is None:
            indexes = self._ready(websocket)
        index = indexes.exact.get(domain)
        if index is not None:
            found = self._match_in(index, None, path, method)
            if found is not None:
                return found
        if indexes.variable is not None:
            found = self._match_in(indexes.variable, domain, path, method)
            if found is not None:
                return found
        raise self._no_match(indexes, path, method, domain, websocket)

    def _match_in(
        self, index: _Index, domain: str | None, path: str, method: str
    ) -> tuple[Rule, dict[str, Any]] | None:
        """Match in one index; *domain*, if given, is checked rule by rule."""
        static = index.static.get(path)
        if static:
            for rule in static:
                if rule.methods is None or method in rule.methods:
                    if domain is None:
                        return self._checked(rule, {}, method)
                    domain_values = rule.match_domain(domain)
                    if domain_values is not None:
                        return self._checked(rule, domain_values, method)
        elif path[-1:] != "/":
            # "/dir" for the static rule "/dir/" redirects, as in Werkzeug,
            # even when a variable rule would also match "/dir".
            for rule in index.static.get(path + "/", ()):
                if (
                    rule.strict_slashes
                    and _accepts(rule, method)
                    and (domain is None or rule.match_domain(domain) is not None)
                ):
                    raise RequestRedirect(path + "/")
        for rule in index.candidates(path):
            if rule.methods is None or method in rule.methods:
                values = rule.match_path(path)
                if values is None:
                    continue
                if domain is not None:
                    domain_values = rule.match_domain(domain)
                    if domain_values is None:
                        continue
                    values.update(domain_values)
                return self._checked(rule, values, method)
        return None

    def _checked(
        self, rule: Rule, values: dict[str, Any], method: str
    ) -> tuple[Rule, dict[str, Any]]:
        if rule.defaults:
            values.update(rule.defaults)  # Werkzeug: the defaults win
        if self.redirect_defaults:
            indexes = self._indexes
            providers = indexes.default_providers.get(id(rule)) if indexes else None
            if providers:
                for provider in providers:
                    if provider.methods is not None and method not in provider.methods:
                        continue
                    target = provider.build(values, append_unknown=False)
                    if target is not None:
                        raise RequestRedirect(target)
            if rule.alias:
                target, canonical = self._build(rule.endpoint, values, method, False)
                if canonical is rule:
                    raise RuntimeError(
                        f"The rule {rule.rule!r} is an alias, and the endpoint "
                        f"{rule.endpoint!r} has no other rule for these values to redirect "
                        "to; add the canonical rule or drop alias=True."
                    )
                raise RequestRedirect(target)
        return rule, values

    def _no_match(
        self, indexes: _Indexes, path: str, method: str, domain: str, websocket: bool
    ) -> Exception:
        """What a path that matched no rule gets: a redirect to a form that
        matches, else a 405 or a 404."""
        groups = indexes.groups(domain)
        if not path.endswith("/"):
            slashed = path + "/"
            for index, check in groups:
                for rule in (*index.static.get(slashed, ()), *index.candidates(slashed)):
                    if (
                        rule.strict_slashes
                        and _accepts(rule, method)
                        and rule.match_path(slashed) is not None
                        and (check is None or rule.match_domain(check) is not None)
                    ):
                        return RequestRedirect(slashed)
        if self.merge_slashes and "//" in path:
            merged = _repeated_slashes.sub("/", path)
            try:
                rule, _ = self.match(merged, method, domain, websocket)
            except RequestRedirect as redirect:
                return redirect
            except (NotFound, MethodNotAllowed):
                pass
            else:
                if rule.merge_slashes:
                    return RequestRedirect(merged)
        allowed = self._allowed(groups, path)
        if allowed:
            return MethodNotAllowed(sorted(allowed))
        other = self._ready(not websocket).groups(domain)
        if self._allowed(other, path) or any(
            rule.methods is None and rule.match_path(path) is not None
            for index, _ in other
            for rule in (*index.static.get(path, ()), *index.candidates(path))
        ):
            return WebsocketMismatch()
        return NotFound()

    def allowed_methods(self, path: str, domain: str = "") -> set[str]:
        """Every method some rule accepts for *path* (on *domain*)."""
        return self._allowed(self._ready().groups(domain), path)

    @staticmethod
    def _allowed(groups: list[tuple[_Index, str | None]], path: str) -> set[str]:
        allowed: set[str] = set()
        for index, check in groups:
            static = index.static.get(path, ())
            for rule in (*static, *index.candidates(path)):
                if (
                    rule.methods
                    and (rule in static or rule.match_path(path) is not None)
                    and (check is None or rule.match_domain(check) is not None)
                ):
                    allowed |= rule.methods
        return allowed

    # -- building -------------------------------------------------------------

    def build(
        self,
        endpoint: str,
        values: Mapping[str, Any],
        method: str | None = None,
        append_unknown: bool = True,
    ) -> str:
        """The path (with query string for unknown values) for *endpoint*.

        :raises BuildError: no rule of the endpoint can take the values.
        """
        return self._build(endpoint, values, method, append_unknown)[0]

    def _build(
        self,
        endpoint: str,
        values: Mapping[str, Any],
        method: str | None,
        append_unknown: bool = True,
        default_method: str = "GET",
    ) -> tuple[str, Rule]:
        """The path and the rule that built it. Values that are ``None`` are
        left out. Without *method*, the rules that take *default_method*
        (the request's) are tried first, then all, as Werkzeug does."""
        for value in values.values():
            if value is None:
                values = {key: value for key, value in values.items() if value is not None}
                break
        rules = self._rules_by_endpoint.get(endpoint, ())
        if method is None and len(rules) > 1:  # one rule: both passes try it alone
            found = self._build_with(rules, values, default_method, append_unknown)
            if found is None:
                found = self._build_with(rules, values, None, append_unknown)
        else:
            found = self._build_with(rules, values, method, append_unknown)
        if found is None:
            raise BuildError(endpoint, values, method, self)
        return found

    @staticmethod
    def _build_with(
        rules: Iterable[Rule], values: Mapping[str, Any], method: str | None, append_unknown: bool
    ) -> tuple[str, Rule] | None:
        for rule in rules:
            if method is not None and rule.methods is not None and method not in rule.methods:
                continue
            try:
                path = rule.build(values, append_unknown)
            except ValidationError:
                continue
            if path is not None:
                return path, rule
        return None
