"""Helpers used from views: ``url_for``, ``redirect``, ``abort``,
``make_response``, ``stream_with_context``, ``flash`` and
``get_flashed_messages``; and, as in Flask's ``flask.helpers``,
``get_template_attribute``, ``get_debug_flag``, ``get_load_dotenv`` and
``send_file`` / ``send_from_directory`` (from ``sending``)."""

from __future__ import annotations

import contextlib
import functools
import importlib.machinery
import importlib.util
import inspect
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import quote

from markupsafe import escape

from .concurrency import on_event_loop, run_in_loop
from .exceptions import abort
from .globals import _cv_app, _cv_request, _no_req_msg, current_app
from .must_await import DONE, MustAwait
from .response import Response as _Response
from .sending import send_file as send_file
from .sending import send_from_directory as send_from_directory
from .signals import message_flashed

if TYPE_CHECKING:
    from .ctx import AppContext, RequestContext
    from .response import Response
    from .sessions import SessionMixin

__all__ = [
    "abort",
    "flash",
    "get_debug_flag",
    "get_flashed_messages",
    "get_load_dotenv",
    "get_root_path",
    "get_template_attribute",
    "make_response",
    "redirect",
    "send_file",
    "send_from_directory",
    "stream_with_context",
    "url_for",
]

G = TypeVar("G", bound=Iterator[Any] | AsyncIterator[Any] | Callable[..., Any])


def get_root_path(import_name: str) -> str:
    """The folder of the module or package *import_name* (the current
    directory if it cannot be found, e.g. in an interactive session)."""
    module = sys.modules.get(import_name)
    filename = getattr(module, "__file__", None) if module is not None else None
    if filename:
        return os.path.dirname(os.path.abspath(str(filename)))
    try:
        spec = importlib.util.find_spec(import_name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin or spec.origin in ("built-in", "frozen"):
        return os.getcwd()
    return os.path.dirname(os.path.abspath(spec.origin))


def _import_folder(import_name: str) -> str:
    """The folder on :data:`sys.path` that *import_name*'s top-level module
    or package is imported from (the working directory if unknown), as
    Flask's ``find_package`` finds it. For a namespace package spread over
    several folders, the one holding *import_name* itself."""
    top = import_name.partition(".")[0]
    spec = _find_spec(top)
    if spec is None:
        return os.getcwd()  # __main__ without a spec, a broken or unknown name
    locations = list(spec.submodule_search_locations or ())
    if not locations:  # a module
        return os.path.dirname(os.path.abspath(spec.origin or ""))
    if spec.origin not in (None, "namespace"):  # a package with an __init__.py
        return os.path.dirname(os.path.dirname(os.path.abspath(spec.origin)))
    inner = _find_spec(import_name) if import_name != top else None
    inner_path = None
    if inner is not None and inner.submodule_search_locations:
        inner_path = os.path.commonpath(list(inner.submodule_search_locations))
    elif inner is not None and inner.origin not in (None, "namespace"):
        inner_path = os.path.dirname(os.path.abspath(inner.origin or ""))
    for location in locations:
        if inner_path is not None and _is_within(inner_path, location):
            return os.path.dirname(location)
    return os.path.dirname(locations[0])


def _find_spec(name: str) -> importlib.machinery.ModuleSpec | None:
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):  # __main__ without a spec, a broken name
        return None


def _is_within(path: str, folder: str) -> bool:
    path, folder = os.path.abspath(path), os.path.abspath(folder)
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # different drives (Windows)
        return False


def _install_prefix(folder: str) -> str | None:
    """The environment prefix when *folder* is inside it (``sys.prefix`` or
    a ``site-packages`` folder), else ``None`` (the app is not installed)."""
    prefix = os.path.abspath(sys.prefix)
    if _is_within(folder, prefix):
        return prefix
    parent, name = os.path.split(folder)
    if name.lower() != "site-packages":
        return None
    lib_parent, lib = os.path.split(parent)
    if lib.lower() == "lib":  # Windows: prefix/Lib/site-packages
        return lib_parent
    if os.path.basename(lib_parent).lower() == "lib":  # prefix/lib/pythonX.Y/site-packages
        return os.path.dirname(lib_parent)
    return parent


# Flask's signature, repeated in urls.py for Flask.url_for on purpose (this
# one is the public function; that one builds).
def url_for(
    endpoint: str,
    *,
    _anchor: str | None = None,
    _method: str | None = None,
    _scheme: str | None = None,
    _external: bool | None = None,
    **values: Any,
) -> str:
    """The URL of an endpoint: ``url_for("user", id=3)`` gives ``/user/3``.

    Values that are not rule variables become the query string. ``".name"``
    names an endpoint of the current blueprint. Outside a request, the app
    needs ``SERVER_NAME`` to build (external) URLs.

    :param _external: build an absolute URL (default outside requests).
    :param _scheme: the scheme of an external URL.
    :param _anchor: add ``#anchor``.
    :param _method: pick the rule for this method.
    """
    return current_app.url_for(
        endpoint,
        _anchor=_anchor,
        _method=_method,
        _scheme=_scheme,
        _external=_external,
        **values,
    )


def _quote_location(location: str) -> str:
    # Keep an already-valid URL as it is; percent-encode what a header cannot carry.
    return quote(location, safe="/:?#[]@!$&'()*+,;=%~")


def redirect(location: str, code: int = 302, Response: type[Response] | None = None) -> Response:
    """A response that sends the client to *location*.

    :param code: 301, 302 (default), 303, 307 or 308.
    :param Response: the response class (the app's by default).
    """
    ctx = _cv_app.get(None)
    if ctx is not None:
        return ctx.app.redirect(location, code)
    return _redirect_response(location, code, _Response if Response is None else Response)


def _redirect_response(location: str, code: int, response_class: type[Response]) -> Response:
    shown = escape(location)
    body = (
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n"
        "<h1>Redirecting...</h1>\n"
        "<p>You should be redirected automatically to the target URL: "
        f'<a href="{shown}">{shown}</a>. If not, click the link.\n'
    )
    response = response_class(body, code, mimetype="text/html")
    response.headers["Location"] = _quote_location(location)
    return response


def make_response(*args: Any) -> Response:
    """Turn a view's return value into a response object, to change it
    before returning::

        response = make_response(render_template("index.html"), 200)
        response.headers["X-Parachutes"] = "parachutes are cool"
        return response

    With no arguments, an empty response; with several, they are treated
    as a ``(body, status, headers)`` tuple.
    """
    if not args:
        return current_app.response_class()
    if len(args) == 1:
        args = args[0]
    return cast("Response", current_app.make_response(args))


def stream_with_context(generator_or_function: G) -> G:
    """Keep the current request context available while a generator runs,
    wherever and whenever it is iterated. Use it on a generator (sync or
    async), or as a decorator on a generator function.

    A streamed response does not need it in flaskish (the context stays
    pushed until the response is sent); it matters for a generator iterated
    after its request has ended.
    """
    if inspect.isgeneratorfunction(generator_or_function) or inspect.isasyncgenfunction(
        generator_or_function
    ):
        function: Callable[..., Any] = generator_or_function

        @functools.wraps(function)
        def decorator(*args: Any, **kwargs: Any) -> Any:
            return stream_with_context(function(*args, **kwargs))

        return decorator  # type: ignore[return-value]
    req_ctx = _cv_request.get(None)
    if req_ctx is None:
        raise RuntimeError(
            "stream_with_context() can only be used while a request is being handled; "
            "call it in the view that returns the generator."
        )
    app_ctx = _cv_app.get()
    if isinstance(generator_or_function, AsyncIterator):
        return cast(G, _async_with_context(generator_or_function, app_ctx, req_ctx))
    if isinstance(generator_or_function, Iterator):
        return cast(G, _with_context(generator_or_function, app_ctx, req_ctx))
    raise TypeError(
        "stream_with_context() takes a generator or a generator function, not "
        f"{type(generator_or_function).__name__}."
    )


@contextlib.contextmanager
def _pushed(app_ctx: AppContext, req_ctx: RequestContext) -> Iterator[None]:
    """Make the captured contexts current for one step, unless they are."""
    if _cv_request.get(None) is req_ctx:
        yield
        return
    app_token = _cv_app.set(app_ctx)
    req_token = _cv_request.set(req_ctx)
    try:
        yield
    finally:
        _cv_request.reset(req_token)
        _cv_app.reset(app_token)


def _with_context(
    generator: Iterator[Any], app_ctx: AppContext, req_ctx: RequestContext
) -> Iterator[Any]:
    try:
        while True:
            with _pushed(app_ctx, req_ctx):
                try:
                    item = next(generator)
                except StopIteration:
                    return
            yield item
    finally:
        close = getattr(generator, "close", None)
        if close is not None:
            with _pushed(app_ctx, req_ctx):
                close()


async def _async_with_context(
    generator: AsyncIterator[Any], app_ctx: AppContext, req_ctx: RequestContext
) -> AsyncIterator[Any]:
    try:
        while True:
            with _pushed(app_ctx, req_ctx):
                try:
                    item = await generator.__anext__()
                except StopAsyncIteration:
                    return
            yield item
    finally:
        aclose = getattr(generator, "aclose", None)
        if aclose is not None:
            with _pushed(app_ctx, req_ctx):
                await aclose()


# -- message flashing ---------------------------------------------------------


async def _run_receivers(pending: list[functools.partial[Any]]) -> None:
    for receiver in pending:
        await receiver()


def _request_session() -> SessionMixin:
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(_no_req_msg)
    return ctx.session


def flash(message: str, category: str = "message") -> Awaitable[None]:
    """Store a message for the next request to show, e.g. after a redirect:
    :func:`get_flashed_messages` returns it (once). Messages live in the
    session under ``"_flashes"``, as ``(category, message)`` pairs, exactly as
    in Flask, so they survive a move between the two.

    Sends :data:`~flaskish.message_flashed` with ``(app, message=,
    category=)``. Sync receivers run at once, on the thread that flashed;
    ``async def`` receivers run at once from a ``def`` view (on the event
    loop, while the view's thread waits), and from an ``async def`` view when
    the result is awaited: ``await flash("Saved")``. In Flask, ``flash``
    returns ``None`` (and cannot run async receivers from an async view).

    Returns :data:`~flaskish.must_await.DONE` when nothing is left to run
    (ignore it, or await it: both do nothing more); in an ``async def``
    view with async receivers, a :class:`~flaskish.must_await.MustAwait`
    that runs them when awaited. Typed ``Awaitable[None]`` either way.

    :param message: the message.
    :param category: its category; ``"message"``, ``"error"``, ``"info"``
        and ``"warning"`` are customary, any string works.
    """
    session = _request_session()
    flashes = session.get("_flashes", [])
    flashes.append((category, message))
    # Reassigned, not appended in place, so that server-side sessions see it.
    session["_flashes"] = flashes
    pending: list[functools.partial[Any]] = []
    if message_flashed.receivers:

        def run_async(receiver: Callable[..., Any]) -> Callable[..., Any]:
            def run(sender: Any, **kwargs: Any) -> Any:
                if on_event_loop():  # an async view: sync code cannot await here
                    pending.append(functools.partial(receiver, sender, **kwargs))
                    return None
                return run_in_loop(receiver, sender, **kwargs)

            return run

        app = _cv_app.get().app
        message_flashed.send(app, _async_wrapper=run_async, message=message, category=category)
        if pending:
            names = ", ".join(getattr(p.func, "__qualname__", repr(p.func)) for p in pending)
            return MustAwait(
                f"flash() (with async message_flashed receivers: {names})",
                "await flash(message)",
                functools.partial(_run_receivers, pending),
            )
    return DONE


def get_flashed_messages(
    with_categories: bool = False, category_filter: Iterable[str] = ()
) -> list[str] | list[tuple[str, str]]:
    """Take the flashed messages out of the session and return them. Later
    calls during the same request return the same messages; the next
    request sees none of them (unless more were flashed).

    :param with_categories: return ``(category, message)`` pairs instead of
        just the messages.
    :param category_filter: return only messages of these categories (all
        the messages are still consumed). A single string is one category.
    """
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(_no_req_msg)
    state = vars(ctx)  # Flask keeps them on the request context as ``flashes``
    flashes: list[tuple[str, str]] | None = state.get("flashes")
    if flashes is None:
        session = ctx.session
        stored = session.pop("_flashes") if "_flashes" in session else []
        flashes = [(category, message) for category, message in stored]
        state["flashes"] = flashes
    if category_filter:
        wanted = (category_filter,) if isinstance(category_filter, str) else tuple(category_filter)
        flashes = [f for f in flashes if f[0] in wanted]
    if not with_categories:
        return [message for _, message in flashes]
    return flashes


def get_template_attribute(template_name: str, attribute: str) -> Any:
    """A macro or variable exported by a template, e.g. to call a macro
    from Python: ``hello = get_template_attribute("_macros.html", "hello")``."""
    return getattr(current_app.jinja_env.get_template(template_name).module, attribute)


def get_debug_flag() -> bool:
    """Whether ``FLASKISH_DEBUG`` (or Flask's ``FLASK_DEBUG``) asks for debug mode."""
    value = os.environ.get("FLASKISH_DEBUG") or os.environ.get("FLASK_DEBUG")
    return bool(value and value.lower() not in {"0", "false", "no"})


def get_load_dotenv(default: bool = True) -> bool:
    """Whether to load ``.env`` files: *default*, unless ``FLASKISH_SKIP_DOTENV``
    (or ``FLASK_SKIP_DOTENV``) is set to a true value.

    :param default: the answer when neither variable is set.
    """
    value = os.environ.get("FLASKISH_SKIP_DOTENV") or os.environ.get("FLASK_SKIP_DOTENV")
    if not value:
        return default
    return value.lower() in ("0", "false", "no")
