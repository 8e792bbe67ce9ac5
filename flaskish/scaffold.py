"""What apps and blueprints share: registering routes, hooks and error
handlers.

Hooks are stored per blueprint name (``None`` for the app) as in Flask, so
the pipeline finds the app's and the matched blueprint's functions in one
lookup. Registration is refused once the app has handled a request.
"""

from __future__ import annotations

import functools
import os
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from jinja2 import FileSystemLoader

from .exceptions import HTTPException, default_exceptions
from .globals import current_app
from .helpers import get_root_path
from .sending import send_from_directory

if TYPE_CHECKING:
    from .response import Response

__all__ = ["Scaffold", "setupmethod"]

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T", bound=Callable[..., Any])

_sentinel: Any = object()


def setupmethod(f: F) -> F:
    """Mark a registration method: calling it after the app has handled
    its first request raises, because the change would not apply to
    requests already being served in other tasks."""
    name = f.__name__

    @functools.wraps(f)
    def wrapper(self: Scaffold, *args: Any, **kwargs: Any) -> Any:
        self._check_setup_finished(name)
        return f(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class Scaffold:
    """Base of :class:`~flaskish.Flask` and :class:`~flaskish.Blueprint`.

    :param import_name: the module or package the object is defined in;
        its folder is the :attr:`root_path`.
    """

    name: str
    _static_folder: str | None = None
    _static_url_path: str | None = None

    def __init__(
        self,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        root_path: str | None = None,
    ) -> None:
        self.import_name = import_name
        self.static_folder = static_folder
        self.static_url_path = static_url_path
        self.template_folder = template_folder
        self.root_path: str = root_path if root_path is not None else get_root_path(import_name)
        #: Endpoint name -> view function.
        self.view_functions: dict[str, Callable[..., Any]] = {}
        #: Blueprint name (``None``: app) -> status code or ``None`` -> class -> handler.
        self.error_handler_spec: dict[
            str | None, dict[int | None, dict[type[BaseException], Callable[..., Any]]]
        ] = defaultdict(lambda: defaultdict(dict))
        self.before_request_funcs: dict[str | None, list[Callable[..., Any]]] = defaultdict(list)
        self.after_request_funcs: dict[str | None, list[Callable[..., Any]]] = defaultdict(list)
        self.teardown_request_funcs: dict[str | None, list[Callable[..., Any]]] = defaultdict(list)
        self.before_websocket_funcs: dict[str | None, list[Callable[..., Any]]] = defaultdict(list)
        self.after_websocket_funcs: dict[str | None, list[Callable[..., Any]]] = defaultdict(list)
        self.teardown_websocket_funcs: dict[str | None, list[Callable[..., Any]]] = defaultdict(
            list
        )
        self.template_context_processors: dict[str | None, list[Callable[..., Any]]] = defaultdict(
            list
        )
        self.url_value_preprocessors: dict[str | None, list[Callable[..., Any]]] = defaultdict(list)
        self.url_default_functions: dict[str | None, list[Callable[..., Any]]] = defaultdict(list)

    def _check_setup_finished(self, f_name: str) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    # -- folders --------------------------------------------------------------

    @property
    def static_folder(self) -> str | None:
        """The absolute path of the static folder, ``None`` if there is none."""
        if self._static_folder is None:
            return None
        return os.path.join(self.root_path, self._static_folder)

    @static_folder.setter
    def static_folder(self, value: str | os.PathLike[str] | None) -> None:
        self._static_folder = os.fspath(value).rstrip("/\\") if value is not None else None

    @property
    def has_static_folder(self) -> bool:
        """Whether a static folder is set."""
        return self._static_folder is not None

    @property
    def static_url_path(self) -> str | None:
        """The URL prefix of static files (``/static`` by default)."""
        if self._static_url_path is not None:
            return self._static_url_path
        if self._static_folder is not None:
            basename = os.path.basename(self._static_folder)
            return f"/{basename}".rstrip("/")
        return None

    @static_url_path.setter
    def static_url_path(self, value: str | None) -> None:
        self._static_url_path = value.rstrip("/") if value is not None else None

    @cached_property
    def jinja_loader(self) -> FileSystemLoader | None:
        """The loader for :attr:`template_folder` (``None`` without one)."""
        if self.template_folder is None:
            return None
        return FileSystemLoader(os.path.join(self.root_path, self.template_folder))

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        """The ``Cache-Control`` max age for a static file:
        ``SEND_FILE_MAX_AGE_DEFAULT`` (``None``: revalidate every time)."""
        value = current_app.config["SEND_FILE_MAX_AGE_DEFAULT"]
        if value is None:
            return None
        if isinstance(value, timedelta):
            return int(value.total_seconds())
        return int(value)

    def send_static_file(self, filename: str) -> Response:
        """The view of the ``static`` endpoint: a file from
        :attr:`static_folder`, with conditional and range requests."""
        if not self.has_static_folder:
            raise RuntimeError("'static_folder' must be set to serve static files.")
        max_age = self.get_send_file_max_age(filename)
        response: Response = send_from_directory(
            self.static_folder or "", filename, max_age=max_age
        )
        return response

    # -- routes ---------------------------------------------------------------

    def _method_route(self, method: str, rule: str, options: dict[str, Any]) -> Callable[[T], T]:
        if "methods" in options:
            raise TypeError(
                f"Use the 'route' decorator to pass methods; @{method.lower()}() already "
                f"means methods=[{method!r}]."
            )
        return self.route(rule, methods=[method], **options)

    @setupmethod
    def get(self, rule: str, **options: Any) -> Callable[[T], T]:
        """``@route(rule, methods=["GET"])``."""
        return self._method_route("GET", rule, options)

    @setupmethod
    def post(self, rule: str, **options: Any) -> Callable[[T], T]:
        """``@route(rule, methods=["POST"])``."""
        return self._method_route("POST", rule, options)

    @setupmethod
    def put(self, rule: str, **options: Any) -> Callable[[T], T]:
        """``@route(rule, methods=["PUT"])``."""
        return self._method_route("PUT", rule, options)

    @setupmethod
    def delete(self, rule: str, **options: Any) -> Callable[[T], T]:
        """``@route(rule, methods=["DELETE"])``."""
        return self._method_route("DELETE", rule, options)

    @setupmethod
    def patch(self, rule: str, **options: Any) -> Callable[[T], T]:
        """``@route(rule, methods=["PATCH"])``."""
        return self._method_route("PATCH", rule, options)

    @setupmethod
    def route(self, rule: str, **options: Any) -> Callable[[T], T]:
        """Register the decorated view for a URL rule::

            @app.route("/user/<int:id>", methods=["GET", "POST"])
            async def user(id): ...

        :param rule: the URL rule, e.g. ``"/post/<int:post_id>"``.
        :param options: ``methods``, ``endpoint``, ``defaults``,
            ``strict_slashes``, ``provide_automatic_options``; see
            :meth:`add_url_rule`.
        """

        def decorator(f: T) -> T:
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(rule, endpoint, f, **options)
            return f

        return decorator

    @setupmethod
    def websocket(self, rule: str, **options: Any) -> Callable[[T], T]:
        """Register the decorated handler (``def`` or ``async def``) for
        websocket connections to a URL rule::

            @app.websocket("/echo")
            async def echo():
                while True:
                    await websocket.send(await websocket.receive())

        :param rule: the URL rule, with converters, as for :meth:`route`.
        :param options: ``endpoint``, ``defaults``, ``strict_slashes``...; see
            :meth:`add_url_rule` (with ``websocket=True``).
        """

        def decorator(f: T) -> T:
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(rule, endpoint, f, websocket=True, **options)
            return f

        return decorator

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
        """Register a URL rule (the non-decorator form of :meth:`route`)."""
        raise NotImplementedError

    @setupmethod
    def endpoint(self, endpoint: str) -> Callable[[F], F]:
        """Register the decorated function as the view of *endpoint* (for a
        rule added with :meth:`add_url_rule` without a view)."""

        def decorator(f: F) -> F:
            self.view_functions[endpoint] = f
            return f

        return decorator

    # -- hooks ----------------------------------------------------------------

    @setupmethod
    def before_request(self, f: T) -> T:
        """Run *f* before each request. If it returns a value, that value is
        the response and the view is not called."""
        self.before_request_funcs[None].append(f)
        return f

    @setupmethod
    def after_request(self, f: T) -> T:
        """Run *f(response)* after each request; it must return a response.
        Not called if an unhandled exception occurred."""
        self.after_request_funcs[None].append(f)
        return f

    @setupmethod
    def teardown_request(self, f: T) -> T:
        """Run *f(exc)* when the request ends, after the response is sent,
        even if an exception occurred (*exc* is that exception or ``None``)."""
        self.teardown_request_funcs[None].append(f)
        return f

    @setupmethod
    def before_websocket(self, f: T) -> T:
        """Run *f* before each websocket handler (not before HTTP requests;
        ``before_request`` functions do not run for websockets). If it
        returns a value before the connection is accepted, that value is the
        HTTP response refusing it."""
        self.before_websocket_funcs[None].append(f)
        return f

    @setupmethod
    def after_websocket(self, f: T) -> T:
        """Run *f(response)* after each websocket handler returns; *response*
        is what it returned (``None`` usually), and *f* returns it."""
        self.after_websocket_funcs[None].append(f)
        return f

    @setupmethod
    def teardown_websocket(self, f: T) -> T:
        """Run *f(exc)* when a websocket connection ends, whatever ended it."""
        self.teardown_websocket_funcs[None].append(f)
        return f

    @setupmethod
    def context_processor(self, f: T) -> T:
        """Register a function returning a dict merged into template contexts."""
        self.template_context_processors[None].append(f)
        return f

    @setupmethod
    def url_value_preprocessor(self, f: T) -> T:
        """Run *f(endpoint, view_args)* before ``before_request`` functions;
        it may change ``view_args`` (e.g. pop a language code into ``g``)."""
        self.url_value_preprocessors[None].append(f)
        return f

    @setupmethod
    def url_defaults(self, f: T) -> T:
        """Run *f(endpoint, values)* when building URLs, to fill in values."""
        self.url_default_functions[None].append(f)
        return f

    # -- errors ---------------------------------------------------------------

    @setupmethod
    def errorhandler(self, code_or_exception: type[Exception] | int) -> Callable[[T], T]:
        """Register the decorated function for an HTTP status code or an
        exception class::

            @app.errorhandler(404)
            def page_not_found(error):
                return "This page does not exist", 404
        """

        def decorator(f: T) -> T:
            self.register_error_handler(code_or_exception, f)
            return f

        return decorator

    @setupmethod
    def register_error_handler(
        self, code_or_exception: type[Exception] | int, f: Callable[..., Any]
    ) -> None:
        """The non-decorator form of :meth:`errorhandler`."""
        exc_class, code = self._get_exc_class_and_code(code_or_exception)
        self.error_handler_spec[None][code][exc_class] = f

    @staticmethod
    def _get_exc_class_and_code(
        exc_class_or_code: type[Exception] | int,
    ) -> tuple[type[Exception], int | None]:
        if isinstance(exc_class_or_code, int):
            try:
                exc_class: type[Exception] = default_exceptions[exc_class_or_code]
            except KeyError:
                raise ValueError(
                    f"'{exc_class_or_code}' is not a recognized HTTP error code. Use a subclass "
                    "of HTTPException with that code instead."
                ) from None
        else:
            exc_class = exc_class_or_code
        if isinstance(exc_class, Exception):
            raise TypeError(
                f"{exc_class!r} is an instance, not a class. Handlers can only be registered "
                "for Exception classes or HTTP error codes."
            )
        if not isinstance(exc_class, type):
            # Flask's issubclass() raises a TypeError here too, with a terser message.
            raise TypeError(
                f"{exc_class!r} is not a class. Handlers can only be registered for Exception "
                "classes or HTTP error codes, one per call: register a handler for each "
                "class of a list or tuple."
            )
        if not issubclass(exc_class, Exception):
            raise ValueError(
                f"'{exc_class.__name__}' is not a subclass of Exception. Handlers can only be "
                "registered for Exception classes or HTTP error codes."
            )
        if issubclass(exc_class, HTTPException):
            return exc_class, exc_class.code
        return exc_class, None


def _endpoint_from_view_func(view_func: Callable[..., Any]) -> str:
    if view_func is None:
        raise TypeError("A view function or an endpoint name is required to add a URL rule.")
    return view_func.__name__
