"""The blocking-call detector (``BLOCKING_WARN_MS``): blocking code in
``async def`` code is named in one warning, with how long the loop stalled
and where; ``def`` code and awaiting code are never reported."""

from __future__ import annotations

import time

import anyio
import pytest

from flaskish import Flask

# These tests block the event loop on purpose: that is what is detected.
pytestmark = pytest.mark.blocking_allowed


def serve_and_get(app: Flask, *paths: str) -> list[str]:
    with app.test_client() as client:
        texts = [client.get(path).text for path in paths]
        time.sleep(0.15)  # let the loop beat again after the last stall
        client.get("/nothing")
    return texts


def test_an_async_view_that_blocks_is_named_with_its_duration_and_stack(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["BLOCKING_WARN_MS"] = 50

    @app.route("/block")
    async def blocks_the_loop() -> str:
        time.sleep(0.3)  # the mistake the detector is for
        return "done"

    with caplog.at_level("WARNING"):
        assert serve_and_get(app, "/block") == ["done"]
    warnings = [
        r.getMessage() for r in caplog.records if "event loop was blocked" in r.getMessage()
    ]
    assert len(warnings) == 1, warnings
    assert "in blocks_the_loop" in warnings[0] and "test_blocking.py" in warnings[0]
    assert "time.sleep(0.3)" not in warnings[0]  # faulthandler gives frames, not source
    assert app.blocking_detector is not None
    (stall,) = app.blocking_detector.stalls
    assert 0.25 <= stall.seconds < 1.0
    assert stall.culprit.endswith("in blocks_the_loop")
    assert "test_blocking.py" in stall.stack


def test_awaiting_and_def_views_are_never_reported(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["BLOCKING_WARN_MS"] = 50

    @app.route("/await")
    async def awaits() -> str:
        await anyio.sleep(0.3)
        return "awaited"

    @app.route("/def")
    def sleeps_on_a_thread() -> str:
        time.sleep(0.3)
        return "slept"

    with caplog.at_level("WARNING"):
        assert serve_and_get(app, "/await", "/def") == ["awaited", "slept"]
    assert not [r for r in caplog.records if "event loop was blocked" in r.getMessage()]
    assert app.blocking_detector is not None and app.blocking_detector.stalls == []


def test_it_is_on_in_debug_mode_at_100_ms_and_off_otherwise(app: Flask) -> None:
    app.route("/nothing")(lambda: "")
    serve_and_get(app)
    assert app.blocking_detector is None
    app.debug = True
    serve_and_get(app)
    assert app.blocking_detector is not None and app.blocking_detector.threshold == 0.1
    app.config["BLOCKING_WARN_MS"] = 0
    app.blocking_detector = None
    serve_and_get(app)
    assert app.blocking_detector is None


@pytest.mark.parametrize("value", [-1, "100", True])
def test_a_bad_blocking_warn_ms_is_refused_with_what_to_write(app: Flask, value: object) -> None:
    app.config["BLOCKING_WARN_MS"] = value
    with pytest.raises(ValueError, match="BLOCKING_WARN_MS must be a number of milliseconds"):
        serve_and_get(app)
