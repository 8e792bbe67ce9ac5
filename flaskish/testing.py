"""The test client (Flask's API on Starlette's ASGI test transport) and
made-up requests for :meth:`~flaskish.Flask.test_request_context`.

:class:`FlaskClient` (``app.test_client()``) turns Flask-style arguments
into an HTTP request and the answer into a :class:`TestResponse`. In sync
code ``client.get("/")`` returns the response; in async code it returns an
awaitable, and the app runs on the test's own event loop.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import logging
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookies import CookieError, Morsel, SimpleCookie
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

import anyio
import httpx2 as httpx
from starlette.testclient import TestClient
from werkzeug.datastructures import Headers, MultiDict, iter_multi_items
from werkzeug.http import parse_date

from .concurrency import on_event_loop, resolve
from .response import Response

if TYPE_CHECKING:
    from starlette.types import Message, Receive, Scope, Send

    from .app import Flask
    from .ctx import AppContext, RequestContext
    from .sessions import SessionMixin

__all__ = [
    "AsyncFlaskClient", "Cookie", "FlaskCliRunner", "FlaskClient", "TestResponse", "build_scope",
]

DEFAULT_BASE_URL = "http://localhost"
CLIENT_ADDRESS = ("127.0.0.1", 50000)


class TestResponse(Response):
    """A response received by the test client: ``status_code``, ``status``,
    ``headers``, ``data``, ``text``, ``json``, ``get_json()``, ``location``,
    plus :attr:`request` and :attr:`history` (responses of followed redirects)."""

    __test__ = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request: Any = None
        self.history: tuple[TestResponse, ...] = ()

    @classmethod
    def _from_httpx(cls, response: httpx.Response, json_module: Any) -> TestResponse:
        result = cls(response.content, response.status_code)
        # The server's headers exactly (a HEAD response keeps its length).
        result.headers = _headers(response.headers.raw)
        result.json_module = json_module
        result.request = _RequestInfo(response.request)
        result.history = tuple(cls._from_httpx(r, json_module) for r in response.history)
        return result


@dataclass(frozen=True)
class Cookie:
    """A cookie held by the test client, as Werkzeug's test client gives
    it: ``client.get_cookie("session").value``."""

    key: str
    value: str
    domain: str
    path: str
    expires: datetime | None
    secure: bool
    http_only: bool
    same_site: str | None

    @classmethod
    def _from_jar(cls, cookie: http.cookiejar.Cookie, domain: str) -> Cookie:
        rest = {name.lower(): value for name, value in cookie._rest.items()}  # type: ignore[attr-defined]
        expires = (
            datetime.fromtimestamp(cookie.expires, UTC) if cookie.expires else None
        )
        return cls(
            key=cookie.name, value=cookie.value or "", domain=domain, path=cookie.path,
            expires=expires, secure=cookie.secure, http_only="httponly" in rest,
            same_site=rest.get("samesite"),
        )


# httpx logs an INFO record per request ("HTTP Request: GET ..."); Werkzeug's
# test client logs nothing, and tests that count log records rely on that.
# Only the test client's own requests are silenced, not the app's httpx use.
_quiet: ContextVar[bool] = ContextVar("flaskish.testing.quiet", default=False)


class _TestClientRequests(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _quiet.get()


logging.getLogger("httpx2").addFilter(_TestClientRequests())


def _expired(morsel: Morsel[str]) -> bool:
    max_age = morsel["max-age"]
    if max_age:
        return str(max_age).strip().lstrip("-").isdigit() and int(max_age) <= 0
    expires = morsel["expires"]
    if not expires:
        return False
    moment = parse_date(expires)
    return moment is not None and moment <= datetime.now(UTC)


def _cookie_domain(domain: str) -> str:
    """A cookie domain as Werkzeug's test client compares them: without a
    leading dot, and without the ``.local`` that the cookie jar adds to a
    host name that has no dot (``localhost``)."""
    domain = domain.lstrip(".").lower()
    name, dot, rest = domain.rpartition(".")
    return name if dot and rest == "local" and "." not in name else domain


def _headers(raw: Iterable[tuple[bytes, bytes]]) -> Headers:
    """Headers received over the test transport, names as sent."""
    return Headers([(name.decode("latin-1"), value.decode("latin-1")) for name, value in raw])


class _RequestInfo:
    """What the test client sent: ``response.request.path``, ``.url``..."""

    def __init__(self, request: httpx.Request) -> None:
        self.method = request.method
        self.url = str(request.url)
        self.path = request.url.path
        self.query_string = request.url.query
        self.headers = _headers(request.headers.raw)

    def __repr__(self) -> str:
        return f"<TestRequest {self.method} {self.url}>"


def _split_data(data: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[tuple[str, Any]]]:
    fields: list[tuple[str, str]] = []
    files: list[tuple[str, Any]] = []
    items = data.items(multi=True) if isinstance(data, MultiDict) else data.items()
    for key, value in items:
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, tuple):  # (file, filename[, content_type])
                files.append((key, (item[1], item[0], *item[2:])))
            elif hasattr(item, "read"):
                name = getattr(item, "name", None)
                filename = name.rsplit("/", 1)[-1] if isinstance(name, str) else None
                files.append((key, (filename, item)))
            else:
                fields.append((key, item if isinstance(item, str) else str(item)))
    return fields, files


def _request_kwargs(
    app: Flask,
    path: str,
    *,
    method: str = "GET",
    base_url: str | None = None,
    query_string: Mapping[str, Any] | str | bytes | None = None,
    headers: Any = None,
    data: Mapping[str, Any] | str | bytes | None = None,
    json: Any = None,
    content_type: str | None = None,
    auth: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Flask test-client arguments as ``httpx.Request`` arguments."""
    if data is not None and json is not None:
        raise TypeError("Pass either data= or json= to the test client, not both.")
    root = _root_path(app, base_url)
    if "://" in path:
        url = path
    else:
        base = (base_url or DEFAULT_BASE_URL).rstrip("/")
        if base_url is None:
            base += root  # the app lives under APPLICATION_ROOT, as Flask's client assumes
        url = base + (path if path.startswith("/") else "/" + path)
    if query_string is not None:
        if isinstance(query_string, bytes):
            # Sent as the bytes given: non-ASCII bytes percent-encoded as is.
            query_string = quote(query_string, safe="=&;+%/?:@!$'()*,~")
        if not isinstance(query_string, str):
            # As Werkzeug's test client: a key whose value is None is left out.
            query_string = urlencode(
                [(k, v) for k, v in iter_multi_items(query_string) if v is not None]
            )
        url += ("&" if "?" in url else "?") + query_string
    header_list = list(Headers(headers).items()) if headers is not None else []
    kwargs: dict[str, Any] = {"method": method.upper(), "url": url}
    if json is not None:
        kwargs["content"] = app.json.dumps(json).encode()
        content_type = content_type or "application/json"
    elif isinstance(data, (str, bytes, bytearray)):
        kwargs["content"] = data.encode() if isinstance(data, str) else bytes(data)
    elif hasattr(data, "read"):
        kwargs["content"] = data.read()  # type: ignore[union-attr]
    elif data is not None:
        fields, files = _split_data(data)
        if files or (content_type or "").startswith("multipart/form-data"):
            kwargs["data"] = dict(_group(fields))
            kwargs["files"] = files
            content_type = None  # httpx adds the boundary
        elif fields:
            kwargs["content"] = urlencode(fields).encode()
            content_type = content_type or "application/x-www-form-urlencoded"
    if content_type is not None:
        header_list = [(k, v) for k, v in header_list if k.lower() != "content-type"]
        header_list.append(("Content-Type", content_type))
    if auth is not None:
        kwargs["auth"] = auth
    if root:
        header_list.append((_ROOT_HEADER, root))
    kwargs["headers"] = header_list
    return kwargs


# Carries the request's root path from the client to its ASGI wrapper, which
# removes it and sets the scope's root_path (httpx transports fix that per client).
_ROOT_HEADER = "x-flaskish-test-root-path"


def _root_path(app: Flask, base_url: str | None) -> str:
    if base_url is not None:
        return urlsplit(base_url).path.rstrip("/")
    return str(app.config["APPLICATION_ROOT"] or "/").rstrip("/")


def _group(pairs: list[tuple[str, str]]) -> Iterator[tuple[str, str | list[str]]]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    for key, values in grouped.items():
        yield key, values if len(values) > 1 else values[0]


def build_scope(
    app: Flask, path: str = "/", *args: Any, **kwargs: Any
) -> tuple[Scope, Receive]:
    """An ASGI scope and receive callable for a made-up request, built from
    the test client's arguments."""
    if args:
        raise TypeError("Pass test request options as keywords: method=, data=, json=...")
    kwargs.pop("follow_redirects", None)
    request_args = _request_kwargs(app, path, **kwargs)
    request = httpx.Request(**request_args)
    body = request.read()
    url = request.url
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": url.scheme,
        "server": (url.host, url.port or (443 if url.scheme == "https" else 80)),
        "client": CLIENT_ADDRESS,
        "root_path": "",
        "path": url.path,
        "raw_path": url.raw_path.split(b"?")[0],
        "query_string": url.query,
        "headers": [(k.lower(), v) for k, v in request.headers.raw],
    }
    _apply_root_header(scope)
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return scope, receive


def _apply_root_header(scope: Scope) -> None:
    name = _ROOT_HEADER.encode()
    headers = list(scope.get("headers", ()))
    for index, (key, value) in enumerate(headers):
        if key.lower() == name:
            del headers[index]
            scope["root_path"] = value.decode("latin-1")
            scope["headers"] = headers
            return


class FlaskClient:
    """Flask's test client: ``app.test_client()``.

    In a sync test, ``client.get("/")`` returns the response; ``with
    app.test_client() as client:`` runs the app's lifespan (startup and
    shutdown hooks) and keeps the context of the last request pushed, so
    ``request``, ``session`` and ``g`` can be checked after a call.

    In an async test (an event loop running), the same client's methods
    return awaitables and the app runs on the test's own loop::

        async with app.test_client() as client:
            response = await client.get("/")

    Both ways share one cookie jar.
    """

    application: Flask

    def __init__(self, application: Flask, use_cookies: bool = True, **kwargs: Any) -> None:
        self.application = application
        self.use_cookies = use_cookies
        self.preserve_context = False
        self._new_contexts: list[tuple[AppContext, RequestContext]] = []
        self._kept: list[tuple[AppContext, RequestContext]] = []
        self._base_url = kwargs.pop("base_url", DEFAULT_BASE_URL)
        self._http = TestClient(
            self._asgi, base_url=self._base_url, follow_redirects=False,
            client=CLIENT_ADDRESS, **kwargs,
        )
        # Before httpx stores a response's cookies, drop the ones they replace.
        self._http.event_hooks = {"response": [self._replace_cookies]}
        self._async_http: httpx.AsyncClient | None = None
        self._lifespan: contextlib.AbstractAsyncContextManager[None] | None = None
        self._owner: int | None = None

    # The verbs return whatever ``open`` returns: a response in sync code,
    # an awaitable of one in async code.
    def get(self, *args: Any, **kw: Any) -> Any:
        """``open(..., method="GET")``."""
        return self.open(*args, method="GET", **kw)

    def post(self, *args: Any, **kw: Any) -> Any:
        """``open(..., method="POST")``."""
        return self.open(*args, method="POST", **kw)

    def put(self, *args: Any, **kw: Any) -> Any:
        """``open(..., method="PUT")``."""
        return self.open(*args, method="PUT", **kw)

    def patch(self, *args: Any, **kw: Any) -> Any:
        """``open(..., method="PATCH")``."""
        return self.open(*args, method="PATCH", **kw)

    def delete(self, *args: Any, **kw: Any) -> Any:
        """``open(..., method="DELETE")``."""
        return self.open(*args, method="DELETE", **kw)

    def head(self, *args: Any, **kw: Any) -> Any:
        """``open(..., method="HEAD")``."""
        return self.open(*args, method="HEAD", **kw)

    def options(self, *args: Any, **kw: Any) -> Any:
        """``open(..., method="OPTIONS")``."""
        return self.open(*args, method="OPTIONS", **kw)

    @property
    def _cookies(self) -> httpx.Cookies:
        return self._http.cookies

    def _prepare(self, path: str, kwargs: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        follow = bool(kwargs.pop("follow_redirects", False))
        kwargs.pop("buffered", None)
        if self._keeps_context():
            self._release_contexts()
        if not self.use_cookies:
            self._cookies.clear()
        return _request_kwargs(self.application, path, **kwargs), follow

    def _finish(self, response: httpx.Response) -> TestResponse:
        result = TestResponse._from_httpx(response, self.application.json)
        for app_ctx, req_ctx in self._new_contexts:
            app_ctx.push()
            req_ctx.push()
            self._kept.append((app_ctx, req_ctx))
        self._new_contexts.clear()
        return result

    def _release_contexts(self) -> None:
        while self._kept:
            app_ctx, req_ctx = self._kept.pop()
            req_ctx._reset()
            app_ctx._reset()

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            _apply_root_header(scope)
            if self._keeps_context():
                scope["flaskish.preserve_context"] = self._keep
        token = _quiet.set(False)  # the app's own httpx requests still log
        try:
            await self.application(scope, receive, send)
        finally:
            _quiet.reset(token)

    def _keep(self, app_ctx: AppContext, req_ctx: RequestContext) -> None:
        self._new_contexts.append((app_ctx, req_ctx))

    # -- cookies ----------------------------------------------------------

    def get_cookie(self, key: str, domain: str = "localhost", path: str = "/") -> Cookie | None:
        """The cookie *key* the client holds (``None`` if it has none)."""
        for cookie in self._cookies.jar:
            if cookie.name == key and cookie.path == path and cookie.domain in (
                domain, f"{domain}.local", f".{domain}"
            ):
                return Cookie._from_jar(cookie, domain)
        return None

    def set_cookie(self, key: str, value: str = "", domain: str = "localhost",
                   path: str = "/") -> None:
        """Give the client a cookie, as if a response had set it (it
        replaces the cookie of that name, domain and path, as in Werkzeug)."""
        self._drop_cookie(key, domain, path)
        self._cookies.set(key, value, domain=f"{domain}.local" if "." not in domain else domain,
                          path=path)

    def _drop_cookie(self, key: str, domain: str, path: str, keep: str | None = None) -> None:
        """Remove the cookies Werkzeug's client would see as *key* on
        *domain* and *path* (but the one stored under the domain *keep*)."""
        jar = self._cookies.jar
        for cookie in list(jar):
            if (cookie.name, cookie.path) == (key, path) and cookie.domain != keep and (
                _cookie_domain(cookie.domain) == _cookie_domain(domain)
            ):
                jar.clear(cookie.domain, cookie.path, cookie.name)

    def _replace_cookies(self, response: httpx.Response) -> None:
        """A cookie a response sets replaces the client's cookie of the
        same name, domain and path, whether either was set with an explicit
        ``Domain`` or not (Werkzeug's test client keys cookies so; httpx's
        jar keeps both, and sends the old one first). Runs after httpx has
        stored the response's cookies."""
        url = response.request.url
        host = url.host if "." in url.host else f"{url.host}.local"  # the jar's form
        for header in response.headers.get_list("set-cookie"):
            parsed: SimpleCookie = SimpleCookie()
            try:
                parsed.load(header)
            except CookieError:
                continue
            for name, morsel in parsed.items():
                path = morsel["path"] or (url.path.rpartition("/")[0] or "/")
                domain = morsel["domain"].lstrip(".")
                if _expired(morsel):
                    self._drop_cookie(name, domain or host, path)
                elif domain and "." not in domain:
                    # The jar refuses an explicit dotless Domain (localhost);
                    # Werkzeug's client keeps it, so keep it as set_cookie does.
                    self._drop_cookie(name, domain, path)
                    self._cookies.set(name, morsel.value, domain=f"{domain}.local", path=path)
                else:
                    self._drop_cookie(name, domain or host, path,
                                      keep=f".{domain}" if domain else host)

    async def _replace_cookies_async(self, response: httpx.Response) -> None:
        self._replace_cookies(response)

    def delete_cookie(self, key: str, domain: str = "localhost", path: str = "/") -> None:
        """Remove a cookie from the client."""
        for cookie in list(self._cookies.jar):
            if cookie.name == key and cookie.path == path:
                self._cookies.jar.clear(cookie.domain, cookie.path, cookie.name)

    @contextlib.contextmanager
    def session_transaction(self, *args: Any, **kwargs: Any) -> Iterator[SessionMixin]:
        """Read and change the client's session outside a request::

            with client.session_transaction() as sess:
                sess["user_id"] = 1
        """
        if not self.use_cookies:
            raise TypeError("Cookies are disabled. Create a client with use_cookies=True.")
        app = self.application
        headers = list(Headers(kwargs.pop("headers", None)).items())
        cookie = "; ".join(f"{c.name}={c.value}" for c in self._cookies.jar)
        if cookie:
            headers.append(("Cookie", cookie))
        ctx = app.test_request_context(*args, headers=headers, **kwargs)
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
            self._store_cookie(header)

    def _store_cookie(self, header: str) -> None:
        request = httpx.Request("GET", DEFAULT_BASE_URL + "/")
        response = httpx.Response(200, headers=[("set-cookie", header)], request=request)
        self._cookies.extract_cookies(response)


    def _keeps_context(self) -> bool:
        if not self.preserve_context:
            return False
        if self._owner is None:  # ``with client:``, sequential calls
            return True
        # ``async with client:``: only requests of the task that entered it
        # keep their context, not concurrent ones from other tasks.
        return anyio.get_current_task().id == self._owner

    def open(self, path: str = "/", **kwargs: Any) -> Any:
        """Make a request. Keyword arguments: ``method``, ``query_string``,
        ``headers``, ``data`` (a dict of fields and ``(file, filename)``
        uploads, or bytes), ``json``, ``content_type``, ``follow_redirects``,
        ``auth``, ``base_url``. Returns the response, or in async code an
        awaitable of it."""
        if on_event_loop():
            return self._open_async(path, kwargs)
        request_kwargs, follow = self._prepare(path, kwargs)
        token = _quiet.set(True)
        try:
            response = self._http.request(
                request_kwargs.pop("method"), request_kwargs.pop("url"),
                follow_redirects=follow, **request_kwargs,
            )
        finally:
            _quiet.reset(token)
        return self._finish(response)

    async def _open_async(self, path: str, kwargs: dict[str, Any]) -> TestResponse:
        request_kwargs, follow = self._prepare(path, kwargs)
        if self._async_http is None:
            self._async_http = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self._asgi, client=CLIENT_ADDRESS),
                base_url=self._base_url, follow_redirects=False,
                cookies=self._http.cookies.jar,  # the same jar as the sync side
                event_hooks={"response": [self._replace_cookies_async]},
            )
        token = _quiet.set(True)
        try:
            response = await self._async_http.request(
                request_kwargs.pop("method"), request_kwargs.pop("url"),
                follow_redirects=follow, **request_kwargs,
            )
        finally:
            _quiet.reset(token)
        return self._finish(response)

    def __enter__(self) -> FlaskClient:
        if self.preserve_context:
            raise RuntimeError("Cannot nest client invocations")
        self.preserve_context = True
        self._http.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.preserve_context = False
        self._release_contexts()
        self._http.__exit__(*exc_info)

    async def __aenter__(self) -> FlaskClient:
        if self.preserve_context:
            raise RuntimeError("Cannot nest client invocations")
        self.preserve_context = True
        self._owner = anyio.get_current_task().id
        self._lifespan = _run_lifespan(self.application)
        await self._lifespan.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self.preserve_context = False
        self._owner = None
        self._release_contexts()
        try:
            if self._lifespan is not None:
                await self._lifespan.__aexit__(*exc_info)
        finally:
            self._lifespan = None
            if self._async_http is not None:
                await self._async_http.aclose()
                self._async_http = None


class AsyncFlaskClient(FlaskClient):
    """The test client, named for async tests: the same methods, awaited::

        async with AsyncFlaskClient(app) as client:
            response = await client.get("/")

    ``app.test_client()`` does the same when used from async code; this name
    exists for tests that want to say so.
    """


@contextlib.asynccontextmanager
async def _run_lifespan(app: Flask) -> AsyncIterator[None]:
    """Send lifespan startup, and shutdown on exit, to *app*."""
    to_app_send, to_app_receive = anyio.create_memory_object_stream[dict[str, Any]](10)
    from_app_send, from_app_receive = anyio.create_memory_object_stream[dict[str, Any]](10)
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}

    async def send(message: Message) -> None:
        await from_app_send.send(dict(message))

    async def expect(kind: str) -> None:
        message = await from_app_receive.receive()
        if message["type"] != kind:
            raise RuntimeError(f"Lifespan failed: {message.get('message', message['type'])}")

    async with (
        to_app_send, to_app_receive, from_app_send, from_app_receive,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(app, scope, to_app_receive.receive, send)
        await to_app_send.send({"type": "lifespan.startup"})
        await expect("lifespan.startup.complete")
        try:
            yield
        finally:
            await to_app_send.send({"type": "lifespan.shutdown"})
            await expect("lifespan.shutdown.complete")



# -- the CLI runner -------------------------------------------------------------

# Imported here, with the class it serves, so the rest of the module does not need click.
from click.testing import CliRunner, Result  # noqa: E402


class FlaskCliRunner(CliRunner):
    """A click :class:`~click.testing.CliRunner` bound to an app, from
    :meth:`Flask.test_cli_runner <flaskish.Flask.test_cli_runner>`:
    ``runner.invoke(args=["init-db"])`` runs ``flaskish init-db``.

    :param app: the app whose commands are run.
    :param kwargs: passed to :class:`~click.testing.CliRunner`.
    """

    def __init__(self, app: Flask, **kwargs: Any) -> None:
        self.app = app
        super().__init__(**kwargs)

    def invoke(  # type: ignore[override]
        self, cli: Any = None, args: Any = None, **kwargs: Any
    ) -> Result:
        """Run a command and return its :class:`~click.testing.Result`
        (``output``, ``exit_code``, ``exception``).

        Unlike Flask, the app's ``debug`` is left as the test set it
        (Flask resets it from ``FLASK_DEBUG``).

        :param cli: the command; default ``app.cli``.
        :param args: the arguments, such as ``["init-db", "--force"]``.
        :param kwargs: passed to :meth:`click.testing.CliRunner.invoke`
            (``input``, ``env``, ``catch_exceptions``); ``obj`` defaults to
            a :class:`~flaskish.cli.ScriptInfo` that loads this app.
        """
        from .discovery import ScriptInfo

        if cli is None:
            cli = self.app.cli
        if "obj" not in kwargs:
            kwargs["obj"] = ScriptInfo(create_app=lambda: self.app, set_debug_flag=False)
        return super().invoke(cli, args, **kwargs)
