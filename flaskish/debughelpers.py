"""What debug settings show a developer: the traceback page of an unhandled
error in debug mode.
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING

from markupsafe import escape

from .response import Response

if TYPE_CHECKING:
    from .exceptions import InternalServerError

__all__: list[str] = []


def _traceback_page(error: InternalServerError) -> Response:
    """The 500 page of debug mode, in place of Werkzeug's debugger: the
    error and its traceback, escaped."""
    original = error.original_exception
    text = "".join(traceback.format_exception(original)) if original else str(error)
    body = (
        "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
        f"<h1>{escape(type(original).__name__ if original else 'Error')}: "
        f"{escape(str(original))}</h1>\n"
        "<p>Shown because the app runs in debug mode; never enable debug in production.</p>\n"
        f"<pre>{escape(text)}</pre>\n"
    )
    return Response(body, 500)
