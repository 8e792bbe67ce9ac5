"""An app served by a real uvicorn in tests/test_shutdown.py, which stops
it with SIGTERM. Each stream notes, in the folder ``$NOTES``, how it ended."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio

from flaskish import EventStream, Flask, websocket

app = Flask(__name__)
app.config["SHUTDOWN_TIMEOUT"] = float(os.environ["SHUTDOWN_TIMEOUT"])
app.config["BACKGROUND_TASK_SHUTDOWN_TIMEOUT"] = float(os.environ["TASKS_TIMEOUT"])
NOTES = Path(os.environ["NOTES"])


def note(name: str, text: str = "") -> None:
    (NOTES / name).write_text(text)


@app.get("/endless-async")
def endless_async() -> AsyncIterator[str]:
    async def generate() -> AsyncIterator[str]:
        try:
            while True:  # ignores the shutdown
                yield "tick\n"
                await anyio.sleep(0.05)
        finally:
            note("endless-async")

    return generate()


@app.get("/endless-sync")
def endless_sync() -> Iterator[str]:
    def generate() -> Iterator[str]:
        try:
            while True:  # ignores the shutdown
                yield "tick\n"
                time.sleep(0.05)
        finally:
            note("endless-sync")

    return generate()


@app.get("/polite")
def polite() -> Iterator[str]:
    def generate() -> Iterator[str]:
        while not app.shutdown_event.is_set():
            yield "tick\n"
            app.shutdown_event.wait(10)
        note("polite")
        yield "bye\n"

    return generate()


@app.get("/polite-async")
async def polite_async() -> AsyncIterator[str]:
    async def generate() -> AsyncIterator[str]:
        yield "tick\n"
        await app.shutdown_event.wait()
        note("polite-async")
        yield "bye\n"

    return generate()


@app.get("/slow")
def slow() -> str:
    note("slow-started")
    time.sleep(1)
    return "done"


async def sleeps_forever() -> None:
    try:
        await anyio.sleep(3600)
    finally:
        note("task-cancelled")


def quick_task() -> None:
    time.sleep(0.3)
    note("task-done")


@app.get("/tasks")
def tasks() -> str:
    app.add_background_task(sleeps_forever)
    app.add_background_task(quick_task)
    return "queued"


@app.websocket("/ws")
async def ws() -> None:
    await websocket.accept()
    await websocket.send("hello")
    try:
        while True:
            await websocket.receive()
    except Exception as exc:
        note("ws", str(getattr(exc, "code", exc)))
        raise


@app.get("/events")
def events() -> EventStream:
    async def generate() -> AsyncIterator[dict[str, str]]:
        try:
            for number in range(1_000_000):  # never looks at the shutdown
                yield {"id": str(number), "data": "tick"}
                await anyio.sleep(0.05)
        finally:
            note("events")

    return EventStream(generate())
