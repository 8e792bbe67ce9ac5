"""Run a test with ``def`` and with ``async def`` callables.

``@both_kinds`` parametrizes a test with ``kind`` = ``"def"`` / ``"async def"``;
``as_kind(kind, func)`` gives *func* itself, or an ``async def`` function with
the same name running *func*'s body on the event loop.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

F = TypeVar("F", bound=Callable[..., Any])

#: Run a test once with ``def`` callables and once with ``async def`` ones.
both_kinds = pytest.mark.parametrize("kind", ["def", "async def"])


def as_kind(kind: str, func: F) -> F:
    """*func* itself for ``"def"``; for ``"async def"``, an ``async def``
    function with the same name that runs *func*'s body on the event loop."""
    if kind == "def":
        return func

    @functools.wraps(func)
    async def async_version(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return async_version  # type: ignore[return-value]
