"""Over-loopback measurement: each app on a real server on 127.0.0.1, load
from ``wrk``; the server and wrk are pinned to different CPUs with
``taskset`` when there are two or more.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .apps import Framework
from .inprocess import Answer, HttpRequest
from .scenarios import Scenario

__all__ = [
    "HttpResult",
    "Server",
    "in_process_cpu",
    "pinning",
    "request",
    "serve",
    "wrk",
    "wrk_path",
]

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


@dataclass
class HttpResult:
    """One wrk run."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    connections: int
    errors: int
    requests: int = 0
    #: CPU time the server's processes spent per request (user + system), in
    #: µs: unlike req/s, barely moved by other load on a shared machine.
    server_cpu_us: float | None = None


@dataclass
class Server:
    """A benchmark app served on ``127.0.0.1:port``."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"


def pinning() -> tuple[list[str], list[str]]:
    """``taskset`` prefixes for the server (CPU 0) and wrk (CPU 1), or none
    when ``taskset`` is missing or there is only one CPU."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if shutil.which("taskset") is None or len(cpus) < 2:
        return [], []
    return ["taskset", "-c", str(cpus[0])], ["taskset", "-c", str(cpus[1])]


def in_process_cpu() -> int | None:
    """The CPU the in-process run is pinned to: the servers' CPU, if any."""
    prefix = pinning()[0]
    return int(prefix[-1]) if prefix else None


def wrk_path() -> str | None:
    """Where ``wrk`` is, if installed."""
    return shutil.which("wrk")


@contextmanager
def serve(
    framework: Framework,
    app_name: str,
    *,
    pin: bool = True,
    python: str = sys.executable,
    timeout: float = 30.0,
    source: Path | None = None,
) -> Iterator[Server]:
    """Start *framework*'s app *app_name* in a subprocess and wait until it
    answers HTTP (any status: ``/`` is a 404 in most apps). With *source*, a
    folder holding a copy of ``flaskish/``, the server imports flaskish from
    there rather than from the working tree."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, 0))
    listener.listen(2048)
    port = listener.getsockname()[1]
    prefix = pinning()[0] if pin else []
    command = [
        *prefix,
        python,
        "-m",
        "benchmarks.serve",
        framework.name,
        app_name,
        str(listener.fileno()),
    ]
    env = None
    if source is not None:
        # ``-m`` puts the working directory first on sys.path: the copy wins
        # over the working tree, and the harness comes from PYTHONPATH.
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
            ),
        }
    process = subprocess.Popen(
        command, cwd=source or ROOT, pass_fds=[listener.fileno()], start_new_session=True, env=env
    )
    listener.close()
    server = Server(port, process)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{framework.name} server exited with {process.returncode}")
            try:
                if request(server, "GET", "/").status:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{framework.name} server did not answer in {timeout} s")
            time.sleep(0.05)
        yield server
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        # The server's own process group (start_new_session): gunicorn's worker too.
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def request(
    server: Server,
    method: str,
    path: str,
    body: bytes = b"",
    headers: list[tuple[str, str]] | None = None,
) -> Answer:
    """One HTTP request to *server*."""
    connection = http.client.HTTPConnection(HOST, server.port, timeout=10)
    try:
        connection.request(method, path, body=body or None, headers=dict(headers or []))
        response = connection.getresponse()
        return Answer(response.status, response.getheaders(), response.read())
    finally:
        connection.close()


def send(server: Server, prepared: HttpRequest) -> Answer:
    """Send a prepared scenario request (host header left to http.client)."""
    headers = [(k, v) for k, v in prepared.headers if k not in ("host", "content-length")]
    target = prepared.path + (f"?{prepared.query}" if prepared.query else "")
    return request(server, prepared.method, target, prepared.body, headers)


_LUA = """wrk.method = {method}
wrk.body = {body}
{headers}
"""


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk(
    server: Server,
    scenario: Scenario,
    prepared: HttpRequest,
    *,
    connections: int,
    seconds: float,
    pin: bool = True,
) -> HttpResult:
    """Load *server* with wrk (one thread, *connections* connections) for
    *seconds* (whole seconds, at least 1)."""
    binary = wrk_path()
    if binary is None:
        raise RuntimeError("wrk is not installed")
    headers = [(k, v) for k, v in prepared.headers if k not in ("host", "content-length")]
    script = _LUA.format(
        method=_lua_string(prepared.method),
        body=_lua_string(prepared.body.decode("latin-1")),
        headers="\n".join(f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers),
    )
    prefix = pinning()[1] if pin else []
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        command = [
            *prefix,
            binary,
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            lua.name,
            server.base_url + scenario.path,
        ]
        cpu_before = server_cpu_seconds(server.process.pid)
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        cpu_after = server_cpu_seconds(server.process.pid)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    result = parse_wrk(done.stdout, connections)
    if cpu_before is not None and cpu_after is not None and result.requests:
        result.server_cpu_us = (cpu_after - cpu_before) / result.requests * 1e6
    return result


def server_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process *pid* and its children (gunicorn's
    worker), from ``/proc``; ``None`` where there is no ``/proc``."""
    try:
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            # After the command: state, ppid, ... utime is field 14, stime 15.
            if int(entry.name) == pid or int(fields[1]) == pid:
                total += int(fields[11]) + int(fields[12])
        return total / ticks
    except (OSError, ValueError):
        return None


_UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNIT_MS[unit]


def parse_wrk(output: str, connections: int) -> HttpResult:
    """Requests/s, p50 and p99 latency, and errors from wrk's ``--latency`` output."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    if not (rps and p50 and p99):
        raise RuntimeError(f"cannot read wrk's output:\n{output}")
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    total = re.search(r"(\d+) requests in", output)
    return HttpResult(
        float(rps.group(1)),
        _ms(p50.group(1)),
        _ms(p99.group(1)),
        connections,
        errors,
        int(total.group(1)) if total else 0,
    )
