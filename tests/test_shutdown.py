"""Graceful shutdown over a real uvicorn, stopped with a real SIGTERM:
streams are told (``app.shutdown_event``) and those that ignore it end
``SHUTDOWN_TIMEOUT`` later; short requests in flight complete; background
tasks get ``BACKGROUND_TASK_SHUTDOWN_TIMEOUT``; websockets are closed; the
server exits in time."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from conftest import free_port, wait_until_listening

from flaskish import Flask

APPS = Path(__file__).resolve().parent / "shutdown_apps"


class Served:
    def __init__(self, proc: subprocess.Popen[str], port: int, notes: Path) -> None:
        self.proc, self.port, self.notes = proc, port, notes

    def stream(self, path: str) -> socket.socket:
        """A client reading a streamed response, past its first chunk."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        received = b""
        while b"tick" not in received:
            chunk = sock.recv(4096)
            if not chunk:  # closed before its first chunk: fail, do not spin
                raise AssertionError(f"{path} closed after {received!r}")
            received += chunk
        return sock

    def stop(self) -> float:
        """SIGTERM; how long the server took to exit."""
        start = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)
        return time.monotonic() - start

    def noted(self, name: str) -> str | None:
        path = self.notes / name
        return path.read_text() if path.exists() else None


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    port = free_port()
    env = dict(
        os.environ,
        NOTES=str(tmp_path),
        SHUTDOWN_TIMEOUT="1",
        TASKS_TIMEOUT="1",
        PYTHONPATH=os.pathsep.join(sys.path),
    )
    log = tmp_path / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--app-dir",
                str(APPS),
                "served:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    wait_until_listening(port, proc, log)
    yield Served(proc, port, tmp_path)
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    # Nothing went wrong on the server's side that it only logged.
    assert "Traceback" not in log.read_text(), log.read_text()


def read_rest(sock: socket.socket) -> bytes:
    sock.settimeout(10)
    data = b""
    while chunk := sock.recv(4096):
        data += chunk
    return data


def test_streams_that_ignore_the_shutdown_end_after_shutdown_timeout(served: Served) -> None:
    streams = [served.stream("/endless-async"), served.stream("/endless-sync")]
    took = served.stop()
    assert 0.9 < took < 4, took  # SHUTDOWN_TIMEOUT is 1 s
    assert served.noted("endless-async") == ""  # the async generator was cancelled
    assert served.noted("endless-sync") == ""  # the sync one closed at its yield
    for sock in streams:
        assert read_rest(sock).endswith(b"0\r\n\r\n")  # each ended as a complete response
        sock.close()


def test_streams_that_look_at_the_shutdown_event_end_at_once(served: Served) -> None:
    streams = [served.stream("/polite"), served.stream("/polite-async")]
    took = served.stop()
    assert took < 0.9, took  # well before SHUTDOWN_TIMEOUT
    assert served.noted("polite") == "" and served.noted("polite-async") == ""
    for sock in streams:
        rest = read_rest(sock)
        assert b"bye" in rest and rest.endswith(b"0\r\n\r\n")
        sock.close()


def test_an_event_stream_ends_cleanly_at_the_signal(served: Served) -> None:
    sock = served.stream("/events")
    took = served.stop()
    assert took < 0.9, took  # at once, not SHUTDOWN_TIMEOUT later
    assert served.noted("events") == ""
    rest = read_rest(sock)
    assert rest.endswith(b"0\r\n\r\n")  # a complete response: EventSource reconnects
    sock.close()


def test_a_request_in_flight_completes(served: Served) -> None:
    result: dict[str, httpx.Response] = {}
    client = threading.Thread(
        target=lambda: result.setdefault(
            "r", httpx.get(f"http://127.0.0.1:{served.port}/slow", timeout=10)
        )
    )
    client.start()
    while served.noted("slow-started") is None:
        time.sleep(0.01)
    served.stop()
    client.join(10)
    assert result["r"].status_code == 200 and result["r"].text == "done"


def test_background_tasks_finish_or_are_cancelled_at_shutdown(served: Served) -> None:
    response = httpx.get(f"http://127.0.0.1:{served.port}/tasks", timeout=10)
    assert response.text == "queued"
    took = served.stop()
    assert took < 4, took  # BACKGROUND_TASK_SHUTDOWN_TIMEOUT is 1 s
    assert served.noted("task-done") == ""  # finished within the timeout
    assert served.noted("task-cancelled") == ""  # the endless one was cancelled


def test_websockets_are_closed_at_shutdown(served: Served) -> None:
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{served.port}/ws") as ws:
        assert ws.recv(timeout=5) == "hello"
        took = served.stop()
    assert took < 4, took
    assert served.noted("ws") == "1012"  # uvicorn's "service restart"


def test_the_shutdown_event_is_set_when_the_lifespan_ends() -> None:
    app = Flask(__name__)
    with app.test_client():
        assert not app.shutdown_event.is_set()
    assert app.shutdown_event.is_set()
    assert app.shutdown_event.wait(0) is True  # from sync code off any loop


def test_a_bad_shutdown_timeout_stops_startup() -> None:
    app = Flask(__name__)
    app.config["SHUTDOWN_TIMEOUT"] = "5"
    with pytest.raises(ValueError, match="SHUTDOWN_TIMEOUT must be a number of seconds"):
        with app.test_client():
            pass
