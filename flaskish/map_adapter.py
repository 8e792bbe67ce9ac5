"""``url_map.bind(...)`` and ``app.create_url_adapter(request)``: the URL
map bound to one server, to match paths and build URLs outside a request,
with the API of Werkzeug's ``MapAdapter`` that Flask code and extensions
use (Flask-Limiter's CLI matches paths with it)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from .routing_exceptions import RequestRedirect
from .rules import _redirect_variable

if TYPE_CHECKING:
    from .rules import Rule
    from .url_map import Map

__all__ = ["MapAdapter"]


class MapAdapter:
    """A :class:`~flaskish.routing.Map` bound to a server name, a script
    root and a scheme (and, for :meth:`match` without arguments, a path and
    method).

    :param map: the URL map.
    :param server_name: the host (with its port, if not the default).
    :param script_name: the prefix the app is served under.
    :param url_scheme: ``"http"`` or ``"https"``.
    :param path_info: the path :meth:`match` uses when given none.
    :param default_method: the method :meth:`match` uses when given none.
    :param query_args: the query string a slash redirect keeps.
    :param subdomain: the subdomain matched and built from.
    """

    def __init__(
        self,
        map: Map,
        server_name: str,
        script_name: str = "/",
        url_scheme: str = "http",
        path_info: str = "/",
        default_method: str = "GET",
        query_args: Mapping[str, Any] | str | None = None,
        subdomain: str = "",
    ) -> None:
        self.map = map
        self.server_name = server_name.lower()
        self.script_name = script_name.rstrip("/")
        self.url_scheme = url_scheme
        self.path_info = path_info or "/"
        self.default_method = default_method.upper()
        self.query_args = query_args
        self.subdomain = subdomain

    @property
    def _domain(self) -> str:
        return self.server_name if self.map.host_matching else self.subdomain

    def match(
        self,
        path_info: str | None = None,
        method: str | None = None,
        return_rule: bool = False,
        query_args: Mapping[str, Any] | str | None = None,
        websocket: bool | None = None,
    ) -> tuple[Any, dict[str, Any]]:
        """The endpoint (or, with *return_rule*, the rule) and view arguments
        for a path.

        :raises ~werkzeug.exceptions.NotFound: nothing matches.
        :raises ~werkzeug.exceptions.MethodNotAllowed: only other methods match.
        :raises ~flaskish.routing.RequestRedirect: a canonical URL exists
            (a trailing slash, merged slashes, a rule's ``redirect_to``); its
            ``new_url`` keeps *query_args*.
        """
        path = "/" + (path_info if path_info is not None else self.path_info).lstrip("/")
        try:
            if websocket is None:
                websocket = self.url_scheme in ("ws", "wss")
            rule, values = self.map.match(
                path, (method or self.default_method).upper(), self._domain, websocket
            )
        except RequestRedirect as redirect:
            query = _query_string(query_args if query_args is not None else self.query_args)
            target = self.script_name + redirect.new_url + (f"?{query}" if query else "")
            raise RequestRedirect(target) from None
        if rule.redirect_to is not None:
            raise RequestRedirect(self.redirect_to_url(rule, values))
        return (rule if return_rule else rule.endpoint), values

    def redirect_to_url(self, rule: Rule, values: Mapping[str, Any]) -> str:
        """Where a request matching *rule* (which has ``redirect_to``) goes,
        as Werkzeug computes it: the string with the rule's variables filled
        in, or what the callable returns for ``(adapter, **values)``, joined
        to this adapter's URL."""
        redirect_to = rule.redirect_to
        if isinstance(redirect_to, str):
            converters = rule._converters()

            def fill(found: re.Match[str]) -> str:
                name = found[1]
                return converters[name].to_url(values[name])

            target = _redirect_variable.sub(fill, redirect_to)
        else:
            target = redirect_to(self, **values)  # type: ignore[misc]
        host = self._host(self.subdomain) if not self.map.host_matching else self.server_name
        return urljoin(f"{self.url_scheme}://{host}{self.script_name}", target)

    def test(self, path_info: str | None = None, method: str | None = None) -> bool:
        """Whether :meth:`match` finds a rule (a redirect counts)."""
        try:
            self.match(path_info, method)
        except RequestRedirect:
            return True
        except HTTPException:
            return False
        return True

    def allowed_methods(self, path_info: str | None = None) -> list[str]:
        """The methods some rule accepts for the path."""
        path = "/" + (path_info if path_info is not None else self.path_info).lstrip("/")
        return sorted(self.map.allowed_methods(path, self._domain))

    def build(
        self,
        endpoint: str,
        values: Mapping[str, Any] | None = None,
        method: str | None = None,
        force_external: bool = False,
        append_unknown: bool = True,
        url_scheme: str | None = None,
    ) -> str:
        """The URL of *endpoint* with *values*: a path under the script
        root, or, with *force_external* (or a rule on another host or
        subdomain), an absolute URL (with *url_scheme*, if given, as in
        Werkzeug).

        :raises ~flaskish.routing.BuildError: no rule takes the values.
        """
        if isinstance(values, MultiDict):
            # Every value of a repeated key goes into the query string.
            values = {key: items if len(items) > 1 else items[0] for key, items in values.lists()}
        args = {key: value for key, value in (values or {}).items() if value is not None}
        path, rule = self.map._build(endpoint, args, method, append_unknown, self.default_method)
        domain = rule.build_domain(args)
        if self.map.host_matching:
            host = domain or self.server_name
            here = host == self.server_name
        else:
            host = self._host(domain)
            here = domain == self.subdomain
        if force_external or not here:
            scheme = url_scheme or self.url_scheme
            if rule.websocket:
                scheme = {"http": "ws", "https": "wss"}.get(scheme, scheme)
            return f"{scheme}://{host}{self.script_name}{path}"
        return f"{self.script_name}{path}"

    def _host(self, subdomain: str) -> str:
        return f"{subdomain}.{self.server_name}" if subdomain else self.server_name

    def __repr__(self) -> str:
        return f"<MapAdapter {self.url_scheme}://{self.server_name}{self.script_name}/>"


def _query_string(query: Mapping[str, Any] | str | None) -> str:
    if not query:
        return ""
    if isinstance(query, str):
        return query
    return urlencode(list(MultiDict(query).items(multi=True)))
