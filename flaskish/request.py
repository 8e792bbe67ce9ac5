"""The request object: everything known from the ASGI scope, without I/O.

The body (``form``, ``files``, ``json``, ``data``...) is read lazily by
:class:`flaskish.body.RequestBody`, which :class:`Request` mixes in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cached_property
from http.cookies import _unquote as _cookie_unquote
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette._utils import get_route_path

from .accept import (
    Accept,
    CharsetAccept,
    LanguageAccept,
    MIMEAccept,
    parse_accept_header,
)
from .body import RequestBody
from .conditional import (
    ETags,
    IfRange,
    Range,
    parse_etags,
    parse_if_range_header,
    parse_range_header,
)
from .datastructures import Headers, ImmutableMultiDict
from .exceptions import SecurityError
from .globals import _cv_app
from .http import (
    Authorization,
    UserAgent,
    parse_date,
    parse_list_header,
    parse_options_header,
)

if TYPE_CHECKING:
    from starlette.types import Receive, Scope

    from .exceptions import HTTPException
    from .routing import Rule

__all__ = ["Request"]

# A Host header Werkzeug accepts: a name, or an IPv6 address in brackets,
# with an optional port. Anything else (spaces, "/", "@"...) gives "".
_host_re = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?")
_default_ports = {"http": 80, "https": 443, "ws": 80, "wss": 443}

# request.url is an IRI, as in Werkzeug: non-ASCII text is shown as it is,
# and only what would be misread stays percent-encoded: controls, space, and
# in the path "%", "?" and "#"; in the query "%", "#" and the "&", "=", "+"
# that split it into arguments.
_path_escape_re = re.compile(r"[\x00-\x20\x7f%?#\ud800-\udfff]")
_query_raw_re = re.compile(rb"[^\x21-\x7e]|#")
_query_escapes_re = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_query_keep_escaped = frozenset("%#&=+")
_ascii_digits_re = re.compile(r"[0-9]+")


def _percent(text: str) -> str:
    return "".join(f"%{byte:02X}" for byte in text.encode("utf-8", "surrogatepass"))


def _iri_path(path: str) -> str:
    return _path_escape_re.sub(lambda match: _percent(match[0]), path)


def _iri_query(query: bytes) -> str:
    # First a plain URI: raw bytes outside printable ASCII percent-encoded...
    uri = _query_raw_re.sub(lambda match: b"%%%02X" % match[0][0], query).decode("ascii")

    # ...then each run of escapes decoded where it is UTF-8 and safe to show.
    def decode(match: re.Match[str]) -> str:
        text = bytes.fromhex(match[0].replace("%", "")).decode("utf-8", "surrogateescape")
        out = []
        for char in text:
            if "\udc80" <= char <= "\udcff":  # a byte that is not UTF-8
                out.append(f"%{ord(char) - 0xDC00:02X}")
            elif char in _query_keep_escaped or char <= " " or char == "\x7f":
                out.append(f"%{ord(char):02X}")
            else:
                out.append(char)
        return "".join(out)

    return _query_escapes_re.sub(decode, uri)


def _number(value: str | None) -> int | None:
    """A header's plain decimal number (ASCII digits only), else ``None``."""
    if value is None or not _ascii_digits_re.fullmatch(value := value.strip()):
        return None
    try:
        return int(value)
    except ValueError:  # more digits than Python converts
        return None


def _latin1_to_utf8(text: str) -> str:
    """Header text (decoded as latin-1 by the server) re-read as UTF-8."""
    if text.isascii():
        return text
    return text.encode("latin-1").decode("utf-8", "replace")


def _without_port(host: str) -> str:
    if host.startswith("["):
        return host[: host.find("]") + 1]
    return host.partition(":")[0]


def _host_is_trusted(host: str, trusted: Iterable[str]) -> bool:
    """Whether *host* (port ignored) is one of *trusted*; an entry starting
    with ``.`` also trusts every subdomain. An empty list trusts any host."""
    if not host:
        return False
    name = _without_port(host).lower()
    entries = [trusted] if isinstance(trusted, str) else list(trusted)
    if not entries:
        return True
    for entry in entries:
        suffix = entry.startswith(".")
        entry = _without_port(entry.lstrip(".")).lower()
        if not entry.isascii():  # an internationalized name: compare its IDNA form
            try:
                entry = entry.encode("idna").decode("ascii")
            except UnicodeError:  # not a name IDNA can encode
                continue
        if name == entry or (suffix and name.endswith(f".{entry}")):
            return True
    return False


async def _empty_receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


# One "name=value" pair of a Cookie header; a quoted value may hold ";".
_cookie_pair_re = re.compile(
    r"""
    (?P<name>[^=;]+)                          # the name, up to "=" or ";"
    (?:=\s*(?P<value>"(?:[^"\\]|\\.)*"|[^;]*))?   # a quoted or a plain value
    \s*(?:;|$)                                # the separator
    """,
    re.VERBOSE,
)


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
    #: The host names :attr:`host` accepts (``TRUSTED_HOSTS`` if ``None``);
    #: another host raises :class:`~flaskish.exceptions.SecurityError` (a 400).
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
    def server(self) -> tuple[str, int | None] | None:
        """The server's ``(host, port)``, ``None`` if unknown (a Unix socket)."""
        server = self.scope.get("server")
        return (server[0], server[1]) if server else None

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

    @cached_property
    def full_path(self) -> str:
        """:attr:`path` with the query string as sent: ``"/search?q=x"``
        (always with ``?``, as in Flask)."""
        return f"{self.path}?{self.query_string.decode('utf-8', 'replace')}"

    @property
    def host(self) -> str:
        """The host the client asked for, with the port unless it is the
        scheme's default: the ``Host`` header, else the server's address
        (an IPv6 one in brackets). ``""`` if the header is not a valid host.

        :raises ~flaskish.exceptions.SecurityError: (a 400) if the host is
            not in :attr:`trusted_hosts` or the ``TRUSTED_HOSTS`` config.
        """
        host = self.headers.get("host")
        if host is None:
            server = self.scope.get("server")
            if not server:
                return "localhost"
            name, port = server[0], server[1]
            if ":" in name and not name.startswith("["):
                name = f"[{name}]"
            host = name if port is None else f"{name}:{port}"
        default = _default_ports.get(self.scheme)
        if default is not None and host.endswith(f":{default}"):
            host = host[: -len(f":{default}")]
        match = _host_re.fullmatch(host)
        if match is None or (match[1] is not None and not 0 < int(match[1]) < 65536):
            host = ""
        trusted = self.trusted_hosts
        if trusted is None and (ctx := _cv_app.get(None)) is not None:
            trusted = ctx.app.config.get("TRUSTED_HOSTS")
        if trusted is not None and not _host_is_trusted(host, trusted):
            raise SecurityError(
                f"The host {host!r} is not trusted. If it serves this app, add it to the "
                "TRUSTED_HOSTS config (a leading '.' also trusts its subdomains)."
            )
        return host

    @cached_property
    def host_url(self) -> str:
        """``scheme://host/``."""
        return f"{self.scheme}://{self.host}/"

    @cached_property
    def url_root(self) -> str:
        """``scheme://host/root_path/``: the URL of the app's root."""
        return f"{self.scheme}://{self.host}{_iri_path(self.root_path)}/"

    @property
    def root_url(self) -> str:
        """Werkzeug's other name for :attr:`url_root`."""
        return self.url_root

    @cached_property
    def base_url(self) -> str:
        """The URL without the query string. Like :attr:`url`, an IRI."""
        return f"{self.scheme}://{self.host}{_iri_path(self.root_path)}{_iri_path(self.path)}"

    @cached_property
    def url(self) -> str:
        """The full URL, query string included. As in Werkzeug it is an IRI:
        ``http://localhost/café?q=thé`` rather than ``/caf%C3%A9?q=th%C3%A9``;
        characters that would change its meaning stay percent-encoded.
        :func:`~flaskish.redirect` encodes it for the ``Location`` header."""
        query = self.query_string
        return f"{self.base_url}?{_iri_query(query)}" if query else self.base_url

    @cached_property
    def args(self) -> ImmutableMultiDict[str]:
        """The query string arguments. A missing key raises a
        :class:`~flaskish.exceptions.BadRequestKeyError` (a 400). Bytes that
        are not UTF-8 (raw or percent-encoded) become U+FFFD; a ``%`` not
        followed by two hex digits is kept as it is."""
        text = self.query_string.decode("utf-8", "replace")
        return ImmutableMultiDict(
            parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace")
        )

    # -- headers -------------------------------------------------------------

    @cached_property
    def headers(self) -> Headers:
        """The request headers (case-insensitive)."""
        return Headers(raw=list(self.scope.get("headers", ())))

    @cached_property
    def cookies(self) -> ImmutableMultiDict[str]:
        """The cookies the client sent, decoded as UTF-8. A name without
        ``=`` gets the value ``""``, as in Werkzeug."""
        pairs = []
        for header in self.headers.getlist("cookie"):
            for match in _cookie_pair_re.finditer(header):
                name, value = match["name"].strip(), (match["value"] or "").strip()
                if not name:
                    continue
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = _cookie_unquote(value)
                pairs.append((_latin1_to_utf8(name), _latin1_to_utf8(value)))
        return ImmutableMultiDict(pairs)

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` header."""
        return self.headers.get("content-type")

    @cached_property
    def _parsed_content_type(self) -> tuple[str, dict[str, str]]:
        return parse_options_header(self.content_type)

    @property
    def mimetype(self) -> str:
        """The content type without parameters, lower case (``""`` if none)."""
        return self._parsed_content_type[0].lower()

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The content type's parameters (``{"charset": "utf-8"}``), names
        lower case, quoted values unquoted."""
        return dict(self._parsed_content_type[1])

    @property
    def content_length(self) -> int | None:
        """The ``Content-Length`` header as a number; ``None`` if absent,
        not a plain number, or if the body is chunked (``Transfer-Encoding``)."""
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            return None
        return _number(self.headers.get("content-length"))

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

    @cached_property
    def user_agent(self) -> UserAgent:
        """The ``User-Agent`` header (``""`` if absent): a string that also
        has Werkzeug's ``.string``; see :class:`~flaskish.http.UserAgent`."""
        return UserAgent(self.headers.get("user-agent", ""))

    @property
    def referrer(self) -> str | None:
        """The ``Referer`` header."""
        return self.headers.get("referer")

    @property
    def origin(self) -> str | None:
        """The ``Origin`` header (sent with CORS and form posts)."""
        return self.headers.get("origin")

    @cached_property
    def date(self) -> datetime | None:
        """The ``Date`` header as an aware UTC datetime, ``None`` if absent or invalid."""
        return parse_date(self.headers.get("date"))

    @property
    def max_forwards(self) -> int | None:
        """The ``Max-Forwards`` header as a number, ``None`` if absent or invalid."""
        return _number(self.headers.get("max-forwards"))

    # -- content negotiation and conditional requests -------------------------

    @cached_property
    def accept_mimetypes(self) -> MIMEAccept:
        """The ``Accept`` header: ``request.accept_mimetypes.best_match(["application/json",
        "text/html"])``, ``.accept_json``. Empty (and ``.provided`` false) if absent."""
        return parse_accept_header(self.headers.get("accept"), MIMEAccept)

    @cached_property
    def accept_charsets(self) -> CharsetAccept:
        """The ``Accept-Charset`` header."""
        return parse_accept_header(self.headers.get("accept-charset"), CharsetAccept)

    @cached_property
    def accept_encodings(self) -> Accept:
        """The ``Accept-Encoding`` header (``"gzip" in request.accept_encodings``)."""
        return parse_accept_header(self.headers.get("accept-encoding"), Accept)

    @cached_property
    def accept_languages(self) -> LanguageAccept:
        """The ``Accept-Language`` header (``.best_match(["en", "fr"])``)."""
        return parse_accept_header(self.headers.get("accept-language"), LanguageAccept)

    @cached_property
    def authorization(self) -> Authorization | None:
        """The ``Authorization`` header: ``.type``, ``.username`` and
        ``.password`` (Basic), ``.token`` (Bearer). ``None`` if absent or malformed."""
        return Authorization.from_header(self.headers.get("authorization"))

    @cached_property
    def if_modified_since(self) -> datetime | None:
        """The ``If-Modified-Since`` header as an aware UTC datetime, ``None``
        if absent or invalid."""
        return parse_date(self.headers.get("if-modified-since"))

    @cached_property
    def if_unmodified_since(self) -> datetime | None:
        """The ``If-Unmodified-Since`` header as an aware UTC datetime, ``None``
        if absent or invalid."""
        return parse_date(self.headers.get("if-unmodified-since"))

    @cached_property
    def if_none_match(self) -> ETags:
        """The ``If-None-Match`` tags (empty if absent): ``etag in request.if_none_match``."""
        return parse_etags(self.headers.get("if-none-match"))

    @cached_property
    def if_match(self) -> ETags:
        """The ``If-Match`` tags (empty if absent)."""
        return parse_etags(self.headers.get("if-match"))

    @cached_property
    def if_range(self) -> IfRange:
        """The ``If-Range`` header: ``.date`` or ``.etag`` (both ``None`` if absent)."""
        return parse_if_range_header(self.headers.get("if-range"))

    @cached_property
    def range(self) -> Range | None:
        """The ``Range`` header, ``None`` if absent or malformed."""
        return parse_range_header(self.headers.get("range"))

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
            return parse_list_header(forwarded)
        return [self.remote_addr] if self.remote_addr else []

    @cached_property
    def environ(self) -> Mapping[str, Any]:
        """A read-only, WSGI-style view of the request, for code written
        against ``request.environ`` (``REMOTE_ADDR``, ``HTTP_*`` headers,
        ``PATH_INFO``...). ASGI has no WSGI environ: there is no
        ``wsgi.input`` (read the body with :attr:`stream`), and
        ``asgi.scope`` holds the real thing."""
        scope = self.scope
        server = scope.get("server") or ("localhost", 80)
        client = scope.get("client") or ("", 0)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.method,
            "SCRIPT_NAME": self.root_path,
            "PATH_INFO": self.path,
            "QUERY_STRING": self.query_string.decode("latin-1"),
            "SERVER_NAME": server[0],
            "SERVER_PORT": str(server[1]),
            "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
            "REMOTE_ADDR": client[0],
            "REMOTE_PORT": str(client[1]),
            "wsgi.url_scheme": self.scheme,
            "asgi.scope": scope,
        }
        for name, value in self.headers.items():
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = f"HTTP_{key}"
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return MappingProxyType(environ)

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
