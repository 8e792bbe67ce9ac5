"""``ProxyFix``: believe the ``X-Forwarded-*`` headers the reverse proxies
in front of the app set, as Werkzeug's
``werkzeug.middleware.proxy_fix.ProxyFix`` does for a Flask app::

    from flaskish import ProxyFix

    app.asgi_app = ProxyFix(app.asgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)

It is ASGI middleware with Werkzeug's knobs and semantics. Each ``x_*``
number is how many proxies set that header: the value the *n*-th proxy from
the app appended is trusted, the ones before it (which the client could
have written) are not. A header with fewer values than that is ignored, as
is a value that cannot be right (a port that is not a number, a scheme
other than ``http`` / ``https`` / ``ws`` / ``wss``, a host with characters
no host has, a prefix that does not start with ``/``): the request keeps
what the server saw, it never becomes a 500.

The middleware rewrites a copy of the ASGI scope, never the server's own:

=====================  ==================================================
``X-Forwarded-For``    ``client`` (``request.remote_addr``), port 0
``X-Forwarded-Proto``  ``scheme`` (``request.scheme``; ``ws`` / ``wss``
                       on a websocket)
``X-Forwarded-Host``   the ``Host`` header and ``server``
                       (``request.host``, ``url_for(_external=True)``)
``X-Forwarded-Port``   the port of the ``Host`` header and ``server``
``X-Forwarded-Prefix`` ``root_path`` (``request.root_path``, ``url_for``);
                       the prefix is put in front of ``path``
=====================  ==================================================

What the server saw stays in the scope under :data:`ORIG_KEY`, and in
``request.environ["werkzeug.proxy_fix.orig"]`` with Werkzeug's keys.
Lifespan messages pass through untouched.
"""

from __future__ import annotations

import ipaddress
import logging
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from werkzeug.http import parse_list_header
from werkzeug.sansio.utils import host_is_trusted

from .request import route_path
from .wsgi import ORIG_KEY

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["ORIG_KEY", "ProxyFix", "note_werkzeug_proxy_fix"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_KNOBS = ("x_for", "x_proto", "x_host", "x_port", "x_prefix")
_SCHEMES = {"http": False, "ws": False, "https": True, "wss": True}
# What url_for leaves unquoted in a root path, so an encoded prefix stays encoded.
_PATH_SAFE = "/!$&'()*+,;=:@%"


class ProxyFix:
    """ASGI middleware that sets the client address, scheme, host, port and
    root path of each request from the ``X-Forwarded-*`` headers that
    trusted proxies set: Werkzeug's ``ProxyFix``, for ``app.asgi_app``.

    Trust only as many values as you have proxies that set them: with
    ``x_for=2`` behind one proxy, a client that sends its own
    ``X-Forwarded-For`` chooses its address.

    :param app: the ASGI app to wrap (``app.asgi_app``, or the app itself).
    :param x_for: how many values of ``X-Forwarded-For`` to trust.
    :param x_proto: how many values of ``X-Forwarded-Proto`` to trust.
    :param x_host: how many values of ``X-Forwarded-Host`` to trust.
    :param x_port: how many values of ``X-Forwarded-Port`` to trust.
    :param x_prefix: how many values of ``X-Forwarded-Prefix`` to trust.
    :param forwarded_allow_ips: not in Werkzeug: the addresses or networks
        (a list, or one comma-separated string such as
        ``"127.0.0.1,10.0.0.0/8"``) of the proxy the server sees connect; a
        request from anywhere else keeps its headers untrusted. ``None`` (the
        default, as in Werkzeug) or ``"*"``: any peer.
    :raises ValueError: a count is not a non-negative integer, or an entry
        of *forwarded_allow_ips* is not an IP address or network.
    """

    def __init__(
        self,
        app: ASGIApp,
        x_for: int = 1,
        x_proto: int = 1,
        x_host: int = 0,
        x_port: int = 0,
        x_prefix: int = 0,
        *,
        forwarded_allow_ips: str | Iterable[str] | None = None,
    ) -> None:
        for name, count in zip(_KNOBS, (x_for, x_proto, x_host, x_port, x_prefix), strict=True):
            if not isinstance(count, int) or count < 0:
                raise ValueError(
                    f"ProxyFix({name}={count!r}): {name} is how many proxies set the header, "
                    f"a whole number (0 to ignore the header)."
                )
        self.app = app
        self.x_for = x_for
        self.x_proto = x_proto
        self.x_host = x_host
        self.x_port = x_port
        self.x_prefix = x_prefix
        self._allowed = _parse_allowed(forwarded_allow_ips)

    def __repr__(self) -> str:
        knobs = ", ".join(f"{name}={getattr(self, name)}" for name in _KNOBS)
        return f"<flaskish ProxyFix {knobs} around {self.app!r}>"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and self._trusts(scope.get("client")):
            scope = self.fix_scope(scope)
        await self.app(scope, receive, send)

    def _trusts(self, client: Any) -> bool:
        if self._allowed is None:
            return True
        if not client:
            return False  # a Unix socket: only "*" trusts it
        try:
            address = ipaddress.ip_address(client[0])
        except ValueError:
            return False
        return any(address in network for network in self._allowed)

    def _trusted(self, count: int, values: list[str] | None) -> str | None:
        """The value *count* hops from the right, ``None`` if there are fewer."""
        if not (count and values):
            return None
        items = parse_list_header(",".join(values))
        return items[-count] if len(items) >= count else None

    def fix_scope(self, scope: Scope) -> Scope:
        """A copy of the HTTP or websocket *scope* with the trusted
        ``X-Forwarded-*`` values applied and the old ones under
        :data:`ORIG_KEY`."""
        forwarded: dict[bytes, list[str]] = {}
        host_header: str | None = None
        for name, value in scope.get("headers", ()):
            if name == b"host":
                host_header = value.decode("latin-1")
            elif name.startswith(b"x-forwarded-"):
                forwarded.setdefault(name, []).append(value.decode("latin-1"))
        websocket = scope["type"] == "websocket"
        fixed: dict[str, Any] = dict(scope)
        fixed[ORIG_KEY] = {
            "client": scope.get("client"),
            "scheme": scope.get("scheme", "ws" if websocket else "http"),
            "host": host_header,
            "server": scope.get("server"),
            "root_path": scope.get("root_path", ""),
            "path": scope["path"],
        }

        client = self._trusted(self.x_for, forwarded.get(b"x-forwarded-for"))
        if client:
            fixed["client"] = (client, 0)

        proto = self._trusted(self.x_proto, forwarded.get(b"x-forwarded-proto"))
        if proto and proto.lower() in _SCHEMES:
            secure = _SCHEMES[proto.lower()]
            fixed["scheme"] = (
                ("wss" if secure else "ws") if websocket else ("https" if secure else "http")
            )

        server = scope.get("server")
        name, port = (server[0], server[1]) if server else (None, None)
        host = host_header
        x_host = self._trusted(self.x_host, forwarded.get(b"x-forwarded-host"))
        if x_host and host_is_trusted(x_host):  # valid characters, a port of 1-65535
            host = name = x_host
            if ":" in x_host and not x_host.endswith("]"):  # "]": IPv6 without a port
                name, port_text = x_host.rsplit(":", 1)
                port = int(port_text)
        x_port = self._trusted(self.x_port, forwarded.get(b"x-forwarded-port"))
        if x_port and x_port.isascii() and x_port.isdigit() and 0 < int(x_port) <= 65535:
            port = int(x_port)
            if host:
                if ":" in host and not host.endswith("]"):
                    host = host.rsplit(":", 1)[0]
                host = f"{host}:{port}"  # "0443" as 443: a Host port has no leading zero
        if host != host_header and host is not None:
            fixed["headers"] = [
                *((key, value) for key, value in scope.get("headers", ()) if key != b"host"),
                (b"host", host.encode("latin-1")),
            ]
        if name is not None and (name, port) != server:
            fixed["server"] = (name, port)

        prefix = self._trusted(self.x_prefix, forwarded.get(b"x-forwarded-prefix"))
        if prefix and prefix.startswith("/"):
            # Header bytes are UTF-8 text, as Werkzeug decodes SCRIPT_NAME.
            root = prefix.encode("latin-1").decode("utf-8", "replace").rstrip("/")
            old_root = scope.get("root_path", "")
            rest = route_path(scope)
            fixed.update(root_path=root, path=root + rest)
            raw_path = scope.get("raw_path")
            if raw_path is not None:
                old_raw_root = quote(old_root, safe=_PATH_SAFE).encode("ascii")
                if old_root and rest != scope["path"] and raw_path.startswith(old_raw_root):
                    raw_path = raw_path[len(old_raw_root) :]
                fixed["raw_path"] = quote(root, safe=_PATH_SAFE).encode("ascii") + raw_path
        return fixed


def _parse_allowed(value: str | Iterable[str] | None) -> list[_Network] | None:
    """The networks of *forwarded_allow_ips*, ``None`` for any peer."""
    if value is None:
        return None
    entries = value.split(",") if isinstance(value, str) else list(value)
    entries = [entry.strip() for entry in entries if entry.strip()]
    if "*" in entries:
        return None
    networks: list[_Network] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(
                f"ProxyFix(forwarded_allow_ips=...): {entry!r} is not an IP address or network "
                "(such as '127.0.0.1' or '10.0.0.0/8'). Use '*' to trust any peer."
            ) from None
    return networks


def note_werkzeug_proxy_fix(
    value: object, default_wsgi_app: object, logger: logging.Logger
) -> None:
    """Log (at ``INFO``: shown in debug mode) if *value*, being assigned to
    ``app.wsgi_app``, is Werkzeug's ``ProxyFix``, naming the
    ``flaskish.ProxyFix`` line to write instead with the same counts. It is
    served as any WSGI middleware, through the WSGI adapter: correct, and
    slower than the native middleware. Not a warning: Flask-Login's test
    suite assigns it with warnings as errors, and must pass unchanged.

    :param value: what is assigned to ``app.wsgi_app``.
    :param default_wsgi_app: the app's own WSGI callable.
    :param logger: the app's logger.
    """
    module = sys.modules.get("werkzeug.middleware.proxy_fix")  # set if value can be one
    if module is None or not isinstance(value, module.ProxyFix):
        return
    knobs = ", ".join(f"{name}={getattr(value, name)}" for name in _KNOBS)
    inner = getattr(value, "app", default_wsgi_app)
    keep = (
        ""
        if inner is default_wsgi_app
        else (f", and keep the WSGI middleware it wrapped ({inner!r}) on app.wsgi_app")
    )
    logger.info(
        "Werkzeug's ProxyFix on app.wsgi_app is served through flaskish's WSGI adapter, "
        "which costs a thread hand-off per request: flaskish.ProxyFix takes the same "
        "arguments and runs on the event loop. Write `app.asgi_app = flaskish.ProxyFix("
        "app.asgi_app, %s)` instead%s.",
        knobs,
        keep,
    )
