"""The Redis backend of ``app.broadcast`` (``BROADCAST_URL=redis://...``).

Each process holds one Redis pub/sub connection, whatever its number of
subscribers: it is subscribed to the channels that have at least one local
subscriber, and a reader task (in the lifespan's task group) hands every
message it gets to the local fan-out (:mod:`flaskish.broadcast`).
Publishing goes through a separate, pooled connection. The client is
``redis.asyncio`` (the ``redis`` package: ``pip install 'flaskish[redis]'``);
Redis pub/sub is at-most-once, so a message published while a process is
disconnected never reaches that process's subscribers.

When the connection is lost the reader logs it once, reconnects with capped
exponential backoff (with jitter, so that many workers do not all knock at
once), logs the recovery once, and subscribes to its channels again.
Meanwhile subscriptions stay open (they just receive nothing) and
``publish`` raises :class:`~flaskish.BroadcastUnavailable`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio

from .exceptions import BroadcastUnavailable

if TYPE_CHECKING:
    import logging

    from anyio.abc import TaskGroup

__all__ = ["FIRST_DELAY", "MAX_DELAY", "RedisBackend"]

#: Seconds before the first reconnection attempt; doubled after each failure.
FIRST_DELAY = 0.1
#: The longest wait between two attempts, in seconds.
MAX_DELAY = 5.0
#: Seconds to connect, and for one command (PUBLISH, SUBSCRIBE) to answer.
CONNECT_TIMEOUT = 2.0
COMMAND_TIMEOUT = 5.0
#: Seconds ``subscribe`` waits for Redis to confirm a new channel.
CONFIRM_TIMEOUT = 5.0


def _import_redis() -> Any:
    # Imported here: redis is optional (flaskish[redis]), needed for a redis:// URL only.
    try:
        import redis.asyncio
        import redis.asyncio.retry
        import redis.backoff
    except ImportError as exc:
        raise RuntimeError(
            "BROADCAST_URL is a redis:// URL, and the redis package is not installed: "
            "pip install 'flaskish[redis]'."
        ) from exc
    return redis


class RedisBackend:
    """Messages through Redis pub/sub; see the module's documentation.

    :param url: ``BROADCAST_URL``, handed to ``redis.asyncio.from_url``.
    :param deliver: the local fan-out, called on the loop for each message.
    :param logger: where the loss and the recovery of the connection go.
    """

    name = "redis"

    def __init__(
        self, url: str, deliver: Callable[[str, str], None], logger: logging.Logger
    ) -> None:
        redis = _import_redis()
        self._redis = redis
        parts = urlsplit(url)
        #: Where Redis is, for messages (never the password).
        self.where = f"{parts.hostname or 'localhost'}:{parts.port or 6379}"
        options: dict[str, Any] = {
            "decode_responses": True,
            "socket_connect_timeout": CONNECT_TIMEOUT,
            "socket_keepalive": True,
        }
        # One immediate retry: a pooled connection that Redis closed (a
        # restart) is replaced without failing the publish.
        self._publisher = redis.asyncio.from_url(
            url,
            socket_timeout=COMMAND_TIMEOUT,
            retry=redis.asyncio.retry.Retry(redis.backoff.NoBackoff(), 1),
            **options,
        )
        # No retries of redis-py's own for the reader: it reconnects itself,
        # with backoff, and says so. Reads wait for messages without timeout.
        self._listener = redis.asyncio.from_url(
            url,
            retry=redis.asyncio.retry.Retry(redis.backoff.NoBackoff(), 0),
            **options,
        )
        self._deliver = deliver
        self._logger = logger
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._pubsub: Any = None  # the current pub/sub connection, while connected
        self._wanted: set[str] = set()  # the channels with local subscribers
        self._confirmed: dict[str, anyio.Event] = {}  # set once Redis confirms one
        self._scope: anyio.CancelScope | None = None
        self._done = anyio.Event()

    @property
    def connected(self) -> bool:
        return self._pubsub is not None

    async def start(self, group: TaskGroup) -> None:
        group.start_soon(self._run)

    async def publish(self, channel: str, message: str) -> None:
        try:
            await self._publisher.publish(channel, message)
        except self._errors as exc:
            raise BroadcastUnavailable(
                f"Could not publish to broadcast channel {channel!r}: Redis at {self.where} "
                f"cannot be reached ({type(exc).__name__}: {exc}). The message was not sent; "
                "subscribers reconnect by themselves once Redis is back."
            ) from exc

    async def listen(self, channel: str) -> None:
        """A first local subscriber for *channel*: subscribe to it, and wait
        (a few seconds at most) until Redis confirms, so that what is
        published next is received. While disconnected, return at once: the
        reader subscribes to it when it reconnects."""
        self._wanted.add(channel)
        confirmed = self._confirmed.get(channel)
        if confirmed is None:
            confirmed = self._confirmed[channel] = anyio.Event()
            pubsub = self._pubsub
            if pubsub is None:
                return
            try:
                await pubsub.subscribe(channel)
            except self._errors:
                return  # the reader sees the loss, and subscribes again
        if self._pubsub is not None:
            with anyio.move_on_after(CONFIRM_TIMEOUT):
                await confirmed.wait()

    async def unlisten(self, channel: str) -> None:
        """No local subscriber left for *channel*."""
        self._wanted.discard(channel)
        self._confirmed.pop(channel, None)
        pubsub = self._pubsub
        if pubsub is not None:
            try:
                await pubsub.unsubscribe(channel)
            except self._errors:
                pass  # the connection is lost; the reader will not resubscribe it

    async def stop(self) -> None:
        if self._scope is not None:
            self._scope.cancel()
            await self._done.wait()
        await self._publisher.aclose()
        await self._listener.aclose()

    # -- the reader -----------------------------------------------------------

    async def _run(self) -> None:
        delay, lost = FIRST_DELAY, False
        try:
            with anyio.CancelScope() as self._scope:
                while True:
                    pubsub = self._listener.pubsub()
                    try:
                        await self._connect(pubsub)
                        if lost:
                            self._logger.warning(
                                "Broadcast: the connection to Redis at %s is back; "
                                "resubscribed to %d channel(s).",
                                self.where,
                                len(self._wanted),
                            )
                        delay, lost = FIRST_DELAY, False
                        while True:
                            self._handle(await pubsub.get_message(timeout=None))
                    except Exception as exc:
                        self._disconnected()
                        if not lost:
                            self._log_loss(exc)
                        lost = True
                    finally:
                        self._pubsub = None
                        with anyio.CancelScope(shield=True), anyio.move_on_after(1):
                            await pubsub.aclose()
                    await anyio.sleep(random.uniform(delay / 2, delay))
                    delay = min(delay * 2, MAX_DELAY)
        finally:
            self._done.set()

    async def _connect(self, pubsub: Any) -> None:
        await pubsub.connect()
        self._pubsub = pubsub  # from here on, listen() subscribes on it too
        channels = sorted(self._wanted)
        if channels:
            await pubsub.subscribe(*channels)
        else:
            await pubsub.ping()  # a round trip: Redis is really there

    def _disconnected(self) -> None:
        self._pubsub = None
        # Unconfirmed from now on: the next connection confirms them again.
        # Who waits for a confirmation on the lost one waits no more.
        for confirmed in self._confirmed.values():
            confirmed.set()
        self._confirmed = {channel: anyio.Event() for channel in self._wanted}

    def _log_loss(self, exc: Exception) -> None:
        if isinstance(exc, self._errors):
            self._logger.error(
                "Broadcast: lost the connection to Redis at %s (%s: %s); reconnecting with "
                "backoff (at most %g s apart). Publishing fails meanwhile, and messages "
                "published elsewhere do not reach this process.",
                self.where,
                type(exc).__name__,
                exc,
                MAX_DELAY,
            )
        else:
            self._logger.error(
                "Broadcast: the Redis reader failed; reconnecting with backoff.", exc_info=exc
            )

    def _handle(self, message: dict[str, Any] | None) -> None:
        if message is None:
            return
        kind, channel = message.get("type"), message.get("channel")
        if kind == "message" and isinstance(channel, str):
            self._deliver(channel, message["data"])
        elif kind == "subscribe" and isinstance(channel, str):
            confirmed = self._confirmed.get(channel)
            if confirmed is not None:
                confirmed.set()
