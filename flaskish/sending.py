"""Sending files: ``send_file``, ``send_from_directory``, static files.

A file is never read whole into memory: its body is an iterator of chunks,
read on the request's worker thread (so sending a large file from an
``async def`` view never blocks the event loop). Responses answer
conditional requests (``If-None-Match``, ``If-Modified-Since`` → 304) and
byte ranges (``Range`` → 206, or 416 for every range Werkzeug refuses).
"""

from __future__ import annotations

import functools
import mimetypes
import os
import time
import unicodedata
import zlib
from collections.abc import Iterator
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

from werkzeug.exceptions import NotFound
from werkzeug.http import http_date, quote_etag
from werkzeug.security import safe_join

from .concurrency import in_thread, on_loop_thread
from .conditional import make_conditional
from .globals import _cv_request, current_app
from .must_await import MustAwait

if TYPE_CHECKING:
    from .response import Response

__all__ = ["FileBody", "safe_join", "send_file", "send_from_directory"]

CHUNK_SIZE = 256 * 1024


class FileBody:
    """The body of a file response: bytes ``start`` to ``stop`` of a path
    or an open binary file, read lazily in chunks.

    :param path: the file to open when iteration starts.
    :param file: an open binary file (closed with the response).
    :param start: the first byte to send.
    :param stop: where to stop (exclusive); the end of the file if ``None``.
    """

    def __init__(
        self,
        path: str | None = None,
        file: IO[bytes] | None = None,
        start: int = 0,
        stop: int | None = None,
    ) -> None:
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

    def narrow(self, start: int, stop: int) -> None:
        """Send only bytes *start* to *stop* of what this body would send
        (a ``Range`` request)."""
        self.start, self.stop = self.start + start, self.start + stop

    def close(self) -> None:
        """Close a file that was given open."""
        if self.file is not None:
            self.file.close()


def send_from_directory(
    directory: str | os.PathLike[str], path: str | os.PathLike[str], **kwargs: Any
) -> Response:
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
        # Typed as the value (a Response may be awaited too: docs/async.md).
        return MustAwait(  # type: ignore[return-value]
            "send_from_directory()",
            "response = await send_from_directory(...)",
            functools.partial(
                in_thread,
                _send_from_directory,
                directory,
                path,
                kwargs,
                pool=current_app.thread_pool,
            ),
        )
    return _send_from_directory(directory, path, kwargs)


def _send_from_directory(
    directory: str | os.PathLike[str], path: str | os.PathLike[str], kwargs: dict[str, Any]
) -> Response:
    folder = os.path.join(current_app.root_path, os.fspath(directory))
    joined = safe_join(folder, os.fspath(path))
    if joined is None or not os.path.isfile(joined):
        raise NotFound()
    return _send_file(joined, *_file_options(**kwargs))


# send_file's keywords as send_from_directory passes them on (the two lists
# repeat on purpose: each public function shows the keywords it takes).
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
) -> Response:
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
    args = (
        path_or_file,
        mimetype,
        as_attachment,
        download_name,
        conditional,
        etag,
        last_modified,
        max_age,
    )
    if on_loop_thread():
        # Typed as the value (a Response may be awaited too: docs/async.md).
        return MustAwait(  # type: ignore[return-value]
            "send_file()",
            "response = await send_file(...)",
            functools.partial(in_thread, _send_file, *args, pool=current_app.thread_pool),
        )
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

    response = app.response_class(FileBody(path, file), mimetype=mimetype, direct_passthrough=True)
    headers = response.headers
    if size is not None:
        headers["Content-Length"] = str(size)
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
