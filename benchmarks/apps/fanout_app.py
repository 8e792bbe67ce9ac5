"""The fan-out benchmark's app (benchmarks/fanout.py): ``/sub`` relays the
channel ``bench`` to a websocket; ``POST /pub`` publishes its body."""

from __future__ import annotations

from flaskish import Flask, request, websocket

app = Flask(__name__)
app.config.from_prefixed_env()  # FLASK_BROADCAST_URL, FLASK_BROADCAST_QUEUE_SIZE


@app.websocket("/sub")
async def sub() -> None:
    await websocket.accept()
    async with app.broadcast.subscribe("bench") as messages:
        await websocket.send("ready")
        async for message in messages:
            await websocket.send(message)


@app.post("/pub")
async def pub() -> str:
    await app.broadcast.publish("bench", await request.get_data(as_text=True))
    return "sent"
