"""The room's relays: a member that stops reading falls behind on its own,
and the others get every message all the same, in both styles."""

from __future__ import annotations

import json
import threading
from typing import Any

import anyio
import pytest
from chat.room import CHANNEL, relay, relay_blocking, say

from flaskish import Flask

LINES = 5


class Member:
    """A connection as a relay sees it: it takes messages, or never
    finishes a send (``stuck``)."""

    def __init__(self, stuck: bool = False) -> None:
        self.stuck = stuck
        self.received: list[Any] = []
        self.unstick = threading.Event()

    async def send(self, text: str) -> None:
        if self.stuck:
            await anyio.sleep_forever()
        self.received.append(json.loads(text))

    def send_blocking(self, text: str) -> None:
        if self.stuck:
            self.unstick.wait(10)
            return
        self.received.append(json.loads(text))


class BlockingView:
    """The same member, with the blocking ``send`` of a def handler's connection."""

    def __init__(self, member: Member) -> None:
        self.send = member.send_blocking


@pytest.mark.anyio
@pytest.mark.parametrize("style", ["async", "def"])
async def test_a_member_that_stops_reading_holds_up_no_one(app: Flask, style: str) -> None:
    app.config["BROADCAST_QUEUE_SIZE"] = 2
    ok, stuck = Member(), Member(stuck=True)
    async with app.test_client(), app.app_context():
        async with (
            app.broadcast.subscribe(CHANNEL) as ok_lines,
            app.broadcast.subscribe(CHANNEL) as stuck_lines,
            anyio.create_task_group() as relays,
        ):
            threads = []
            if style == "async":
                relays.start_soon(relay, ok_lines, ok)
                relays.start_soon(relay, stuck_lines, stuck)
            else:
                for lines, member in ((ok_lines, ok), (stuck_lines, stuck)):
                    thread = threading.Thread(
                        target=relay_blocking,
                        args=(lines, BlockingView(member)),
                        daemon=True,
                    )
                    thread.start()
                    threads.append(thread)
            for number in range(LINES):
                assert await say({"user": "ada", "text": str(number)})
                with anyio.fail_after(5):  # the reader takes each line; the stuck one never
                    while len(ok.received) <= number:
                        await anyio.sleep(0.01)
            assert [line["text"] for line in ok.received] == [str(n) for n in range(LINES)]
            assert stuck_lines.dropped >= LINES - 3  # one in its send, two queued
            relays.cancel_scope.cancel()
            stuck.unstick.set()
        for thread in threads:
            await anyio.to_thread.run_sync(thread.join, 5)
    assert stuck.received == []
