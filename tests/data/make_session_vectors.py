"""Write ``flask_session_vectors.json``: session cookies minted by real Flask.

The vectors pin the cookie format (itsdangerous signing, the
``"cookie-session"`` salt, tagged JSON) so that ``tests/test_sessions.py``
checks flaskish against it without Flask installed. Regenerate them with
Flask 3.1 installed (``pip install -e ".[dev]"``)::

    .venv/bin/python tests/data/make_session_vectors.py

The timestamp inside every cookie is frozen at :data:`TIMESTAMP`, so the
output only changes if Flask's format does.
"""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock
from uuid import UUID

from itsdangerous import base64_decode
from itsdangerous.timed import TimestampSigner
from markupsafe import Markup

HERE = Path(__file__).resolve().parent
OUTPUT = HERE / "flask_session_vectors.json"

#: When every vector was "signed" (2023-11-14T22:13:20Z).
TIMESTAMP = 1_700_000_000
SECRET_KEY = "flaskish interop: the current key"
OLD_SECRET_KEY = "flaskish interop: the key before rotation"

#: name -> the session Flask stores. Each is written with ``session.update``.
CASES: dict[str, dict[str, Any]] = {
    "tuple": {"point": (1, "two", (3.5, None, True))},
    "bytes": {"raw": b"\x00\x01 binary \xff"},
    "datetime": {"when": datetime(2024, 2, 29, 13, 37, 5, tzinfo=UTC)},
    "uuid": {"id": UUID("12345678-1234-5678-1234-567812345678")},
    "markup": {"html": Markup("<b>bold</b> &amp; safe")},
    "nested": {"user": {"id": 42, "roles": ["admin", "dev"], "prefs": {"theme": "dark"}}},
    "one_key_dict_whose_key_is_a_tag": {"odd": {" t": "a dict, not a tuple"}},
    "tag_keys_all_the_way_down": {"odd": {" di": {" b": "not bytes"}}},
    "list": {"items": [1, "two", [3, (4, 5)], {"six": b"6"}]},
    "unicode": {"name": "Zoë ✓ 日本語 😀", "ключ": "значение"},
    "empty_containers": {"list": [], "dict": {}, "tuple": ()},
    "scalars": {"big": 2**53, "neg": -1, "float": 0.1, "yes": True, "no": False, "none": None},
    "permanent": {"_permanent": True, "user_id": 7},
    "compressed": {"blob": "ab" * 200},
}
CASES["everything"] = {
    f"{name}.{key}": value
    for name, case in CASES.items()
    for key, value in case.items()
    if name != "permanent"
}


def cookie_payload(cookie: str) -> str:
    """The JSON text inside a session cookie (decompressed if needed)."""
    payload = cookie.rsplit(".", 2)[0]
    compressed = payload.startswith(".")
    data = base64_decode(payload.lstrip("."))
    return (zlib.decompress(data) if compressed else data).decode("utf-8")


def generate() -> dict[str, Any]:
    """Mint every vector with the installed Flask."""
    import flask

    def mint(key: str, fill: Any) -> str:
        app = flask.Flask("flask_session_vectors")
        app.secret_key = key

        @app.post("/")
        def fill_session() -> str:
            fill()
            return ""

        client = app.test_client()
        with mock.patch.object(TimestampSigner, "get_timestamp", return_value=TIMESTAMP):
            client.post("/")
        cookie = client.get_cookie("session")
        assert cookie is not None
        return cookie.value

    def vector(name: str, session: dict[str, Any], cookie: str, signed_with: str) -> Any:
        return {
            "name": name,
            "signed_with": signed_with,
            "session": repr(session),
            "payload": cookie_payload(cookie),
            "cookie": cookie,
        }

    vectors = [
        vector(
            name, case, mint(SECRET_KEY, lambda case=case: flask.session.update(case)), "SECRET_KEY"
        )
        for name, case in CASES.items()
    ]
    rotated = {"user_id": 1}
    vectors.append(
        vector(
            "signed_with_the_old_key",
            rotated,
            mint(OLD_SECRET_KEY, lambda: flask.session.update(rotated)),
            "OLD_SECRET_KEY",
        )
    )

    def flash_two() -> None:
        flask.flash("Saved.", "info")
        flask.flash("Welcome back!")

    flashed = {"_flashes": [("info", "Saved."), ("message", "Welcome back!")]}
    vectors.append(vector("flashed_messages", flashed, mint(SECRET_KEY, flash_two), "SECRET_KEY"))
    from importlib.metadata import version

    return {
        "generator": "tests/data/make_session_vectors.py",
        "flask": version("flask"),
        "itsdangerous": version("itsdangerous"),
        "timestamp": TIMESTAMP,
        "SECRET_KEY": SECRET_KEY,
        "OLD_SECRET_KEY": OLD_SECRET_KEY,
        "vectors": vectors,
    }


if __name__ == "__main__":
    OUTPUT.write_text(json.dumps(generate(), indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {OUTPUT}")
