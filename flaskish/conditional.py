"""Conditional and partial requests: ``ETag`` / ``If-None-Match`` /
``If-Match`` (:class:`ETags`), ``Range`` (:class:`Range`) and ``If-Range``
(:class:`IfRange`), as Werkzeug names them. Parsing never raises: a
malformed header gives ``None`` or an empty value."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from email.utils import formatdate

from .http import parse_date

__all__ = [
    "ETags",
    "IfRange",
    "Range",
    "parse_etags",
    "parse_if_range_header",
    "parse_range_header",
    "quote_etag",
    "unquote_etag",
]

# A plain (ASCII, optionally negative) integer; int() alone would also
# accept "+5", " 5", "5_000" and non-ASCII digits.
_plain_int_re = re.compile(r"-?[0-9]+")


# -- Range ----------------------------------------------------------------------


class Range:
    """A parsed ``Range`` header (``request.range``).

    :param units: the unit, usually ``"bytes"``.
    :param ranges: ``(start, stop)`` pairs, *stop* exclusive; ``(500, None)``
        means "from byte 500 on" and ``(-500, None)`` "the last 500 bytes".
    :raises ValueError: if a pair is not a valid range.
    """

    def __init__(self, units: str, ranges: Sequence[tuple[int, int | None]]) -> None:
        for start, stop in ranges:
            if stop is not None and not 0 <= start < stop:
                raise ValueError(
                    f"{(start, stop)} is not a valid range: write (start, stop) with "
                    "0 <= start < stop, (start, None) or (-length, None)."
                )
        self.units = units
        self.ranges = list(ranges)

    def range_for_length(self, length: int | None) -> tuple[int, int] | None:
        """For a *length*-byte body, the ``(start, stop)`` to send, or ``None``
        when the range does not apply: other units, several ranges, or a start
        past the end (a 416). A suffix longer than the body means all of it.

        :param length: the body's length in bytes.
        """
        if self.units != "bytes" or length is None or len(self.ranges) != 1:
            return None
        start, stop = self.ranges[0]
        if stop is None:
            stop = length
            if start < 0:
                start = max(0, length + start)
        stop = min(stop, length)
        if not 0 <= start < stop:
            return None
        return start, stop

    def to_content_range_header(self, length: int | None) -> str | None:
        """The ``Content-Range`` value for a *length*-byte body, ``None`` if
        :meth:`range_for_length` is ``None``.

        :param length: the body's length in bytes.
        """
        span = self.range_for_length(length)
        if span is None:
            return None
        return f"{self.units} {span[0]}-{span[1] - 1}/{length}"

    def to_header(self) -> str:
        """The header value: ``"bytes=0-499,1000-"``."""
        parts = []
        for start, stop in self.ranges:
            if stop is None:
                parts.append(f"{start}-" if start >= 0 else str(start))
            else:
                parts.append(f"{start}-{stop - 1}")
        return f"{self.units}={','.join(parts)}"

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()!r}>"


def _plain_int(text: str) -> int:
    text = text.strip()
    if not _plain_int_re.fullmatch(text):
        raise ValueError(f"{text!r} is not an integer.")
    return int(text)  # may also raise ValueError past Python's digit limit


def parse_range_header(value: str | None) -> Range | None:
    """A ``Range`` header as a :class:`Range`; ``None`` if absent or malformed.

    Ranges must come in increasing order without overlapping, and nothing
    may follow an open (``500-``) or suffix (``-500``) range, as in Werkzeug.

    :param value: the header value, e.g. ``"bytes=0-499"``.
    """
    if not value or "=" not in value:
        return None
    units, _, spec = value.partition("=")
    ranges: list[tuple[int, int | None]] = []
    last_stop = 0  # -1 once an open or suffix range was seen
    try:
        for item in spec.split(","):
            first, dash, last = item.strip().partition("-")
            if not dash or last_stop < 0:
                return None
            if not first.strip():  # "-500": the last 500 bytes
                start, stop = _plain_int(item), None
                if start >= 0:
                    return None
            else:
                start = _plain_int(first)
                stop = _plain_int(last) + 1 if last.strip() else None
                if start < last_stop or (stop is not None and start >= stop):
                    return None
            ranges.append((start, stop))
            last_stop = -1 if stop is None else stop
    except ValueError:
        return None
    return Range(units.strip().lower(), ranges)


# -- ETags ----------------------------------------------------------------------


def quote_etag(etag: str, weak: bool = False) -> str:
    """*etag* in header form: ``"abc"``, or ``W/"abc"`` if *weak*.

    :raises ValueError: if the tag contains a double quote.
    """
    if '"' in etag:
        raise ValueError(f"The ETag {etag!r} contains a double quote; remove it.")
    return f'W/"{etag}"' if weak else f'"{etag}"'


def unquote_etag(etag: str | None) -> tuple[str | None, bool]:
    """``(tag, is_weak)`` from a header form like ``W/"abc"``.

    :param etag: the quoted tag, or ``None``.
    """
    if not etag:
        return None, False
    etag = etag.strip()
    weak = etag[:2] in ("W/", "w/")
    if weak:
        etag = etag[2:]
    if len(etag) >= 2 and etag[0] == etag[-1] == '"':
        etag = etag[1:-1]
    return etag, weak


class ETags:
    """The tags of an ``If-Match`` / ``If-None-Match`` header (``request.if_none_match``).

    ``etag in etags`` and :meth:`contains` check strong tags (``*`` matches
    everything); :meth:`contains_weak` also checks weak ones.

    :param strong_etags: the strong tags, unquoted.
    :param weak_etags: the weak tags, unquoted.
    :param star_tag: whether the header was ``*``.
    """

    def __init__(
        self,
        strong_etags: Iterable[str] | None = None,
        weak_etags: Iterable[str] | None = None,
        star_tag: bool = False,
    ) -> None:
        self._strong = frozenset(() if star_tag else strong_etags or ())
        self._weak = frozenset(weak_etags or ())
        self.star_tag = star_tag

    def as_set(self, include_weak: bool = False) -> set[str]:
        """The tags as a set.

        :param include_weak: add the weak tags too.
        """
        return set(self._strong | self._weak) if include_weak else set(self._strong)

    def is_weak(self, etag: str) -> bool:
        """Whether *etag* is listed as a weak tag."""
        return etag in self._weak

    def is_strong(self, etag: str) -> bool:
        """Whether *etag* is listed as a strong tag."""
        return etag in self._strong

    def contains(self, etag: str) -> bool:
        """Whether *etag* matches a strong tag, or the header was ``*``."""
        return self.star_tag or etag in self._strong

    def contains_weak(self, etag: str) -> bool:
        """Whether *etag* matches a strong or a weak tag."""
        return self.is_weak(etag) or self.contains(etag)

    def contains_raw(self, etag: str) -> bool:
        """:meth:`contains` (or :meth:`contains_weak` for ``W/`` tags) for a
        tag in header form.

        :param etag: a quoted tag, e.g. ``'W/"abc"'``.
        """
        tag, weak = unquote_etag(etag)
        if tag is None:
            return False
        return self.contains_weak(tag) if weak else self.contains(tag)

    def __call__(
        self, etag: str | None = None, data: bytes | None = None, include_weak: bool = False
    ) -> bool:
        """Whether *etag* (or the SHA-1 tag of *data*) is listed.

        :param include_weak: check weak tags too.
        """
        if etag is None:
            if data is None:
                raise TypeError("Pass either etag= or data= to check an ETag.")
            etag = hashlib.sha1(data, usedforsecurity=False).hexdigest()
        return (include_weak and etag in self._weak) or etag in self._strong

    def to_header(self) -> str:
        """The header value."""
        if self.star_tag:
            return "*"
        strong = [quote_etag(tag) for tag in sorted(self._strong)]
        return ", ".join(strong + [quote_etag(tag, True) for tag in sorted(self._weak)])

    def __bool__(self) -> bool:
        return bool(self.star_tag or self._strong or self._weak)

    def __len__(self) -> int:
        return len(self._strong)

    def __iter__(self) -> Iterator[str]:
        return iter(self._strong)

    def __contains__(self, etag: object) -> bool:
        return isinstance(etag, str) and self.contains(etag)

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()!r}>"


def parse_etags(value: str | None) -> ETags:
    """An ``If-Match`` / ``If-None-Match`` header as :class:`ETags` (empty if
    absent; parsing stops at the first malformed entry).

    :param value: the header value, e.g. ``'"a", W/"b"'`` or ``"*"``.
    """
    if not value or not value.strip():
        return ETags()
    if value.strip() == "*":
        return ETags(star_tag=True)
    strong: list[str] = []
    weak: list[str] = []
    position, end = 0, len(value)
    while position < end:
        while position < end and value[position] in " \t":
            position += 1
        is_weak = value.startswith(("W/", "w/"), position)
        if is_weak:
            position += 2
        if value.startswith('"', position):
            close = value.find('"', position + 1)
            if close < 0:
                break  # unterminated
            tag = value[position + 1 : close]
            position = close + 1
        else:
            comma = value.find(",", position)
            close = end if comma < 0 else comma
            tag = value[position:close].strip()
            position = close
        while position < end and value[position] in " \t":
            position += 1
        if position < end and value[position] != ",":
            break  # garbage after a tag
        position += 1
        if tag:
            (weak if is_weak else strong).append(tag)
    return ETags(strong, weak)


class IfRange:
    """An ``If-Range`` header (``request.if_range``): an entity tag or a date.
    Send the range only if it still matches; a weak tag never does (RFC 9110).

    :param etag: the tag, unquoted.
    :param date: the date, aware UTC.
    :param weak: whether the tag was weak (``W/"..."``); not in Werkzeug.
    """

    def __init__(
        self, etag: str | None = None, date: datetime | None = None, weak: bool = False
    ) -> None:
        self.etag = etag
        self.date = date
        self.weak = weak

    def to_header(self) -> str:
        """The header value (``""`` if empty)."""
        if self.date is not None:
            return formatdate(self.date.timestamp(), usegmt=True)
        if self.etag is not None:
            return quote_etag(self.etag, self.weak)
        return ""

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()!r}>"


def parse_if_range_header(value: str | None) -> IfRange:
    """An ``If-Range`` header: a date if it parses as one, else an entity tag.

    :param value: the header value; ``None`` gives an empty :class:`IfRange`.
    """
    if not value:
        return IfRange()
    date = parse_date(value)
    if date is not None:
        return IfRange(date=date)
    etag, weak = unquote_etag(value)
    return IfRange(etag, weak=weak)
