"""app.broadcast on the memory backend: publishing and subscribing from def
and async def code, the bounded queue of a slow subscriber, subscriptions
ending with their block and at shutdown, and misuse refused with a
sentence that says what to write."""

from __future__ import annotations

import gc
import logging
import threading
from typing import Any

import anyio
import pytest

from flaskish import BroadcastUnavailable, Flask, request, websocket
from flaskish.broadcast import Subscription
from flaskish.testing import FlaskClient


def add_subscribers(app: Flask) -> None:
    """``/async`` and ``/def``: websockets that send ``ready`` once
    subscribed to the channel named by ``?channel=``, then each message."""

    @app.websocket("/async")
    async def async_subscriber() -> None:
        await websocket.accept()
        async with app.broadcast.subscribe(websocket.args["channel"]) as messages:
            await websocket.send("ready")
            async for message in messages:
                await websocket.send(message)

    @app.websocket("/def")
    def def_subscriber() -> None:
        websocket.accept()
        with app.broadcast.subscribe(websocket.args["channel"]) as messages:
            websocket.send("ready")
            for message in messages:
                websocket.send(message)


def add_publishers(app: Flask) -> None:
    @app.post("/def/<channel>")
    def publish_def(channel: str) -> str:
        app.broadcast.publish(channel, request.get_data(as_text=True))
        return "sent"

    @app.post("/async/<channel>")
    async def publish_async(channel: str) -> str:
        await app.broadcast.publish(channel, await request.get_data(as_text=True))
        return "sent"


@pytest.mark.parametrize("subscriber", ["/async", "/def"])
@pytest.mark.parametrize("publisher", ["/async", "/def"])
def test_a_message_published_reaches_every_subscriber_of_its_channel_only(
    app: Flask,
    subscriber: str,
    publisher: str,
) -> None:
    add_subscribers(app)
    add_publishers(app)
    with app.test_client() as client:
        with (
            client.websocket(f"{subscriber}?channel=news") as first,
            client.websocket(f"{subscriber}?channel=news") as second,
            client.websocket(f"{subscriber}?channel=other") as elsewhere,
        ):
            assert first.receive() == second.receive() == elsewhere.receive() == "ready"
            assert client.post(f"{publisher}/news", data="one").text == "sent"
            assert client.post(f"{publisher}/news", data="two").text == "sent"
            client.post(f"{publisher}/other", data="three")
            assert [first.receive(), first.receive()] == ["one", "two"]
            assert [second.receive(), second.receive()] == ["one", "two"]
            assert elsewhere.receive() == "three"  # nothing of news before it
            assert app.broadcast.stats().subscribers == 3


def test_async_and_def_subscribers_share_a_channel(app: Flask) -> None:
    add_subscribers(app)
    add_publishers(app)
    with app.test_client() as client:
        with client.websocket("/async?channel=c") as a, client.websocket("/def?channel=c") as d:
            assert a.receive() == d.receive() == "ready"
            client.post("/def/c", data="hello")
            assert a.receive() == d.receive() == "hello"


@pytest.mark.anyio
async def test_async_code_publishes_and_subscribes_on_the_test_loop(app: Flask) -> None:
    async with app.test_client():
        async with app.broadcast.subscribe("c") as messages:
            await app.broadcast.publish("c", "x")
            await app.broadcast.publish("c", "y")
            assert [await messages.__anext__(), await messages.__anext__()] == ["x", "y"]
        assert app.broadcast.stats().channels == 0


@pytest.mark.anyio
async def test_a_def_publisher_on_a_thread_of_its_own_reaches_the_loop(app: Flask) -> None:
    """A thread the app did not start (a def handler's sender thread)
    publishes too: the call goes to the serving loop."""
    async with app.test_client():
        async with app.broadcast.subscribe("c") as messages:
            thread = threading.Thread(target=app.broadcast.publish, args=("c", "from a thread"))
            thread.start()
            with anyio.fail_after(5):
                assert await messages.__anext__() == "from a thread"
            await anyio.to_thread.run_sync(thread.join)


@pytest.mark.anyio
async def test_a_slow_subscriber_loses_its_oldest_messages_and_holds_up_no_one(
    app: Flask,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app.config["BROADCAST_QUEUE_SIZE"] = 3
    async with app.test_client():
        async with app.broadcast.subscribe("c") as slow, app.broadcast.subscribe("c") as fast:
            seen = []
            for number in range(10):
                await app.broadcast.publish("c", str(number))  # never waits for `slow`
                seen.append(await fast.__anext__())
            assert seen == [str(n) for n in range(10)]
            assert [await slow.__anext__() for _ in range(3)] == ["7", "8", "9"]
            assert (slow.dropped, fast.dropped) == (7, 0)
            assert app.broadcast.stats().dropped == 7
    warnings = [r for r in caplog.records if "does not keep up" in r.getMessage()]
    assert len(warnings) == 1  # once per subscription, not per message
    assert warnings[0].levelno == logging.WARNING


@pytest.mark.parametrize("subscriber", ["/async", "/def"])
def test_shutdown_ends_every_subscription(app: Flask, subscriber: str) -> None:
    add_subscribers(app)
    ended = threading.Event()

    @app.websocket("/until-shutdown")
    def until_shutdown() -> None:
        websocket.accept()
        with app.broadcast.subscribe("c") as messages:
            websocket.send("ready")
            for _ in messages:
                pass
        ended.set()
        websocket.send("ended")

    with app.test_client() as client:
        with (
            client.websocket("/until-shutdown") as ws,
            client.websocket(f"{subscriber}?channel=c") as other,
        ):
            assert ws.receive() == other.receive() == "ready"
            app.shutdown_event.set()
            assert ws.receive() == "ended"
            assert ended.is_set()
        # Entered after the shutdown began: an iteration that ends at once.
        with client.websocket("/until-shutdown") as ws:
            assert ws.receive() == "ready"
            assert ws.receive() == "ended"


@pytest.mark.anyio
async def test_closing_from_another_thread_ends_a_blocked_for_loop(app: Flask) -> None:
    async with app.test_client():
        subscription = app.broadcast.subscribe("c")
        received: list[str] = []

        def consume() -> None:
            with subscription as messages:
                for message in messages:
                    received.append(message)

        thread = threading.Thread(target=consume)
        thread.start()
        with anyio.fail_after(5):
            while not app.broadcast.stats().subscribers:
                await anyio.sleep(0.01)
        await app.broadcast.publish("c", "one")
        with anyio.fail_after(5):
            while not received:
                await anyio.sleep(0.01)
        await anyio.to_thread.run_sync(subscription.close)
        await anyio.to_thread.run_sync(thread.join, 5)
        assert not thread.is_alive()
        assert received == ["one"]
        assert app.broadcast.stats().subscribers == 0


@pytest.mark.anyio
async def test_a_subscription_dropped_without_leaving_is_forgotten(app: Flask) -> None:
    async with app.test_client():
        subscription = app.broadcast.subscribe("c")
        await subscription.__aenter__()
        assert app.broadcast.stats().subscribers == 1
        del subscription
        gc.collect()
        assert app.broadcast.stats().subscribers == 0
        await app.broadcast.publish("c", "to nobody")  # and the channel goes
        assert app.broadcast.stats().channels == 0


# -- misuse ------------------------------------------------------------------


@pytest.mark.anyio
async def test_an_unawaited_publish_in_async_code_is_an_error_not_silence(
    app: Flask,
    client: FlaskClient,
) -> None:
    @app.post("/forgot")
    async def forgot() -> str:
        app.broadcast.publish("c", "lost?")
        return "sent"

    app.config["PROPAGATE_EXCEPTIONS"] = False
    async with app.test_client() as served:
        response = await served.post("/forgot")
    assert response.status_code == 500
    app.config["PROPAGATE_EXCEPTIONS"] = True
    async with app.test_client() as served:
        with pytest.raises(RuntimeError, match=r"await app\.broadcast\.publish\(channel, "):
            await served.post("/forgot")


def test_publishing_or_subscribing_outside_a_served_app_says_how_to_serve_it(
    app: Flask,
) -> None:
    with pytest.raises(RuntimeError, match=r"with app\.test_client\(\) as client:"):
        app.broadcast.publish("c", "x")
    with pytest.raises(RuntimeError, match="while the app is served"), app.broadcast.subscribe("c"):
        pass  # pragma: no cover


@pytest.mark.anyio
async def test_async_code_outside_a_served_app_is_told_too(app: Flask) -> None:
    with pytest.raises(RuntimeError, match="while the app is served"):
        await app.broadcast.publish("c", "x")
    with pytest.raises(RuntimeError, match="while the app is served"):
        async with app.broadcast.subscribe("c"):
            pass  # pragma: no cover


@pytest.mark.parametrize("message", [b"bytes", {"a": 1}, 3])
def test_a_message_is_a_str_and_the_error_says_how_to_send_data(
    app: Flask,
    message: Any,
) -> None:
    with app.test_client(), pytest.raises(TypeError, match=r"json\.dumps\(data\)"):
        app.broadcast.publish("c", message)


@pytest.mark.parametrize("channel", ["", None, b"c"])
def test_a_channel_is_a_non_empty_str(app: Flask, channel: Any) -> None:
    with pytest.raises(TypeError, match="non-empty str"):
        app.broadcast.subscribe(channel)


@pytest.mark.anyio
async def test_blocking_forms_in_async_code_say_what_to_write(app: Flask) -> None:
    async with app.test_client():
        with pytest.raises(RuntimeError, match=r"async with app\.broadcast\.subscribe"):
            with app.broadcast.subscribe("c"):
                pass  # pragma: no cover
        async with app.broadcast.subscribe("c") as messages:
            with pytest.raises(RuntimeError, match="async for message in messages"):
                iter(messages)


@pytest.mark.anyio
async def test_a_subscription_is_entered_before_it_is_iterated_and_only_once(
    app: Flask,
) -> None:
    async with app.test_client():
        subscription = app.broadcast.subscribe("c")
        with pytest.raises(RuntimeError, match="Enter the subscription"):
            aiter(subscription)
        async with subscription:
            pass
        with pytest.raises(RuntimeError, match="already entered"):
            async with subscription:
                pass  # pragma: no cover


@pytest.mark.parametrize(
    ("key", "value", "error"),
    [
        ("BROADCAST_URL", "kafka://localhost", r"unknown scheme 'kafka'.*memory://.*redis://"),
        ("BROADCAST_URL", "memory://somewhere", "takes no address"),
        ("BROADCAST_URL", 42, "must be a URL"),
        ("BROADCAST_QUEUE_SIZE", 0, "BROADCAST_QUEUE_SIZE must be"),
        ("BROADCAST_QUEUE_SIZE", True, "BROADCAST_QUEUE_SIZE must be"),
    ],
)
def test_bad_config_fails_at_startup_with_what_exists(
    app: Flask,
    key: str,
    value: Any,
    error: str,
) -> None:
    app.config[key] = value
    with pytest.raises(ValueError, match=error), app.test_client():
        pass  # pragma: no cover


def test_the_redis_backend_without_redis_installed_says_what_to_install(
    app: Flask,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "redis", None)  # `import redis` fails
    app.config["BROADCAST_URL"] = "redis://127.0.0.1:1"
    with pytest.raises(RuntimeError, match=r"pip install 'flaskish\[redis\]'"), app.test_client():
        pass  # pragma: no cover


def test_stats_and_names_are_public(app: Flask) -> None:
    assert issubclass(BroadcastUnavailable, RuntimeError)
    assert isinstance(app.broadcast.subscribe("c"), Subscription)
    stats = app.broadcast.stats()
    assert (stats.backend, stats.subscribers, stats.connected) == ("memory", 0, False)


def test_a_def_handler_waiting_on_a_subscription_sees_its_client_leave(app: Flask) -> None:
    raised: list[BaseException] = []
    left = threading.Event()

    @app.websocket("/waits")
    def waits() -> None:
        websocket.accept()
        with app.broadcast.subscribe("quiet") as messages:
            websocket.send("ready")
            try:
                for _ in messages:
                    pass  # pragma: no cover - nothing is published
            except BaseException as exc:
                raised.append(exc)
                raise
            finally:
                left.set()

    with app.test_client() as client:
        with client.websocket("/waits") as ws:
            assert ws.receive() == "ready"
        assert left.wait(5)
        assert app.broadcast.stats().subscribers == 0
    assert [type(exc).__name__ for exc in raised] == ["WebSocketDisconnect"]
