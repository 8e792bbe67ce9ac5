"""Server-sent events in a real browser: a page in headless Chromium
(driven by Selenium) opens ``new EventSource(url)``; the server ends the
stream after three events, the browser reconnects by itself sending
``Last-Event-ID``, and the view resumes after it. The page must see every
event once, in order, ``def`` and ``async def`` generators alike.

It needs Debian's ``chromium`` and ``chromium-driver`` packages and
``selenium`` (the dev extra). Without them it fails, saying how to install
them: it is never skipped.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from flaskish import EventStream, Flask, ServerSentEvent, last_event_id

CHROMIUM = "chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL = "sudo apt-get install -y chromium chromium-driver"
WAIT = 15  # seconds anything the page waits for may take

PAGE = """<!doctype html>
<title>events</title>
<script>
  window.seen = [];
  const source = new EventSource("/events/KIND");
  const note = (e) => {
    window.seen.push([e.type, e.lastEventId, e.data]);
    if (window.seen.length === 6) { source.close(); window.finished = true; }
  };
  source.onmessage = note;
  source.addEventListener("note", note);
</script>
"""


@pytest.fixture
def browser() -> Iterator[Any]:
    """A headless Chromium of its own, quit when the test ends."""
    binary = shutil.which(CHROMIUM)
    missing = [
        what
        for what, found in (
            (f"the `{CHROMIUM}` binary (package chromium)", binary is not None),
            (f"{CHROMEDRIVER} (package chromium-driver)", Path(CHROMEDRIVER).exists()),
        )
        if not found
    ]
    if missing or binary is None:
        pytest.fail(
            f"The SSE browser test needs headless Chromium; missing: "
            f"{' and '.join(missing)}. Install them with `{INSTALL}`.",
            pytrace=False,
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail(
            "The SSE browser test needs selenium: `pip install -e '.[dev]'`.", pytrace=False
        )
    with tempfile.TemporaryDirectory(prefix="sse-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for argument in (
            "--headless=new",
            "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
            "--disable-dev-shm-usage",  # containers have a small /dev/shm
            "--no-proxy-server",  # everything is on 127.0.0.1
            f"--user-data-dir={profile}",
        ):
            options.add_argument(argument)
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        driver.set_page_load_timeout(WAIT)
        try:
            yield driver
        finally:
            driver.quit()


def three_after(start: int) -> list[ServerSentEvent]:
    """A quick reconnect (retry=50 ms), then three events; the middle one
    typed ``note``."""
    return [ServerSentEvent(retry=50)] + [
        ServerSentEvent(f"event {n}\nsecond line", id=str(n), event="note" if n % 3 == 2 else None)
        for n in range(start + 1, start + 4)
    ]


def sse_app(connections: list[str | None]) -> Flask:
    app = Flask(__name__, static_folder=None)

    @app.route("/page/<kind>")
    def page(kind: str) -> str:
        return PAGE.replace("KIND", kind)

    @app.route("/events/def")
    def sync_events() -> Any:
        connections.append(last_event_id())
        events = three_after(int(last_event_id() or 0))

        def generate() -> Iterator[ServerSentEvent]:
            for event in events:
                time.sleep(0.05)  # a ping or two between events
                yield event

        return EventStream(generate(), ping=0.02)

    @app.route("/events/async")
    async def async_events() -> Any:
        connections.append(last_event_id())
        events = three_after(int(last_event_id() or 0))

        async def generate() -> AsyncIterator[ServerSentEvent]:
            for event in events:
                await anyio.sleep(0.05)
                yield event

        return EventStream(generate(), ping=0.02)

    return app


@pytest.mark.parametrize("kind", ["def", "async"])
def test_event_source_reconnects_with_last_event_id_and_sees_each_event_once(
    live_server: Any, browser: Any, kind: str
) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    connections: list[str | None] = []
    with live_server(sse_app(connections)) as server:
        browser.get(f"{server.url}/page/{kind}")
        WebDriverWait(browser, WAIT).until(
            lambda driver: driver.execute_script("return window.finished === true")
        )
        seen = browser.execute_script("return window.seen")
    assert seen == [
        [("note" if n % 3 == 2 else "message"), str(n), f"event {n}\nsecond line"]
        for n in range(1, 7)
    ]
    # The first connection had no id; the browser came back after the
    # third event's id by itself.
    assert connections[:2] == [None, "3"]
