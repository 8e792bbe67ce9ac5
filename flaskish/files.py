"""Uploaded files: ``request.files["photo"]`` is a :class:`FileStorage`.

The data lives in a spooled temporary file (in memory while small, on disk
past 1 MB), parsed by python-multipart through Starlette, and removed when
the request ends, whether the view returned, raised, or the client went away.

Methods that do I/O work in both kinds of view: in a ``def`` view
``f.save(path)`` and ``f.read()`` run in place (on the request's worker
thread); in an ``async def`` view they return awaitables, so write
``await f.save(path)`` and ``data = await f.read()``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Coroutine
from typing import IO, Any, BinaryIO

from starlette.datastructures import UploadFile

from .concurrency import in_thread, on_loop_thread
from .datastructures import Headers

__all__ = ["FileStorage"]

PathOrFile = str | os.PathLike[str] | IO[bytes]


class FileStorage:
    """An uploaded file.

    :param upload: Starlette's upload holding the data.
    :param name: the form field name.
    """

    def __init__(self, upload: UploadFile, name: str) -> None:
        self._upload = upload
        #: The form field name.
        self.name = name

    @property
    def filename(self) -> str | None:
        """The file name the client sent. Never use it as a path as is:
        pass it through :func:`~flaskish.utils.secure_filename`."""
        return self._upload.filename

    @property
    def content_type(self) -> str | None:
        """The part's ``Content-Type``."""
        return self._upload.content_type

    @property
    def mimetype(self) -> str:
        """The content type without parameters, lower case."""
        return (self.content_type or "").split(";", 1)[0].strip().lower()

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The content type's parameters."""
        params = {}
        for part in (self.content_type or "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip():
                params[key.strip().lower()] = value.strip().strip('"')
        return params

    @property
    def headers(self) -> Headers:
        """The part's headers."""
        return Headers(self._upload.headers.items())

    @property
    def content_length(self) -> int:
        """The size in bytes."""
        return self._upload.size or 0

    @property
    def stream(self) -> BinaryIO:
        """The temporary file holding the data (a sync file object)."""
        return self._upload.file

    def read(self, size: int = -1) -> Any:
        """Read bytes. In a ``def`` view: ``data = f.read()``; in an
        ``async def`` view: ``data = await f.read()``."""
        if self._on_loop():
            return self._upload.read(size)
        return self._upload.file.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move the read position."""
        return self._upload.file.seek(offset, whence)

    def tell(self) -> int:
        """The read position."""
        return self._upload.file.tell()

    def save(self, dst: PathOrFile, buffer_size: int = 16384) -> Any:
        """Write the whole file to a path or a binary file object.

        In a ``def`` view: ``f.save(path)``. In an ``async def`` view:
        ``await f.save(path)`` (the copy runs on a worker thread, so a large
        upload never stalls the event loop).
        """
        if self._on_loop():
            return self._save_async(dst, buffer_size)
        self._save(dst, buffer_size)
        return None

    def _save(self, dst: PathOrFile, buffer_size: int) -> None:
        self._upload.file.seek(0)
        if isinstance(dst, (str, os.PathLike)):
            with open(dst, "wb") as out:
                shutil.copyfileobj(self._upload.file, out, buffer_size)
        else:
            shutil.copyfileobj(self._upload.file, dst, buffer_size)

    def _save_async(self, dst: PathOrFile, buffer_size: int) -> Coroutine[Any, Any, None]:
        return in_thread(self._save, dst, buffer_size)

    @staticmethod
    def _on_loop() -> bool:
        return on_loop_thread()

    def close(self) -> None:
        """Close the temporary file (it is deleted). The app does this when
        the request ends."""
        self._upload.file.close()

    @property
    def closed(self) -> bool:
        """Whether the temporary file is closed."""
        return bool(self._upload.file.closed)

    def __bool__(self) -> bool:
        return bool(self.filename)

    def __iter__(self) -> Any:
        return iter(self._upload.file)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.filename!r} ({self.content_type!r})>"
