"""What the request body's attributes are: values that are ready and may
also be awaited (``request.form`` loaded is a :class:`FormDict`, and
``await request.form`` gives it too), and :class:`Pending`, what an
``async def`` view gets before the body is loaded (only ``await`` works;
anything else says to write it). :mod:`flaskish.body` makes them.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Generator
from typing import Any

from werkzeug.datastructures import CombinedMultiDict, ImmutableMultiDict

from .concurrency import AwaitableSelf

__all__ = [
    "BodyBytes",
    "BodyText",
    "CombinedFormDict",
    "FormDict",
    "JSONArray",
    "JSONObject",
    "Pending",
    "Ready",
]


# Werkzeug's ImmutableMultiDict itself mixes dict signatures mypy finds
# incompatible; subclassing it at all reports them.
class FormDict(AwaitableSelf, ImmutableMultiDict[str, Any]):  # type: ignore[misc]
    """``request.form`` / ``request.files`` / ``request.values``: an immutable
    multi-dict that can also be awaited."""

    __slots__ = ()


class CombinedFormDict(AwaitableSelf, CombinedMultiDict[str, Any]):  # type: ignore[misc]
    """``request.values``: ``args`` then ``form``, awaitable."""

    __slots__ = ()


class BodyBytes(AwaitableSelf, bytes):
    """``request.data`` / ``get_data()``: bytes that can also be awaited."""

    __slots__ = ()


class BodyText(AwaitableSelf, str):
    """``get_data(as_text=True)``: text that can also be awaited."""

    __slots__ = ()


class JSONObject(AwaitableSelf, dict[str, Any]):
    """A JSON object body (a ``dict``) that can also be awaited."""

    __slots__ = ()


class JSONArray(AwaitableSelf, list[Any]):
    """A JSON array body (a ``list``) that can also be awaited."""

    __slots__ = ()


class Ready:
    """A loaded value that cannot carry ``__await__`` itself (a JSON number,
    string or ``null``): ``await`` gives the value, :attr:`value` too."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, Any]:
        yield from ()
        return self.value

    def __repr__(self) -> str:
        return f"<Ready {self.value!r}>"


class Pending:
    """The body is not loaded and we are on the event loop: the only valid
    use is ``await``. Anything else raises an error that says so."""

    __slots__ = ("_hint", "_load", "_name")

    def __init__(self, name: str, load: Callable[[], Coroutine[Any, Any, Any]], hint: str) -> None:
        self._name = name
        self._load = load
        self._hint = hint

    def __await__(self) -> Generator[Any, None, Any]:
        return self._load().__await__()

    def _misuse(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            f"request.{self._name} is not loaded yet, and this async view cannot wait for the "
            f"body without `await`. Write `{self._hint}`."
        )

    __getattr__ = __getitem__ = __iter__ = __contains__ = __len__ = __bool__ = _misuse
    __eq__ = __call__ = _misuse
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Pending request.{self._name}: write `{self._hint}`>"


def _wrap_json(value: Any) -> Any:
    if isinstance(value, dict):
        return JSONObject(value)
    if isinstance(value, list):
        return JSONArray(value)
    return value
