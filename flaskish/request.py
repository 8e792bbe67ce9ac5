"""The request object: Werkzeug's sans-IO ``Request`` read from the ASGI
scope, with flaskish's lazy body.

Everything that comes from the URL and the headers (``args``, ``cookies``,
``accept_*``, ``authorization``, ``if_none_match``, ``range``, ``host``,
``url``...) is Werkzeug's own code and types. The body (``form``,
``files``, ``json``, ``data``...) is read lazily by
:class:`flaskish.body.RequestBody`, which :class:`Request` mixes in.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.datastructures import State
from werkzeug.datastructures import Authorization, Headers, ImmutableMultiDict, MultiDict
from werkzeug.exceptions import SecurityError
from werkzeug.http import parse_options_header
from werkzeug.sansio.http import parse_cookie
from werkzeug.sansio.request import Request as SansIORequest
from werkzeug.sansio.utils import get_content_length, get_host
from werkzeug.utils import cached_property

from .body import RequestBody
from .globals import _cv_app
from .wsgi import environ_from_scope

if TYPE_CHECKING:
    from starlette.types import Receive, Scope
    from werkzeug.exceptions import HTTPException

    from .routing import Rule

__all__ = ["Request", "route_path"]


def route_path(scope: Scope) -> str:
    """The scope's path below its ``root_path`` (the part routing matches),
    ``""`` when the path is the root path itself."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if not root or not path.startswith(root):
        return path
    rest = path[len(root) :]
    return rest if rest[:1] in ("/", "") else path


async def _empty_receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def _config(name: str) -> Any:
    ctx = _cv_app.get(None)
    return ctx.app.config[name] if ctx is not None else None


def _no_surrogates(text: str) -> str:
    """*text* with each lone surrogate (which a WSGI server's decoding never
    yields, and which Werkzeug's URL code cannot encode) replaced by U+FFFD."""
    if text.isascii():
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class Request(RequestBody, SansIORequest):
    """The incoming request, available as :data:`flaskish.request`: a
    ``werkzeug.sansio.request.Request`` (as Flask's request is a Werkzeug
    one), made from the ASGI scope.

    Attributes that come from the URL and headers never do I/O, and are
    computed on first use. The body is read on first use: plainly in a
    ``def`` view, with ``await`` in an ``async def`` view (see
    :class:`~flaskish.body.RequestBody`).

    :param scope: the ASGI HTTP scope.
    :param receive: the ASGI receive callable for the body.
    """

    #: Set by the app when the request is dispatched.
    url_rule: Rule | None = None
    #: The matched view arguments, ``None`` if nothing matched.
    view_args: dict[str, Any] | None = None
    #: A 404 / 405 / redirect raised by routing, re-raised before the view.
    routing_exception: HTTPException | None = None
    #: Whether this is a websocket connection (:class:`~flaskish.websocket.Websocket`).
    _is_websocket = False

    def _close_body(self) -> None:
        self.close()

    def __init__(self, scope: Scope, receive: Receive | None = None) -> None:
        # Werkzeug's __init__ is not called: each value it would set is read
        # from the scope when first used (most requests never look at most).
        self.scope = scope
        self._receive = receive if receive is not None else _empty_receive
        self.method = scope["method"]
        self.scheme = scope.get("scheme", "http")

    @cached_property
    def headers(self) -> Headers:
        """The request headers: a ``werkzeug.datastructures.Headers``, names
        in Werkzeug's ``Title-Case`` (``request.headers["Content-Type"]``;
        lookups ignore case)."""
        headers = Headers()
        # The server has parsed and validated them; only decode.
        headers._list = [
            (name.decode("latin-1").title(), value.decode("latin-1"))
            for name, value in self.scope.get("headers", ())
        ]
        return headers

    def _raw_header(self, name: bytes) -> str | None:
        """The first value of the header *name* (lower case), read from the
        scope without building :attr:`headers` (a form or a prefetched body
        needs only two or three headers; a missing one costs Werkzeug's
        ``Headers.get`` an exception)."""
        for key, value in self.scope.get("headers", ()):
            if key == name or key.lower() == name:
                return value.decode("latin-1")  # type: ignore[no-any-return]
        return None

    @cached_property
    def cookies(self) -> ImmutableMultiDict[str, str]:
        """The request's cookies (Werkzeug's ``parse_cookie`` of every
        ``Cookie`` header, joined by ``;``, as Werkzeug's own property),
        read from the scope: opening a session needs no :attr:`headers`."""
        joined = ";".join(
            [
                value.decode("latin-1")
                for key, value in self.scope.get("headers", ())
                if key == b"cookie" or key.lower() == b"cookie"
            ]
        )
        return parse_cookie(joined, cls=self.dict_storage_class)  # type: ignore[return-value]

    @cached_property
    def content_length(self) -> int | None:
        """The declared body length (Werkzeug's ``get_content_length``:
        ``None`` when absent or the body is chunked, ``0`` if invalid)."""
        return get_content_length(
            self._raw_header(b"content-length"), self._raw_header(b"transfer-encoding")
        )

    def _parse_content_type(self) -> None:
        # Werkzeug's, from the raw Content-Type header (see _raw_header).
        if not hasattr(self, "_parsed_content_type"):
            self._parsed_content_type = parse_options_header(
                self._raw_header(b"content-type") or ""
            )

    @cached_property
    def server(self) -> tuple[str, int | None] | None:
        """The server's ``(host, port)``, ``None`` if unknown."""
        server = self.scope.get("server")
        return (server[0], server[1]) if server else None

    @cached_property
    def root_path(self) -> str:
        """The prefix the app is mounted under (ASGI ``root_path``), ``""`` at
        the root."""
        return _no_surrogates(self.scope.get("root_path", "").rstrip("/"))

    @cached_property
    def path(self) -> str:
        """The decoded path below :attr:`root_path`, e.g. ``"/user/ada"``
        (a lone surrogate, which no WSGI server gives, becomes U+FFFD)."""
        return _no_surrogates("/" + (route_path(self.scope) or "/").lstrip("/"))

    @cached_property
    def query_string(self) -> bytes:
        """The raw query string, without ``?``."""
        return self.scope.get("query_string", b"")  # type: ignore[no-any-return]

    @cached_property
    def remote_addr(self) -> str | None:
        """The client's address (the proxy's, unless ``X-Forwarded-For`` is
        trusted: :class:`flaskish.ProxyFix`, ``flaskish run --proxy-headers``)."""
        client = self.scope.get("client")
        return client[0] if client else None

    # -- hardening: Werkzeug's parsers, minus the exceptions they let escape -

    @cached_property
    def args(self) -> MultiDict[str, str]:
        """The query string arguments, parsed as Werkzeug does (an invalid
        percent-escape stays as it is: ``%FF``), except that raw bytes that
        are not UTF-8 are kept percent-encoded too instead of raising
        ``UnicodeDecodeError`` (a 500). A missing key raises
        ``BadRequestKeyError`` (a 400)."""
        return self.parameter_storage_class(
            parse_qsl(self._query_text, keep_blank_values=True, errors="werkzeug.url_quote")
        )

    @cached_property
    def full_path(self) -> str:
        """:attr:`path` and the query string as sent, always with ``?``
        (``"/search?q=x"``); raw bytes that are not UTF-8 are shown
        percent-encoded instead of raising (a 500)."""
        return f"{self.path}?{self._query_text}"

    @property
    def _query_text(self) -> str:
        # Werkzeug's "werkzeug.url_quote" error handler (registered by
        # werkzeug.urls) percent-encodes the bytes that are not UTF-8.
        return self.query_string.decode("utf-8", "werkzeug.url_quote")

    @cached_property
    def authorization(self) -> Authorization | None:
        """The ``Authorization`` header as Werkzeug's ``Authorization``,
        ``None`` if absent or malformed (Werkzeug raises ``ValueError`` on
        ``Basic`` credentials that are not ASCII: a 500)."""
        try:
            return Authorization.from_header(self.headers.get("Authorization"))
        except ValueError:
            return None

    @cached_property
    def host(self) -> str:
        """The host the client asked for (Werkzeug's ``get_host``): the
        port is left out when it is the scheme's default, ``""`` if the
        ``Host`` header is not a valid host.

        :raises ~werkzeug.exceptions.SecurityError: (a 400) if it is not in
            :attr:`trusted_hosts`, also when an entry of ``TRUSTED_HOSTS``
            cannot be IDNA-encoded (Werkzeug raises ``UnicodeError``: a 500).
        """
        try:
            return get_host(self.scheme, self.headers.get("host"), self.server, self.trusted_hosts)
        except UnicodeError as exc:
            raise SecurityError(
                f"Host {self.headers.get('host')!r} is not trusted: an entry of"
                f" TRUSTED_HOSTS cannot be IDNA-encoded ({exc})."
            ) from None

    @property
    def script_root(self) -> str:
        """Werkzeug's WSGI name for :attr:`root_path`."""
        return self.root_path

    @property
    def url_root(self) -> str:
        """Werkzeug's WSGI name for :attr:`root_url`."""
        return self.root_url

    @property
    def trusted_hosts(self) -> list[str] | None:
        """The host names :attr:`host` accepts: the ``TRUSTED_HOSTS`` config
        unless set on this request. Another host raises
        ``werkzeug.exceptions.SecurityError`` (a 400)."""
        if "_trusted_hosts" in self.__dict__:
            return self.__dict__["_trusted_hosts"]  # type: ignore[no-any-return]
        return _config("TRUSTED_HOSTS")  # type: ignore[no-any-return]

    @trusted_hosts.setter
    def trusted_hosts(self, value: list[str] | None) -> None:
        self.__dict__["_trusted_hosts"] = value

    @cached_property
    def state(self) -> State:
        """The ASGI request state, as Starlette's ``request.state``:
        attributes over the scope's ``state`` dict, which the server fills
        with a copy of the lifespan state for each request (what mounted
        apps' lifespans, an outer app's lifespan or ASGI middleware put
        there); setting one changes this request's only. Process-wide
        objects go on :attr:`Flask.state <flaskish.Flask.state>`, per-request
        values of your own on ``g``."""
        return State(self.scope.setdefault("state", {}))

    @cached_property
    def environ(self) -> Mapping[str, Any]:
        """A read-only, WSGI-style view of the request, for code written
        against ``request.environ`` (``REMOTE_ADDR``, ``HTTP_*`` headers,
        ``PATH_INFO``...). ASGI has no WSGI environ: there is no
        ``wsgi.input`` (read the body with :attr:`stream`), and
        ``asgi.scope`` holds the real thing."""
        return MappingProxyType(environ_from_scope(self.scope))

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

    # -- limits (Flask's, read from the app's config) -------------------------

    @property
    def max_content_length(self) -> int | None:
        """The largest body accepted, from ``MAX_CONTENT_LENGTH`` unless set
        for this request."""
        if "_max_content_length" in self.__dict__:
            return self.__dict__["_max_content_length"]  # type: ignore[no-any-return]
        return _config("MAX_CONTENT_LENGTH")  # type: ignore[no-any-return]

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self.__dict__["_max_content_length"] = value

    @property
    def max_form_memory_size(self) -> int | None:
        """The largest non-file form field, from ``MAX_FORM_MEMORY_SIZE``
        (500 kB outside an app) unless set for this request."""
        if "_max_form_memory_size" in self.__dict__:
            return self.__dict__["_max_form_memory_size"]  # type: ignore[no-any-return]
        ctx = _cv_app.get(None)
        return ctx.app.config["MAX_FORM_MEMORY_SIZE"] if ctx is not None else 500_000

    @max_form_memory_size.setter
    def max_form_memory_size(self, value: int | None) -> None:
        self.__dict__["_max_form_memory_size"] = value

    @property
    def max_form_parts(self) -> int | None:
        """The most multipart parts accepted, from ``MAX_FORM_PARTS`` (1000
        outside an app) unless set for this request."""
        if "_max_form_parts" in self.__dict__:
            return self.__dict__["_max_form_parts"]  # type: ignore[no-any-return]
        ctx = _cv_app.get(None)
        return ctx.app.config["MAX_FORM_PARTS"] if ctx is not None else 1_000

    @max_form_parts.setter
    def max_form_parts(self, value: int | None) -> None:
        self.__dict__["_max_form_parts"] = value
