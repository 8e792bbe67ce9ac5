"""The app's ASGI router: a Starlette :class:`~starlette.routing.Router`
whose routes are the app's :class:`~flaskish.routing.Rule` objects.

It matches with the map's index (no linear scan) and hands every HTTP
request, matched or not, to the app's pipeline, so 404s and 405s go through
``before_request`` and the error handlers as in Flask. Lifespan messages
are answered by Starlette's router with the app's lifespan context.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import starlette.routing

from .exceptions import HTTPException
from .request import route_path
from .routing import RequestRedirect
from .urls import scope_host

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from .app import Flask

__all__ = ["Router"]


class Router(starlette.routing.Router):
    """Routes ASGI requests to the pipeline (``app._handle_http``).

    :param app: the Flask app, usually a weak proxy to it (the app holds
        its router): its ``url_map``, the request domain for host and
        subdomain matching, and the pipeline entry.
    :param lifespan: the app's lifespan context factory.
    """

    def __init__(
        self, app: Flask, lifespan: Callable[[Any], AbstractAsyncContextManager[Any]]
    ) -> None:
        super().__init__(redirect_slashes=False, lifespan=lifespan)
        self._app = app
        self.url_map = app.url_map
        # The same list as the map's: Starlette tools walking router.routes
        # see the app's rules.
        self.routes = self.url_map._rules  # type: ignore[assignment]

    def app(self, scope: Scope, receive: Receive, send: Send) -> Coroutine[Any, Any, None]:
        # A plain method that returns the coroutine to await (the pipeline's
        # own, the websocket's or the lifespan's): one frame fewer per request
        # than an async def awaiting it; awaited as any ASGI app.
        kind = scope["type"]
        if kind == "http":
            # _path_and_domain, written out: this runs for every request.
            url_map, app = self.url_map, self._app
            path = scope["path"] if not scope.get("root_path") else route_path(scope)
            if not path.startswith("/") or path.startswith("//"):
                path = "/" + path.lstrip("/")
            if url_map.host_matching or app.subdomain_matching:
                domain = app._domain(scope_host(scope), scope.get("scheme", "http"))
            else:
                domain = url_map.default_subdomain
            try:
                rule, values = url_map.match(path, scope["method"], domain)
            except RequestRedirect as redirect:
                redirect.new_url = _redirect_target(scope, redirect.new_url)
                return app._handle_http(scope, receive, send, None, None, redirect)
            except HTTPException as exc:
                return app._handle_http(scope, receive, send, None, None, exc)
            scope["route"] = rule
            scope["path_params"] = values
            return app._handle_http(scope, receive, send, rule, values, None)
        if kind == "websocket":
            return self._websocket(scope, receive, send)
        if kind == "lifespan":
            return self.lifespan(scope, receive, send)
        raise RuntimeError(
            f"flaskish cannot handle ASGI {kind!r} connections; it serves 'http', "
            "'websocket' and 'lifespan'."
        )

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        url_map, app = self.url_map, self._app
        path, domain = _path_and_domain(app, scope, "ws")
        dispatch = app._handle_websocket
        try:
            rule, values = url_map.match(path, "GET", domain, websocket=True)
        except HTTPException as exc:  # a redirect is refused too: a handshake cannot follow it
            await dispatch(scope, receive, send, None, None, exc)
            return
        scope["route"] = rule
        scope["path_params"] = values
        await dispatch(scope, receive, send, rule, values, None)

    # Called as an ASGI app, the router is its ``app`` method itself: no
    # middleware stack, no extra frame.
    __call__ = app


def _path_and_domain(app: Flask, scope: Scope, scheme: str) -> tuple[str, str]:
    """What a request (or websocket) is matched on: its path, as Werkzeug
    matches it ("/" + the path without its leading slashes: a test client
    may send "page" or "//page"), and its domain (see :mod:`flaskish.urls`)."""
    path = route_path(scope)
    if path[:1] != "/" or path[:2] == "//":
        path = "/" + path.lstrip("/")
    url_map = app.url_map
    if url_map.host_matching or app.subdomain_matching:
        return path, app._domain(scope_host(scope), scope.get("scheme", scheme))
    return path, url_map.default_subdomain


def _redirect_target(scope: Scope, path: str) -> str:
    root = scope.get("root_path", "").rstrip("/")
    target = quote(root + path, safe="/!$&'()*+,;=:@%")
    query = scope.get("query_string", b"")
    return f"{target}?{query.decode('latin-1')}" if query else target
