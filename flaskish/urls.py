"""The URL half of :class:`~flaskish.Flask`: which domain a request's host
is matched on (host and subdomain matching, with Flask's and Werkzeug's
rules), ``url_for``, ``create_url_adapter``, URL defaults and build error
handlers.

A rule's *domain* is its ``host`` with ``host_matching``, else its
``subdomain`` (the map's ``default_subdomain``, ``""``, if it sets none).
A request's domain is its host with ``host_matching``; else, with
``subdomain_matching``, the part of its host before ``SERVER_NAME``
(``"<invalid>"``, which no rule matches, for a host outside it); else
always the default subdomain, so rules with a subdomain never match (they
still build), as in Flask.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from werkzeug.sansio.utils import get_host

from .globals import _cv_request
from .routing_exceptions import BuildError
from .scaffold import Scaffold

if TYPE_CHECKING:
    from starlette.types import Scope

    from .config import Config
    from .map_adapter import MapAdapter
    from .request import Request
    from .url_map import Map

__all__ = ["Urls", "scope_host"]

INVALID_SUBDOMAIN = "<invalid>"  # Werkzeug's: a host outside SERVER_NAME
_WEBSOCKET_SCHEMES = {"http": "ws", "https": "wss"}
_HTTP_SCHEMES = {"ws": "http", "wss": "https"}
_ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"  # Flask's
#: An anchor that ``quote(anchor, safe=_ANCHOR_SAFE)`` gives back unchanged.
_unquoted_anchor = re.compile(r"[\w.~%!#$&'()*+,/:;=?@-]*", re.ASCII).fullmatch


def scope_host(scope: Scope) -> str:
    """The host an ASGI request was sent to, lowercase, without the
    scheme's default port (Werkzeug's ``get_host``, untrusted)."""
    header = None
    for name, value in scope.get("headers", ()):
        if name == b"host":
            header = value.decode("latin-1")
            break
    server = scope.get("server")
    return get_host(scope.get("scheme", "http"), header, server).lower()


def _without_default_port(server_name: str, scheme: str) -> str:
    server_name = server_name.lower()
    if scheme in {"http", "ws"} and server_name.endswith(":80"):
        return server_name[:-3]
    if scheme in {"https", "wss"} and server_name.endswith(":443"):
        return server_name[:-4]
    return server_name


class Urls(Scaffold):
    """URL matching domains and URL building for :class:`~flaskish.Flask`."""

    # Set by Flask.__init__; declared here for the type checker.
    config: Config
    url_map: Map
    subdomain_matching: bool
    url_build_error_handlers: list[Callable[..., str | None]]

    def _domain(self, host: str, scheme: str) -> str:
        """The domain a request to *host* (as :func:`scope_host` gives it)
        is matched on."""
        url_map = self.url_map
        if url_map.host_matching:
            return host
        if not self.subdomain_matching:
            return url_map.default_subdomain
        server_name = self.config["SERVER_NAME"]
        if not server_name:
            return ""  # the request's host is the server name
        server_name = _without_default_port(server_name, scheme)
        labels, server_labels = host.split("."), server_name.split(".")
        offset = -len(server_labels)
        if labels[offset:] != server_labels:
            warnings.warn(
                f"Current server name {host!r} doesn't match configured server name "
                f"{server_name!r}: nothing matches (404).",
                stacklevel=2,
            )
            return INVALID_SUBDOMAIN
        return ".".join(label for label in labels[:offset] if label)

    def _request_domain(self, request: Request) -> str:
        url_map = self.url_map
        if not url_map.host_matching and not self.subdomain_matching:
            return url_map.default_subdomain
        return self._domain(request.host.lower(), request.scheme)

    def url_for(
        self,
        /,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: Any,
    ) -> str:
        """Build a URL; see :func:`flaskish.url_for`."""
        url_map = self.url_map
        req_ctx = _cv_request.get(None)
        request: Request | None
        if req_ctx is not None and req_ctx.app is self:
            request = req_ctx.request
            if endpoint[:1] == ".":
                blueprint = request.blueprint
                endpoint = f"{blueprint}{endpoint}" if blueprint else endpoint[1:]
            if _external is None:
                _external = _scheme is not None
            root = request.root_path
            default_method = request.method
        else:
            # Flask: outside a request, ".name" is not relative to anything.
            request = None
            if _external is None:
                _external = True
            if self.config["SERVER_NAME"] is None:
                raise RuntimeError(
                    "Unable to build URLs outside an active request without 'SERVER_NAME' "
                    "configured. Also configure 'APPLICATION_ROOT' and 'PREFERRED_URL_SCHEME' "
                    "as needed."
                )
            root = (self.config["APPLICATION_ROOT"] or "/").rstrip("/")
            default_method = "GET"
        if _scheme is not None and not _external:
            raise ValueError("When specifying '_scheme', '_external' must be True.")
        if self.url_default_functions:
            self.inject_url_defaults(endpoint, values)
        try:
            path, rule = url_map._build(endpoint, values, _method, True, default_method)
        except BuildError as error:
            values.update(_anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external)
            return self.handle_url_build_error(error, endpoint, values)
        url = quote(root, safe="/!$&'()*+,;=:@%") + path if root else path
        # A rule on another host or subdomain than the request's gives an
        # absolute URL.
        domain = rule._domain
        if domain is None:
            domain = rule.build_domain(values)
        server = None
        if url_map.host_matching:
            if domain:
                server = self._url_server(request)
                if domain != server:
                    _external, server = True, domain
        else:
            if request is None or not self.subdomain_matching:
                here = url_map.default_subdomain
            else:
                here = self._domain(request.host.lower(), request.scheme)
            if domain != here:
                _external = True
        if _external:
            if server is None:
                server = self._url_server(request)
                if domain and not url_map.host_matching:
                    server = f"{domain}.{server}"
            scheme = _scheme or (
                request.scheme if request is not None else self.config["PREFERRED_URL_SCHEME"]
            )
            # A websocket rule's URL is ws:// (wss://), an HTTP rule's http://,
            # whichever kind of request builds it.
            scheme = (_WEBSOCKET_SCHEMES if rule.websocket else _HTTP_SCHEMES).get(scheme, scheme)
            url = f"{scheme}://{server}{url}"
        if _anchor is not None:
            url += "#" + (
                _anchor
                if _unquoted_anchor(_anchor) is not None
                else quote(_anchor, safe=_ANCHOR_SAFE)
            )
        return url

    def _url_server(self, request: Request | None) -> str:
        """The host an external URL names: ``SERVER_NAME`` (without the
        scheme's default port), else, or with host matching, the host the
        request was sent to."""
        server_name = self.config["SERVER_NAME"]
        if request is None:
            return server_name.lower()  # type: ignore[no-any-return]
        if server_name is None or self.url_map.host_matching:
            return request.host.lower()
        # Flask: SERVER_NAME, whatever Host the request was sent with.
        return _without_default_port(server_name, request.scheme)

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        """The URL map bound to *request*'s host, subdomain, root and scheme,
        or, without a request, to ``SERVER_NAME`` (with ``APPLICATION_ROOT``
        and ``PREFERRED_URL_SCHEME``); ``None`` without either, as in Flask.
        flaskish matches and builds without it (see :meth:`url_for`); it is
        here for code that matches or builds through an adapter."""
        if request is not None:
            server_name = self.config["SERVER_NAME"]
            if server_name is None or self.url_map.host_matching:
                server_name = request.host
            else:
                server_name = _without_default_port(server_name, request.scheme)
            return self.url_map.bind(
                server_name,
                request.root_path or "/",
                subdomain=None if self.url_map.host_matching else self._request_domain(request),
                url_scheme=request.scheme,
                default_method=request.method,
                path_info=request.path,
                query_args=request.query_string.decode("latin-1"),
            )
        if self.config["SERVER_NAME"] is None:
            return None
        return self.url_map.bind(
            self.config["SERVER_NAME"],
            self.config["APPLICATION_ROOT"] or "/",
            url_scheme=self.config["PREFERRED_URL_SCHEME"],
        )

    def inject_url_defaults(self, endpoint: str, values: dict[str, Any]) -> None:
        """Call the ``url_defaults`` functions for *endpoint* (the app's,
        then its blueprints')."""
        names: list[str | None] = [None]
        if "." in endpoint:
            parts = endpoint.rpartition(".")[0].split(".")
            names.extend(".".join(parts[:end]) for end in range(1, len(parts) + 1))
        for name in names:
            for func in self.url_default_functions.get(name, ()):
                func(endpoint, values)

    def handle_url_build_error(
        self, error: BuildError, endpoint: str, values: dict[str, Any]
    ) -> str:
        """Ask :attr:`url_build_error_handlers` for a URL; re-raise if none
        gives one."""
        for handler in self.url_build_error_handlers:
            try:
                rv = handler(error, endpoint, values)
            except BuildError as exc:
                error = exc
            else:
                if rv is not None:
                    return rv
        raise error
