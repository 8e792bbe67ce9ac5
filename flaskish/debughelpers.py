"""What flaskish tells a developer: the traceback page of an unhandled
error in debug mode, the template search ``EXPLAIN_TEMPLATE_LOADING``
logs, and the note on an error a thread-bound object raised (Flask's
:mod:`flask.debughelpers`; ``import flask.debughelpers`` means this module
once :func:`~flaskish.install_as_flask` has run).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from jinja2 import BaseLoader
from markupsafe import escape

from .blueprints import Blueprint
from .concurrency import on_loop_thread
from .debug_page import debug_page_html
from .globals import _cv_request
from .response import Response

if TYPE_CHECKING:
    from .app import Flask
    from .exceptions import InternalServerError

__all__ = ["explain_template_loading_attempts", "explain_thread_error"]

#: What a loader's ``get_source`` returns: ``(source, filename, uptodate)``.
Source = tuple[str, "str | None", "Callable[[], bool] | None"]


def explain_template_loading_attempts(
    app: Flask, template: str, attempts: list[tuple[BaseLoader, Any, Source | None]]
) -> None:
    """Log, at INFO on ``app.logger``, where *template* was looked for: each
    loader tried (the app's, then each blueprint's) with its folders and
    whether it found the template, and a hint when none or several did.
    The template loader calls it when ``EXPLAIN_TEMPLATE_LOADING`` is on;
    the text is Flask's.

    :param app: the app rendering the template.
    :param template: the template name.
    :param attempts: ``(loader, app or blueprint, get_source result or
        None)`` for each loader, in search order.
    """
    lines = [f"Locating template {template!r}:"]
    found = 0
    for number, (loader, owner, result) in enumerate(attempts, 1):
        if isinstance(owner, Blueprint):
            where = f"blueprint {owner.name!r} ({owner.import_name})"
        elif owner is app:
            where = f"application {owner.import_name!r}"
        else:
            where = repr(owner)
        lines.append(f"{number:5}: trying loader of {where}")
        lines.extend(f"       {line}" for line in _loader_info(loader))
        if result is None:
            lines.append("       -> no match")
        else:
            found += 1
            lines.append(f"       -> found ({result[1] or '<string>'!r})")
    if found == 0:
        lines.append("Error: the template could not be found.")
    elif found > 1:
        lines.append("Warning: multiple loaders returned a match for the template.")
    ctx = _cv_request.get(None)
    blueprint = ctx.request.blueprint if ctx is not None else None
    if blueprint is not None and found != 1:
        lines += [
            "  The template was looked up from an endpoint that belongs to the blueprint "
            f"{blueprint!r}.",
            "  Maybe you did not place a template in the right folder?",
            "  See https://flask.palletsprojects.com/blueprints/#templates",
        ]
    app.logger.info("\n".join(lines))


def _loader_info(loader: BaseLoader) -> Iterator[str]:
    """The loader's class and its public settings of plain types (a
    ``FileSystemLoader``'s ``searchpath``, ``encoding``...)."""
    yield f"class: {type(loader).__module__}.{type(loader).__name__}"
    for key, value in sorted(vars(loader).items()):
        if key.startswith("_"):
            continue
        if isinstance(value, (tuple, list)):
            if all(isinstance(item, str) for item in value):
                yield f"{key}:"
                yield from (f"  - {item}" for item in value)
        elif isinstance(value, (str, int, float, bool)):
            yield f"{key}: {value!r}"


def _traceback_page(error: InternalServerError, thread: str | None = None) -> Response:
    """The 500 page of debug mode, in place of Werkzeug's debugger (and
    without its console): the app's frames first, with source and locals,
    the request, and the plain-text traceback; every value escaped. See
    :mod:`flaskish.debug_page`.

    :param thread: the thread that ran the failing step.
    """
    original = error.original_exception
    if original is None:
        body = (
            "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
            f"<h1>Internal Server Error</h1>\n<p>{escape(error.description or '')}</p>\n"
        )
    else:
        body = debug_page_html(original, thread)
    response = Response(body, 500)
    response.headers["Cache-Control"] = "no-store"  # the page shows code and locals
    return response


#: What sqlite3 (and SQLAlchemy, which passes it on) says when an object
#: made on one thread is used on another.
_SAME_THREAD = "can only be used in that same thread"


def explain_thread_error(exc: BaseException) -> None:
    """Add a note (PEP 678) to an error that says a thread-bound object (a
    ``sqlite3`` connection on ``g``) was used from the wrong thread, saying
    why that happens here and what to write instead."""
    try:
        text = str(exc)
    except Exception:  # an exception whose __str__ fails is the error page's to show
        return
    if _SAME_THREAD not in text or any("flaskish:" in n for n in getattr(exc, "__notes__", ())):
        return
    if on_loop_thread():
        exc.add_note(
            "flaskish: this async def function runs on the event loop's thread, and the object "
            "was made on a request's worker thread (by a def hook, such as a before_request "
            "that opens a sqlite3 connection on g). Keep the function def (every def callable "
            "of a request runs on one thread), or open the resource in async code with an "
            "async driver."
        )
    else:
        exc.add_note(
            "flaskish: every def callable of one request runs on one worker thread, but "
            "requests do not share threads: an object made in one request (or at import, or in "
            "an async def function) cannot be used by another. Open it per request (in "
            "before_request, closed in teardown_appcontext), or use a connection pool."
        )
