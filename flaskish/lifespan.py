"""Running the app's serving hooks at startup and shutdown:
``before_serving``, ``after_serving`` and ``while_serving`` functions,
``def`` or ``async def``. ``Flask`` runs them, in an app context, when the
server's lifespan starts and ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .concurrency import await_, call

if TYPE_CHECKING:
    from .app import Flask

__all__ = ["start_serving", "stop_serving"]


async def start_serving(app: Flask, running: list[Any]) -> None:
    """Call the ``before_serving`` functions, then run each ``while_serving``
    generator to its ``yield``, adding it to *running*. A pipeline
    coroutine: run it with :func:`flaskish.concurrency.drive`.

    :param app: the app being served.
    :param running: receives the generators started, for :func:`stop_serving`.
    """
    for func in app.before_serving_funcs:
        await call(func)
    for gen_func in app.while_serving_gens:
        generator = gen_func()  # creating a generator runs none of its code
        if await _advance(generator):
            raise RuntimeError(f"while_serving function {gen_func.__name__} did not yield.")
        running.append(generator)


async def stop_serving(app: Flask, running: list[Any]) -> None:
    """Call the ``after_serving`` functions, then finish the generators
    :func:`start_serving` started, last first.

    :param app: the app being served.
    :param running: the generators :func:`start_serving` started.
    """
    for func in app.after_serving_funcs:
        await call(func)
    for generator in reversed(running):
        if not await _advance(generator):
            raise RuntimeError("A while_serving function yielded more than once.")


async def _advance(generator: Any) -> bool:
    """Step a sync or async generator once; whether it is finished."""
    if hasattr(generator, "__anext__"):
        return bool(await await_(_anext_finished, generator))
    return bool(await call(_next_finished, generator))


_FINISHED: Any = object()


def _next_finished(generator: Any) -> bool:
    return next(generator, _FINISHED) is _FINISHED


async def _anext_finished(generator: Any) -> bool:
    try:
        await generator.__anext__()
    except StopAsyncIteration:
        return True
    return False
