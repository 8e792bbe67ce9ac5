"""``flaskish run`` as a user runs it, in a real process: a port in use is
said before the app starts, ``-p 0`` says which port it got, there is one
banner, and a syntax error saved while reloading is shown, not fatal."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
from conftest import free_port

APP = """
from flaskish import Flask

app = Flask(__name__)

@app.before_serving
def started():
    print("startup hooks ran", flush=True)

@app.get("/")
def index():
    return "VERSION"
"""


def env() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("FLASK_", "FLASKISH_", "PYTEST_", "COV_"))
    } | {"PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join(sys.path)}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "webapp.py").write_text(APP.replace("VERSION", "one"))
    return tmp_path


def test_a_port_in_use_is_said_before_the_app_starts(project: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "flaskish", "--app", "webapp", "run", "--port", str(port)],
            cwd=project,
            env=env(),
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert f"Port {port} on 127.0.0.1 is in use by another program" in result.stderr
    assert f"--port {port + 1}" in result.stderr and "--port 0 picks a free one" in result.stderr
    assert "startup hooks ran" not in result.stdout  # said before the app's code ran
    assert "Traceback" not in result.stderr


@pytest.fixture
def served(project: Path) -> Iterator[tuple[subprocess.Popen[str], Path, list[str]]]:
    log = project / "server.log"
    lines: list[str] = []
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flaskish", "--app", "webapp", "run", "--port", "0"],
            cwd=project,
            env=env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    yield process, log, lines
    process.terminate()
    process.wait(15)


def wait_for(log: Path, pattern: str, timeout: float = 20) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(pattern, log.read_text())
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{pattern!r} not in the log:\n{log.read_text()}")


def test_port_zero_prints_the_port_it_got_in_the_one_banner(
    served: tuple[subprocess.Popen[str], Path, list[str]],
) -> None:
    _, log, _ = served
    port = int(wait_for(log, r"Running on http://127\.0\.0\.1:(\d+) ")[1])
    assert port != 0
    wait_for(log, "Application startup complete")
    assert httpx.get(f"http://127.0.0.1:{port}/").text == "one"
    output = log.read_text()
    assert output.count("Running on") == 1 and "Uvicorn running on" not in output


def test_a_syntax_error_saved_while_reloading_is_shown_and_watching_goes_on(
    project: Path,
) -> None:
    port = free_port()
    log = project / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flaskish",
                "--app",
                "webapp",
                "--debug",
                "run",
                "--port",
                str(port),
                "--reload-dir",
                str(project),
            ],
            cwd=project,
            env=env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    try:
        wait_for(log, "Application startup complete")
        assert httpx.get(f"http://127.0.0.1:{port}/").text == "one"
        # Saved again until the reloader sees it: its watcher may start
        # after the first process is up.
        for attempt in range(10):
            (project / "webapp.py").write_text(
                APP.replace("VERSION", "two") + f"\ndef oops{attempt}(:\n"
            )
            try:
                wait_for(log, "The app failed to load", timeout=3)
                break
            except AssertionError:
                continue
        page = _get_when(port, lambda r: r.status_code == 500)
        assert "The app failed to load" in page.text and "SyntaxError" in page.text
        (project / "webapp.py").write_text(APP.replace("VERSION", "three"))
        assert _get_when(port, lambda r: r.text == "three").status_code == 200
    finally:
        process.terminate()
        process.wait(15)


def _get_when(port: int, ready: object, timeout: float = 20) -> httpx.Response:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
            if ready(response):  # type: ignore[operator]
                return response
            last = response
        except httpx.TransportError as exc:  # between two processes of the reloader
            last = exc
        time.sleep(0.1)
    raise AssertionError(f"no such response; last: {last!r}")
