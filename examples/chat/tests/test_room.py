"""The room's fan-out: a member that left or stopped reading is dropped,
and the others get the message all the same, in both styles."""

from __future__ import annotations

import threading
import time
from typing import Any

import anyio
from chat.room import TOO_SLOW, Room

from flaskish.exceptions import WebSocketDisconnect

SEND_TIMEOUT = 0.2
MESSAGE = {"user": "ada", "text": "hi"}


class AsyncMember:
    """A connection as an ``async def`` broadcast sees it: it takes
    messages, or has left (``gone``), or never finishes a send (``stuck``)."""

    def __init__(self, state: str = "ok") -> None:
        self.state = state
        self.received: list[Any] = []
        self.closed_with: tuple[int, str] | None = None

    async def send_json(self, message: Any) -> None:
        if self.state == "gone":
            raise WebSocketDisconnect(1006)
        if self.state == "stuck":
            await anyio.sleep_forever()
        self.received.append(message)

    async def close(self, code: int, reason: str) -> None:
        self.closed_with = (code, reason)


class BlockingMember:
    """The same for a ``def`` broadcast: its calls block."""

    def __init__(self, state: str = "ok") -> None:
        self.state = state
        self.received: list[Any] = []
        self.closed = threading.Event()
        self.closed_with: tuple[int, str] | None = None
        self.unstick = threading.Event()

    def send_json(self, message: Any) -> None:
        if self.state == "gone":
            raise WebSocketDisconnect(1006)
        if self.state == "stuck":
            self.unstick.wait(10)
            return
        self.received.append(message)

    def close(self, code: int, reason: str) -> None:
        self.closed_with = (code, reason)
        self.closed.set()


def room_of(*members: Any) -> Room:
    room = Room(send_timeout=SEND_TIMEOUT)
    for member in members:
        room.join(member)
    return room


def test_an_async_broadcast_drops_who_left_or_stalls_and_reaches_the_others() -> None:
    ok, other, gone, stuck = AsyncMember(), AsyncMember(), AsyncMember("gone"), AsyncMember("stuck")
    room = room_of(ok, gone, stuck, other)

    started = time.monotonic()
    anyio.run(room.broadcast, MESSAGE)
    took = time.monotonic() - started

    assert ok.received == other.received == [MESSAGE]
    assert set(room.members()) == {ok, other}
    assert stuck.closed_with == TOO_SLOW  # told why, with 1013 (try again later)
    assert gone.closed_with is None  # nothing to tell: it is gone
    assert took < SEND_TIMEOUT + 1  # the stalled one held nobody up for long


def test_an_async_broadcast_sends_to_everyone_at_once() -> None:
    """One stalled member costs the broadcast one send timeout, not one each."""
    room = room_of(*(AsyncMember("stuck") for _ in range(5)), AsyncMember())
    started = time.monotonic()
    anyio.run(room.broadcast, MESSAGE)
    assert time.monotonic() - started < 2 * SEND_TIMEOUT + 1
    assert len(room.members()) == 1


def test_a_blocking_broadcast_drops_who_left_or_stalls_and_reaches_the_others() -> None:
    ok, other = BlockingMember(), BlockingMember()
    gone, stuck = BlockingMember("gone"), BlockingMember("stuck")
    room = room_of(ok, gone, stuck, other)
    try:
        started = time.monotonic()
        room.broadcast_blocking(MESSAGE)
        took = time.monotonic() - started

        assert ok.received == other.received == [MESSAGE]
        assert set(room.members()) == {ok, other}
        assert stuck.closed.wait(5), "the stalled member was not closed"
        assert stuck.closed_with == TOO_SLOW
        assert gone.closed_with is None
        assert took < SEND_TIMEOUT + 1
    finally:
        stuck.unstick.set()


def test_a_blocking_broadcast_waits_one_send_timeout_in_all() -> None:
    stuck = [BlockingMember("stuck") for _ in range(5)]
    room = room_of(*stuck, BlockingMember())
    try:
        started = time.monotonic()
        room.broadcast_blocking(MESSAGE)
        assert time.monotonic() - started < 2 * SEND_TIMEOUT + 1
        assert len(room.members()) == 1
    finally:
        for member in stuck:
            member.unstick.set()


def test_leaving_twice_is_harmless() -> None:
    member = AsyncMember()
    room = room_of(member)
    assert room.leave(member) is True
    assert room.leave(member) is False
    assert room.members() == []
