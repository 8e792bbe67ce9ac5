"""Sending files: ``send_file``, ``send_from_directory``, static files.

A file is never read whole into memory: its body is an iterator of chunks,
read on the request's worker thread (so sending a large file from an
``async def`` view never blocks the event loop). Responses answer
conditional requests (``If-None-Match``, ``If-Modified-Since`` → 304) and
byte ranges (``Range`` → 206, or 416 past the end).
"""

from __future__ import annotations

import mimetypes
import os
import posixpath
import time
import unicodedata
import zlib
from collections.abc import Iterator
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

from .concurrency import in_thread, on_loop_thread
from .conditional import (
    parse_etags,
    parse_if_range_header,
    parse_range_header,
    quote_etag,
    unquote_etag,
)
from .exceptions import NotFound
from .globals import _cv_request, current_app
from .http import (
    parse_date,
)
from .response import http_date

if TYPE_CHECKING:
    from .request import Request
    from .response import Response

__all__ = ["FileBody", "make_conditional", "safe_join", "send_file", "send_from_directory"]

CHUNK_SIZE = 256 * 1024
_ALT_SEPARATORS = [sep for sep in (os.sep, os.altsep) if sep and sep != "/"]


class FileBody:
    """The body of a file response: bytes ``start`` to ``stop`` of a path
    or an open binary file, read lazily in chunks.

    :param path: the file to open when iteration starts.
    :param file: an open binary file (closed with the response).
    :param start: the first byte to send.
    :param stop: where to stop (exclusive); the end of the file if ``None``.
    """

    def __init__(self, path: str | None = None, file: IO[bytes] | None = None,
                 start: int = 0, stop: int | None = None) -> None:
        self.path = path
        self.file = file
        self.start = start
        self.stop = stop

    def __iter__(self) -> Iterator[bytes]:
        file = self.file if self.file is not None else open(self.path, "rb")  # type: ignore[arg-type]
        try:
            if self.start or self.file is None or file.seekable():
                file.seek(self.start, os.SEEK_SET if self.file is None else os.SEEK_CUR)
            left = None if self.stop is None else self.stop - self.start
            while left is None or left > 0:
                chunk = file.read(CHUNK_SIZE if left is None else min(CHUNK_SIZE, left))
                if not chunk:
                    break
                if left is not None:
                    left -= len(chunk)
                yield chunk
        finally:
            if self.file is None:
                file.close()

    def close(self) -> None:
        """Close a file that was given open."""
        if self.file is not None:
            self.file.close()


def safe_join(directory: str, *pathnames: str) -> str | None:
    """*directory* joined with *pathnames*, or ``None`` if the result
    could leave the directory (``..``, an absolute path, a backslash or a
    NUL byte)."""
    parts = [directory or "."]
    for name in pathnames:
        if name != "":
            name = posixpath.normpath(name)
        if (
            "\x00" in name
            or any(sep in name for sep in _ALT_SEPARATORS)
            or os.path.isabs(name)
            or name.startswith("/")
            or name == ".."
            or name.startswith("../")
            or (len(name) > 1 and name[1] == ":")  # a Windows drive letter
        ):
            return None
        parts.append(name)
    return posixpath.join(*parts)


def send_from_directory(directory: str | os.PathLike[str], path: str | os.PathLike[str],
                        **kwargs: Any) -> Any:
    """Send a file from a folder, refusing with 404 anything that is not a
    file inside it::

        @app.route("/uploads/<path:name>")
        def download_file(name):
            return send_from_directory(app.config["UPLOAD_FOLDER"], name)

    :param directory: the folder, relative to the app's root path.
    :param path: the file's path inside the folder (from the URL).
    :param kwargs: passed to :func:`send_file`.

    In an ``async def`` view it returns an awaitable (the file checks run
    on a worker thread); return it as is or ``await`` it.
    """
    if on_loop_thread():
        return in_thread(_send_from_directory, directory, path, kwargs)
    return _send_from_directory(directory, path, kwargs)


def _send_from_directory(directory: str | os.PathLike[str], path: str | os.PathLike[str],
                         kwargs: dict[str, Any]) -> Response:
    folder = os.path.join(current_app.root_path, os.fspath(directory))
    joined = safe_join(folder, os.fspath(path))
    if joined is None or not os.path.isfile(joined):
        raise NotFound()
    return _send_file(joined, *_file_options(**kwargs))


def _file_options(
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: datetime | int | float | None = None,
    max_age: int | None = None,
) -> tuple[Any, ...]:
    return (mimetype, as_attachment, download_name, conditional, etag, last_modified, max_age)


def send_file(
    path_or_file: str | os.PathLike[str] | IO[bytes],
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: datetime | int | float | None = None,
    max_age: int | None = None,
) -> Any:
    """A response with a file's contents, streamed in chunks.

    :param path_or_file: a path (relative to the app's root path) or a
        binary file object. Never pass a path from the client: use
        :func:`send_from_directory`.
    :param mimetype: the type; guessed from the file name if omitted.
    :param as_attachment: ask the browser to save it rather than show it.
    :param download_name: the file name the browser sees.
    :param conditional: answer conditional and range requests.
    :param etag: compute an ETag (``True``), use this one (a string), or none.
    :param last_modified: the ``Last-Modified`` time; a path's mtime by default.
    :param max_age: seconds the client may cache it without asking
        (``Cache-Control: public, max-age=...``). By default the app's
        ``get_send_file_max_age`` (``SEND_FILE_MAX_AGE_DEFAULT``); ``None``
        there means ``no-cache`` (revalidate each time, cheap with a 304).

    In a ``def`` view it returns the response. In an ``async def`` view it
    returns an awaitable (the file is checked on a worker thread, never on
    the event loop): ``return send_file(...)`` and
    ``return await send_file(...)`` both work.
    """
    args = (path_or_file, mimetype, as_attachment, download_name, conditional, etag,
            last_modified, max_age)
    if on_loop_thread():
        return in_thread(_send_file, *args)
    return _send_file(*args)


def _send_file(
    path_or_file: str | os.PathLike[str] | IO[bytes],
    mimetype: str | None,
    as_attachment: bool,
    download_name: str | None,
    conditional: bool,
    etag: bool | str,
    last_modified: datetime | int | float | None,
    max_age: int | None,
) -> Response:
    app = current_app
    size: int | None = None
    path: str | None = None
    file: IO[bytes] | None = None
    if isinstance(path_or_file, (str, os.PathLike)):
        path = os.path.join(app.root_path, os.fspath(path_or_file))
        stat = os.stat(path)
        size = stat.st_size
        if last_modified is None:
            last_modified = stat.st_mtime
        if download_name is None:
            download_name = os.path.basename(path)
    else:
        file = path_or_file
        if download_name is None:
            name = getattr(file, "name", None)
            download_name = os.path.basename(name) if isinstance(name, str) else None
        size = _remaining_size(file)
    if as_attachment and download_name is None:
        raise TypeError(
            "No name provided for attachment: pass download_name='report.pdf' (a file "
            "object has no name the browser could use)."
        )
    if max_age is None:
        max_age = app.get_send_file_max_age(download_name)
    if mimetype is None:
        if download_name is None:
            raise ValueError(
                "Unable to detect the MIME type because a file name is not available. Either "
                "set 'download_name', pass a path instead of a file, or set 'mimetype'."
            )
        mimetype = mimetypes.guess_type(download_name)[0] or "application/octet-stream"

    response = app.response_class(FileBody(path, file), mimetype=mimetype)
    headers = response.headers
    if size is not None:
        headers["Content-Length"] = size
    if download_name is not None and (as_attachment or file is None or download_name):
        _set_disposition(response, "attachment" if as_attachment else "inline", download_name)
    if last_modified is not None:
        headers["Last-Modified"] = http_date(last_modified)
    if isinstance(etag, str):
        headers["ETag"] = quote_etag(etag)
    elif etag and path is not None:
        checksum = zlib.adler32(path.encode()) & 0xFFFFFFFF
        headers["ETag"] = quote_etag(f"{last_modified}-{size}-{checksum}")
    if max_age is not None and max_age > 0:
        headers["Cache-Control"] = f"public, max-age={max_age}"
        headers["Expires"] = http_date(time.time() + max_age)
    elif max_age is not None:
        headers["Cache-Control"] = "max-age=0"
    else:
        headers["Cache-Control"] = "no-cache"
    ctx = _cv_request.get(None)
    if conditional and ctx is not None:
        make_conditional(response, ctx.request, accept_ranges=True, complete_length=size)
    return response


def _remaining_size(file: IO[bytes]) -> int | None:
    try:
        if not file.seekable():
            return None
        position = file.tell()
        end = file.seek(0, os.SEEK_END)
        file.seek(position)
        return end - position
    except (AttributeError, OSError, ValueError):
        return None


def _set_disposition(response: Response, kind: str, name: str) -> None:
    params: dict[str, str] = {}
    try:
        name.encode("ascii")
        params["filename"] = name
    except UnicodeEncodeError:
        # RFC 6266 / 5987: an ASCII fallback, and the real name percent-encoded.
        fallback = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
        params["filename"] = fallback or "download"
        params["filename*"] = "UTF-8''" + quote(name, safe="!#$&+-.^_`|~")
    response.headers.set("Content-Disposition", kind, **params)


_NOT_MODIFIED_DROPS = ("content-type", "content-length", "content-disposition",
                       "content-range", "content-encoding")


def make_conditional(
    response: Response,
    request: Request,
    accept_ranges: bool = False,
    complete_length: int | None = None,
) -> Response:
    """Turn *response* into a 304 when the client's copy is current, or a
    206 (or 416) for a ``Range`` request, as Werkzeug's
    ``Response.make_conditional`` does. Only for GET and HEAD."""
    if request.method not in ("GET", "HEAD"):
        return response
    headers = response.headers
    if accept_ranges:
        headers["Accept-Ranges"] = "bytes"
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


def _apply_range(response: Response, request: Request, etag: str | None,
                 modified: datetime | None, length: int) -> None:
    header = request.headers.get("range")
    if header is None:
        return
    if_range = parse_if_range_header(request.headers.get("if-range"))
    if if_range.etag is not None or if_range.date is not None:
        current = (if_range.etag is not None and not if_range.weak and if_range.etag == etag) or (
            if_range.date is not None and modified is not None
            and modified.replace(microsecond=0) == if_range.date
        )
        if not current:
            return  # the client's copy is stale: send it all
    parsed = parse_range_header(header)
    if parsed is None or parsed.units != "bytes":
        return  # a malformed Range header is ignored (RFC 9110)
    span = parsed.range_for_length(length)
    if span is None:
        if len(parsed.ranges) > 1:
            return  # several ranges: sent whole, as Werkzeug does
        response.status_code = 416
        response.headers["Content-Range"] = f"bytes */{length}"
        del response.headers["content-length"]
        _replace_body(response, b"")
        return
    start, stop = span
    response.status_code = 206
    response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{length}"
    response.headers["Content-Length"] = stop - start
    body = response.response
    if isinstance(body, FileBody):
        body.start, body.stop = body.start + start, body.start + stop
    else:
        data = response.get_data()
        response.response = [data[start:stop]]


def _replace_body(response: Response, data: bytes | None) -> None:
    body = response.response
    if isinstance(body, FileBody):
        body.close()
    response.response = [data] if data else []

