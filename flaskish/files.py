"""Uploaded files: ``request.files["photo"]`` is a :class:`FileStorage`, a
``werkzeug.datastructures.FileStorage`` (so extensions' ``isinstance``
checks pass) whose I/O methods also work in ``async def`` views.

The data lives in a spooled temporary file (in memory while small, on disk
past 1 MB), parsed by python-multipart through Starlette, and removed when
the request ends, whether the view returned, raised, or the client went away.

In a ``def`` view ``f.save(path)`` and ``f.read()`` run in place (on the
request's worker thread); in an ``async def`` view they return awaitables,
so write ``await f.save(path)`` and ``data = await f.read()``.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Awaitable, Coroutine
from typing import IO, Any

from werkzeug.datastructures import FileStorage as _WerkzeugFileStorage

from .concurrency import ThreadPool, in_thread, on_loop_thread
from .globals import _cv_app
from .must_await import DONE, MustAwait

__all__ = ["FileStorage"]

PathOrFile = str | os.PathLike[str] | IO[bytes]


class FileStorage(_WerkzeugFileStorage):
    """An uploaded file: Werkzeug's ``FileStorage`` (``filename``, ``name``,
    ``content_type``, ``mimetype``, ``headers``, ``stream``...), with
    :meth:`save` and :meth:`read` usable from both kinds of view.
    """

    # Any: bytes in def code, an awaitable of them in async code, and no
    # one static type is both (bytes read from a file are not copied into
    # an awaitable subclass).
    def read(self, size: int = -1) -> Any:
        """Read bytes. In a ``def`` view: ``data = f.read()``; in an
        ``async def`` view: ``data = await f.read()``."""
        if on_loop_thread():
            return MustAwait(
                "FileStorage.read()",
                "data = await file.read()",
                functools.partial(in_thread, self.stream.read, size, pool=_app_pool()),
            )
        return self.stream.read(size)

    # Werkzeug's returns None; this one's result may also be awaited.
    def save(self, dst: PathOrFile, buffer_size: int = 16384) -> Awaitable[None]:  # type: ignore[override]
        """Write the whole file (from its start) to a path or a binary file
        object.

        In a ``def`` view: ``f.save(path)``. In an ``async def`` view:
        ``await f.save(path)`` (the copy runs on a worker thread, so a large
        upload never stalls the event loop).
        """
        if on_loop_thread():
            return MustAwait(
                "FileStorage.save()",
                "await file.save(path)",
                functools.partial(self._save_async, dst, buffer_size),
            )
        self._save(dst, buffer_size)
        return DONE

    def _save(self, dst: PathOrFile, buffer_size: int) -> None:
        if self.stream.seekable():
            self.stream.seek(0)
        if isinstance(dst, (str, os.PathLike)):
            with open(dst, "wb") as out:
                shutil.copyfileobj(self.stream, out, buffer_size)
        else:
            shutil.copyfileobj(self.stream, dst, buffer_size)

    def _save_async(self, dst: PathOrFile, buffer_size: int) -> Coroutine[Any, Any, None]:
        return in_thread(self._save, dst, buffer_size, pool=_app_pool())

    @property
    def closed(self) -> bool:
        """Whether the temporary file is closed."""
        return bool(self.stream.closed)


def _app_pool() -> ThreadPool | None:
    """The current app's worker threads, which file I/O counts against."""
    ctx = _cv_app.get(None)
    return ctx.app.thread_pool if ctx is not None else None
