"""An app for tests/test_broadcast_redis.py, served by uvicorn in a
subprocess: ``/sub`` (async) and ``/sub-def`` websockets relay the
channel ``c``, ``POST /pub`` publishes its body (503 if Redis is down),
``/pid`` says which worker answered."""

from __future__ import annotations

import os

from flaskish import BroadcastUnavailable, Flask, request, websocket

app = Flask(__name__)
app.config.from_prefixed_env()  # FLASK_BROADCAST_URL


@app.websocket("/sub")
async def sub() -> None:
    await websocket.accept()
    async with app.broadcast.subscribe("c") as messages:
        await websocket.send(f"ready {os.getpid()}")
        async for message in messages:
            await websocket.send(message)


@app.websocket("/sub-def")
def sub_def() -> None:
    websocket.accept()
    with app.broadcast.subscribe("c") as messages:
        websocket.send(f"ready {os.getpid()}")
        for message in messages:
            websocket.send(message)


@app.post("/pub")
def pub() -> tuple[str, int]:
    try:
        app.broadcast.publish("c", request.get_data(as_text=True))
    except BroadcastUnavailable as exc:
        return str(exc), 503
    return "sent", 200


@app.get("/connected")
def connected() -> str:
    return "yes" if app.broadcast.stats().connected else "no"
