"""Request header limits: ``MAX_REQUEST_HEADERS`` and ``MAX_HEADER_SIZE``.

uvicorn (with httptools or h11) accepts any number of request headers of
any size: 200,000 headers, or one 100 KB value, reach the app. gunicorn
answers those with ``431 Request Header Fields Too Large`` (at more than
100 header fields, or a header line over 8190 bytes). flaskish checks the
same two limits at the app's ASGI entry (:meth:`Flask.__call__
<flaskish.Flask.__call__>`), before middleware, routing or anything else
reads the request, so they hold under ``uvicorn module:app``, gunicorn's
uvicorn workers, ``flaskish run`` and the test client alike.

The check is two config reads, one ``len()`` and two more per header: no
parsing, no allocation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from werkzeug.exceptions import RequestHeaderFieldsTooLarge

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from starlette.types import Send

__all__ = [
    "DEFAULT_MAX_HEADER_SIZE",
    "DEFAULT_MAX_REQUEST_HEADERS",
    "HeaderLimits",
    "refuse_headers",
]

#: gunicorn's ``limit_request_fields``.
DEFAULT_MAX_REQUEST_HEADERS = 100
#: gunicorn's ``limit_request_field_size``.
DEFAULT_MAX_HEADER_SIZE = 8190

_UNCHECKED: Any = object()


class _HasConfig(Protocol):
    @property
    def config(self) -> Mapping[str, Any]: ...


class HeaderLimits:
    """The app's header limits, read from its config on each request (so a
    change to the config is honoured) and validated when they change.

    :param app: what holds the config (the app).
    """

    __slots__ = ("_app", "_checked")

    def __init__(self, app: _HasConfig) -> None:
        self._app = app
        self._checked: tuple[Any, Any] = (_UNCHECKED, _UNCHECKED)

    def validate(self) -> tuple[int | None, int | None]:
        """The limits ``(MAX_REQUEST_HEADERS, MAX_HEADER_SIZE)``; raise
        ``ValueError`` with the line to write for a value that is not a
        whole number of at least 1 or ``None``. Serving the app (its
        lifespan startup) calls this, so a bad value stops the server
        before it accepts a request."""
        config = self._app.config
        limits = config["MAX_REQUEST_HEADERS"], config["MAX_HEADER_SIZE"]
        for name, value, default in (
            ("MAX_REQUEST_HEADERS", limits[0], DEFAULT_MAX_REQUEST_HEADERS),
            ("MAX_HEADER_SIZE", limits[1], DEFAULT_MAX_HEADER_SIZE),
        ):
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 1
            ):
                raise ValueError(
                    f"{name} must be a whole number of at least 1, or None for no limit, "
                    f"not {value!r}. Write app.config[{name!r}] = {default} (the default)."
                )
        self._checked = limits
        return limits

    def refusal(
        self, headers: Sequence[tuple[bytes, bytes]], config: Mapping[str, Any] | None = None
    ) -> str | None:
        """Why a request with these ASGI headers is refused with a 431, or
        ``None`` when it is within the limits.

        :param headers: the scope's ``headers``, a list of ``(name, value)``.
        :param config: the app's config, if the caller has it at hand (the
            app's entry point: no trip through the weak proxy).
        """
        if config is None:
            config = self._app.config
        count, size = config["MAX_REQUEST_HEADERS"], config["MAX_HEADER_SIZE"]
        checked = self._checked
        if count is not checked[0] or size is not checked[1]:
            count, size = self.validate()
        if count is not None and len(headers) > count:
            return (
                f"The request has {len(headers)} header fields; "
                f"this server accepts at most {count}."
            )
        if size is not None:
            # A plain loop: quicker than sum(map(len, chain(...))) for the
            # few fields a request has.
            for name, value in headers:
                if len(name) + len(value) > size:
                    shown = name[:40].decode("latin-1")
                    return (
                        f"The request header {shown!r} is {len(name) + len(value)} bytes "
                        f"long (name and value); this server accepts at most {size}."
                    )
        return None


async def refuse_headers(send: Send, reason: str) -> None:
    """Answer ``431 Request Header Fields Too Large`` with Werkzeug's error
    page saying *reason*, and close the connection afterwards."""
    body = RequestHeaderFieldsTooLarge(reason).get_body().encode()
    await send(
        {
            "type": "http.response.start",
            "status": 431,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", b"%d" % len(body)),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
