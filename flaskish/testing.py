"""The test client (Flask's API on httpx's ASGI transport) and made-up
requests for :meth:`~flaskish.Flask.test_request_context`.

:class:`FlaskClient` (``app.test_client()``) takes Flask's arguments (those
of Werkzeug's :class:`~werkzeug.test.EnvironBuilder`, a builder, or a WSGI
environ), builds the request's environ with :class:`EnvironBuilder`
(:mod:`flaskish.testing_environ`), sends it over httpx's ASGI transport and
turns the answer into a :class:`TestResponse`. In sync code
``client.get("/")`` returns the response, the same async transport run on
a blocking portal; in async code it returns an awaitable, and the app runs
on the test's own event loop. Cookies are kept
by :mod:`flaskish.testing_cookies`.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import weakref
from collections.abc import Generator, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import anyio
import httpx2 as httpx
from werkzeug.datastructures import Headers

# Flask's flask.testing holds the CLI runner: it lives beside the CLI, and
# keeps this name here (and ``flask.testing.FlaskCliRunner`` with install_as_flask).
from .cli_testing import FlaskCliRunner
from .composition import run_lifespan
from .concurrency import blocking_portal, on_event_loop, resolve
from .response import Response
from .testing_cookies import ClientCookies, Cookie
from .testing_environ import (
    REDIRECT_STATUSES,
    ClientRedirectError,
    EnvironBuilder,
    body_receive,
    build_scope,
    client_environ_base,
    environ_url,
    made_up_environ,
    open_environ,
    redirect_environ,
    sendable,
)
from .testing_websocket import TestWebsocket, WebsocketDenied
from .testing_websocket import connect as connect_websocket
from .wsgi import scope_from_environ

if TYPE_CHECKING:
    from anyio.from_thread import BlockingPortal
    from starlette.types import Receive, Scope, Send

    from .app import Flask
    from .ctx import AppContext, RequestContext
    from .request import Request
    from .sessions import SessionMixin

__all__ = [
    "AsyncFlaskClient",
    "ClientRedirectError",
    "Cookie",
    "EnvironBuilder",
    "FlaskCliRunner",
    "FlaskClient",
    "TestResponse",
    "TestWebsocket",
    "WebsocketDenied",
    "build_scope",
]

CLIENT_ADDRESS = ("127.0.0.1", 50000)

# Names the request sent over the transport: the ASGI side of the client
# finds the environ to build the app's scope from under it.
_ENVIRON_HEADER = "x-flaskish-test-environ"


class TestResponse(Response):
    """A response received by the test client (Werkzeug's
    ``TestResponse``): Werkzeug's response attributes (``status_code``,
    ``status``, ``headers``, ``data``, ``text``, ``json``, ``get_json()``,
    ``mimetype``, ``location``, ``allow``, ``vary``, ``cache_control``,
    ``www_authenticate``...), :meth:`close` and ``with``, plus
    :attr:`request` and :attr:`history`."""

    __test__ = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: The request that was sent, as the app received it: an instance
        #: of the app's ``request_class`` (``.path``, ``.args``,
        #: ``.headers``, ``.environ``, ``.get_data()``...).
        self.request: Request = None  # type: ignore[assignment]
        #: The responses of the redirects followed before this one.
        self.history: tuple[TestResponse, ...] = ()
        self._environ: dict[str, Any] = {}

    @classmethod
    def _from_httpx(cls, response: httpx.Response, json_module: Any) -> TestResponse:
        result = cls(response.content, response.status_code)
        # The server's headers exactly (a HEAD response keeps its length).
        result.headers = _headers(response.headers.raw)
        result.json_module = json_module
        return result


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> Headers:
    """Headers received over the test transport, names as sent."""
    return Headers([(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw])


# httpx logs an INFO record per request ("HTTP Request: GET ..."); Werkzeug's
# test client logs nothing, and tests that count log records rely on that.
# Only the test client's own requests are silenced, not the app's httpx use.
_quiet: ContextVar[bool] = ContextVar("flaskish.testing.quiet", default=False)


class _TestClientRequests(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _quiet.get()


logging.getLogger("httpx2").addFilter(_TestClientRequests())


@dataclass
class _Sent:
    """A request on its way: its environ, and the scope the app got."""

    environ: dict[str, Any]
    body: bytes
    scope: Scope | None = None


_keys = itertools.count()


class _WeakASGI:
    """The client's ASGI side (``FlaskClient._asgi``) through a weak
    reference, for the transports the client holds."""

    __slots__ = ("client",)

    def __init__(self, client: FlaskClient) -> None:
        self.client = weakref.ref(client)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = self.client()
        if client is None:
            raise RuntimeError("The test client this transport belonged to is gone.")
        await client._asgi(scope, receive, send)


class FlaskClient:
    """Flask's test client: ``app.test_client()``.

    Its methods take Flask's arguments: those of Werkzeug's
    :class:`~werkzeug.test.EnvironBuilder` (``path``, ``base_url``,
    ``query_string``, ``method``, ``headers``, ``data``, ``json``,
    ``content_type``, ``input_stream``, ``environ_base``,
    ``environ_overrides``, ``auth``...), or one :class:`EnvironBuilder`, or
    one WSGI environ dict.

    In a sync test, ``client.get("/")`` returns the response; ``with
    app.test_client() as client:`` runs the app's lifespan (startup and
    shutdown hooks) and keeps the context of the last request pushed, so
    ``request``, ``session`` and ``g`` can be checked after a call.

    In an async test (an event loop running), the same client's methods
    return awaitables and the app runs on the test's own loop::

        async with app.test_client() as client:
            response = await client.get("/")

    Both ways share one cookie jar.

    :param application: the app.
    :param response_wrapper: a :class:`~flaskish.Response` subclass the
        responses are also instances of (with :class:`TestResponse`).
    :param use_cookies: keep the cookies responses set, and send them.
    :param allow_subdomain_redirects: let ``follow_redirects`` follow a
        redirect to a subdomain of the request's host.
    """

    application: Flask

    def __init__(
        self,
        application: Flask,
        response_wrapper: type[Response] | None = None,
        use_cookies: bool = True,
        allow_subdomain_redirects: bool = False,
    ) -> None:
        self.application = application
        self.use_cookies = use_cookies
        self.allow_subdomain_redirects = allow_subdomain_redirects
        self.response_wrapper = _wrapper_class(response_wrapper)
        self.preserve_context = False
        #: Put under every request's environ, as in Flask: the client's
        #: address and user agent (``client.environ_base["REMOTE_ADDR"] = ...``).
        self.environ_base: dict[str, Any] = client_environ_base()
        self._new_contexts: list[tuple[AppContext, RequestContext]] = []
        self._kept: list[tuple[AppContext, RequestContext]] = []
        self._sent: dict[str, _Sent] = {}
        # The transports reach the client through a weak reference: Werkzeug's
        # client forms no cycle, so an app goes as soon as its client does.
        self._weak_asgi = _WeakASGI(self)
        # The one transport: httpx's ASGI client. Async code awaits it on its
        # own loop; sync code runs the same calls on a portal's loop (the
        # client's own in ``with client:``, else one per call), as
        # Starlette's TestClient does.
        self._http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self._weak_asgi, client=CLIENT_ADDRESS),
            follow_redirects=False,
        )
        self._jar = ClientCookies(self._http.cookies)
        # Before httpx stores a response's cookies, drop the ones they replace.
        self._http.event_hooks = {"response": [self._jar.replace_from_async]}
        self._portal: BlockingPortal | None = None
        self._lifespan: contextlib.AbstractAsyncContextManager[bool] | None = None
        self._held: contextlib.ExitStack | None = None  # ``with client:``'s portal, lifespan
        # The lifespan state of ``with client:``, copied into each request's scope.
        self._lifespan_state: dict[str, Any] | None = None
        self._owner: int | None = None

    # The verbs return whatever ``open`` returns: a response in sync code,
    # an awaitable of one in async code.
    def get(self, *args: Any, **kw: Any) -> Any:
        """``open(..., method="GET")``."""
        return self.open(*args, **{**kw, "method": "GET"})

    def post(self, *args: Any, **kw: Any) -> Any:
        """``open(..., method="POST")``."""
        return self.open(*args, **{**kw, "method": "POST"})

    def put(self, *args: Any, **kw: Any) -> Any:
        """``open(..., method="PUT")``."""
        return self.open(*args, **{**kw, "method": "PUT"})

    def patch(self, *args: Any, **kw: Any) -> Any:
        """``open(..., method="PATCH")``."""
        return self.open(*args, **{**kw, "method": "PATCH"})

    def delete(self, *args: Any, **kw: Any) -> Any:
        """``open(..., method="DELETE")``."""
        return self.open(*args, **{**kw, "method": "DELETE"})

    def head(self, *args: Any, **kw: Any) -> Any:
        """``open(..., method="HEAD")``."""
        return self.open(*args, **{**kw, "method": "HEAD"})

    def options(self, *args: Any, **kw: Any) -> Any:
        """``open(..., method="OPTIONS")``."""
        return self.open(*args, **{**kw, "method": "OPTIONS"})

    def trace(self, *args: Any, **kw: Any) -> Any:
        """``open(..., method="TRACE")``."""
        return self.open(*args, **{**kw, "method": "TRACE"})

    def websocket(
        self,
        path: str,
        subprotocols: list[str] | None = None,
        headers: dict[str, str] | None = None,
        query_string: dict[str, Any] | str | None = None,
    ) -> TestWebsocket:
        """A websocket connection to *path*, with the client's cookies::

            with client.websocket("/echo", subprotocols=["chat"]) as ws:
                ws.send("hi")
                assert ws.receive() == "hi"

        In an async test, ``async with client.websocket(...) as ws:`` runs
        the app on the test's loop, and ``ws``'s methods are awaited.

        :raises WebsocketDenied: (on entering) the app refused it with an
            HTTP response.
        """
        base = urlsplit(path)
        if base.query and query_string is not None:
            raise ValueError("Query string is defined in the path and as an argument.")
        query = base.query or (
            query_string
            if isinstance(query_string, str)
            else urlencode(query_string or {}, doseq=True)
        )
        host = self.application.config.get("SERVER_NAME") or "localhost"
        url = f"ws://{host}{base.path or '/'}" + (f"?{query}" if query else "")
        connection = connect_websocket(
            self._http, self._weak_asgi, url, subprotocols, headers, lambda: self._portal
        )
        # The transport reaches the client weakly: the connection keeps it
        # (``with app.test_client().websocket(...)`` holds no other reference).
        connection._client = self
        return connection

    def open(
        self, *args: Any, buffered: bool = False, follow_redirects: bool = False, **kwargs: Any
    ) -> Any:
        """Make a request and return the response (in async code, an
        awaitable of it), as Flask's ``client.open``.

        :param args: :class:`EnvironBuilder` arguments (``path``,
            ``base_url``...), or one :class:`EnvironBuilder`, or one WSGI
            environ dict (the keys a server always sets may be left out).
        :param buffered: accepted for Flask's sake: the transport always
            reads the whole response before returning it.
        :param follow_redirects: make further requests while the answer is
            a redirect, as Werkzeug's client does (:attr:`TestResponse.history`
            lists the redirects); a 307 or 308 resends the method and body.
        :param kwargs: :class:`EnvironBuilder` arguments by name. One it does
            not take raises :class:`TypeError` naming it.
        """
        environ = open_environ(self.application, args, kwargs, self.environ_base)
        exchange = self._exchange(environ, follow_redirects)
        if on_event_loop():
            return self._exchange_async(exchange)
        environ = next(exchange)
        while True:
            try:
                environ = exchange.send(self._send(environ))
            except StopIteration as stop:
                return stop.value
            except BaseException:
                exchange.close()  # the app raised: the request's input is closed
                raise

    async def _exchange_async(
        self, exchange: Generator[dict[str, Any], TestResponse, TestResponse]
    ) -> TestResponse:
        environ = next(exchange)
        while True:
            try:
                environ = exchange.send(await self._send_async(environ))
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            except BaseException:
                exchange.close()  # the app raised: the request's input is closed
                raise

    def _exchange(
        self, environ: dict[str, Any], follow_redirects: bool
    ) -> Generator[dict[str, Any], TestResponse, TestResponse]:
        """The requests of one ``open`` call, sans I/O: yields each environ
        to send, is sent its response, returns the final response."""
        source = environ.get("wsgi.input")
        try:
            response = yield environ
        except GeneratorExit:
            if source is not None and callable(getattr(source, "close", None)):
                source.close()
            raise
        history: list[TestResponse] = []
        seen: set[tuple[str | None, int]] = set()
        while follow_redirects and response.status_code in REDIRECT_STATUSES:
            entry = (response.location, response.status_code)
            if entry in seen:
                raise ClientRedirectError(
                    f"Loop detected: A {response.status_code} redirect to "
                    f"{response.location} was already made."
                )
            seen.add(entry)
            response.history = tuple(history)
            history.append(response)
            environ = redirect_environ(
                self.application,
                response._environ,
                response.status_code,
                response.location or "/",
                self.environ_base,
                self.allow_subdomain_redirects,
            )
            response = yield environ
        response.history = tuple(history)
        if source is not None and callable(getattr(source, "close", None)):
            # As in Werkzeug: closing the response closes the request's input.
            response.call_on_close(source.close)
        return response

    def _start(self, environ: dict[str, Any]) -> tuple[str, str, bytes]:
        """Before a request: release the kept contexts, register the
        environ for the ASGI side; give its key, URL and body."""
        if self._keeps_context():
            self._release_contexts()
        if not self.use_cookies:
            self._http.cookies.clear()
        sent, body = sendable(environ)
        key = str(next(_keys))
        self._sent[key] = _Sent(sent, body)
        return key, environ_url(sent), body

    # A request's contexts are released (_start) and kept (_finish) in the
    # caller's own context; only the transport's part runs on a portal.

    def _send(self, environ: dict[str, Any]) -> TestResponse:
        key, url, body = self._start(environ)
        try:
            if self._portal is not None:
                response = self._portal.call(self._transmit, environ, url, key, body)
            else:
                with blocking_portal() as portal:
                    response = portal.call(self._transmit, environ, url, key, body)
        finally:
            sent = self._sent.pop(key)  # also when the app raised
        return self._finish(response, sent)

    async def _send_async(self, environ: dict[str, Any]) -> TestResponse:
        key, url, body = self._start(environ)
        try:
            response = await self._transmit(environ, url, key, body)
        finally:
            sent = self._sent.pop(key)  # also when the app raised
        return self._finish(response, sent)

    async def _transmit(
        self, environ: dict[str, Any], url: str, key: str, body: bytes
    ) -> httpx.Response:
        token = _quiet.set(True)
        try:
            return await self._http.request(
                environ["REQUEST_METHOD"],
                url,
                headers={_ENVIRON_HEADER: key},
                content=body,
            )
        finally:
            _quiet.reset(token)

    def _finish(self, response: httpx.Response, sent: _Sent) -> TestResponse:
        result = self.response_wrapper._from_httpx(response, self.application.json)
        result._environ = sent.environ
        scope = sent.scope if sent.scope is not None else scope_from_environ(sent.environ)
        result.request = self.application.request_class(scope, body_receive(sent.body))
        for app_ctx, req_ctx in self._new_contexts:
            # Kept as they were at the request's end: no second
            # appcontext_pushed (nor an appcontext_popped when released).
            app_ctx._push()
            req_ctx._push()
            self._kept.append((app_ctx, req_ctx))
        self._new_contexts.clear()
        return result

    def _release_contexts(self) -> None:
        while self._kept:
            app_ctx, req_ctx = self._kept.pop()
            req_ctx._reset()
            app_ctx._reset()

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._lifespan_state is not None and not scope.get("state"):
            scope["state"] = dict(self._lifespan_state)  # as a server does
        if scope["type"] == "http":
            scope = self._app_scope(scope)
            if self._keeps_context():
                scope["flaskish.preserve_context"] = self._keep
        token = _quiet.set(False)  # the app's own httpx requests still log
        try:
            await self.application(scope, receive, send)
        finally:
            _quiet.reset(token)

    def _app_scope(self, scope: Scope) -> Scope:
        """The scope the app gets: built from the environ the request was
        sent for, with the cookies of the client's jar added to any
        ``Cookie`` header the test gave (Werkzeug's client drops that one)."""
        name = _ENVIRON_HEADER.encode()
        key = next((v.decode() for k, v in scope.get("headers", ()) if k == name), None)
        sent = self._sent.get(key) if key is not None else None
        if sent is None:
            return scope
        environ = dict(sent.environ)
        jar = [v.decode("latin-1") for k, v in scope["headers"] if k == b"cookie"]
        if jar:
            # The jar's cookies, after any Cookie header the test gave.
            given = environ.get("HTTP_COOKIE")
            environ["HTTP_COOKIE"] = "; ".join([given, *jar] if given else jar)
        environ["asgi.scope"] = scope  # keeps the transport's state and extensions
        sent.scope = scope_from_environ(environ)
        return sent.scope

    def _keep(self, app_ctx: AppContext, req_ctx: RequestContext) -> None:
        self._new_contexts.append((app_ctx, req_ctx))

    # -- cookies ----------------------------------------------------------

    def get_cookie(self, key: str, domain: str = "localhost", path: str = "/") -> Cookie | None:
        """The cookie *key* the client holds for *domain* and *path*
        (``None`` if it has none)."""
        return self._jar.get(key, domain, path)

    def set_cookie(
        self, key: str, value: str = "", domain: str = "localhost", path: str = "/"
    ) -> None:
        """Give the client a cookie, as if a response from *domain* had set
        it: it replaces the cookie of that name, domain and path, the one
        the server set included, as in Werkzeug."""
        self._jar.set(key, value, domain, path)

    def delete_cookie(self, key: str, domain: str = "localhost", path: str = "/") -> None:
        """Remove the cookie *key* of *path* from the client."""
        self._jar.delete(key, domain, path)

    @contextlib.contextmanager
    def session_transaction(self, *args: Any, **kwargs: Any) -> Iterator[SessionMixin]:
        """Read and change the client's session outside a request::

            with client.session_transaction() as sess:
                sess["user_id"] = 1

        Takes :meth:`~flaskish.Flask.test_request_context`'s arguments, for
        a session that depends on the request.
        """
        if not self.use_cookies:
            raise TypeError("Cookies are disabled. Create a client with use_cookies=True.")
        app = self.application
        environ = made_up_environ(app, *args, **kwargs)
        url = environ_url(environ)
        cookie = self._jar.header_for(url)
        if cookie:  # the cookies a request to that URL would carry, as in Flask
            environ["HTTP_COOKIE"] = cookie
        ctx = app.request_context(environ)
        interface = app.session_interface
        with ctx:
            session = resolve(interface.open_session(app, ctx.request))
        if session is None:
            raise RuntimeError("Session backend did not open a session.")
        yield session
        response = app.response_class()
        if interface.is_null_session(session):
            return
        with ctx:
            save: Any = interface.save_session  # may be async def
            resolve(save(app, session, response))
        for header in response.headers.getlist("set-cookie"):
            self._jar.store(header, url)

    def _keeps_context(self) -> bool:
        if not self.preserve_context:
            return False
        if self._owner is None:  # ``with client:``, sequential calls
            return True
        # ``async with client:``: only requests of the task that entered it
        # keep their context, not concurrent ones from other tasks.
        return anyio.get_current_task().id == self._owner

    def __enter__(self) -> FlaskClient:
        if self.preserve_context:
            raise RuntimeError("Cannot nest client invocations")
        state: dict[str, Any] = {}
        with contextlib.ExitStack() as held:
            # The client's loop, for its calls until the block ends; the
            # lifespan runs on it.
            portal = held.enter_context(blocking_portal())
            held.enter_context(
                portal.wrap_async_context_manager(run_lifespan(self.application, state))
            )
            self._held = held.pop_all()
        self._portal, self._lifespan_state = portal, state
        self.preserve_context = True
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.preserve_context = False
        self._release_contexts()
        held, self._held = self._held, None
        try:
            if held is not None:
                held.__exit__(*exc_info)
        finally:
            self._portal = self._lifespan_state = None

    async def __aenter__(self) -> FlaskClient:
        if self.preserve_context:
            raise RuntimeError("Cannot nest client invocations")
        state: dict[str, Any] = {}
        lifespan = run_lifespan(self.application, state)
        await lifespan.__aenter__()
        self._lifespan, self._lifespan_state = lifespan, state
        self._owner = anyio.get_current_task().id
        self.preserve_context = True
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self.preserve_context = False
        self._owner = None
        self._release_contexts()
        try:
            if self._lifespan is not None:
                await self._lifespan.__aexit__(*exc_info)
        finally:
            self._lifespan = self._lifespan_state = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.application!r}>"


def _wrapper_class(wrapper: type[Response] | None) -> type[TestResponse]:
    """The class of the client's responses: :class:`TestResponse`, mixed
    with *wrapper* when one is given (as Werkzeug's client does)."""
    if wrapper is None or wrapper is Response:
        return TestResponse
    if not (isinstance(wrapper, type) and issubclass(wrapper, Response)):
        raise TypeError(
            f"response_wrapper must be a subclass of flaskish.Response, not {wrapper!r}."
        )
    if issubclass(wrapper, TestResponse):
        return wrapper
    return type("WrapperTestResponse", (TestResponse, wrapper), {})


#: The same client, by the name async tests may use for it
#: (``async with AsyncFlaskClient(app) as client:``): ``app.test_client()``
#: is awaitable in async code already.
AsyncFlaskClient = FlaskClient
