"""A client that goes away: how streams learn it, and end.

A streamed response, an event stream and the shutdown watch all take a
:data:`Gone`: ``gone(False)`` says whether the client has left, now;
``gone(True)`` waits until it does. The request's body reader provides one
(:meth:`flaskish.body.RequestBody._poll_disconnect`, which keeps any body it
reads), :func:`receive_gone` one for a bare ASGI channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio

if TYPE_CHECKING:
    from starlette.types import Receive, Send

__all__ = ["Gone", "cancel_when_gone", "raise_alone", "receive_gone", "send_unless_gone"]

#: ``gone(wait)``: whether the client went away, now (``wait=False``) or,
#: waiting until it does, ``True`` (``wait=True``).
Gone = Callable[[bool], Awaitable[bool]]


async def cancel_when_gone(gone: Gone, scope: anyio.CancelScope) -> None:
    """Cancel *scope* once the client has gone (what a stream runs in gets
    ``CancelledError`` where it awaits)."""
    await gone(True)
    scope.cancel()


async def send_unless_gone(send: Send, chunk: bytes, gone: Gone | None) -> bool:
    """Send one chunk of a streamed body, unless the client has gone
    (then ``False``: the stream ends)."""
    if gone is not None and await gone(False):
        return False
    await send({"type": "http.response.body", "more_body": True, "body": chunk})
    return True


def receive_gone(receive: Receive) -> Gone:
    """A :data:`Gone` for a bare ASGI channel (no request body to keep)."""
    seen = False

    async def gone(wait: bool) -> bool:
        nonlocal seen
        while not seen:
            message: Any = None
            if wait:
                message = await receive()
            else:
                with anyio.move_on_after(0):
                    message = await receive()
                if message is None:
                    return False
            seen = message["type"] == "http.disconnect"
            if not wait:
                break
        return seen

    return gone


def raise_alone(group: BaseExceptionGroup[Any]) -> None:
    """Raise the one error of a streaming task group (the generator's, as a
    sync generator's is raised: the watchers raise none) as itself, not
    wrapped in the group; return if there are several."""
    if len(group.exceptions) != 1:
        return
    error = group.exceptions[0]
    try:
        raise error from error.__cause__
    finally:
        del error, group  # their tracebacks hold this frame
