"""What a dual-mode call gives async code: work that happens when awaited.

In a ``def`` view, ``f.save(path)`` saves. In an ``async def`` view the same
call returns a :class:`MustAwait`: ``await f.save(path)`` does the work (on
a worker thread). Without ``await`` nothing would happen, silently, so a
:class:`MustAwait` is never silent:

* used as a value (``len(f.read())``, ``resp.headers`` of an un-awaited
  ``send_file``), it raises an error that says what to write;
* left alone in a request, the request fails once the view returns, with
  that error (a 500, in the log and on the debug page): nothing is lost
  without a word;
* left alone outside a request, it warns when it is dropped.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Awaitable, Callable, Generator
from typing import Any

from .globals import _cv_request

__all__ = ["DONE", "Done", "MustAwait", "raise_unawaited"]


class MustAwait:
    """An awaitable for work that only happens when it is awaited.

    :param call: the call as the user wrote it (``"FileStorage.save()"``).
    :param hint: what to write instead (``"await file.save(path)"``).
    :param start: makes the coroutine that does the work (called when
        awaited, so an un-awaited one leaves no coroutine behind).
    """

    __slots__ = ("_awaited", "_call", "_hint", "_start")

    def __init__(self, call: str, hint: str, start: Callable[[], Awaitable[Any]]) -> None:
        self._call = call
        self._hint = hint
        self._start = start
        self._awaited = False
        ctx = _cv_request.get(None)
        if ctx is not None:
            if ctx._must_await is None:
                ctx._must_await = []
            ctx._must_await.append(self)

    def __await__(self) -> Generator[Any, None, Any]:
        if self._awaited:
            raise RuntimeError(f"{self._call} was awaited twice; call it again instead.")
        self._awaited = True
        return self._start().__await__()

    def message(self) -> str:
        """The error for a misuse: what was called, and what to write."""
        return (
            f"{self._call} was called in async code without await, and does nothing until "
            f"it is awaited. Write `{self._hint}`."
        )

    def _misuse(self, *args: Any, **kwargs: Any) -> Any:
        self._awaited = True  # reported: no second word when it is dropped
        raise RuntimeError(self.message())

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # a protocol probe (getattr(x, "__foo__", None))
            raise AttributeError(name)
        return self._misuse()

    __getitem__ = __iter__ = __contains__ = __len__ = __bool__ = _misuse
    __bytes__ = __str__ = __call__ = __eq__ = _misuse
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<MustAwait {self._call}: write `{self._hint}`>"

    def __del__(self) -> None:
        if not self._awaited and _cv_request.get(None) is None and not sys.is_finalizing():
            warnings.warn(self.message(), RuntimeWarning, stacklevel=1)


class Done:
    """What a dual action (``file.save()``, ``websocket.send()``,
    ``flash()``...) returns where its work is already done: in ``def``
    code, or when nothing is left to run. Ignore it, as Flask code does, or
    ``await`` it, which does nothing more. Such actions are typed
    ``Awaitable[None]``, which this and the :class:`MustAwait` that async
    code gets both are, so mypy accepts both spellings."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, None]:
        yield from ()

    def __repr__(self) -> str:
        return "<Done>"


#: The one :class:`Done`.
DONE = Done()


def raise_unawaited(pending: list[MustAwait]) -> None:
    """Raise the error of the first of *pending* never awaited (at the end
    of a view); forget them all."""
    left = [item for item in pending if not item._awaited]
    pending.clear()
    for item in left:
        item._awaited = True  # reported here; no warning when it is dropped
    if left:
        raise RuntimeError(left[0].message())
