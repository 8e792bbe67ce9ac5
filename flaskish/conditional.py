"""Conditional and range responses: a 304 when the client's copy is
current, a 206 (or 416) for a ``Range`` request, as Werkzeug's
``Response.make_conditional`` answers them. The header parsing is
Werkzeug's (:mod:`werkzeug.http`).

As in Werkzeug, a ``Range`` that does not give exactly one satisfiable
byte range (malformed, ``bytes=-0``, an end before its start, a start past
the end, another unit, several ranges) raises
``RequestedRangeNotSatisfiable``: a 416 with ``Content-Range: bytes */<size>``
that the app's ``errorhandler(416)`` may answer. Where Werkzeug checks the
range first, the preconditions come first here, in RFC 9110's order: a
matching ``If-None-Match`` is a 304 whatever the ``Range``."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from werkzeug.exceptions import RequestedRangeNotSatisfiable
from werkzeug.http import (
    parse_date,
    parse_etags,
    parse_if_range_header,
    parse_range_header,
    unquote_etag,
)

if TYPE_CHECKING:
    from werkzeug.sansio.request import Request

    from .response import Response

__all__ = ["make_conditional"]

_NOT_MODIFIED_DROPS = (
    "content-type",
    "content-length",
    "content-disposition",
    "content-range",
    "content-encoding",
)


def make_conditional(
    response: Response,
    request: Request,
    accept_ranges: bool | str = False,
    complete_length: int | None = None,
) -> Response:
    """Turn *response* into a 304 when the client's copy is current, or a
    206 (or 416) for a ``Range`` request. Only for GET and HEAD.

    A body with a ``narrow(start, stop)`` method (a file being sent) is
    narrowed to the range without being read; any other body is read and
    sliced. An empty body ignores ``Range`` (as Werkzeug).

    :raises RequestedRangeNotSatisfiable: the ``Range`` gives no single
        satisfiable byte range (the body is closed first).
    """
    if request.method not in ("GET", "HEAD"):
        return response
    headers = response.headers
    if accept_ranges:
        headers["Accept-Ranges"] = "bytes" if accept_ranges is True else accept_ranges
    etag, _ = unquote_etag(headers.get("etag"))
    modified = parse_date(headers.get("last-modified"))
    if _not_modified(request, etag, modified):
        response.status_code = 304
        for name in _NOT_MODIFIED_DROPS:
            del headers[name]
        _replace_body(response, None)
        return response
    if accept_ranges and complete_length is not None and response.status_code == 200:
        _apply_range(response, request, etag, modified, complete_length)
    return response


def _not_modified(request: Request, etag: str | None, modified: datetime | None) -> bool:
    if_none_match = parse_etags(request.headers.get("if-none-match"))
    if if_none_match:
        # Weak comparison, as RFC 9110 asks for If-None-Match.
        return etag is not None and (if_none_match.star_tag or if_none_match.contains_weak(etag))
    since = parse_date(request.headers.get("if-modified-since"))
    if since is not None and modified is not None:
        return modified.replace(microsecond=0) <= since
    return False


def _apply_range(
    response: Response, request: Request, etag: str | None, modified: datetime | None, length: int
) -> None:
    header = request.headers.get("range")
    if header is None or not length:
        return
    if_range = parse_if_range_header(request.headers.get("if-range"))
    if if_range.etag is not None or if_range.date is not None:
        # Strong comparison (RFC 9110): a weak tag never matches.
        strong = not request.headers.get("if-range", "").lstrip().startswith("W/")
        current = (if_range.etag is not None and strong and if_range.etag == etag) or (
            if_range.date is not None
            and modified is not None
            and modified.replace(microsecond=0) == if_range.date
        )
        if not current:
            return  # the client's copy is stale: send it all
    parsed = parse_range_header(header)
    # None for a malformed header, another unit, several ranges, an empty or
    # past-the-end range: Werkzeug's refusals, and so Flask's.
    span = parsed.range_for_length(length) if parsed is not None else None
    if span is None:
        _replace_body(response, None)  # closes a file given open
        raise RequestedRangeNotSatisfiable(length=length)
    start, stop = span
    response.status_code = 206
    response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{length}"
    response.headers["Content-Length"] = str(stop - start)
    narrow = getattr(response.response, "narrow", None)
    if narrow is not None:
        narrow(start, stop)
    else:
        data = response.get_data()
        response.response = [data[start:stop]]


def _replace_body(response: Response, data: bytes | None) -> None:
    close = getattr(response.response, "close", None)
    if close is not None and not isinstance(response.response, list):
        close()
    response.response = [data] if data else []
