"""Data structures with the API Flask users know from Werkzeug: ``MultiDict``
for query strings and forms, and ``Headers`` on top of Starlette's headers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any, NoReturn, TypeVar, overload

from starlette.datastructures import MutableHeaders

from .exceptions import BadRequestKeyError
from .http import dump_options_header

__all__ = [
    "Accept",
    "Authorization",
    "CharsetAccept",
    "CombinedMultiDict",
    "ETags",
    "Headers",
    "IfRange",
    "ImmutableMultiDict",
    "LanguageAccept",
    "MIMEAccept",
    "MultiDict",
    "Range",
    "UserAgent",
]

V = TypeVar("V")
T = TypeVar("T")

_missing: Any = object()

def _convert(value: Any, type: Callable[[Any], T] | None) -> T:
    return value if type is None else type(value)


class MultiDict(MutableMapping[str, V]):
    """A dict that keeps every value given for a key, in order.

    ``d[key]`` and :meth:`get` give the first value; :meth:`getlist` gives
    all. A missing key raises :class:`~flaskish.exceptions.BadRequestKeyError`,
    a :class:`KeyError` that becomes a *400* if a view lets it escape.

    :param mapping: a mapping (values may be lists), an iterable of
        ``(key, value)`` pairs, or another :class:`MultiDict`.
    """

    __slots__ = ("_lists",)

    def __init__(self, mapping: Any = None) -> None:
        self._lists: dict[str, list[V]] = {}
        if mapping is None:
            return
        if isinstance(mapping, MultiDict):
            self._lists = {key: list(values) for key, values in mapping._lists.items()}
        elif isinstance(mapping, Mapping):
            for key, value in mapping.items():
                if isinstance(value, (list, tuple)):
                    if value:
                        self._lists[key] = list(value)
                else:
                    self._lists[key] = [value]
        else:
            for key, value in mapping:
                self._lists.setdefault(key, []).append(value)

    @classmethod
    def _from_lists(cls, lists: dict[str, list[V]]) -> MultiDict[V]:
        new = cls.__new__(cls)
        new._lists = lists
        return new

    # -- reading ------------------------------------------------------------

    def __getitem__(self, key: str) -> V:
        values = self._lists.get(key)
        if not values:
            raise BadRequestKeyError(key)
        return values[0]

    @overload
    def get(self, key: str) -> V | None: ...
    @overload
    def get(self, key: str, default: V | T) -> V | T: ...
    @overload
    def get(self, key: str, default: Any = None, *, type: Callable[[Any], T]) -> T | Any: ...

    def get(
        self,
        key: str,
        default: Any = None,
        type: Callable[[Any], Any] | None = None,
    ) -> Any:
        """The first value for *key*, or *default*.

        :param type: converts the value (``type=int``); if it raises
            :class:`ValueError` or :class:`TypeError`, *default* is returned.
        """
        values = self._lists.get(key)
        if not values:
            return default
        if type is None:
            return values[0]
        try:
            return type(values[0])
        except (ValueError, TypeError):
            return default

    def getlist(self, key: str, type: Callable[[Any], T] | None = None) -> list[Any]:
        """Every value for *key* (an empty list if none). With *type*, values
        that fail to convert are left out."""
        values = self._lists.get(key, [])
        if type is None:
            return list(values)
        result = []
        for value in values:
            try:
                result.append(type(value))
            except (ValueError, TypeError):
                pass
        return result

    def __contains__(self, key: object) -> bool:
        return key in self._lists

    def __iter__(self) -> Iterator[str]:
        return iter(self._lists)

    def __len__(self) -> int:
        return len(self._lists)

    def items(self, multi: bool = False) -> Iterator[tuple[str, V]]:  # type: ignore[override]
        """``(key, first value)`` pairs; with ``multi=True`` one pair per value."""
        for key, values in self._lists.items():
            if multi:
                for value in values:
                    yield key, value
            else:
                yield key, values[0]

    def values(self) -> Iterator[V]:  # type: ignore[override]
        """The first value of each key."""
        for values in self._lists.values():
            yield values[0]

    def lists(self) -> Iterator[tuple[str, list[V]]]:
        """``(key, all values)`` pairs."""
        for key, values in self._lists.items():
            yield key, list(values)

    def listvalues(self) -> Iterator[list[V]]:
        """The list of values of each key."""
        for values in self._lists.values():
            yield list(values)

    def to_dict(self, flat: bool = True) -> dict[str, Any]:
        """A plain dict: first values, or lists of values with ``flat=False``."""
        if flat:
            return dict(self.items())
        return dict(self.lists())

    def copy(self) -> MultiDict[V]:
        """A mutable shallow copy."""
        return MultiDict(self)

    def __copy__(self) -> MultiDict[V]:
        return self.copy()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, MultiDict):
            return self._lists == other._lists
        if isinstance(other, Mapping):
            return dict(self.items()) == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self.items(multi=True))!r})"

    # -- writing --------------------------------------------------------------

    def __setitem__(self, key: str, value: V) -> None:
        self._lists[key] = [value]

    def __delitem__(self, key: str) -> None:
        del self._lists[key]

    def add(self, key: str, value: V) -> None:
        """Add a value for *key*, keeping the ones already there."""
        self._lists.setdefault(key, []).append(value)

    def setlist(self, key: str, new_list: Iterable[V]) -> None:
        """Replace every value of *key*."""
        values = list(new_list)
        if values:
            self._lists[key] = values
        else:
            self._lists.pop(key, None)

    def setdefault(self, key: str, default: V = None) -> V:  # type: ignore[assignment]
        """The first value of *key*; sets *default* first if the key is missing."""
        if key not in self._lists:
            self._lists[key] = [default]
        return self._lists[key][0]

    def setlistdefault(self, key: str, default_list: Iterable[V] | None = None) -> list[V]:
        """The list of values of *key*, set to *default_list* if missing."""
        if key not in self._lists:
            self._lists[key] = list(default_list or ())
        return self._lists[key]

    def update(self, other: Any = (), /, **kwargs: V) -> None:
        """Add the values of *other* (as :meth:`add` does, keeping existing ones)."""
        incoming: MultiDict[V] = MultiDict(other)
        for key, value in incoming.items(multi=True):
            self.add(key, value)
        for key, value in kwargs.items():
            self.add(key, value)

    def pop(self, key: str, default: Any = _missing) -> Any:
        """Remove *key* and return its first value."""
        values = self._lists.pop(key, None)
        if values:
            return values[0]
        if default is _missing:
            raise BadRequestKeyError(key)
        return default

    def poplist(self, key: str) -> list[V]:
        """Remove *key* and return all its values."""
        return self._lists.pop(key, [])

    def popitem(self) -> tuple[str, V]:
        key, values = self._lists.popitem()
        return key, values[0]

    def clear(self) -> None:
        self._lists.clear()


class ImmutableMultiDict(MultiDict[V]):
    """A :class:`MultiDict` that refuses changes (``request.args``, ``request.form``)."""

    __slots__ = ()

    def _immutable(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(f"'{type(self).__name__}' objects are immutable")

    __setitem__ = __delitem__ = add = setlist = update = _immutable
    pop = poplist = popitem = clear = setlistdefault = _immutable

    def setdefault(self, key: str, default: V = None) -> V:  # type: ignore[assignment]
        self._immutable()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self.items(multi=True)))


class CombinedMultiDict(ImmutableMultiDict[V]):
    """A read-only view over several multi-dicts, searched in order
    (``request.values`` over ``args`` and ``form``)."""

    __slots__ = ("dicts",)

    def __init__(self, dicts: Iterable[MultiDict[V]] | None = None) -> None:
        self.dicts = list(dicts or ())

    @property
    def _lists(self) -> dict[str, list[V]]:  # type: ignore[override]
        # Computed on each use: a live view of the wrapped dicts.
        merged: dict[str, list[V]] = {}
        for d in self.dicts:
            for key, values in d.lists():
                merged.setdefault(key, []).extend(values)
        return merged


class Headers(MutableHeaders):
    """Case-insensitive HTTP headers, with Werkzeug's methods on Starlette's
    :class:`~starlette.datastructures.MutableHeaders` (the raw list of
    byte pairs goes to the ASGI server as is).

    :param defaults: a mapping, an iterable of ``(name, value)`` pairs, or
        another headers object.

    Unlike Werkzeug, iterating gives names, as for a dict; use
    :meth:`items` for pairs. Names are stored lower-cased, as ASGI requires.
    """

    def __init__(
        self,
        defaults: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        *,
        raw: list[tuple[bytes, bytes]] | None = None,
        scope: MutableMapping[str, Any] | None = None,
    ) -> None:
        super().__init__(raw=raw, scope=scope)
        if defaults is not None:
            self.extend(defaults)

    @classmethod
    def _from_raw(cls, raw: list[tuple[bytes, bytes]]) -> Headers:
        """Headers over *raw* (lower-case names), without copying or checks."""
        headers = cls.__new__(cls)
        headers._list = raw
        return headers

    @staticmethod
    def _encode(key: str, value: Any) -> tuple[bytes, bytes]:
        text = value if isinstance(value, str) else str(value)
        if "\n" in text or "\r" in text or "\0" in text:
            raise ValueError(
                f"Header {key!r} has a newline or NUL character in its value; header values "
                "must be a single line."
            )
        return key.lower().encode("latin-1"), text.encode("latin-1")

    @staticmethod
    def _with_params(value: Any, params: Mapping[str, Any]) -> str:
        # Keyword arguments name the parameters: filename_star -> filename-star.
        options = {name.replace("_", "-"): param for name, param in params.items()}
        return dump_options_header(str(value), options)

    def pop(self, key: str, default: Any = _missing) -> Any:
        """Remove the header *key* and return its first value (*default*,
        or :class:`KeyError`, if absent)."""
        try:
            value = self[key]
        except KeyError:
            if default is _missing:
                raise
            return default
        del self[key]
        return value

    def clear(self) -> None:
        """Remove every header."""
        self._list.clear()

    def __setitem__(self, key: str, value: Any) -> None:
        name, encoded = self._encode(key, value)
        items = self._list
        first = next((i for i, (k, _) in enumerate(items) if k == name), None)
        if first is None:
            items.append((name, encoded))
            return
        items[first] = (name, encoded)
        items[first + 1 :] = [item for item in items[first + 1 :] if item[0] != name]

    def append(self, key: str, value: Any) -> None:
        """Add a header, keeping any others of the same name."""
        self._list.append(self._encode(key, value))

    def add(self, key: str, value: Any, **params: Any) -> None:
        """Add a header, keeping others of the same name. Keyword arguments
        become parameters: ``add("Content-Disposition", "attachment", filename="a.txt")``."""
        self.append(key, self._with_params(value, params) if params else value)

    def set(self, key: str, value: Any, **params: Any) -> None:
        """Set a header, replacing others of the same name."""
        self[key] = self._with_params(value, params) if params else value

    def setdefault(self, key: str, value: Any) -> str:
        if key in self:
            return self[key]
        self.append(key, value)
        return str(value)

    def extend(self, other: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Add every header of *other*, keeping the existing ones."""
        pairs = other.items() if isinstance(other, Mapping) else other
        for key, value in pairs:
            if isinstance(value, (list, tuple)) and isinstance(other, Mapping):
                for item in value:
                    self.append(key, item)
            else:
                self.append(key, value)

    def update(
        self, other: Mapping[str, Any] | Iterable[tuple[str, Any]] = (), /, **kwargs: Any
    ) -> None:
        """Replace the headers named in *other* with its values (all of them,
        when *other* gives a name several times)."""
        incoming = Headers(other)
        incoming.extend(kwargs)
        names = {key for key, _ in incoming._list}
        self._list[:] = [item for item in self._list if item[0] not in names]
        self._list.extend(incoming._list)

    @overload
    def get(self, key: str) -> str | None: ...
    @overload
    def get(self, key: str, default: T) -> str | T: ...
    @overload
    def get(self, key: str, default: Any = None, *, type: Callable[[str], T]) -> T | Any: ...

    def get(
        self, key: str, default: Any = None, type: Callable[[str], Any] | None = None
    ) -> Any:
        """The first value of *key*, or *default*; with *type*, converted
        (*default* if the conversion raises ``ValueError``)."""
        try:
            value = self[key]
        except KeyError:
            return default
        if type is None:
            return value
        try:
            return type(value)
        except ValueError:
            return default

    def getlist(self, key: str, type: Callable[[str], Any] | None = None) -> list[Any]:
        """Every value of *key*; with *type*, those that convert."""
        values = super().getlist(key)
        if type is None:
            return values
        result = []
        for value in values:
            try:
                result.append(type(value))
            except ValueError:
                pass
        return result

    def remove(self, key: str) -> None:
        """Remove every header named *key* (no error if there is none)."""
        del self[key]

    def copy(self) -> Headers:
        """A copy that can be changed independently."""
        return Headers(raw=list(self._list))

    def to_wsgi_list(self) -> list[tuple[str, str]]:
        """The headers as ``(name, value)`` string pairs."""
        return self.items()


# Header types that Flask code imports from werkzeug.datastructures.
from .accept import Accept, CharsetAccept, LanguageAccept, MIMEAccept  # noqa: E402
from .conditional import ETags, IfRange, Range  # noqa: E402
from .http import Authorization, UserAgent  # noqa: E402


def __getattr__(name: str) -> Any:
    if name == "FileStorage":  # flaskish.files imports this module
        from .files import FileStorage

        return FileStorage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
