"""Composing the app with other ASGI and WSGI apps: ``app.mount()``,
``app.add_middleware()``, ``app.state``, ``app.lifespan``, and the lifespan
runner the test client shares.

The ASGI entry (``Flask.__call__``) answers the 431 header check, sends
HTTP requests through ``app.wsgi_app`` middleware if it was replaced, and
then calls ``app._entry``: ``app.asgi_app`` itself while no middleware was
added, or the middleware stack around it. The stack is built once, on the
app's first ASGI call (a request, a websocket or the lifespan); from then on
``add_middleware`` and ``mount`` refuse. Its innermost layer reads
``app.asgi_app`` on each call, so ``app.asgi_app = ProxyFix(app.asgi_app)``
keeps working, before or after the first request::

    Flask.__call__ ─► [431] ─► [wsgi_app middleware] ─► add_middleware stack
        ─► app.asgi_app (ProxyFix...) ─► router ─► mounted apps, else the rules

Mounted apps are matched in the router, before the app's rules, so what
wraps ``app.asgi_app`` wraps them too. An app with nothing mounted keeps the
plain router class: mounting swaps the router's class once for one whose
dispatch looks at the mounts first, so the common path pays nothing.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import anyio
from starlette.datastructures import State
from starlette.middleware import Middleware

from .asgi_router import Router
from .proxy_fix import note_werkzeug_proxy_fix
from .request import route_path

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from .app import Flask
    from .wsgi import WSGIApp

__all__ = ["Composition", "MountedApp", "MountingRouter", "run_lifespan"]

_TOO_LATE = (
    "{what} must be {done} before the app serves its first request (or starts its "
    "lifespan); {fix} at import time or in create_app."
)


@dataclass(frozen=True)
class MountedApp:
    """One mounted app: its path, the ASGI app served there, and what was
    given to :meth:`Composition.mount` (the WSGI app, when one was wrapped)."""

    path: str
    app: ASGIApp
    given: Any
    wsgi: bool

    def __str__(self) -> str:
        kind = "WSGI app" if self.wsgi else "app"
        return f"the {kind} mounted at {self.path!r} ({self.given!r})"


class MountingRouter(Router):
    """The app's router once something is mounted: a request or websocket
    whose path is a mount's path, or below it, goes to that app (the
    longest path first); everything else to the app's rules."""

    _mounts: tuple[MountedApp, ...] = ()

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            path = route_path(scope)
            for mount in self._mounts:
                prefix = mount.path
                if path.startswith(prefix) and path[len(prefix) : len(prefix) + 1] in ("", "/"):
                    await mount.app(_mounted_scope(scope, prefix), receive, send)
                    return
        await Router.app(self, scope, receive, send)

    __call__ = app


def _mounted_scope(scope: Scope, prefix: str) -> Scope:
    """The scope a mounted app gets, as Starlette's ``Mount`` makes it:
    ``path`` kept whole, ``root_path`` extended by the mount's path (so its
    URLs and a WSGI app's ``SCRIPT_NAME`` carry the prefix)."""
    child = dict(scope)
    root = scope.get("root_path", "") + prefix
    child["root_path"] = root
    # Starlette's request.url_for builds from app_root_path with the router
    # found in the scope: the mounted app's own router, under its root.
    child["app_root_path"] = root
    child.pop("router", None)
    return child


def _is_asgi(app: Any) -> bool:
    """Whether *app* is an ASGI 3 callable: an ``async def`` function, or an
    object whose ``__call__`` is one (a Starlette or flaskish app, ASGI
    middleware)."""
    if inspect.isclass(app):
        return False
    call = inspect.getattr_static(type(app), "__call__", None)
    return inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(call)


def _is_wsgi(app: Any) -> bool:
    """Whether *app* looks like a WSGI callable: ``app(environ, start_response)``."""
    if inspect.isclass(app) or not callable(app):
        return False
    try:
        parameters = list(inspect.signature(app).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    starred = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    return len(positional) == 2 or (len(positional) < 2 and starred)


def _check_mount_path(path: Any) -> str:
    if not isinstance(path, str):
        raise TypeError(f"app.mount() takes the path as a str such as '/api', not {path!r}.")
    if not path.startswith("/"):
        raise ValueError(f"A mount path starts with '/': write app.mount('/{path}', ...).")
    if path == "/" or path.endswith("/"):
        if path == "/":
            raise ValueError(
                "An app cannot be mounted at '/': it would take every request from this app. "
                "Mount it under a prefix ('/api'), or serve it instead of this app."
            )
        raise ValueError(
            f"A mount path has no trailing slash: write app.mount({path.rstrip('/')!r}, ...); "
            "it serves that path and everything below it."
        )
    bad = next((char for char in "<>{}?#" if char in path), None)
    if bad is not None or "//" in path:
        raise ValueError(
            f"A mount path is a plain URL prefix without variables, query or empty segments; "
            f"{path!r} is not one."
        )
    return path


def _under(rule_path: str, prefix: str) -> bool:
    return rule_path == prefix or rule_path.startswith(prefix + "/")


class _AsgiApp:
    """The innermost layer of the middleware stack: the app's current
    ``asgi_app``, read on each call (through a weak proxy: the app owns
    the stack)."""

    __slots__ = ("app",)

    def __init__(self, app: Flask) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app.asgi_app(scope, receive, send)
            return

        async def lowercased(message: Message) -> None:
            # flaskish sends header names as the response has them; Starlette's
            # middleware look them up lowercased, as its own responses send them
            # (GZip would add a second Content-Length beside "Content-Length").
            if message["type"] in _RESPONSE_STARTS:
                message = dict(message)
                message["headers"] = [
                    (name.lower(), value) for name, value in message.get("headers", ())
                ]
            await send(message)

        await self.app.asgi_app(scope, receive, lowercased)

    def __repr__(self) -> str:
        return f"<app.asgi_app: {self.app.asgi_app!r}>"


_RESPONSE_STARTS = frozenset({"http.response.start", "websocket.http.response.start"})


class _FirstCall:
    """``app._entry`` until the first ASGI call: composes the app (checks
    the mounts against the rules, builds the middleware stack) and runs it."""

    __slots__ = ("app",)

    def __init__(self, app: Flask) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app._compose()(scope, receive, send)

    def __repr__(self) -> str:
        return repr(self.app.asgi_app)  # what it will be without middleware


class Composition:
    """The app's composition with other ASGI and WSGI apps (mixed into
    :class:`~flaskish.Flask`): :attr:`asgi_app`, :attr:`wsgi_app`,
    :meth:`mount`, :meth:`add_middleware`, :attr:`state`, :meth:`lifespan`."""

    if TYPE_CHECKING:
        router: Router
        url_map: Any
        logger: Any
        _got_first_request: bool
        _serving: Callable[[], AbstractAsyncContextManager[None]]

    _asgi_app: Callable[[Scope, Receive, Send], Any]
    _entry: Callable[[Scope, Receive, Send], Any]

    def _init_composition(self, this: Flask, router: Router, default_wsgi: WSGIApp) -> None:
        #: Objects shared by the whole process (Starlette's ``app.state``):
        #: ``app.state.pool = ...`` in a ``before_serving`` function. The
        #: per-request ASGI state (the lifespan state a server passes) is
        #: :attr:`Request.state <flaskish.Request.state>`.
        self.state = State()
        self._this = this
        self._composed = False
        self._middleware: list[Middleware] = []
        self._mounts: list[MountedApp] = []
        self._entry = _FirstCall(this)
        self.router = router
        self.asgi_app = router
        self._default_wsgi_app = default_wsgi
        self._wsgi_app: Callable[..., Any] = default_wsgi

    # -- the ASGI and WSGI callables ----------------------------------------------

    @property
    def asgi_app(self) -> Callable[[Scope, Receive, Send], Any]:
        """The ASGI app that serves requests: the router, with whatever was
        wrapped around it. Wrap it with ASGI middleware, as Flask apps wrap
        ``wsgi_app``: ``app.asgi_app = ProxyFix(app.asgi_app, x_for=1)``.
        Mounted apps are inside it (the router dispatches to them);
        :meth:`add_middleware` middleware are outside it."""
        return self._asgi_app

    @asgi_app.setter
    def asgi_app(self, value: Callable[[Scope, Receive, Send], Any]) -> None:
        self._asgi_app = value
        if self._composed and not self._middleware:
            self._entry = value

    @property
    def wsgi_app(self) -> Callable[..., Any]:
        """The app as a WSGI callable, for WSGI middleware written for
        Flask: ``app.wsgi_app = Middleware(app.wsgi_app)``. Once it is
        replaced, every HTTP request goes through the middleware (on a worker
        thread; the body and response are buffered on that path), outside
        :meth:`add_middleware` middleware. See :mod:`flaskish.wsgi`; ASGI
        middleware goes on :attr:`asgi_app`. Assigning Werkzeug's
        ``ProxyFix`` logs the line to write instead:
        ``app.asgi_app = flaskish.ProxyFix(app.asgi_app, ...)``."""
        return self._wsgi_app

    @wsgi_app.setter
    def wsgi_app(self, value: Callable[..., Any]) -> None:
        note_werkzeug_proxy_fix(value, self._default_wsgi_app, self.logger)
        self._wsgi_app = value
        self._serve_wsgi = None if value is self._default_wsgi_app else value

    _serve_wsgi: Callable[..., Any] | None

    # -- registration ------------------------------------------------------------

    def _refuse_after_start(self, what: str, done: str, fix: str) -> None:
        if self._composed or self._got_first_request:
            raise RuntimeError(_TOO_LATE.format(what=what, done=done, fix=fix))

    def mount(self, path: str, app: Any) -> None:
        """Serve another app under *path*: every request and websocket whose
        path is *path* or below it (``/api``, ``/api/users``) goes to *app*,
        before this app's rules are matched. Starlette's ``Mount``:

            app.mount("/api", starlette_or_fastapi_app)
            app.mount("/legacy", flask_app)   # a WSGI app, through a2wsgi

        The mounted app gets the whole ``path`` and a ``root_path`` ending in
        *path*, so its routing and URLs (``url_for``) carry the prefix; a
        WSGI app (any ``app(environ, start_response)`` callable, such as a
        Flask app) is served through ``a2wsgi.WSGIMiddleware`` (its own
        thread pool; wrap it yourself to pass options), with *path* in its
        ``SCRIPT_NAME``. The mounted app's lifespan runs within this app's
        (an app without lifespan support is skipped). Not in Flask, where
        Werkzeug's ``DispatcherMiddleware`` does this.

        :param path: the prefix, with a leading slash and without a
            trailing one (``/api``), no variables.
        :param app: an ASGI app (``async def`` callable, a Starlette,
            FastAPI or flaskish app) or a WSGI app.
        :raises ValueError: a bad path, a path already mounted, or a rule of
            this app under *path*.
        :raises TypeError: *app* is neither ASGI nor WSGI.
        :raises RuntimeError: the app has started serving.
        """
        self._refuse_after_start("Apps", "mounted", "call app.mount()")
        path = _check_mount_path(path)
        if app is self:
            raise ValueError("An app cannot be mounted in itself.")
        if _is_asgi(app):
            mounted = MountedApp(path, app, app, wsgi=False)
        elif _is_wsgi(app):
            # Imported here: only an app that mounts a WSGI app needs a2wsgi.
            from a2wsgi import WSGIMiddleware

            # a2wsgi types its scopes as TypedDicts; it is an ASGI app all the same.
            adapter = cast("ASGIApp", WSGIMiddleware(app))
            mounted = MountedApp(path, adapter, app, wsgi=True)
        else:
            raise TypeError(
                f"app.mount({path!r}, ...) takes an ASGI app (an async def callable taking "
                f"scope, receive, send) or a WSGI app (taking environ, start_response); "
                f"{app!r} is neither. Wrap it in an ASGI or WSGI adapter first."
            )
        for other in self._mounts:
            if other.path == path:
                raise ValueError(f"{path!r} is already mounted: {other}.")
        self._check_rules_against(mounted)
        router = self.router
        if type(router) is Router:
            # Once, at setup: the mount-aware dispatch replaces the plain one
            # (same object, same state), so an app with nothing mounted keeps
            # a dispatch without a mount check.
            router.__class__ = MountingRouter
        if not isinstance(router, MountingRouter):
            raise TypeError(
                f"app.mount() dispatches in flaskish's router; app.router is a "
                f"{type(router).__name__}, which cannot."
            )
        self._mounts.append(mounted)
        router._mounts = tuple(sorted(self._mounts, key=lambda m: len(m.path), reverse=True))

    def _check_rules_against(self, mounted: MountedApp) -> None:
        for rule in self.url_map.iter_rules():
            if _under(rule.rule, mounted.path):
                raise ValueError(
                    f"The rule {rule.rule!r} (endpoint {rule.endpoint!r}) is under the mount "
                    f"path {mounted.path!r}, where requests go to {mounted}; it would never "
                    "be reached. Mount the app elsewhere or move the rule."
                )

    def add_middleware(
        self, middleware_class: Callable[..., Any], *args: Any, **options: Any
    ) -> None:
        """Wrap the app in ASGI middleware, as Starlette's
        ``app.add_middleware``: ``app.add_middleware(CORSMiddleware,
        allow_origins=["https://example.com"])``. The last added is the
        outermost. The middleware are built once, around :attr:`asgi_app`
        (and so around the mounted apps), at the app's first ASGI call; they
        see every request, websocket and lifespan message, after the 431
        header check and inside ``wsgi_app`` middleware.

        :param middleware_class: called as ``middleware_class(app, *args,
            **options)``; the result is the ASGI app.
        :raises RuntimeError: the app has started serving.
        """
        self._refuse_after_start("Middleware", "added", "add it")
        if not callable(middleware_class):
            raise TypeError(
                f"add_middleware() takes the middleware class (called with the app and the "
                f"options), not {middleware_class!r}."
            )
        self._middleware.append(Middleware(middleware_class, *args, **options))

    def _compose(self) -> Callable[[Scope, Receive, Send], Any]:
        """Check the mounts against every rule (some may have been added
        after the mount), build the middleware stack, and make it (or
        :attr:`asgi_app`, without middleware) the entry. Runs once."""
        if self._composed:
            return self._entry
        for mounted in self._mounts:
            self._check_rules_against(mounted)
        entry: Callable[[Scope, Receive, Send], Any] = self._asgi_app
        if self._middleware:
            entry = _AsgiApp(self._this)
            for cls, args, kwargs in self._middleware:
                entry = cls(entry, *args, **kwargs)
        self._composed = True
        self._entry = entry
        return entry

    # -- lifespans ----------------------------------------------------------------

    def _lifespan(self, _app: Any) -> AbstractAsyncContextManager[Any]:
        """What the router's lifespan runs: the serving hooks, and the
        mounted apps' lifespans within them."""
        if not self._mounts:
            return self._serving()
        return self._serving_with_mounts()

    @asynccontextmanager
    async def _serving_with_mounts(self) -> AsyncIterator[dict[str, Any] | None]:
        # The mounted apps start after this app's before_serving / while_serving
        # code and stop, last first, before its after_serving code. What they
        # put in their lifespan state is handed to the server (Starlette's
        # router merges it into the scope's state), so requests carry it.
        # Nothing is thrown into _serving(): it yields inside a task group,
        # which would wrap a mount's error in an ExceptionGroup.
        state: dict[str, Any] = {}
        serving = self._serving()
        await serving.__aenter__()
        try:
            mounts = AsyncExitStack()
            try:
                for mounted in self._mounts:
                    await mounts.enter_async_context(_mounted_lifespan(mounted, state))
            except BaseException:
                await mounts.aclose()  # the ones started stop, last first
                raise
            try:
                yield state or None
            finally:
                await mounts.aclose()
        finally:
            await serving.__aexit__(None, None, None)

    def lifespan(self, outer_app: Any = None) -> AbstractAsyncContextManager[dict[str, Any]]:
        """This app's lifespan (serving hooks, middleware, mounted apps) as
        an async context manager, for an outer app that serves this one but
        does not pass lifespan messages on, as Starlette's ``Mount`` does not::

            outer = Starlette(routes=[Mount("/app", app=app)], lifespan=app.lifespan)

        It yields the lifespan state (a dict, for Starlette to merge into
        the server's).

        :param outer_app: the outer app, which Starlette passes; unused.
        """
        return _lifespan_of(self._this)


@asynccontextmanager
async def _lifespan_of(app: Flask) -> AsyncIterator[dict[str, Any]]:
    state: dict[str, Any] = {}
    async with run_lifespan(app, state):
        yield state


@asynccontextmanager
async def _mounted_lifespan(mounted: MountedApp, state: dict[str, Any]) -> AsyncIterator[None]:
    try:
        async with run_lifespan(mounted.app, state, optional=True):
            yield
    except LifespanFailed as failure:
        if failure.app is not mounted.app:  # another app's, passing through
            raise
        raise RuntimeError(f"Lifespan {failure.phase} failed for {mounted}: {failure}") from (
            failure.__cause__
        )


class LifespanFailed(RuntimeError):
    """An app answered ``lifespan.startup.failed`` or ``lifespan.shutdown.failed``
    (its exception, if it raised one, is the ``__cause__``)."""

    def __init__(self, app: Any, phase: str, message: str) -> None:
        super().__init__(message)
        self.app = app
        self.phase = phase


@asynccontextmanager
async def run_lifespan(
    app: ASGIApp, state: dict[str, Any] | None = None, *, optional: bool = False
) -> AsyncIterator[bool]:
    """Run *app*'s ASGI lifespan around the block, as a server does: send
    ``lifespan.startup`` and wait for the answer, then ``lifespan.shutdown``
    when the block ends. Yields whether the app started.

    :param state: the lifespan scope's ``state`` dict.
    :param optional: an app that does not take part (raises or returns
        without answering ``lifespan.startup``) is skipped, as uvicorn's
        ``--lifespan auto`` does, and the block runs with ``False``;
        otherwise that is an error.
    :raises LifespanFailed: the app answered ``startup.failed`` or
        ``shutdown.failed`` without raising an exception of its own.
    :raises Exception: the exception the app raised when it failed.
    """
    scope = {
        "type": "lifespan",
        "asgi": {"version": "3.0", "spec_version": "2.0"},
        "state": {} if state is None else state,
    }
    to_app, app_receives = anyio.create_memory_object_stream[dict[str, Any]](2)
    app_sends, from_app = anyio.create_memory_object_stream[dict[str, Any]](2)
    raised: list[Exception] = []

    async def send(message: Message) -> None:
        await app_sends.send(dict(message))

    async def run() -> None:
        try:
            await app(scope, app_receives.receive, send)
        except Exception as exc:  # reported by the host, outside the task group
            raised.append(exc)
        finally:
            app_sends.close()

    async def answer() -> dict[str, Any] | None:
        try:
            return await from_app.receive()
        except anyio.EndOfStream:
            return None

    async def failure(phase: str, message: dict[str, Any] | None) -> BaseException:
        while await answer() is not None:  # let the app finish (and raise)
            pass
        text = message.get("message", "") if message is not None else ""
        if raised:
            error: BaseException = LifespanFailed(app, phase, text or repr(raised[0]))
            error.__cause__ = raised[0]
            return raised[0] if not optional else error
        return LifespanFailed(
            app, phase, text or f"the app ended without answering lifespan.{phase}"
        )

    error: BaseException | None = None
    started = False
    async with to_app, app_receives, app_sends, from_app, anyio.create_task_group() as tg:
        tg.start_soon(run)
        await to_app.send({"type": "lifespan.startup"})
        message = await answer()
        kind = message["type"] if message is not None else None
        if kind == "lifespan.startup.complete":
            started = True
            body_error: BaseException | None = None
            try:
                yield True
            except BaseException as exc:  # re-raised below, outside the task group (anyio
                body_error = exc  # would wrap it in an ExceptionGroup)
            await to_app.send({"type": "lifespan.shutdown"})
            message = await answer()
            if message is None or message["type"] != "lifespan.shutdown.complete":
                error = await failure("shutdown", message)
            if body_error is not None:
                error = body_error
        elif message is None and optional:
            pass  # no lifespan support: skipped
        else:
            error = await failure("startup", message)
    if error is not None:
        raise error
    if not started:
        yield False
