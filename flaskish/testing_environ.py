"""Made-up requests, built as Flask builds them: with Werkzeug's
:class:`~werkzeug.test.EnvironBuilder`, a sans-IO helper that turns the test
client's arguments (``path``, ``query_string``, ``data``, ``json``,
``environ_base``...) into a WSGI environ.

The environ is only a description here. :func:`build_scope` (behind
:meth:`~flaskish.Flask.test_request_context`) turns it into an ASGI scope
with :func:`flaskish.wsgi.request_from_environ`; the test client sends it
over its ASGI transport and rebuilds the scope from it on the app's side
(``flaskish.testing``). No Werkzeug WSGI wrapper or WSGI call is involved.
"""

from __future__ import annotations

import importlib.metadata
import io
import sys
from copy import copy
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urljoin, urlsplit

import werkzeug.test
from werkzeug.sansio.request import Request as SansIORequest
from werkzeug.sansio.utils import get_current_url

from .wsgi import request_from_environ

if TYPE_CHECKING:
    from starlette.types import Message, Receive, Scope

    from .app import Flask
    from .request import Request

__all__ = ["ClientRedirectError", "EnvironBuilder", "build_scope"]

#: What ``follow_redirects=True`` raises on a redirect loop (Werkzeug's).
ClientRedirectError = werkzeug.test.ClientRedirectError

#: The statuses the test client follows with ``follow_redirects=True``
#: (Werkzeug's list).
REDIRECT_STATUSES = frozenset({301, 302, 303, 305, 307, 308})


class EnvironBuilder(werkzeug.test.EnvironBuilder):
    """Flask's :class:`~werkzeug.test.EnvironBuilder`: it takes its defaults
    from the app. Without ``base_url``, the URL is built from
    :data:`PREFERRED_URL_SCHEME` (or *url_scheme*), :data:`SERVER_NAME` (with
    *subdomain* in front, ``localhost`` when unset) and
    :data:`APPLICATION_ROOT`; ``json`` is serialized with the app's JSON
    provider. Pass one to ``client.open(builder)``.

    :param app: the app whose configuration gives the defaults.
    :param path: the URL path, optionally with a query string, scheme and host.
    :param base_url: the URL the app is served under; not with *subdomain*
        or *url_scheme*.
    :param subdomain: put in front of ``SERVER_NAME``.
    :param url_scheme: instead of ``PREFERRED_URL_SCHEME``.
    :param args: Werkzeug's other :class:`~werkzeug.test.EnvironBuilder`
        arguments (``query_string``, ``method``, ``input_stream``...).
    :param kwargs: the same, by name (``headers``, ``data``, ``json``,
        ``content_type``, ``environ_base``, ``environ_overrides``, ``auth``...).
    """

    def __init__(
        self,
        app: Flask,
        path: str = "/",
        base_url: str | None = None,
        subdomain: str | None = None,
        url_scheme: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        if base_url is not None and (subdomain or url_scheme):
            raise ValueError('Cannot pass "subdomain" or "url_scheme" with "base_url".')
        if base_url is None:
            host = app.config.get("SERVER_NAME") or "localhost"
            if subdomain:
                host = f"{subdomain}.{host}"
            if url_scheme is None:
                url_scheme = app.config["PREFERRED_URL_SCHEME"]
            url = urlsplit(path)
            root = str(app.config["APPLICATION_ROOT"] or "/")
            base_url = f"{url.scheme or url_scheme}://{url.netloc or host}/{root.lstrip('/')}"
            path = url.path + (f"?{url.query}" if url.query else "")
        if isinstance(kwargs.get("query_string"), bytes):
            # Beyond Flask: bytes are sent as given (non-ASCII percent-encoded).
            kwargs["query_string"] = quote(kwargs["query_string"], safe="=&;+%/?:@!$'()*,~")
        self.app = app
        super().__init__(path, base_url, *args, **kwargs)

    def get_environ(self) -> dict[str, Any]:
        """The WSGI environ, as Werkzeug's builder makes it; a multipart
        body gets the blank line Werkzeug's encoder leaves out after the
        headers of an empty file (its own parser accepts that; python-multipart,
        like a browser's body, has the blank line)."""
        environ: dict[str, Any] = super().get_environ()
        content_type = str(environ.get("CONTENT_TYPE", ""))
        multipart = content_type.startswith("multipart/form-data")
        if multipart and self.input_stream is None and self.files:
            boundary = content_type.partition("boundary=")[2].strip('"').encode()
            body = environ["wsgi.input"].read()
            environ["wsgi.input"].close()
            body = _blank_lines_for_empty_parts(body, boundary)
            environ["wsgi.input"], environ["CONTENT_LENGTH"] = io.BytesIO(body), str(len(body))
        return environ

    def json_dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialize *obj* with the app's JSON provider (``app.json``)."""
        return self.app.json.dumps(obj, **kwargs)

    def get_request(self, cls: type[Any] | None = None) -> Request | Any:  # type: ignore[override]
        """The request this builder describes: an instance of the app's
        :attr:`~flaskish.Flask.request_class` (Flask's gives a Werkzeug WSGI
        request; flaskish's request is made from an ASGI scope). Pass *cls*
        for a WSGI request class, which is called with the environ."""
        if cls is not None:
            return super().get_request(cls)
        scope, receive = request_from_environ(self.get_environ())
        return self.app.request_class(scope, receive)


def _blank_lines_for_empty_parts(body: bytes, boundary: bytes) -> bytes:
    """Werkzeug's encoding of *body* with each part's blank line after its
    headers: a part of Werkzeug's encoder without one has no data."""
    delimiter = b"\r\n--" + boundary
    preamble, *parts = body.split(delimiter)
    return delimiter.join(
        [
            preamble,
            *(
                part if part.startswith(b"--") or b"\r\n\r\n" in part else part + b"\r\n"
                for part in parts
            ),
        ]
    )


@cache
def _werkzeug_version() -> str:
    return importlib.metadata.version("werkzeug")


def client_environ_base() -> dict[str, Any]:
    """What Flask's test client puts under every request's environ
    (``client.environ_base``)."""
    return {"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": f"Werkzeug/{_werkzeug_version()}"}


def made_up_environ(app: Flask, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The environ of a made-up request, from :class:`EnvironBuilder`'s
    arguments (what :meth:`~flaskish.Flask.test_request_context` takes). The
    client address is ``127.0.0.1`` unless ``environ_base`` or
    ``environ_overrides`` say otherwise."""
    kwargs["environ_base"] = {"REMOTE_ADDR": "127.0.0.1", **(kwargs.get("environ_base") or {})}
    return _build(EnvironBuilder(app, *args, **kwargs))


def _build(builder: werkzeug.test.EnvironBuilder, close: bool = True) -> dict[str, Any]:
    """The builder's environ; then, if *close*, the builder is closed (with
    the files given in ``data``, as Flask closes them). A body stream the
    builder made (a multipart body may be a temporary file) is read into
    memory and closed."""
    try:
        environ = builder.get_environ()
        if builder.input_stream is None:
            made = environ["wsgi.input"]
            environ["wsgi.input"] = io.BytesIO(read_body(environ))
            made.close()
        return environ
    finally:
        if close:
            builder.close()


def build_scope(app: Flask, *args: Any, **kwargs: Any) -> tuple[Scope, Receive]:
    """The ASGI scope and receive callable of a made-up request, from
    :class:`EnvironBuilder`'s arguments (see :func:`made_up_environ`)."""
    return request_from_environ(made_up_environ(app, *args, **kwargs))


def _wsgi_environ_of(value: Any) -> dict[str, Any] | None:
    """The environ of a Werkzeug WSGI request (``builder.get_request(cls)``),
    ``None`` for anything else (a flaskish request has no WSGI environ)."""
    environ = getattr(value, "environ", None)
    if isinstance(value, SansIORequest) and isinstance(environ, dict):
        return environ
    return None


def open_environ(
    app: Flask, args: tuple[Any, ...], kwargs: dict[str, Any], environ_base: dict[str, Any]
) -> dict[str, Any]:
    """The environ of the request ``client.open(*args, **kwargs)`` makes,
    as Flask's client reads its arguments: an :class:`EnvironBuilder` (a
    copy is used), a WSGI environ dict, a Werkzeug request, or the
    builder's arguments. *environ_base* (the client's) goes under it."""
    first: Any = args[0] if args else None
    request_environ = _wsgi_environ_of(first)
    if isinstance(first, (werkzeug.test.EnvironBuilder, dict)) or request_environ is not None:
        given_method = (
            first.method
            if isinstance(first, werkzeug.test.EnvironBuilder)
            else (request_environ or first).get("REQUEST_METHOD", "GET")
        )
        if kwargs.get("method", given_method).upper() == str(given_method).upper():
            kwargs.pop("method", None)  # ``client.get(builder)`` of a GET builder
        if len(args) > 1 or kwargs:
            extra = ", ".join(sorted(kwargs)) or "more positional arguments"
            raise TypeError(
                f"client.open() was given a {type(first).__name__} and also {extra}, which "
                "would be ignored. Set them on the builder or the environ instead."
            )
        if isinstance(first, werkzeug.test.EnvironBuilder):
            builder = copy(first)
            builder.environ_base = {**environ_base, **(builder.environ_base or {})}
            return _build(builder, close=False)  # the test's builder: Flask leaves it open
        given = dict(first) if request_environ is None else request_environ
        return _complete(app, {**environ_base, **given})
    kwargs["environ_base"] = {**environ_base, **(kwargs.get("environ_base") or {})}
    return _build(EnvironBuilder(app, *args, **kwargs))


def _complete(app: Flask, environ: dict[str, Any]) -> dict[str, Any]:
    """*environ* with the keys a WSGI server always sets filled in (from an
    empty builder's), so that a partial environ can be sent."""
    defaults = EnvironBuilder(app).get_environ()
    if "HTTP_HOST" not in environ and "SERVER_NAME" in environ:
        port = environ.get("SERVER_PORT")
        scheme = environ.get("wsgi.url_scheme", "http")
        usual = {"http": "80", "https": "443"}.get(scheme)
        defaults["HTTP_HOST"] = environ["SERVER_NAME"] + (
            f":{port}" if port and port != usual else ""
        )
    return {**defaults, **environ}


def read_body(environ: dict[str, Any]) -> bytes:
    """The request body in *environ*, read as Werkzeug reads it: at most
    ``CONTENT_LENGTH`` bytes, nothing without a length (unless
    ``wsgi.input_terminated``)."""
    stream = environ.get("wsgi.input")
    length = environ.get("CONTENT_LENGTH")
    if stream is None:
        return b""
    if length:
        return bytes(stream.read(int(length)))
    return bytes(stream.read()) if environ.get("wsgi.input_terminated") else b""


def environ_url(environ: dict[str, Any]) -> str:
    """The URL *environ* asks for, percent-encoded (what the cookie jar
    matches cookies against)."""
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "localhost"

    def text(key: str) -> str:
        return str(environ.get(key, "")).encode("latin-1").decode("utf-8", "replace")

    return get_current_url(
        environ.get("wsgi.url_scheme", "http"),
        host,
        text("SCRIPT_NAME"),
        text("PATH_INFO") or "/",
        str(environ.get("QUERY_STRING", "")).encode("latin-1"),
    )


# Like the receive wsgi.request_from_environ makes, whose body is read from
# the environ's stream when first asked for (so the two are kept apart).
def body_receive(body: bytes) -> Receive:
    """An ASGI receive callable that gives *body*, then a disconnect."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def redirect_environ(
    app: Flask,
    environ: dict[str, Any],
    status: int,
    location: str,
    environ_base: dict[str, Any],
    allow_subdomains: bool,
) -> dict[str, Any]:
    """The environ of the request that follows a redirect to *location*
    from the request *environ*, as Werkzeug's client makes it: the same
    host, headers and root path; a 307 or 308 keeps the method and body,
    other statuses turn into a ``GET`` (a ``HEAD`` stays one) without a
    body. A redirect to another host raises :class:`RuntimeError` (to a
    subdomain too, unless *allow_subdomains*)."""
    scheme, netloc, path, query, _ = urlsplit(urljoin(environ_url(environ), location))
    builder = EnvironBuilder.from_environ(environ, app=app, path=path, query_string=query)
    to_parts = netloc.partition(":")[0].split(".")
    from_parts = builder.server_name.split(".")
    builder.url_scheme, builder.host = scheme, netloc
    if to_parts != from_parts:
        if to_parts[-len(from_parts) :] != from_parts:
            raise RuntimeError("Following external redirects is not supported.")
        if not allow_subdomains:
            raise RuntimeError("Following subdomain redirects is not enabled.")
    root_parts = builder.script_root.split("/")
    if path.split("/")[: len(root_parts)] == root_parts:
        builder.path = path[len(builder.script_root) :]
    else:  # outside the root path: the whole path, no root
        builder.path, builder.script_root = path, ""
    if status not in (307, 308):
        if builder.method != "HEAD":
            builder.method = "GET"
        builder.input_stream = None
        builder.content_type = None
        builder.content_length = None
        builder.headers.pop("Transfer-Encoding", None)
    builder.environ_base = environ_base
    return _build(builder)


def sendable(environ: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """A copy of *environ* whose ``wsgi.input`` is its body read into
    memory (so the request can be sent again after a 307), and the body."""
    body = read_body(environ)
    sent = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
    if not body and not environ.get("CONTENT_LENGTH"):
        del sent["CONTENT_LENGTH"]
    sent.setdefault("wsgi.errors", sys.stderr)
    return sent, body
