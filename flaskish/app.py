"""The application object: ``app = Flask(__name__)``.

It is an ASGI 3 application (``uvicorn module:app``). Registration lives
in :mod:`flaskish.scaffold`, request handling in :mod:`flaskish.pipeline`,
routing in :mod:`flaskish.routing`, its ASGI side in :mod:`flaskish.asgi_router`.
"""

from __future__ import annotations

import inspect
import os
import sys
import time
import weakref
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from .asgi_router import Router
from .background import BackgroundTasks, BackgroundTaskStats
from .blocking import BlockingDetector
from .broadcast import Broadcast
from .composition import Composition
from .concurrency import ThreadPool, ThreadPoolStats
from .config import Config, ConfigAttribute
from .ctx import AppContext, RequestContext, _AppCtxGlobals
from .exceptions import Aborter
from .globals import _cv_request, g
from .helpers import _import_folder, _install_prefix, _redirect_response
from .json.provider import DefaultJSONProvider, JSONProvider
from .lifespan import serving
from .limits import HeaderLimits, refuse_headers
from .logging import create_logger
from .pipeline import Pipeline
from .prefetch import DEFAULT_BODY_PREFETCH_BYTES, BodyPrefetch
from .request import Request
from .response import Response
from .routing import Map, Rule
from .scaffold import _endpoint_from_view_func, setupmethod
from .sessions import SecureCookieSessionInterface, SessionInterface
from .shutdown import ShutdownEvent
from .templating import Templating
from .testing_environ import build_scope
from .urls import Urls
from .websocket_pipeline import WebsocketPipeline
from .wsgi import WSGIApp, is_environ, request_from_environ, serve_through_wsgi

if TYPE_CHECKING:
    import logging

    from starlette.types import Receive, Scope, Send

    from .blueprints import Blueprint
    from .cli import AppGroup
    from .testing import FlaskClient, FlaskCliRunner

__all__ = ["Flask"]

T = TypeVar("T", bound=Callable[..., Any])


def _make_timedelta(value: timedelta | int | None) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(seconds=value)


class Flask(Templating, Pipeline, WebsocketPipeline, Urls, Composition):
    """The application: ``app = Flask(__name__)``.

    :param import_name: the name of the app's module or package
        (``__name__``); its folder is the root for templates, static files
        and relative config files.
    :param static_url_path: the URL prefix of static files (``/static``).
    :param static_folder: the static files folder, relative to the root.
    :param template_folder: the templates folder, relative to the root.
    :param instance_path: an absolute instance folder (default
        ``instance/`` next to the app).
    :param instance_relative_config: relative config files are loaded from
        the instance folder.
    :param root_path: the app's folder, if it cannot be found from
        *import_name*.
    """

    request_class: type[Request] = Request
    response_class: type[Response] = Response
    aborter_class: type[Aborter] = Aborter
    app_ctx_globals_class = _AppCtxGlobals
    config_class: type[Config] = Config
    json_provider_class: type[JSONProvider] = DefaultJSONProvider
    url_rule_class: type[Rule] = Rule
    url_map_class: type[Map] = Map
    test_client_class: type[FlaskClient] | None = None
    #: How sessions are loaded and saved (signed cookies by default).
    session_interface: SessionInterface = SecureCookieSessionInterface()

    testing: ConfigAttribute[bool] = ConfigAttribute("TESTING")
    secret_key: ConfigAttribute[str | bytes | None] = ConfigAttribute("SECRET_KEY")
    permanent_session_lifetime: ConfigAttribute[timedelta] = ConfigAttribute(
        "PERMANENT_SESSION_LIFETIME",
        get_converter=_make_timedelta,  # type: ignore[arg-type]
    )

    #: Flask's defaults, plus ``THREAD_POOL_SIZE`` (how many requests may
    #: run sync code at once, per worker process) and ``THREAD_POOL_PARKED``
    #: (how many more may hold their thread while awaiting async work),
    #: ``BODY_PREFETCH_BYTES`` (bodies up to this size are read before a
    #: ``def`` request's hand-off) and ``SSE_PING_INTERVAL`` (seconds of
    #: silence before an event stream pings).
    default_config: ClassVar[dict[str, Any]] = {
        "DEBUG": None,
        "TESTING": False,
        "PROPAGATE_EXCEPTIONS": None,
        "SECRET_KEY": None,
        "SECRET_KEY_FALLBACKS": None,
        "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
        "USE_X_SENDFILE": False,
        "TRUSTED_HOSTS": None,
        "SERVER_NAME": None,
        "APPLICATION_ROOT": "/",
        "SESSION_COOKIE_NAME": "session",
        "SESSION_COOKIE_DOMAIN": None,
        "SESSION_COOKIE_PATH": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SECURE": False,
        "SESSION_COOKIE_PARTITIONED": False,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_REFRESH_EACH_REQUEST": True,
        "MAX_CONTENT_LENGTH": None,
        "MAX_FORM_MEMORY_SIZE": 500_000,
        "MAX_FORM_PARTS": 1_000,
        "BODY_PREFETCH_BYTES": DEFAULT_BODY_PREFETCH_BYTES,
        "SEND_FILE_MAX_AGE_DEFAULT": None,
        "TRAP_BAD_REQUEST_ERRORS": None,
        "TRAP_HTTP_EXCEPTIONS": False,
        "EXPLAIN_TEMPLATE_LOADING": False,
        "PREFERRED_URL_SCHEME": "http",
        "TEMPLATES_AUTO_RELOAD": None,
        "MAX_COOKIE_SIZE": 4093,
        "MAX_REQUEST_HEADERS": 100,
        "MAX_HEADER_SIZE": 8190,
        "PROVIDE_AUTOMATIC_OPTIONS": True,
        "THREAD_POOL_SIZE": 40,
        "THREAD_POOL_PARKED": 1000,
        "THREAD_POOL_TIMEOUT": None,
        "BLOCKING_WARN_MS": None,
        "WEBSOCKET_MAX_MESSAGE_SIZE": 1024 * 1024,
        "WEBSOCKET_ALLOWED_ORIGINS": None,
        "SHUTDOWN_TIMEOUT": 5,
        "BACKGROUND_TASK_SHUTDOWN_TIMEOUT": 5,
        "SSE_PING_INTERVAL": 15,
        "BROADCAST_URL": "memory://",
        "BROADCAST_QUEUE_SIZE": 100,
    }

    def __init__(
        self,
        import_name: str,
        static_url_path: str | None = None,
        static_folder: str | os.PathLike[str] | None = "static",
        static_host: str | None = None,
        host_matching: bool = False,
        subdomain_matching: bool = False,
        template_folder: str | os.PathLike[str] | None = "templates",
        instance_path: str | None = None,
        instance_relative_config: bool = False,
        root_path: str | None = None,
    ) -> None:
        super().__init__(import_name, static_folder, static_url_path, template_folder, root_path)
        self._find_plain_overrides()  # an instance attribute: the cheapest read per step
        #: The app's name: the module name, or the script's name when run
        #: as ``__main__``. Names the logger.
        self.name = self._find_name()
        if instance_path is None:
            instance_path = self.auto_find_instance_path()
        elif not os.path.isabs(instance_path):
            raise ValueError(
                "If an instance path is provided it must be absolute. A relative path was "
                "given instead."
            )
        #: The folder for files that are not part of the code (config, databases).
        self.instance_path = instance_path
        #: The configuration (:class:`~flaskish.config.Config`).
        self.config = self.make_config(instance_relative_config)
        #: Used by :func:`~flaskish.abort`; replace to add your own codes.
        self.aborter = self.make_aborter()
        #: The JSON provider (``app.json.dumps``, ``app.json.response``).
        self.json: JSONProvider = self.json_provider_class(self)
        #: Called with ``(error, endpoint, values)`` when ``url_for`` fails.
        self.url_build_error_handlers: list[Callable[..., str | None]] = []
        self.teardown_appcontext_funcs: list[Callable[..., Any]] = []
        self.shell_context_processors: list[Callable[[], dict[str, Any]]] = []
        #: Registered blueprints, by name.
        self.blueprints: dict[str, Blueprint] = {}
        #: Where extensions keep their state: ``app.extensions["sqlalchemy"]``.
        self.extensions: dict[str, Any] = {}
        #: The URL rules (:class:`~flaskish.routing.Map`).
        self.url_map = self.url_map_class(host_matching=host_matching)
        self.subdomain_matching = subdomain_matching
        self.static_host = static_host
        self.before_serving_funcs: list[Callable[..., Any]] = []
        self.after_serving_funcs: list[Callable[..., Any]] = []
        self.while_serving_gens: list[Callable[..., Any]] = []
        self._got_first_request = False
        # What the app owns calls it back through a weak proxy: a cycle would
        # keep an app nothing refers to alive until the cyclic GC runs.
        this = weakref.proxy(self)
        #: ``MAX_REQUEST_HEADERS`` / ``MAX_HEADER_SIZE``, checked first (431).
        self.header_limits = HeaderLimits(this)
        #: ``BODY_PREFETCH_BYTES``: small bodies read before a def request's hand-off.
        self.body_prefetch = BodyPrefetch(this)
        #: Worker threads for sync callables (``THREAD_POOL_SIZE``).
        self.thread_pool = ThreadPool(
            lambda: this.config["THREAD_POOL_SIZE"],
            lambda: this.config["THREAD_POOL_PARKED"],
            lambda: this.config["THREAD_POOL_TIMEOUT"],
            lambda timeout: this._log_shed(timeout),
        )
        #: The blocking-call detector while the app is served with
        #: ``BLOCKING_WARN_MS`` on (see :mod:`flaskish.blocking`).
        self.blocking_detector: BlockingDetector | None = None
        #: Set when the server begins a graceful shutdown (:mod:`flaskish.shutdown`).
        self.shutdown_event = ShutdownEvent()
        self._background = BackgroundTasks(cast("Flask", this))
        #: Publish/subscribe across workers (``BROADCAST_URL``; :mod:`flaskish.broadcast`).
        self.broadcast = Broadcast(cast("Flask", this))
        self._shed_logged_at = -_SHED_LOG_INTERVAL
        self._shed_since_log = 0
        #: The Starlette router holding this app's rules (and mounted apps);
        #: ``asgi_app``, ``wsgi_app``, ``mount``, ``add_middleware``, ``state``:
        #: :mod:`flaskish.composition`.
        self._init_composition(
            cast("Flask", this),
            Router(cast("Flask", this), lambda app: this._lifespan(app)),
            WSGIApp(lambda: this._entry),
        )
        #: The WSGI callable HTTP requests go through, if any: middleware
        #: assigned to ``wsgi_app``, or a subclass's own ``wsgi_app`` method.
        self._serve_wsgi: Callable[..., Any] | None = None
        if not isinstance(inspect.getattr_static(type(self), "wsgi_app"), property):
            self._serve_wsgi = self.wsgi_app
        self.jinja_options: dict[str, Any] = dict(self.jinja_options)
        if self.has_static_folder:
            if bool(static_host) != host_matching:
                raise ValueError(
                    "Invalid static_host/host_matching combination: static_host needs "
                    "host_matching=True, and host_matching needs a static_host."
                )
            self.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                endpoint="static",
                host=static_host,
                view_func=lambda **kw: this.send_static_file(**kw),
            )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point: ``uvicorn module:app``. Too many or too
        large request headers are answered with a 431 before anything else."""
        if scope["type"] == "http":
            if (refusal := self.header_limits.refusal(scope["headers"], self.config)) is not None:
                await refuse_headers(send, refusal)
                return
            if self._serve_wsgi is not None:
                await serve_through_wsgi(self._serve_wsgi, scope, receive, send, self.thread_pool)
                return
        # app.asgi_app, or the add_middleware stack around it (composition.py).
        await self._entry(scope, receive, send)

    # -- properties -----------------------------------------------------------

    def _find_name(self) -> str:
        if self.import_name == "__main__":
            filename = getattr(sys.modules["__main__"], "__file__", None)
            if filename is None:
                return "__main__"
            return os.path.splitext(os.path.basename(str(filename)))[0]
        return self.import_name

    @cached_property
    def logger(self) -> logging.Logger:
        """The app's :class:`logging.Logger`, named after :attr:`name`."""
        return create_logger(self)

    @property
    def debug(self) -> bool:
        """Debug mode (``DEBUG``): tracebacks on error pages, reloading templates."""
        return bool(self.config["DEBUG"])

    @debug.setter
    def debug(self, value: bool) -> None:
        self.config["DEBUG"] = value
        if self.config["TEMPLATES_AUTO_RELOAD"] is None and "jinja_env" in self.__dict__:
            self.jinja_env.auto_reload = value

    @property
    def worker_threads(self) -> ThreadPoolStats:
        """How many requests run sync code now (``busy``), wait for a slot to
        (``waiting``), and hold their thread while awaiting async work
        (``parked``), and the limit (``THREAD_POOL_SIZE``), on this event
        loop."""
        return self.thread_pool.stats()

    def _log_shed(self, timeout: float) -> None:
        """Log shed requests: a warning at most once per interval, with how
        many were shed since the last one."""
        self._shed_since_log += 1
        now = time.monotonic()
        if now - self._shed_logged_at < _SHED_LOG_INTERVAL:
            return
        self.logger.warning(
            f"{self._shed_since_log} request(s) answered 503: no worker thread freed up "
            f"within THREAD_POOL_TIMEOUT ({timeout} s). Raise THREAD_POOL_SIZE, or make the "
            "slow views async def."
        )
        self._shed_logged_at, self._shed_since_log = now, 0

    def log_exception(self, exc_info: Any) -> None:
        """Log an unhandled exception (``exc_info``: a ``sys.exc_info()``
        triple) to :attr:`logger`, as Flask does: ``ERROR in app: Exception
        on /path [GET]`` with the traceback."""
        request = _cv_request.get().request
        self.logger.error(f"Exception on {request.path} [{request.method}]", exc_info=exc_info)

    def make_config(self, instance_relative: bool = False) -> Config:
        """Create :attr:`config` from :attr:`default_config`."""
        root = self.instance_path if instance_relative else self.root_path
        defaults = dict(self.default_config)
        defaults["DEBUG"] = bool(_env_flag("FLASKISH_DEBUG", _env_flag("FLASK_DEBUG", False)))
        return self.config_class(root, defaults)

    def auto_find_instance_path(self) -> str:
        """Where :attr:`instance_path` is when not given, as in Flask: an
        ``instance`` folder beside the app's module or package (the folder
        it is imported from), or ``<prefix>/var/<name>-instance`` for an app
        installed into a Python environment."""
        folder = _import_folder(self.import_name)
        prefix = _install_prefix(folder)
        if prefix is None:
            return os.path.join(folder, "instance")
        return os.path.join(prefix, "var", f"{self.name}-instance")

    def make_aborter(self) -> Aborter:
        """Create :attr:`aborter`."""
        return self.aborter_class()

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_first_request:
            raise AssertionError(
                f"The setup method '{f_name}' can no longer be called on the application. It "
                "has already handled its first request, any changes will not be applied "
                "consistently. Make sure all imports, decorators, functions, etc. needed to set "
                "up the application are done before running it."
            )

    # -- registration ---------------------------------------------------------

    # Flask's signature, repeated in scaffold.py, app.py and blueprints.py on
    # purpose: each class documents and does its own kind of registration.
    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: Any,
    ) -> None:
        """Register a URL rule::

            app.add_url_rule("/", "index", index)

        :param endpoint: the name for ``url_for`` (default: the view's name).
        :param view_func: the view, ``def`` or ``async def``.
        :param provide_automatic_options: answer ``OPTIONS`` automatically
            (default unless ``OPTIONS`` is in *methods*).
        :param options: ``methods``, ``defaults``, ``strict_slashes``...
        """
        if endpoint is None:
            endpoint = _endpoint_from_view_func(view_func)  # type: ignore[arg-type]
        options["endpoint"] = endpoint
        methods = options.pop("methods", None)
        if methods is None:
            methods = getattr(view_func, "methods", None) or ("GET",)
        if isinstance(methods, str):
            raise TypeError(
                "Allowed methods must be a list of strings, for example: "
                '@app.route(..., methods=["POST"])'
            )
        methods = {method.upper() for method in methods}
        required_methods = set(getattr(view_func, "required_methods", ()))
        if provide_automatic_options is None:
            provide_automatic_options = getattr(view_func, "provide_automatic_options", None)
        if provide_automatic_options is None:
            provide_automatic_options = "OPTIONS" not in methods and bool(
                self.config["PROVIDE_AUTOMATIC_OPTIONS"]
            )
            if provide_automatic_options:
                required_methods.add("OPTIONS")
        methods |= required_methods
        rule_obj = self.url_rule_class(rule, methods=methods, **options)
        rule_obj.provide_automatic_options = provide_automatic_options
        if view_func is not None:
            old_func = self.view_functions.get(endpoint)
            if old_func is not None and old_func != view_func:
                raise AssertionError(
                    "View function mapping is overwriting an existing endpoint function: "
                    f"{endpoint}. Give the view another name or pass endpoint='...'."
                )
        self.url_map.add(rule_obj)
        if view_func is not None:
            self.view_functions[endpoint] = view_func

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: Any) -> None:
        """Register a blueprint: its rules, hooks, error handlers, templates
        and static files join the app's.

        :param url_prefix: prepended to the blueprint's rules.
        :param name: register it under another name (to register it twice).
        :param url_defaults: default view arguments for its rules.
        :param subdomain: the subdomain of its rules.
        """
        blueprint.register(self, options)

    def iter_blueprints(self) -> Any:
        """The registered blueprints, in registration order."""
        return iter(self.blueprints.values())

    @setupmethod
    def teardown_appcontext(self, f: T) -> T:
        """Run *f(exc)* when an app context ends (after each request, and
        when a ``with app.app_context():`` block exits)."""
        self.teardown_appcontext_funcs.append(f)
        return f

    @setupmethod
    def shell_context_processor(self, f: T) -> T:
        """Register a function returning names for ``flaskish shell``."""
        self.shell_context_processors.append(f)
        return f

    @setupmethod
    def before_serving(self, f: T) -> T:
        """Run *f* (``def`` or ``async def``) once when the server starts,
        before it accepts requests, inside an app context."""
        self.before_serving_funcs.append(f)
        return f

    @setupmethod
    def after_serving(self, f: T) -> T:
        """Run *f* once when the server shuts down, inside an app context."""
        self.after_serving_funcs.append(f)
        return f

    @setupmethod
    def while_serving(self, f: T) -> T:
        """Register a generator function (``def`` or ``async def``) around
        serving: the code before its ``yield`` runs at startup, the code
        after it at shutdown, inside an app context::

            @app.while_serving
            async def pool():
                app.pool = await create_pool()
                yield
                await app.pool.close()
        """
        self.while_serving_gens.append(f)
        return f

    def _serving(self) -> AbstractAsyncContextManager[None]:
        return serving(self)

    # -- shutdown and background tasks ------------------------------------------

    def add_background_task(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run ``func(*args, **kwargs)`` (``def`` or ``async def``) after the
        response is sent, in an app context of its own; outside a request,
        at once. See :mod:`flaskish.background`."""
        self._background.add(func, args, kwargs)

    @property
    def background_task_stats(self) -> BackgroundTaskStats:
        """How many background tasks run now, completed, failed, and were
        cancelled at shutdown."""
        return self._background.stats()

    # -- contexts -------------------------------------------------------------

    def app_context(self) -> AppContext:
        """An app context: ``with app.app_context():`` or ``async with``."""
        return AppContext(self)

    def request_context(
        self,
        scope: Scope | dict[str, Any],
        receive: Receive | None = None,
        send: Send | None = None,
    ) -> RequestContext:
        """A request context for an ASGI scope, or for a WSGI environ as in
        Flask (``with app.request_context(environ):``; its body is read from
        ``wsgi.input``), with its URL matched. A malformed environ raises
        :class:`~werkzeug.exceptions.BadRequest`."""
        if is_environ(scope):
            scope, environ_receive = request_from_environ(scope)
            receive = receive or environ_receive
        ctx = RequestContext(self, scope, receive, send)
        if scope.get("type") == "http":
            ctx.match_request()
        return ctx

    def test_request_context(self, *args: Any, **kwargs: Any) -> RequestContext:
        """A request context for a made-up request, for tests::

            with app.test_request_context("/?name=ada", method="POST", data={"a": "1"}):
                name = request.args["name"]   # "ada"
                value = request.form["a"]     # "1"

        Takes Flask's arguments, those of
        :class:`~flaskish.testing.EnvironBuilder` (``path``, ``base_url``,
        ``method``, ``headers``, ``query_string``, ``data``, ``json``,
        ``content_type``, ``environ_base``, ``environ_overrides``...).
        """
        scope, receive = build_scope(self, *args, **kwargs)
        return self.request_context(scope, receive)

    def test_client(self, use_cookies: bool = True, **kwargs: Any) -> FlaskClient:
        """A test client: ``client.get("/")`` returns the response.
        ``with app.test_client() as client:`` also runs the lifespan and
        keeps the last request's context for inspection."""
        from .testing import FlaskClient  # httpx (the test transport): only for tests

        cls = self.test_client_class or FlaskClient
        return cls(self, use_cookies=use_cookies, **kwargs)

    def redirect(self, location: str, code: int = 302) -> Response:
        """A redirect response (used by :func:`flaskish.redirect`)."""
        return _redirect_response(location, code, self.response_class)

    # -- command line ---------------------------------------------------------

    @cached_property
    def cli(self) -> AppGroup:
        """The app's click command group (``@app.cli.command()``), run by
        ``flaskish`` with an app context pushed."""
        from .cli import AppGroup  # click: only once the app's commands are used

        return AppGroup(self.name)

    def test_cli_runner(self, **kwargs: Any) -> FlaskCliRunner:
        """A click ``CliRunner`` for the app's commands:
        ``app.test_cli_runner().invoke(args=["init-db"])``."""
        from .testing import FlaskCliRunner  # click and httpx: only for tests

        return FlaskCliRunner(self, **kwargs)

    def make_shell_context(self) -> dict[str, Any]:
        """The names ``flaskish shell`` starts with: ``app``, ``g``, and
        those of the :meth:`shell_context_processor` functions."""
        context: dict[str, Any] = {"app": self, "g": g}
        for processor in self.shell_context_processors:
            context.update(self.ensure_sync(processor)())
        return context

    # -- files ----------------------------------------------------------------

    def open_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = None
    ) -> IO[Any]:
        """Open a file relative to :attr:`root_path` for reading
        (``app.open_resource("schema.sql")``)."""
        if mode not in ("r", "rt", "rb"):
            raise ValueError("Resources can only be opened for reading.")
        path = os.path.join(self.root_path, resource)
        if mode == "rb":
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    def open_instance_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = "utf-8"
    ) -> IO[Any]:
        """Open a file relative to :attr:`instance_path` (any mode)."""
        path = os.path.join(self.instance_path, resource)
        if "b" in mode:
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    # -- serving --------------------------------------------------------------

    def run(
        self,
        host: str | None = None,
        port: int | None = None,
        debug: bool | None = None,
        **options: Any,
    ) -> None:
        """Serve the app with uvicorn (development use; for production run
        ``uvicorn module:app`` or ``flaskish run``).

        :param host: the address to listen on (``127.0.0.1``).
        :param port: the port (``5000``).
        :param debug: set debug mode.
        :param options: passed to :func:`uvicorn.run` (``workers``,
            ``log_level``, ``ssl_certfile``...).
        """
        from .cli import run_app  # click and uvicorn: only to serve

        run_app(self, host=host, port=port, debug=debug, **options)


def _env_flag(name: str, default: bool | None) -> bool | None:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.lower() not in ("0", "false", "no", "")


#: Seconds between two warnings about shed requests.
_SHED_LOG_INTERVAL = 10.0
