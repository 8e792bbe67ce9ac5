"""The chat room: the connections that are open, and how to reach them all.

Both handlers share one room per app, so a browser on the ``async def``
page and one on the ``def`` page chat together. The ``async def`` handler
joins and broadcasts on the event loop; the ``def`` handler does it from
its worker thread. The set of members is therefore guarded by a
``threading.Lock`` (held only to copy or change the set, never while
sending), and each side fans out in its own way:

* :meth:`Room.broadcast` (``await`` it) sends to every member at once in an
  ``anyio`` task group;
* :meth:`Room.broadcast_blocking` (call it from a ``def`` handler) sends
  from one short-lived thread per member: ``websocket.send`` may be called
  from any thread.

Either way a member whose send fails (the client left) or takes longer
than ``send_timeout`` seconds (the client stopped reading) is dropped and
closed, and the others get the message all the same.

The room lives in one process: under several uvicorn workers each worker
has its own room.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import anyio

from flaskish.exceptions import WebSocketDisconnect
from flaskish.websocket import Websocket

__all__ = ["Room"]

#: How a member dropped for being too slow is closed (1013: try again later).
TOO_SLOW = (1013, "Too slow to keep up with the room.")


class Room:
    """The open connections of one app.

    :param send_timeout: seconds a member has to take one message before it
        is dropped.
    """

    def __init__(self, send_timeout: float = 5.0) -> None:
        self.send_timeout = send_timeout
        self._lock = threading.Lock()
        self._members: set[Websocket] = set()

    def join(self, websocket: Websocket) -> None:
        """Add *websocket* (the connection itself, not the ``websocket``
        proxy: ``websocket._get_current_object()``)."""
        with self._lock:
            self._members.add(websocket)

    def leave(self, websocket: Websocket) -> bool:
        """Remove *websocket*; whether it was a member."""
        with self._lock:
            if websocket not in self._members:
                return False
            self._members.remove(websocket)
            return True

    def members(self) -> list[Websocket]:
        """A copy of the members, to send to without holding the lock."""
        with self._lock:
            return list(self._members)

    # -- from async def code ----------------------------------------------

    async def broadcast(self, message: dict[str, Any]) -> None:
        """Send *message* (as JSON) to every member, all at once."""
        async with anyio.create_task_group() as tg:
            for member in self.members():
                tg.start_soon(self._send, member, message)

    async def _send(self, member: Websocket, message: dict[str, Any]) -> None:
        with anyio.move_on_after(self.send_timeout):
            try:
                await member.send_json(message)
                return
            except WebSocketDisconnect:
                self.leave(member)  # gone: its own handler is ending
                return
        # Too slow. Bounded too: closing sends a frame it may not read.
        if self.leave(member):
            with anyio.move_on_after(self.send_timeout):
                await member.close(*TOO_SLOW)

    # -- from def code -----------------------------------------------------

    def broadcast_blocking(self, message: dict[str, Any]) -> None:
        """Send *message* (as JSON) to every member, one thread each, and
        wait at most ``send_timeout`` seconds for them all."""
        senders = [
            (member, threading.Thread(
                target=self._send_blocking, args=(member, message), daemon=True,
            ))
            for member in self.members()
        ]
        for _, thread in senders:
            thread.start()
        deadline = time.monotonic() + self.send_timeout
        for member, thread in senders:
            thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive() and self.leave(member):
                # Too slow. Its stuck send still holds the connection, so
                # the close waits on a thread of its own, not here.
                threading.Thread(target=member.close, args=TOO_SLOW, daemon=True).start()

    def _send_blocking(self, member: Websocket, message: dict[str, Any]) -> None:
        try:
            member.send_json(message)
        except WebSocketDisconnect:
            self.leave(member)

