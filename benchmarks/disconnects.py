"""How long after a client leaves an SSE stream its generator's ``finally``
runs (``sse_disconnect``).

The harness opens ``clients`` streams over raw sockets to
``path?id=<n>``, reads each up to its first event, then closes them one
after the other, noting the wall-clock time of each close. The app notes
the wall-clock time each generator's ``finally`` ran, by id, and answers
them at ``/sse/ended``; client and server are on one machine, so the two
clocks are one. Reported: how many generators ended, and the p50 / p99 /
worst latency.
"""

from __future__ import annotations

import json
import socket
import statistics
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

__all__ = ["DisconnectResult", "disconnect_load"]


@dataclass
class DisconnectResult:
    """One route's disconnect run."""

    clients: int
    #: Generators whose ``finally`` ran within the wait.
    ended: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None


def _open(port: int, target: str) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    received = b""
    while b"data: " not in received:
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError(f"{target}: the stream ended before its first event")
        received += chunk
    return sock


def disconnect_load(
    server: Any, path: str, *, clients: int, label: str, wait: float = 5.0
) -> DisconnectResult:
    """Open *clients* streams of *path* on *server*, close them, and
    measure until each generator's ``finally`` ran (at most *wait* s)."""
    from .loopback import request

    keys = [f"{label}-{n}" for n in range(clients)]
    sockets = [_open(server.port, f"{path}?id={quote(key)}") for key in keys]
    closed: dict[str, float] = {}
    for key, sock in zip(keys, sockets, strict=True):
        closed[key] = time.time()
        sock.close()
    deadline = time.monotonic() + wait
    while True:
        ended: dict[str, float] = json.loads(request(server, "GET", "/sse/ended").body)
        if all(key in ended for key in keys) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    latencies = sorted((ended[key] - closed[key]) * 1000 for key in keys if key in ended)
    return DisconnectResult(
        clients=clients,
        ended=len(latencies),
        p50_ms=statistics.median(latencies) if latencies else None,
        p99_ms=(
            statistics.quantiles(latencies, n=100)[98]
            if len(latencies) > 1
            else latencies[0]
            if latencies
            else None
        ),
        max_ms=latencies[-1] if latencies else None,
    )
