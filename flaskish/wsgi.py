"""``app.wsgi_app``: WSGI middleware around a flaskish app, as Flask apps
write it::

    app.wsgi_app = SomeWSGIMiddleware(app.wsgi_app)

``app.wsgi_app`` is the app as a WSGI callable (:class:`WSGIApp`). Once it
is replaced by middleware around it, the app serves each HTTP request
through that middleware (:func:`serve_through_wsgi`): the ASGI scope becomes
a WSGI environ, the middleware runs on a worker thread, and at its centre
:class:`WSGIApp` turns the environ it was given (with what the middleware
changed: the client address, host, scheme, script name...) back into a scope
and runs the app on the event loop.

The body is read before the middleware runs and the response is collected
before it is sent, so a streamed response is buffered on this path. Werkzeug's
``ProxyFix`` is refused there: :class:`flaskish.ProxyFix` on ``app.asgi_app``
does its job on the event loop.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeGuard

from werkzeug.exceptions import BadRequest
from werkzeug.http import HTTP_STATUS_CODES

from .concurrency import in_thread, run_in_loop

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope

    from .concurrency import ThreadPool

__all__ = [
    "ORIG_KEY",
    "WSGIApp",
    "environ_from_scope",
    "is_environ",
    "request_from_environ",
    "scope_from_environ",
    "serve_through_wsgi",
]

#: The scope key where :class:`flaskish.ProxyFix` keeps what the server saw
#: (``client``, ``scheme``, ``host``, ``server``, ``root_path``, ``path``);
#: the environ shows it as Werkzeug's ``werkzeug.proxy_fix.orig``.
ORIG_KEY = "flaskish.proxy_fix.orig"

#: The scope key that keeps the environ's keys a scope has no place for
#: (``REMOTE_USER``, ``wsgi.errors``, a middleware's ``werkzeug.proxy_fix.orig``,
#: a test's ``environ_base``), so that ``request.environ`` still has them.
EXTRA_ENVIRON = "flaskish.environ"

# CGI variables that PEP 3333 says are native strings, when present.
_STRINGS = (
    "REQUEST_METHOD",
    "SCRIPT_NAME",
    "PATH_INFO",
    "QUERY_STRING",
    "SERVER_NAME",
    "SERVER_PORT",
    "SERVER_PROTOCOL",
    "REMOTE_ADDR",
    "REMOTE_PORT",
    "CONTENT_TYPE",
    "CONTENT_LENGTH",
    "wsgi.url_scheme",
)
# The keys a scope holds in its own fields (scope_from_environ reads them).
_IN_THE_SCOPE = frozenset({*_STRINGS, "wsgi.input", "asgi.scope"})

StartResponse = Callable[..., Any]
WSGICallable = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def environ_from_scope(scope: Scope, body: io.BytesIO | None = None) -> dict[str, Any]:
    """A WSGI environ for an ASGI HTTP scope (PEP 3333: text as latin-1),
    with the scope itself under ``asgi.scope``.

    :param body: the request body as ``wsgi.input``; without it the environ
        has no ``wsgi.input`` (rather than an empty one that would read as
        an empty body).
    """
    server = scope.get("server") or ("localhost", 80)
    client = scope.get("client") or ("", 0)
    root = scope.get("root_path", "").rstrip("/")
    path: str = scope["path"]
    if root and path.startswith(root):
        path = path[len(root) :]
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root.encode().decode("latin-1"),
        "PATH_INFO": path.encode().decode("latin-1"),
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": str(server[0]),
        "SERVER_PORT": str(server[1]),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "REMOTE_ADDR": client[0],
        "REMOTE_PORT": str(client[1]),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "asgi.scope": scope,
    }
    environ.update(scope.get(EXTRA_ENVIRON, ()))
    if body is not None:
        environ["wsgi.input"] = body
    orig = scope.get(ORIG_KEY)
    if orig is not None:
        orig_server = orig["server"] or ("localhost", 80)
        environ["werkzeug.proxy_fix.orig"] = {
            "REMOTE_ADDR": (orig["client"] or ("", 0))[0],
            "wsgi.url_scheme": orig["scheme"],
            "HTTP_HOST": orig["host"],
            "SERVER_NAME": str(orig_server[0]),
            "SERVER_PORT": str(orig_server[1]),
            "SCRIPT_NAME": orig["root_path"].rstrip("/").encode().decode("latin-1"),
        }
    for raw_name, raw_value in scope.get("headers", ()):
        key = raw_name.decode("latin-1").upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = f"HTTP_{key}"
        value = raw_value.decode("latin-1")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    return environ


def scope_from_environ(environ: dict[str, Any]) -> Scope:
    """The ASGI scope for a WSGI environ: the original scope (``asgi.scope``)
    with what WSGI middleware may have changed taken from the environ."""
    scope: dict[str, Any] = dict(
        environ.get("asgi.scope")
        or {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1"}
    )
    root = environ.get("SCRIPT_NAME", "").encode("latin-1").decode("utf-8", "replace")
    path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            name = key  # WSGI servers set these empty when absent
        else:
            continue
        if isinstance(value, str):
            headers.append(
                (name.lower().replace("_", "-").encode("latin-1"), value.encode("latin-1"))
            )
    port = environ.get("SERVER_PORT")
    protocol = environ.get("SERVER_PROTOCOL")
    if isinstance(protocol, str) and protocol.startswith("HTTP/"):
        scope["http_version"] = protocol[5:]
    extra = {
        key: value
        for key, value in environ.items()
        if key not in _IN_THE_SCOPE and not key.startswith("HTTP_")
    }
    if extra:
        scope[EXTRA_ENVIRON] = extra
    else:
        scope.pop(EXTRA_ENVIRON, None)
    scope.update(
        type="http",
        method=environ["REQUEST_METHOD"].upper(),
        scheme=environ.get("wsgi.url_scheme", "http"),
        root_path=root.rstrip("/"),
        path=root.rstrip("/") + (path or "/"),
        raw_path=(root.rstrip("/") + (path or "/")).encode(),
        query_string=environ.get("QUERY_STRING", "").encode("latin-1"),
        headers=headers,
        server=(environ.get("SERVER_NAME", "localhost"), int(port) if port else None),
        client=(environ.get("REMOTE_ADDR", ""), int(environ.get("REMOTE_PORT") or 0)),
    )
    return scope


def is_environ(value: Any) -> TypeGuard[dict[str, Any]]:
    """Whether *value* is a WSGI environ rather than an ASGI scope (which
    always has a ``type``)."""
    return isinstance(value, dict) and (
        "type" not in value or "REQUEST_METHOD" in value or "wsgi.version" in value
    )


_NUMBERS = ("SERVER_PORT", "REMOTE_PORT", "CONTENT_LENGTH")


def request_from_environ(environ: dict[str, Any]) -> tuple[Scope, Receive]:
    """The ASGI scope and receive callable of the request a WSGI environ
    describes (``app.request_context(environ)``): the body is read from
    ``wsgi.input`` when the request asks for it, at most ``CONTENT_LENGTH``
    bytes (nothing without a length, unless ``wsgi.input_terminated``), as
    Werkzeug reads it.

    :raises BadRequest: the environ is malformed (no ``REQUEST_METHOD``, a
        CGI value or header that is not a latin-1 ``str``, a port or length
        that is not a number, a ``wsgi.input`` without ``read``).
    """
    if not isinstance(environ, dict):
        raise BadRequest(f"A WSGI environ is a dict, not {type(environ).__name__}.")
    method = environ.get("REQUEST_METHOD")
    if not isinstance(method, str) or not method:
        raise BadRequest("The WSGI environ has no REQUEST_METHOD; set it to 'GET', 'POST'...")
    for key, value in environ.items():
        if not isinstance(key, str):
            raise BadRequest(f"The WSGI environ has a key that is not a str: {key!r}.")
        if key in _STRINGS or key.startswith("HTTP_"):
            if not isinstance(value, str):
                raise BadRequest(
                    f"The WSGI environ's {key} is {type(value).__name__}; PEP 3333 makes it a str."
                )
            try:
                value.encode("latin-1")
            except UnicodeEncodeError:
                raise BadRequest(
                    f"The WSGI environ's {key} is not latin-1 text (PEP 3333 "
                    "carries bytes as latin-1 str)."
                ) from None
    for key in _NUMBERS:
        if environ.get(key) and not environ[key].strip().isdigit():
            raise BadRequest(f"The WSGI environ's {key} is {environ[key]!r}, not a number.")
    stream = environ.get("wsgi.input")
    if stream is not None and not callable(getattr(stream, "read", None)):
        raise BadRequest(
            "The WSGI environ's wsgi.input has no read() method; give it a "
            "file-like object such as io.BytesIO(body)."
        )
    length = environ.get("CONTENT_LENGTH")
    if stream is None:
        size: int | None = 0
    elif length:
        size = int(length)
    else:
        size = None if environ.get("wsgi.input_terminated") else 0
    scope = scope_from_environ(environ)
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        if stream is None or size == 0:
            body = b""
        else:
            body = stream.read() if size is None else stream.read(size)
        if not isinstance(body, bytes):
            raise BadRequest(
                f"The WSGI environ's wsgi.input gave {type(body).__name__}, not bytes."
            )
        return {"type": "http.request", "body": body, "more_body": False}

    return scope, receive


class WSGIApp:
    """A flaskish app as a WSGI callable (``app.wsgi_app``): what WSGI
    middleware wraps. Called from a worker thread (or outside any event
    loop), it runs the app's ASGI side on the event loop and returns the
    response.

    :param asgi: the ASGI callable to run (the app's ``asgi_app``).
    """

    def __init__(self, asgi: Callable[[], ASGIApp]) -> None:
        self._asgi = asgi

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        source = environ.get("wsgi.input")
        body = source.read() if source is not None else b""
        status, headers, chunks = run_in_loop(
            _run_asgi, self._asgi(), scope_from_environ(environ), body
        )
        phrase = HTTP_STATUS_CODES.get(status, "UNKNOWN").upper()
        start_response(
            f"{status} {phrase}",
            [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers],
        )
        return chunks

    def __repr__(self) -> str:
        return f"<flaskish WSGIApp around {self._asgi()!r}>"


async def _run_asgi(
    app: ASGIApp, scope: Scope, body: bytes
) -> tuple[int, list[tuple[bytes, bytes]], list[bytes]]:
    sent = False
    response: dict[str, Any] = {"status": 500, "headers": [], "chunks": []}

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            response["status"] = message["status"]
            response["headers"] = list(message.get("headers", ()))
        elif message["type"] == "http.response.body":
            response["chunks"].append(message.get("body", b""))

    await app(scope, receive, send)
    return response["status"], response["headers"], response["chunks"]


async def serve_through_wsgi(
    wsgi_app: WSGICallable,
    scope: Scope,
    receive: Callable[[], Any],
    send: Callable[[Message], Any],
    pool: ThreadPool,
) -> None:
    """Serve one ASGI HTTP request through WSGI middleware (``app.wsgi_app``
    replaced), on a worker thread of *pool*."""
    body = io.BytesIO()
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body.write(message.get("body", b""))
        more = message.get("more_body", False)
    body.seek(0)
    environ = environ_from_scope(scope, body)
    status, headers, chunks = await in_thread(_call_wsgi, wsgi_app, environ, pool=pool)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"".join(chunks)})


def _call_wsgi(
    wsgi_app: WSGICallable, environ: dict[str, Any]
) -> tuple[int, list[tuple[bytes, bytes]], list[bytes]]:
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return lambda data: chunks.append(data)

    chunks: list[bytes] = []
    result = wsgi_app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not started:
        raise RuntimeError("The WSGI middleware around app.wsgi_app never called start_response.")
    status, headers = started
    raw = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    return int(status.split(" ", 1)[0]), raw, chunks
