"""The benchmark harness (``benchmarks/``) keeps working: every scenario is
answered and checked, in-process and over loopback, for the frameworks
installed in this environment (Quart, Flask and gunicorn are skipped when
absent), and the report is written from a run's results. No timing is
asserted."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.apps import FRAMEWORKS, available  # noqa: E402
from benchmarks.loopback import HttpResult, parse_wrk  # noqa: E402
from benchmarks.measure import (  # noqa: E402
    Results,
    Timing,
    in_process,
    servable,
    smoke_disconnects,
    smoke_http,
    smoke_mix,
    smoke_streams,
    smoke_websockets,
    supported,
)
from benchmarks.migrated_load import MixResult  # noqa: E402
from benchmarks.report import targets, write_results  # noqa: E402
from benchmarks.run import smoke  # noqa: E402
from benchmarks.scenarios import SCENARIOS  # noqa: E402
from benchmarks.streams import StreamResult  # noqa: E402
from benchmarks.websocket_load import EchoResult, IdleResult  # noqa: E402


def test_every_scenario_is_answered_correctly_in_process() -> None:
    """Each installed framework answers each scenario it supports with the
    expected body; the others are declared unsupported with a reason."""
    frameworks, _ = available()
    results = Results()
    in_process(frameworks, results, timing=None)
    for scenario in SCENARIOS:
        if not scenario.inprocess:
            continue
        for framework in frameworks:
            answered = framework.name in results.receive_calls.get(scenario.name, {}) or (
                framework.kind == "wsgi"
            )
            declared = framework.name in results.unsupported.get(scenario.name, {})
            assert answered or declared, (framework.name, scenario.name)
    assert "flaskish" in {f.name for f in frameworks}


def test_flaskish_request_that_ignores_session_and_body_reads_neither() -> None:
    """A view that never touches ``session`` or the body: the body is not
    received and the session cookie is not opened (issue 4's target)."""
    frameworks, _ = available(["flaskish"])
    results = Results()
    untouched = [s for s in SCENARIOS if s.name in ("untouched", "session")]
    in_process(frameworks, results, timing=None, scenarios=untouched)
    assert results.receive_calls["untouched"]["flaskish"] == 0
    assert results.session_opens == {"untouched": 0, "session": 1}


def test_every_scenario_is_answered_correctly_over_loopback() -> None:
    """flaskish's benchmark app, served by uvicorn on 127.0.0.1, answers every
    scenario (the path ``make bench`` loads with wrk)."""
    frameworks, _ = servable(available(["flaskish"])[0])
    checked = smoke_http(frameworks, python=sys.executable)
    expected = [s for s in supported(frameworks[0], SCENARIOS) if s.http and s.app == "main"]
    assert checked == len(expected) > 0


def test_streams_are_answered_over_loopback() -> None:
    """The SSE scenarios, small: 20 streams of 1 s against flaskish's apps
    on uvicorn (`def` hooks and 40 threads; `EventStream`); every stream
    gets every event."""
    frameworks, _ = servable(available(["flaskish"])[0])
    assert smoke_streams(frameworks, python=sys.executable, clients=20, seconds=1.0) == 2


def test_sse_generators_end_within_a_second_of_their_clients_leaving() -> None:
    """``sse_disconnect``, small: 10 streams per row (`async def` and `def`
    generators) opened and closed; every generator's ``finally`` ran within
    1 s of its client closing."""
    frameworks, _ = servable(available(["flaskish"])[0])
    assert smoke_disconnects(frameworks, python=sys.executable) == 2


def test_websockets_are_answered_over_loopback() -> None:
    """The websocket scenarios, small, against flaskish's app on uvicorn:
    the `async def` and the `def` echo handlers answer every round trip
    right, and 20 idle connections are open at once, each answering."""
    frameworks, _ = servable(available(["flaskish"])[0])
    assert smoke_websockets(frameworks, python=sys.executable) == 3


_EXTENSIONS = ("flask_login", "flask_sqlalchemy", "flask_wtf")
_needs_extensions = pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in _EXTENSIONS),
    reason="Flask-Login, Flask-SQLAlchemy and Flask-WTF (the dev extra) are not installed",
)


@_needs_extensions
def test_migrated_app_runs_unchanged_on_flaskish_over_loopback() -> None:
    """The migrated app (the Flask code, ``install_as_flask()`` first) and its
    async-API variant, on uvicorn: a user logs in, reads the page and the
    API, a POST without the CSRF token is refused, one with it redirects and
    its flashed message shows on the next page."""
    frameworks, _ = servable(available(["flaskish"])[0])
    checked, notes = smoke_mix(frameworks, python=sys.executable)
    assert (checked, notes) == (2, [])


@_needs_extensions
def test_migrated_app_runs_on_real_flask() -> None:
    """The same code on real Flask, through Flask's test client (in a
    process of its own: this one may have flaskish installed as flask)."""
    pytest.importorskip("flask")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.migrated.check", "Flask", "migrated"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_smoke_notes_what_it_skips() -> None:
    """The smoke run names every framework it could not run here."""
    lines = smoke(http=False)
    assert lines[0].startswith("in-process:")
    for framework in FRAMEWORKS:
        if framework.missing():
            assert any(line.startswith(f"{framework.name} skipped") for line in lines)


WRK_OUTPUT = """\
Running 2s test @ http://127.0.0.1:41234/hello/async
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.02ms  310.11us   9.87ms   90.12%
    Req/Sec    15.80k     0.91k   16.90k    70.00%
  Latency Distribution
     50%  812.00us
     75%    1.10ms
     90%    1.40ms
     99%    2.25ms
  31450 requests in 2.00s, 4.29MB read
  Socket errors: connect 0, read 2, write 0, timeout 0
  Non-2xx or 3xx responses: 3
Requests/sec:  15724.61
Transfer/sec:      2.14MB
"""


def test_wrk_output_is_read() -> None:
    result = parse_wrk(WRK_OUTPUT, 16)
    assert result == HttpResult(15724.61, 0.812, 2.25, 16, 5, requests=31450)


def _results() -> Results:
    results = Results(
        meta={
            "date": "today",
            "cpu": "a CPU",
            "cpus": 2,
            "platform": "Linux",
            "python": "3.11",
            "versions": {"flaskish": "0.1.0", "starlette": "1.0"},
            "wrk": "4.1.0",
            "taskset": True,
            "frameworks": ["Starlette", "flaskish"],
            "load_before": "0.10 0.20 0.30",
            "load_after": "0.40 0.50 0.60",
            "timing": vars(Timing()),
        }
    )
    results.inprocess = {
        "hello_async": {"Starlette": 10.0, "flaskish": 12.0},
        "routes_first": {"flaskish": 10.0},
        "routes_last": {"flaskish": 11.0},
    }
    results.http = {
        "hello_async": {
            "Starlette": HttpResult(10000, 1, 2, 16, 0),
            "flaskish": HttpResult(9000, 1.1, 2.2, 16, 0),
        }
    }
    results.unsupported = {"form_sync": {"Starlette": "cannot"}}
    results.streams = {
        "sse_with_sync_hooks": {
            name: StreamResult(
                1000,
                20,
                0.5,
                1000,
                {},
                0.8,
                0.7,
                0.52,
                0.52,
                10.3,
                rss_peak_mb=90.0,
                threads_peak=1002,
                cpu_s=1.0,
            )
            for name in ("Starlette", "flaskish")
        }
    }
    results.ws_echo = {
        "websocket_echo": {
            "Starlette": EchoResult(64, 120000, 2.0, 60000, 0.8, 1.5, {}, 2, 0.85, 0.98, 14.0),
            "flaskish": EchoResult(64, 56000, 2.0, 28000, 2.3, 3.0, {}, 2, 0.35, 0.99, 36.0),
            "flaskish (def)": EchoResult(64, 24000, 2.0, 12000, 5.0, 20.0, {}, 2, 0.2, 0.99, 84.0),
        }
    }
    results.ws_idle = {
        "websocket_idle": {
            "Starlette": IdleResult(5000, 5000, 5000, {}, 1.8, 34.0, 157.0, 160.0, 156.0, 1, 20000),
            "flaskish": IdleResult(5000, 5000, 5000, {}, 3.3, 41.0, 220.0, 227.0, 228.0, 1, 20000),
        }
    }
    return results


def test_results_are_written_with_ratios_and_targets(tmp_path: Path) -> None:
    """RESULTS.md gets the tables, the ratios and the target check list."""
    results = _results()
    path = tmp_path / "RESULTS.md"
    write_results(results, path, tmp_path / "ratios.png")
    text = path.read_text()
    assert "| `hello_async` | 10.0 | 12.0 |" in text
    assert "| `hello_async` | 1.20 |" in text
    assert "| `hello_async` | 0.90 |" in text
    assert "Starlette, `form_sync`: cannot." in text
    met = {goal: ok for ok, goal, _ in targets(results)}
    assert met["`async def` hello in-process ≤ 1.2x Starlette's cost"] is True
    assert met["`async def` hello over HTTP ≥ 0.95x Starlette's req/s"] is False
    assert met["1000 routes `/r{i}/<int:item_id>`, last route ≤ 1.5x the first (in-process)"]
    assert met["`def` view reading a form in-process ≤ 0.8x Flask's cost"] is None
    assert "| flaskish | 1,000 / 1,000 | 0 | 0.80 s |" in text
    streams = [ok for ok, goal, _ in targets(results) if "SSE streams" in goal]
    assert streams == [True]


def test_websocket_results_are_written_with_ratios_and_targets(tmp_path: Path) -> None:
    """The websocket echo rows (the `def` handler among them) and the idle
    connections' RSS per connection, each with its ratio to Starlette, and
    issue 15's two targets."""
    results = _results()
    path = tmp_path / "RESULTS.md"
    write_results(results, path, tmp_path / "ratios.png")
    text = path.read_text()
    assert "| flaskish | 28,000 | 2.30 / 3.00 | 36 µs | 99% | 35% | 0 | 0.47 |" in text
    assert "| flaskish (def) | 12,000 |" in text
    assert "| flaskish | 5,000 / 5,000 | 5,000 | 0 | 3.30 s |" in text
    assert "**36.7** | 1.46 |" in text
    lines = {goal: (ok, measured) for ok, goal, measured in targets(results) if "websocket" in goal}
    echo, idle = lines.values()
    assert echo[0] is False and "**0.47x**" in echo[1] and "**0.20x**" in echo[1]
    assert idle[0] is True and "**36.7 KB**" in idle[1] and "(**1.46x**)" in idle[1]


def _mix(rps: float, p99: float, wall: float, cpu: float | None) -> MixResult:
    return MixResult(
        16,
        3.0,
        int(rps * 3),
        rps,
        p99 / 4,
        p99,
        {"page": {"count": 10, "p50_ms": 5.0, "p99_ms": 20.0}},
        {},
        1200.0,
        0.05,
        {
            "count": 100,
            "wall_us": {"p50": wall, "p99": wall * 8, "mean": wall},
            "cpu_us": cpu and {"p50": cpu, "p99": cpu * 2, "mean": cpu},
        },
    )


def test_migrated_app_results_have_medians_spread_and_targets(tmp_path: Path) -> None:
    """The migrated app's rounds: medians with the lowest and highest
    round, ratios to Flask from paired rounds, and issue 18's targets."""
    results = _results()
    results.mix = {
        "migrated_app": {
            "Flask": [_mix(700, 60, 1000, 850), _mix(600, 70, 1100, 860), _mix(800, 50, 900, 840)],
            "Quart": [_mix(350, 60, 20000, None)] * 3,
            "flaskish": [
                _mix(910, 40, 900, 950),
                _mix(840, 45, 1000, 960),
                _mix(960, 50, 950, 940),
            ],
        },
        "migrated_app_async": {"flaskish": [_mix(700, 60, 5000, 800)] * 3},
    }
    path = tmp_path / "RESULTS.md"
    write_results(results, path, tmp_path / "ratios.png")
    text = path.read_text()
    assert "## Over loopback: the migrated app" in text
    assert "| flaskish | **910** (840-960) |" in text
    assert "| flaskish (async API) | **700** (700-700) |" in text
    lines = {
        goal: (ok, measured) for ok, goal, measured in targets(results) if "migrated_app" in goal
    }
    rps, p99, inside, variant, quart = lines.values()
    assert rps[0] is True and "**1.30x**" in rps[1] and "1.20-1.40x" in rps[1]
    assert p99[0] is True and "**0.75x**" in p99[1] and "45.0 ms vs 60.0 ms" in p99[1]
    assert inside[0] is True and "**0.95x**" in inside[1] and "**1.12x**" in inside[1]
    assert variant[0] is True and "**0.77x**" in variant[1]
    assert quart[0] is False and "**2.60x**" in quart[1]
    assert Results.from_json(results.as_json()) == results


def test_ratio_chart_is_drawn(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib is installed in benchmarks/.venv only")
    from benchmarks.report import write_chart

    write_chart(_results(), tmp_path / "ratios.png")
    assert (tmp_path / "ratios.png").read_bytes().startswith(b"\x89PNG")


def test_readme_describes_every_scenario() -> None:
    """benchmarks/README.md has a line for each scenario."""
    readme = (ROOT / "benchmarks" / "README.md").read_text()
    for scenario in SCENARIOS:
        assert f"`{scenario.name}`" in readme, scenario.name


def test_results_survive_the_json_round_trip() -> None:
    """``run.py --report-only`` rebuilds the report from results/latest.json."""
    results = _results()
    assert Results.from_json(results.as_json()) == results


def test_fanout_results_are_written_with_the_redis_to_memory_ratio(tmp_path: Path) -> None:
    """Issue 19's fan-out rows: deliveries per second and latency, Redis
    (two workers) against the memory backend (one process)."""
    results = _results()
    common = {"subscribers": 1000, "messages": 200, "deliveries": 200_000}
    results.fanout = {
        "redis": {
            "backend": "redis",
            "workers": 2,
            "deliveries_per_second": 9000.0,
            "p50_ms": 120.0,
            "p99_ms": 330.0,
            **common,
        },
        "memory": {
            "backend": "memory",
            "workers": 1,
            "deliveries_per_second": 18000.0,
            "p50_ms": 80.0,
            "p99_ms": 220.0,
            **common,
        },
    }
    path = tmp_path / "RESULTS.md"
    write_results(results, path, tmp_path / "ratios.png")
    text = path.read_text()
    assert "broadcast fan-out, 1,000 websocket subscribers, 200 messages" in text
    assert "| `redis://` | 2 | 200,000 | 9,000 | 120 | 330 |" in text
    assert "Redis (two workers) reaches 0.50x the memory backend's" in text
