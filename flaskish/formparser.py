"""Form bodies, parsed with Flask's limits and decoding.

* ``application/x-www-form-urlencoded``: the standard library's
  ``parse_qsl``, as Werkzeug's form parser uses it. The body itself is read
  by :mod:`flaskish.body`, which refuses one over ``MAX_FORM_MEMORY_SIZE``
  before reading it (from its declared ``Content-Length``) or as soon as it
  grows past it (a chunked body).
* ``multipart/form-data``: Starlette's parser (python-multipart
  underneath), streamed, with Werkzeug's limits where Starlette's differ:
  ``MAX_FORM_PARTS`` counts fields and files together (Starlette limits
  each on its own), and ``MAX_FORM_MEMORY_SIZE`` bounds each non-file field.

Names, values and filenames are text in the form's charset (UTF-8 unless
the ``Content-Type`` says otherwise), with bytes that are not valid in it
replaced by U+FFFD, as Werkzeug decodes form values (Starlette falls back
to Latin-1 for the whole value; Werkzeug's urlencoded parser gives an empty
form). Every limit is a 413, anything malformed a 400.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import parse_qsl

from python_multipart.multipart import parse_options_header
from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

__all__ = ["IN_MEMORY_LIMIT", "parse_multipart", "parse_urlencoded"]

_UNLIMITED = float("inf")

#: A multipart body of at most this many bytes is parsed without I/O: no
#: uploaded file in it outgrows Starlette's in-memory spool (past it, the
#: parser writes the file from a thread pool, which needs the event loop).
IN_MEMORY_LIMIT: int = MultiPartParser.spool_max_size


def parse_urlencoded(body: bytes, max_parts: int | None) -> list[tuple[str, str]]:
    """The fields of a urlencoded body: ``+`` is a space, ``%XX`` a byte,
    the bytes UTF-8 (invalid sequences replaced), blank values kept.

    :raises ~werkzeug.exceptions.RequestEntityTooLarge: more than
        *max_parts* fields.
    """
    try:
        return parse_qsl(
            body.decode("utf-8", "replace"),
            keep_blank_values=True,
            errors="replace",
            max_num_fields=max_parts,
        )
    except ValueError:
        # The only ValueError parse_qsl raises without strict_parsing.
        raise RequestEntityTooLarge(
            f"The form has more than {max_parts} fields; MAX_FORM_PARTS allows {max_parts}."
        ) from None


async def parse_multipart(
    headers: list[tuple[bytes, bytes]],
    stream: AsyncGenerator[bytes, None],
    max_memory: int | None,
    max_parts: int | None,
) -> list[tuple[str, str | UploadFile]]:
    """The fields and files of a multipart body read from *stream*. Files
    are spooled to temporary files; on any error (a limit, a malformed
    body, a disconnect) the ones already made are closed.

    :param headers: the request's raw ASGI headers (for the boundary and
        charset).
    :raises ~werkzeug.exceptions.RequestEntityTooLarge: a field over
        *max_memory* bytes, or more than *max_parts* parts.
    :raises ~werkzeug.exceptions.BadRequest: a malformed body.
    """
    parser = _MultiPartParser(Headers(raw=headers), stream, max_memory, max_parts)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        _close_uploads(parser)
        raise BadRequest(f"The multipart form could not be parsed: {exc.message}") from None
    except BaseException:
        _close_uploads(parser)
        raise
    items = list(form.multi_items())
    kept = {id(item.file) for _, item in items if isinstance(item, UploadFile)}
    if any(id(file) not in kept for file in getattr(parser, "_files_to_close_on_error", ())):
        # The body ended inside a file (no closing boundary): the file is
        # incomplete, so the form is refused, and no temporary file is left.
        _close_uploads(parser)
        raise BadRequest("The multipart form ended inside an uploaded file.")
    return items


class _MultiPartParser(MultiPartParser):
    """Starlette's parser with Werkzeug's limits and decoding (see the
    module's documentation). Its own limits are turned off: these
    callbacks apply Werkzeug's, and raise a 413 that says which."""

    def __init__(
        self,
        headers: Headers,
        stream: AsyncGenerator[bytes, None],
        max_memory: int | None,
        max_parts: int | None,
    ) -> None:
        super().__init__(
            headers, stream, max_files=_UNLIMITED, max_fields=_UNLIMITED, max_part_size=2**63
        )
        self._max_memory = max_memory
        self._max_parts = max_parts
        self._parts = 0

    def _text(self, raw: bytes | bytearray) -> str:
        return raw.decode(self._charset, "replace")

    def on_headers_finished(self) -> None:
        self._parts += 1
        if self._max_parts is not None and self._parts > self._max_parts:
            raise RequestEntityTooLarge(
                f"The form has more than {self._max_parts} parts; MAX_FORM_PARTS allows"
                f" {self._max_parts}."
            )
        super().on_headers_finished()
        # Starlette decoded these as Latin-1 if they were not valid text.
        part = self._current_part
        options = parse_options_header(part.content_disposition)[1]
        part.field_name = self._text(options[b"name"])
        if part.file is not None:
            part.file.filename = self._text(options[b"filename"])

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        part = self._current_part
        limit = self._max_memory
        if part.file is None and limit is not None and len(part.data) + end - start > limit:
            raise RequestEntityTooLarge(
                f"The form field {part.field_name!r} is over {limit} bytes;"
                f" MAX_FORM_MEMORY_SIZE allows {limit}."
            )
        super().on_part_data(data, start, end)

    def on_part_end(self) -> None:
        part = self._current_part
        if part.file is None:
            self.items.append((part.field_name, self._text(part.data)))
        else:
            super().on_part_end()


def _close_uploads(parser: MultiPartParser) -> None:
    item: Any
    for _, item in parser.items:
        if isinstance(item, UploadFile):
            item.file.close()
    # The file being written when the error struck is not in items yet.
    for file in getattr(parser, "_files_to_close_on_error", ()):
        file.close()
