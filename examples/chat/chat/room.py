"""The chat room: one broadcast channel that every worker process shares.

A message someone types is published to the channel (``app.broadcast``);
each connection, in whichever process it is, subscribes to the channel and
relays what it receives to its own client. With ``BROADCAST_URL`` left at
``memory://`` the room spans one process; with
``FLASK_BROADCAST_URL=redis://127.0.0.1:6379`` in the environment it spans
every worker and every server that uses that Redis.

A member that stops reading only falls behind on its own: its subscription
keeps the last ``BROADCAST_QUEUE_SIZE`` lines and drops older ones; the
others get every message all the same.
"""

from __future__ import annotations

import json
from typing import Any

from flaskish import BroadcastUnavailable, current_app
from flaskish.broadcast import Subscription
from flaskish.exceptions import WebSocketDisconnect
from flaskish.websocket import Websocket

__all__ = ["CHANNEL", "UNAVAILABLE", "relay", "relay_blocking", "say", "say_blocking"]

#: The broadcast channel of the room.
CHANNEL = "chat.room"

#: What a member is told when the room cannot take its line (Redis is down).
UNAVAILABLE = {"user": None, "text": "The room is unavailable: your line was not sent."}


def _encode(message: dict[str, Any]) -> str:
    return json.dumps(message)  # once, for every member in every process


# -- from async def code --------------------------------------------------------


async def say(message: dict[str, Any]) -> bool:
    """Publish *message* to the room; whether it could be sent."""
    try:
        await current_app.broadcast.publish(CHANNEL, _encode(message))
    except BroadcastUnavailable:
        current_app.logger.warning("chat: a line was not sent, the room is unavailable")
        return False
    return True


async def relay(messages: Subscription, member: Websocket) -> None:
    """Send the room's messages to *member* until it leaves."""
    try:
        async for text in messages:
            await member.send(text)
    except WebSocketDisconnect:
        pass


# -- from def code ---------------------------------------------------------------


def say_blocking(message: dict[str, Any]) -> bool:
    """:func:`say` for def code."""
    try:
        current_app.broadcast.publish(CHANNEL, _encode(message))
    except BroadcastUnavailable:
        current_app.logger.warning("chat: a line was not sent, the room is unavailable")
        return False
    return True


def relay_blocking(messages: Subscription, member: Websocket) -> None:
    """:func:`relay` for def code, on a thread of its own (it blocks)."""
    try:
        for text in messages:
            member.send(text)
    except WebSocketDisconnect:
        pass
