"""``Accept``-family headers: ``request.accept_mimetypes``,
``accept_charsets``, ``accept_encodings``, ``accept_languages``, with the
names and behaviour of Werkzeug's classes (``best_match``, ``quality``...).
Parsing never raises: malformed entries are dropped."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar, overload

from .http import (
    _charset_key,
    dump_options_header,
    parse_list_header,
    parse_options_header,
)

__all__ = [
    "Accept",
    "CharsetAccept",
    "LanguageAccept",
    "MIMEAccept",
    "parse_accept_header",
]

_A = TypeVar("_A", bound="Accept")

# Where a media type splits into type, subtype and parameters.
_mime_split_re = re.compile(r"/|\s*;\s*")
_q_value_re = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_language_split_re = re.compile(r"[_-]")


# -- Accept-* -------------------------------------------------------------------


class Accept:
    """A parsed ``Accept-*`` header: a read-only sequence of ``(value, quality)``
    pairs, most specific first, then best quality first. As Werkzeug's ``Accept``.

    ``accept["gzip"]`` and :meth:`quality` give a value's quality (``0`` if
    not accepted); ``"gzip" in accept`` tells whether it is listed at all.

    :param values: ``(value, quality)`` pairs; ``None`` when the client sent
        no header (:attr:`provided` is then false).
    """

    def __init__(self, values: Iterable[tuple[str, float]] | None = ()) -> None:
        if values is None:
            #: Whether the client sent the header.
            self.provided = False
            items: list[tuple[str, float]] = []
        elif isinstance(values, Accept):
            self.provided = values.provided
            items = list(values)
        else:
            self.provided = True
            # A stable sort: equal entries keep the client's order.
            items = sorted(
                values, key=lambda item: (self._specificity(item[0]), item[1]), reverse=True
            )
        self._items = tuple(items)

    def _specificity(self, value: str) -> tuple[bool, ...]:
        return (value != "*",)

    def _value_matches(self, value: str, item: str) -> bool:
        """Whether the app's *value* is covered by the client's *item*."""
        return item == "*" or item.lower() == value.lower()

    @overload
    def __getitem__(self, key: int) -> tuple[str, float]: ...
    @overload
    def __getitem__(self, key: slice) -> list[tuple[str, float]]: ...
    @overload
    def __getitem__(self, key: str) -> float: ...

    def __getitem__(
        self, key: int | slice | str
    ) -> tuple[str, float] | list[tuple[str, float]] | float:
        if isinstance(key, str):
            return self.quality(key)
        if isinstance(key, slice):
            return list(self._items[key])
        return self._items[key]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[tuple[str, float]]:
        return iter(self._items)

    # Not a collections.abc.Sequence on purpose: for a Sequence of pairs,
    # mypy --strict would reject ``"gzip" in accept`` in the user's code.
    def __contains__(self, value: str | tuple[str, float]) -> bool:
        if isinstance(value, str):
            return self._accepts(value)
        return value in self._items

    def _accepts(self, value: str) -> bool:
        """Whether an entry matches *value*, whatever its quality."""
        return any(self._value_matches(value, item) for item, _ in self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Accept, list, tuple)):
            return list(self._items) == list(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._items)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self._items)!r})"

    def __str__(self) -> str:
        return self.to_header()

    def quality(self, key: str) -> float:
        """The quality of *key*, from the most specific entry matching it; ``0`` if none.

        :param key: a value the app can offer, e.g. ``"text/html"``.
        """
        for item, quality in self._items:
            if self._value_matches(key, item):
                return quality
        return 0

    def index(self, key: Any, start: int = 0, stop: int | None = None) -> int:
        """The position of the first entry matching *key* (a value or a pair).

        :raises ValueError: if no entry matches.
        """
        if not isinstance(key, str):
            return self._items.index(key, start, len(self) if stop is None else stop)
        for position, (item, _) in enumerate(self._items):
            if self._value_matches(key, item):
                return position
        raise ValueError(f"{key!r} is not in the {type(self).__name__} header.")

    def find(self, key: Any) -> int:
        """Like :meth:`index`, but ``-1`` if nothing matches.

        :param key: a value or a ``(value, quality)`` pair.
        """
        try:
            return self.index(key)
        except ValueError:
            return -1

    def values(self) -> Iterator[str]:
        """The values, without their qualities, in order."""
        for item, _ in self._items:
            yield item

    def to_header(self) -> str:
        """The header value: ``"text/html,*/*;q=0.8"``."""
        return ",".join(
            item if quality == 1 else f"{item};q={quality}" for item, quality in self._items
        )

    def _best_single_match(self, match: str) -> tuple[str, float] | None:
        for item, quality in self._items:
            if self._value_matches(match, item):
                return item, quality
        return None

    def best_match(self, matches: Iterable[str], default: str | None = None) -> str | None:
        """Of the values the app can offer, the one the client prefers.

        Higher quality wins; at equal quality the one matched by a more
        specific entry wins, then the earlier one in *matches*.

        :param matches: the values the app can offer, in its order of preference.
        :param default: returned when the client accepts none of them.
        """
        result = default
        best_quality: float = -1
        best_specificity: tuple[bool, ...] = ()
        for offered in matches:
            match = self._best_single_match(offered)
            if match is None or match[1] <= 0:
                continue
            item, quality = match
            specificity = self._specificity(item)
            if quality > best_quality or (
                quality == best_quality and specificity > best_specificity
            ):
                result, best_quality, best_specificity = offered, quality, specificity
        return result

    @property
    def best(self) -> str | None:
        """The client's first choice, ``None`` if the header was empty or absent."""
        return self._items[0][0] if self._items else None


def _split_mime(value: str) -> tuple[str, str, list[str]]:
    parts = _mime_split_re.split(value.lower())
    return parts[0], parts[1] if len(parts) > 1 else "", sorted(parts[2:])


class MIMEAccept(Accept):
    """``request.accept_mimetypes``: an :class:`Accept` for media types, with
    ``*/*`` and ``text/*`` wildcards and :attr:`accept_json` / :attr:`accept_html`."""

    def _specificity(self, value: str) -> tuple[bool, ...]:
        return tuple(part != "*" for part in _mime_split_re.split(value))

    def _value_matches(self, value: str, item: str) -> bool:
        if "/" not in item:  # the client's entry is not a media type
            return False
        if "/" not in value:
            raise ValueError(
                f"{value!r} is not a media type. Write it as 'type/subtype', "
                "e.g. 'application/json'."
            )
        value_type, value_subtype, value_params = _split_mime(value)
        if value_type == "*" and value_subtype != "*":
            raise ValueError(
                f"{value!r} is not a valid media type: only '*/*' may start with '*'."
            )
        item_type, item_subtype, item_params = _split_mime(item)
        if item_type == "*":
            return item_subtype == "*"  # "*/html" from the client matches nothing
        if value_type == "*":
            return True
        if item_type != value_type:
            return False
        return (
            item_subtype == "*"
            or value_subtype == "*"
            or (item_subtype == value_subtype and item_params == value_params)
        )

    @property
    def accept_html(self) -> bool:
        """Whether the client accepts HTML (or XHTML)."""
        return self._accepts("text/html") or self.accept_xhtml

    @property
    def accept_xhtml(self) -> bool:
        """Whether the client accepts XHTML (or XML)."""
        return self._accepts("application/xhtml+xml") or self._accepts("application/xml")

    @property
    def accept_json(self) -> bool:
        """Whether the client accepts JSON (``*/*`` counts)."""
        return self._accepts("application/json")


class CharsetAccept(Accept):
    """``request.accept_charsets``: an :class:`Accept` where aliases of an
    encoding match each other (``utf8`` and ``UTF-8``, ``latin1`` and ``ISO-8859-1``)."""

    def _value_matches(self, value: str, item: str) -> bool:
        return item == "*" or _charset_key(value) == _charset_key(item)


class LanguageAccept(Accept):
    """``request.accept_languages``: an :class:`Accept` where ``en-US`` and
    ``en_us`` match, and :meth:`best_match` falls back to primary tags."""

    def _value_matches(self, value: str, item: str) -> bool:
        return item == "*" or (
            _language_split_re.split(value.lower()) == _language_split_re.split(item.lower())
        )

    def best_match(self, matches: Iterable[str], default: str | None = None) -> str | None:
        """As :meth:`Accept.best_match`, then, if nothing matched: the client's
        ``en-US`` accepts the app's ``en``; then the client's ``en`` accepts
        the app's ``en-GB``.

        :param matches: the language tags the app can offer.
        :param default: returned when none is acceptable.
        """
        offered = list(matches)
        result = super().best_match(offered)
        if result is not None:
            return result
        primary = Accept(
            [(_language_split_re.split(item, maxsplit=1)[0], q) for item, q in self._items]
        )
        result = primary.best_match(offered)
        if result is not None:
            return result
        prefixes = [_language_split_re.split(item, maxsplit=1)[0] for item in offered]
        result = super().best_match(prefixes)
        if result is not None:
            return offered[prefixes.index(result)]
        return default


@overload
def parse_accept_header(value: str | None) -> Accept: ...
@overload
def parse_accept_header(value: str | None, cls: type[_A]) -> _A: ...


def parse_accept_header(value: str | None, cls: type[Accept] | None = None) -> Accept:
    """An ``Accept-*`` header as an :class:`Accept` (or *cls*).

    Entries with an invalid quality (not a number from 0 to 1) are left out.

    :param value: the header value; ``None`` or ``""`` gives an empty result
        whose ``provided`` is false.
    :param cls: the class to return, e.g. :class:`MIMEAccept`.
    """
    result_cls = Accept if cls is None else cls
    if not value:
        return result_cls(None)
    entries: list[tuple[str, float]] = []
    for item in parse_list_header(value):
        name, options = parse_options_header(item)
        quality = 1.0
        if "q" in options:
            text = options.pop("q").strip()
            if not _q_value_re.fullmatch(text) or not 0 <= (quality := float(text)) <= 1:
                continue
        entries.append((dump_options_header(name, options) if options else name, quality))
    return result_cls(entries)
