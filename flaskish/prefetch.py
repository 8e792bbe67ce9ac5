"""Small bodies read before the hand-off: ``BODY_PREFETCH_BYTES``.

A ``def`` view runs on the request's worker thread, and reading
``request.form`` there calls back into the event loop for the body: a
second loop-thread round trip, which costs more than parsing a small form.
A server has usually received a small body with the headers, so for a
request that will run ``def`` code the pipeline reads it on the loop first
(:meth:`RequestBody._prefetch <flaskish.body.RequestBody._prefetch>`), and
the view then finds it in memory.

Only when all of these hold:

* ``Content-Length`` is declared (a chunked body stays lazy) and is at most
  ``BODY_PREFETCH_BYTES`` (default 64 KiB, ``0`` turns this off) and at
  most ``MAX_CONTENT_LENGTH`` (a body declared over it is never read: the
  reader raises the 413 through the error handlers, as before);
* a urlencoded body is also at most ``MAX_FORM_MEMORY_SIZE`` (one over it
  is refused unread by ``request.form``);
* the request has no ``Expect: 100-continue`` header: the server sends the
  ``100 Continue`` that makes the client send the body when the app first
  reads it, and only the app may decide to (a ``def`` view answering 401
  or 413 before reading never invites the body);
* the URL matched a rule (a 404 or 405 reads nothing);
* the view, or one of the URL value preprocessors or ``before_request``
  functions that run before it, is ``def``: the request hands off to a
  thread before its view returns. A request made only of ``async def``
  code reads its body itself, on the loop, at no extra cost.

Which endpoints run ``def`` code is worked out at the first request of each
endpoint and kept (hooks cannot be added once the app serves; a view
replaced in ``app.view_functions`` is looked at again). ``GET`` and ``HEAD``
requests are never considered: the pipeline checks the method first, so a
request without a body pays one comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from .concurrency import is_async_callable

if TYPE_CHECKING:
    from .request import Request

__all__ = ["BODYLESS_METHODS", "DEFAULT_BODY_PREFETCH_BYTES", "BodyPrefetch"]

#: ``BODY_PREFETCH_BYTES``'s default: a login form, a JSON document, a
#: small upload.
DEFAULT_BODY_PREFETCH_BYTES = 64 * 1024

#: Methods whose requests are never prefetched (they have no body by
#: convention; one sent anyway is read lazily, as before).
BODYLESS_METHODS = frozenset({"GET", "HEAD"})

_UNCHECKED: Any = object()


class _App(Protocol):
    @property
    def config(self) -> Mapping[str, Any]: ...
    @property
    def view_functions(self) -> Mapping[str, Callable[..., Any]]: ...
    @property
    def url_value_preprocessors(self) -> Mapping[str | None, list[Callable[..., Any]]]: ...
    @property
    def before_request_funcs(self) -> Mapping[str | None, list[Callable[..., Any]]]: ...


class BodyPrefetch:
    """Which requests of an app have their body read before the hand-off
    (see the module's documentation).

    :param app: the app (its config, views and hooks).
    """

    __slots__ = ("_app", "_checked", "_endpoints")

    def __init__(self, app: _App) -> None:
        self._app = app
        self._checked: Any = _UNCHECKED
        # endpoint -> (the view looked at, whether the request runs def code)
        self._endpoints: dict[str, tuple[Callable[..., Any] | None, bool]] = {}

    def validate(self) -> int:
        """``BODY_PREFETCH_BYTES``; raise ``ValueError`` with the line to
        write for a value that is not a whole number of at least 0. Serving
        the app (its lifespan startup) calls this, so a bad value stops the
        server before it accepts a request; a request checks it again when
        it has changed."""
        value = self._app.config["BODY_PREFETCH_BYTES"]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(
                f"BODY_PREFETCH_BYTES must be a whole number of bytes (0 to read every body "
                f"lazily), not {value!r}. Write app.config['BODY_PREFETCH_BYTES'] = "
                f"{DEFAULT_BODY_PREFETCH_BYTES} (the default)."
            )
        self._checked = value
        return value

    def length(self, request: Request) -> int | None:
        """The declared length of *request*'s body if it is to be read now,
        else ``None`` (it stays lazy). The caller has checked the method
        against :data:`BODYLESS_METHODS`."""
        rule = request.url_rule
        if rule is None or request.routing_exception is not None:
            return None
        limit = self._app.config["BODY_PREFETCH_BYTES"]
        if limit is not self._checked:
            limit = self.validate()
        if not limit or not self._runs_def_code(rule.endpoint, request):
            return None
        declared = request.content_length
        if declared is None or declared > limit:
            return None
        most = request.max_content_length
        if most is not None and declared > most:
            return None  # the reader refuses it, unread, with the 413
        most = request.max_form_memory_size
        if (
            most is not None
            and declared > most
            and request.mimetype == "application/x-www-form-urlencoded"
        ):
            return None  # request.form refuses it unread; get_data() may still read it
        if request._raw_header(b"expect") is not None:
            # The client waits for `100 Continue`, which the server sends at
            # the first receive(): only the app, by reading, may ask for it.
            return None
        return declared

    def _runs_def_code(self, endpoint: str, request: Request) -> bool:
        app = self._app
        view = app.view_functions.get(endpoint)
        known = self._endpoints.get(endpoint)
        if known is not None and known[0] is view:
            return known[1]
        names = (None, *reversed(request.blueprints))
        hooks = [
            func
            for registry in (app.url_value_preprocessors, app.before_request_funcs)
            for name in names
            for func in registry.get(name, ())
        ]
        runs_def = any(not is_async_callable(func) for func in (*hooks, *([view] if view else [])))
        self._endpoints[endpoint] = (view, runs_def)
        return runs_def
