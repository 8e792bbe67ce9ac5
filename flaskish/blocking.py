"""The blocking-call detector: ``BLOCKING_WARN_MS``.

An ``async def`` view, hook, error handler or async generator that calls
blocking code (``time.sleep``, ``requests.get``, a sync database driver)
stalls every request of the worker while it runs. With ``BLOCKING_WARN_MS``
set (100 by default in debug mode, off otherwise), flaskish logs one warning
per stall longer than that, naming the function that blocked, how long the
loop was blocked, and the loop thread's stack at the moment it was blocked.

How (the approach of asyncio's debug mode and aiodebug, without their cost
per callback): while the app is served, a task on the event loop beats
every quarter of the threshold, and a watchdog thread checks the beat. When
the beat is late by more than the threshold, the watchdog takes the loop
thread's stack (with :mod:`faulthandler`, which reads other threads' stacks
without stopping them); when the loop beats again, it logs the warning with
the whole duration. Off, nothing runs; on, the cost is one timer per
quarter threshold.
"""

from __future__ import annotations

import faulthandler
import logging
import re
import tempfile
import threading
import time
from dataclasses import dataclass

import anyio

__all__ = ["BlockingDetector", "Stall"]

# "  File "/app/views.py", line 12 in index"
_frame_re = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+) in (?P<name>\S+)')
# Frames of these are the machinery, never "the function that blocked".
_MACHINERY = ("/flaskish/", "/anyio/", "/asyncio/", "/starlette/", "/uvicorn/", "/threading.py")


@dataclass(frozen=True)
class Stall:
    """One stall of the event loop.

    :param seconds: how long the loop did not run.
    :param culprit: the innermost function of the app (or of a library it
        called from the loop) that was running: ``"views.py:12 in index"``.
    :param stack: the loop thread's stack when it was seen blocked, most
        recent call first.
    """

    seconds: float
    culprit: str
    stack: str


class BlockingDetector:
    """Watches one event loop while the app is served.

    :param threshold: seconds of stall worth a warning.
    :param logger: where the warnings go (the app's logger).
    """

    def __init__(self, threshold: float, logger: logging.Logger) -> None:
        self.threshold = threshold
        self.logger = logger
        self.interval = threshold / 4
        #: Every stall reported so far (for tests and tools).
        self.stalls: list[Stall] = []
        self._beat = time.monotonic()
        self._stack: str | None = None
        self._loop_thread = 0
        self._stop = threading.Event()

    async def run(self) -> None:
        """Beat on the event loop until cancelled (the app stops serving)."""
        self._loop_thread = threading.get_ident()
        watchdog = threading.Thread(
            target=self._watch, name="flaskish blocking-call detector", daemon=True
        )
        watchdog.start()
        try:
            while True:
                self._beat = before = time.monotonic()
                await anyio.sleep(self.interval)
                late = time.monotonic() - before - self.interval
                if late > self.threshold:
                    self._report(late)
        finally:
            self._stop.set()

    def _watch(self) -> None:
        """The watchdog thread: take the loop's stack while it is blocked."""
        while not self._stop.wait(self.interval):
            beat = self._beat
            if self._stack is None and time.monotonic() - beat > self.threshold + self.interval:
                self._stack = self._loop_stack()

    def _loop_stack(self) -> str:
        with tempfile.TemporaryFile("w+") as out:
            faulthandler.dump_traceback(out, all_threads=True)
            out.seek(0)
            dump = out.read()
        marker = re.compile(rf"^(?:Current thread|Thread) 0x0*{self._loop_thread:x} ")
        lines = dump.splitlines()
        for start, line in enumerate(lines):
            if marker.match(line):
                section = []
                for frame in lines[start + 1 :]:
                    if not frame.startswith("  "):
                        break
                    section.append(frame)
                return "\n".join(section)
        return ""

    def _report(self, seconds: float) -> None:
        stack, self._stack = self._stack or "", None
        culprit = "an unknown function"
        for line in stack.splitlines():
            match = _frame_re.match(line)
            if match and not any(part in match["file"] for part in _MACHINERY):
                culprit = f"{match['file']}:{match['line']} in {match['name']}"
                break
        stall = Stall(seconds, culprit, stack)
        self.stalls.append(stall)
        self.logger.warning(
            f"The event loop was blocked for {seconds * 1000:.0f} ms by {culprit}: blocking "
            "code in async def code stalls every request of this worker. Make the function "
            "a def (it then runs on a worker thread), or await a non-blocking call. The loop "
            f"thread's stack while it was blocked (most recent call first):\n{stack}"
        )
