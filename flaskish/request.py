"""The request object: everything known from the ASGI scope, without I/O.

The body (``form``, ``files``, ``json``, ``data``...) is read lazily by
:class:`flaskish.body.RequestBody`, which :class:`Request` mixes in.
"""

from __future__ import annotations

from functools import cached_property
from http.cookies import _unquote as _cookie_unquote
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote

from starlette._utils import get_route_path

from .body import RequestBody
from .datastructures import Headers, ImmutableMultiDict
from .globals import _cv_app

if TYPE_CHECKING:
    from starlette.types import Receive, Scope

    from .exceptions import HTTPException
    from .routing import Rule

__all__ = ["Request"]

_PATH_SAFE = "/!$&'()*+,;=:@%"


async def _empty_receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


class Request(RequestBody):
    """The incoming request, available as :data:`flaskish.request`.

    Attributes that come from the URL and headers never do I/O. The body is
    read on first use: plainly in a ``def`` view, with ``await`` in an
    ``async def`` view (see :class:`~flaskish.body.RequestBody`).

    :param scope: the ASGI HTTP scope.
    :param receive: the ASGI receive callable for the body.
    """

    #: Set by the app when the request is dispatched.
    url_rule: Rule | None = None
    #: The matched view arguments, ``None`` if nothing matched.
    view_args: dict[str, Any] | None = None
    #: A 404 / 405 / redirect raised by routing, re-raised before the view.
    routing_exception: HTTPException | None = None
    #: Where a trusted proxy's ``X-Forwarded-*`` values are accepted; see
    #: uvicorn's ``--proxy-headers``.
    trusted_hosts: list[str] | None = None

    def __init__(self, scope: Scope, receive: Receive | None = None) -> None:
        self.scope = scope
        self._receive = receive if receive is not None else _empty_receive

    # -- method and URL ------------------------------------------------------

    @property
    def method(self) -> str:
        """The HTTP method, upper case (``"GET"``)."""
        return self.scope["method"]  # type: ignore[no-any-return]

    @property
    def scheme(self) -> str:
        """``"http"`` or ``"https"``."""
        return self.scope.get("scheme", "http")  # type: ignore[no-any-return]

    @property
    def is_secure(self) -> bool:
        """Whether the request came over HTTPS."""
        return self.scheme in ("https", "wss")

    @property
    def root_path(self) -> str:
        """The prefix the app is mounted under (ASGI ``root_path``), ``""`` at the root."""
        return self.scope.get("root_path", "").rstrip("/")  # type: ignore[no-any-return]

    script_root = root_path

    @cached_property
    def path(self) -> str:
        """The decoded path below :attr:`root_path`, e.g. ``"/user/ada"``."""
        return get_route_path(self.scope) or "/"

    @cached_property
    def query_string(self) -> bytes:
        """The raw query string, without ``?``."""
        return self.scope.get("query_string", b"")  # type: ignore[no-any-return]

    @property
    def full_path(self) -> str:
        """:attr:`path` with the query string: ``"/search?q=x"`` (always with ``?``, as Flask)."""
        return f"{self.path}?{self.query_string.decode('latin-1')}"

    @cached_property
    def host(self) -> str:
        """The host (and port, if not the default) the client asked for."""
        host = self.headers.get("host")
        if host:
            return host
        server = self.scope.get("server")
        if not server:
            return "localhost"
        name, port = server[0], server[1]
        default = {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(self.scheme)
        return name if port in (None, default) else f"{name}:{port}"

    @property
    def host_url(self) -> str:
        """``scheme://host/``."""
        return f"{self.scheme}://{self.host}/"

    @property
    def url_root(self) -> str:
        """``scheme://host/root_path/``: the URL of the app's root."""
        return f"{self.scheme}://{self.host}{quote(self.root_path, safe=_PATH_SAFE)}/"

    @property
    def base_url(self) -> str:
        """The URL without the query string."""
        return (
            f"{self.scheme}://{self.host}{quote(self.root_path, safe=_PATH_SAFE)}"
            f"{quote(self.path, safe=_PATH_SAFE)}"
        )

    @property
    def url(self) -> str:
        """The full URL, query string included."""
        query = self.query_string
        return f"{self.base_url}?{query.decode('latin-1')}" if query else self.base_url

    @cached_property
    def args(self) -> ImmutableMultiDict[str]:
        """The query string arguments. A missing key raises a
        :class:`~flaskish.exceptions.BadRequestKeyError` (a 400)."""
        pairs = parse_qsl(self.query_string.decode("latin-1"), keep_blank_values=True,
                          encoding="utf-8", errors="replace")
        return ImmutableMultiDict(pairs)

    # -- headers -------------------------------------------------------------

    @cached_property
    def headers(self) -> Headers:
        """The request headers (case-insensitive)."""
        return Headers(raw=list(self.scope.get("headers", ())))

    @cached_property
    def cookies(self) -> ImmutableMultiDict[str]:
        """The cookies the client sent."""
        pairs = []
        for header in self.headers.getlist("cookie"):
            for chunk in header.split(";"):
                name, sep, value = chunk.partition("=")
                name, value = name.strip(), value.strip()
                if not sep or not name:
                    continue
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = _cookie_unquote(value)
                    value = value.encode("latin-1").decode("utf-8", "replace")
                pairs.append((name, value))
        return ImmutableMultiDict(pairs)

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` header."""
        return self.headers.get("content-type")

    @property
    def mimetype(self) -> str:
        """The content type without parameters, lower case (``""`` if none)."""
        return (self.content_type or "").split(";", 1)[0].strip().lower()

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The content type's parameters (``{"charset": "utf-8"}``)."""
        params = {}
        for part in (self.content_type or "").split(";")[1:]:
            name, _, value = part.partition("=")
            if name.strip():
                params[name.strip().lower()] = value.strip().strip('"')
        return params

    @property
    def content_length(self) -> int | None:
        """The ``Content-Length`` header as a number, ``None`` if absent or invalid."""
        value = self.headers.get("content-length")
        if value is None or not value.strip().isdigit():
            return None
        return int(value)

    @property
    def content_encoding(self) -> str | None:
        """The ``Content-Encoding`` header."""
        return self.headers.get("content-encoding")

    @property
    def is_json(self) -> bool:
        """Whether the mimetype is JSON (``application/json`` or ``...+json``)."""
        mimetype = self.mimetype
        return mimetype == "application/json" or (
            mimetype.startswith("application/") and mimetype.endswith("+json")
        )

    @property
    def user_agent(self) -> str:
        """The ``User-Agent`` header (``""`` if absent)."""
        return self.headers.get("user-agent", "")

    @property
    def referrer(self) -> str | None:
        """The ``Referer`` header."""
        return self.headers.get("referer")

    # -- client --------------------------------------------------------------

    @property
    def remote_addr(self) -> str | None:
        """The client's address (the proxy's, unless the server trusts
        ``X-Forwarded-For``, e.g. uvicorn ``--proxy-headers``)."""
        client = self.scope.get("client")
        return client[0] if client else None

    @property
    def access_route(self) -> list[str]:
        """The addresses from ``X-Forwarded-For``, client first, or
        :attr:`remote_addr`."""
        forwarded = self.headers.get("x-forwarded-for")
        if forwarded:
            return [part.strip() for part in forwarded.split(",") if part.strip()]
        return [self.remote_addr] if self.remote_addr else []

    # -- routing -------------------------------------------------------------

    @property
    def endpoint(self) -> str | None:
        """The endpoint that matched, ``None`` if routing failed."""
        return self.url_rule.endpoint if self.url_rule is not None else None

    @property
    def blueprint(self) -> str | None:
        """The (dotted) name of the blueprint whose view matched."""
        endpoint = self.endpoint
        if endpoint is not None and "." in endpoint:
            return endpoint.rpartition(".")[0]
        return None

    @property
    def blueprints(self) -> list[str]:
        """The matched blueprint and its parents, innermost first."""
        name = self.blueprint
        if name is None:
            return []
        parts = name.split(".")
        return [".".join(parts[:end]) for end in range(len(parts), 0, -1)]

    @property
    def max_content_length(self) -> int | None:
        """The largest body accepted, from ``MAX_CONTENT_LENGTH`` unless set
        for this request."""
        if "_max_content_length" in self.__dict__:
            return self.__dict__["_max_content_length"]  # type: ignore[no-any-return]
        ctx = _cv_app.get(None)
        return ctx.app.config["MAX_CONTENT_LENGTH"] if ctx is not None else None

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self.__dict__["_max_content_length"] = value

    def __repr__(self) -> str:
        return f"<{type(self).__name__} '{self.url}' [{self.method}]>"
