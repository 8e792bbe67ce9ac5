"""Run the benchmarks: ``python benchmarks/run.py`` (``--smoke`` runs each
scenario once and checks the answers, without timing).

In-process: each ASGI app is called directly with a prepared scope, on one
event loop, many times; the result is the median of several repetitions, in
microseconds per request.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apps import FRAMEWORKS, Scenario


def scope_for(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    path, _, query = path.partition("?")
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
        "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
        "query_string": query.encode(), "root_path": "",
        "headers": [(b"host", b"localhost"), *headers],
        "client": ("127.0.0.1", 1234), "server": ("localhost", 80),
    }


async def call_asgi(app: Any, scenario: Scenario) -> tuple[int, bytes]:
    _, _, method, path, body, headers = scenario
    status = 0
    chunks: list[bytes] = []
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            chunks.append(message.get("body", b""))

    await app(scope_for(method, path, headers), receive, send)
    return status, b"".join(chunks)


async def time_asgi(scenario: Scenario, number: int, repeat: int) -> float:
    app = scenario[0]
    for _ in range(min(number, 200)):  # warm up
        await call_asgi(app, scenario)
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(number):
            await call_asgi(app, scenario)
        runs.append((time.perf_counter() - started) / number * 1e6)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="run each scenario once, no timing")
    parser.add_argument("--number", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    results: dict[str, dict[str, float]] = {}
    for framework, make in FRAMEWORKS.items():
        for name, scenario in make().items():
            status, body = asyncio.run(call_asgi(scenario[0], scenario))
            if status != 200 or not body:
                raise SystemExit(f"{framework} {name}: bad answer {status} {body[:80]!r}")
            if not args.smoke:
                cost = asyncio.run(time_asgi(scenario, args.number, args.repeat))
                results.setdefault(name, {})[framework] = cost
    if args.smoke:
        print("benchmark smoke run: every scenario answered 200")
        return
    for name, costs in results.items():
        print(f"\n{name}  (µs per request, in-process)")
        base = costs.get("flaskish")
        for framework, cost in costs.items():
            shown = base and framework != "flaskish"
            ratio = f"  flaskish/this = {base / cost:.2f}" if shown else ""
            print(f"  {framework:<12} {cost:8.1f}{ratio}")


if __name__ == "__main__":
    main()
