"""``migrated_app``: one realistic Flask app that real Flask and flaskish
(through :func:`flaskish.install_as_flask`) both run unchanged, and the same
app written for Quart.

* ``app.py``: the Flask code: Flask-Login (the user from the session),
  Flask-SQLAlchemy (queries on a sqlite file), Flask-WTF (forms, CSRF), Jinja
  pages extending a base with ``url_for`` and flashed messages, a ``def
  before_request`` and ``def after_request``, a JSON API. ``create_app(...,
  async_api=True)`` makes the JSON API views ``async def``
  (``migrated_app_async``, flaskish only).
* ``on_flaskish.py``: the launcher: ``install_as_flask()``, then ``app.py``.
* ``quart_app.py``: the Quart version (see its docstring for how it differs).
* ``check.py``: one pass through every request type with the framework's own
  test client (the smoke run, where a framework's server is not installed).

This module is framework-free: the harness imports it. It holds what the
apps and the load client (``benchmarks/migrated_load.py``) share: the seed
data, the database, and the in-app timings.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import Any

__all__ = [
    "MIX",
    "NOTES_PER_USER",
    "PAGE_SIZE",
    "PASSWORD",
    "SECRET_KEY",
    "TEMPLATES",
    "TIMINGS",
    "USERS",
    "Timings",
    "csrf_token_in",
    "new_database",
]

#: The seeded users; client connection *i* logs in as ``USERS[i % len(USERS)]``.
USERS = ("ada", "grace", "linus", "barbara")
PASSWORD = "benchmark password"
#: Every version of the app signs its session cookie with this key.
SECRET_KEY = "migrated benchmark secret key"
#: Notes each user starts with; the page and the API show the latest PAGE_SIZE.
NOTES_PER_USER = 40
PAGE_SIZE = 10
#: What one client connection sends, over and over (after logging in once):
#: 40% page GETs, 40% JSON GETs, 20% CSRF-protected form POSTs (each
#: answered by a redirect, which is counted and not followed; the next page
#: shows its flashed message).
MIX = ("page", "json", "json", "page", "post", "page", "json", "json", "page", "post")
#: The Jinja templates, shared by the Flask and the Quart code.
TEMPLATES = str(Path(__file__).resolve().parent / "templates")

_SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name VARCHAR(80) NOT NULL UNIQUE,
    password_hash VARCHAR(200) NOT NULL
);
CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    title VARCHAR(120) NOT NULL,
    body TEXT NOT NULL,
    created INTEGER NOT NULL
);
CREATE INDEX notes_by_user ON notes (user_id, id);
"""


def new_database() -> str:
    """A fresh sqlite file, seeded, in a temporary folder removed at exit;
    its path. In memory (``/dev/shm``) where there is one, so that no
    framework's commits wait on a disk; a file, not ``:memory:``, so every
    thread and process of a server shares it; WAL, so readers never wait
    for the writer."""
    from werkzeug.security import generate_password_hash

    shm = "/dev/shm"
    folder = tempfile.mkdtemp(
        prefix="flaskish-migrated-", dir=shm if os.access(shm, os.W_OK) else None
    )
    atexit.register(shutil.rmtree, folder, True)
    path = os.path.join(folder, "notes.sqlite")
    # A cheap hash: every client connection logs in once per round.
    password = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(_SCHEMA)
        for number, name in enumerate(USERS, 1):
            db.execute("INSERT INTO users VALUES (?, ?, ?)", (number, name, password))
            db.executemany(
                "INSERT INTO notes (user_id, title, body, created) VALUES (?, ?, ?, ?)",
                [
                    (
                        number,
                        f"Note {i} of {name}",
                        f"Things to remember, part {i} <b>{name}</b>.",
                        1_700_000_000 + i,
                    )
                    for i in range(NOTES_PER_USER)
                ],
            )
    return path


_TOKEN = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token_in(page: bytes) -> str | None:
    """The CSRF token of the form in *page* (WTForms' hidden field)."""
    found = _TOKEN.search(page)
    return found.group(1).decode() if found else None


class Timings:
    """The time each request spent inside the app, from the first
    ``before_request`` hook to the last ``after_request`` hook: wall time
    (``perf_counter``) and the CPU time of the thread that ran them
    (``thread_time``; ``None`` where the hooks are not on one thread, as in
    Quart, whose hooks run on the event loop among other requests')."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def record(self, wall: float, cpu: float | None) -> None:
        # list.append is atomic: no lock on the request's path.
        self.wall.append(wall)
        if cpu is not None:
            self.cpu.append(cpu)

    def snapshot(self, reset: bool = False) -> dict[str, Any]:
        """Median, p99 and mean in µs of what was recorded (since the last
        reset); with *reset*, start again."""
        with self._lock:
            wall, cpu = self.wall, self.cpu
            if reset:
                self.wall, self.cpu = [], []
        return {"count": len(wall), "wall_us": _summary(wall), "cpu_us": _summary(cpu)}


def _summary(samples: list[float]) -> dict[str, float] | None:
    if not samples:
        return None
    ordered = sorted(samples)
    return {
        "p50": ordered[len(ordered) // 2] * 1e6,
        "p99": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e6,
        "mean": sum(ordered) / len(ordered) * 1e6,
    }


#: The app's timings (one app per server process).
TIMINGS = Timings()
