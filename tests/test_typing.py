"""The dual API's static types: what mypy tells a user each spelling gives.

Each test type-checks a small app with ``mypy --strict`` (flaskish found
from this checkout, as an installed package's ``py.typed`` would give it),
the way a user's CI would: the right spellings pass, the wrong ones fail
with the message a user would read.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mypy cache for the module: flaskish is analysed once."""
    return tmp_path_factory.mktemp("mypy-cache")


def mypy(tmp_path: Path, cache: Path, source: str) -> tuple[int, str]:
    module = tmp_path / "user_app.py"
    module.write_text(textwrap.dedent(source))
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(cache),
            str(module),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=110,
    )
    return run.returncode, run.stdout + run.stderr


HEADER = """
    from collections.abc import Awaitable
    from typing import assert_type

    from flaskish import Flask, Response, flash, request, send_file, websocket
    from flaskish import render_template_string
    from flaskish.body_values import BodyBytes, BodyText, FormDict
    from flaskish.datastructures import FileStorage
    from flaskish.templating import Rendered

    app = Flask(__name__)
"""


def test_both_spellings_of_the_dual_api_type_check_with_the_value_type(
    tmp_path: Path, cache: Path
) -> None:
    code, out = mypy(
        tmp_path,
        cache,
        HEADER
        + """
    def sync_view() -> str:
        assert_type(request.form, FormDict)
        assert_type(request.get_data(), BodyBytes)
        assert_type(request.get_data(as_text=True), BodyText)
        assert_type(request.data, BodyBytes)
        flash("saved")
        upload: FileStorage = request.files["report"]
        upload.save("/tmp/report")
        assert_type(send_file("report.txt"), Response)
        assert_type(render_template_string("hi"), Rendered)
        return request.get_data(as_text=True).upper()

    async def async_view() -> str:
        assert_type(await request.form, FormDict)
        assert_type(await request.files, FormDict)
        assert_type(await request.get_data(), BodyBytes)
        text = await request.get_data(as_text=True)
        assert_type(text, BodyText)
        assert_type(flash("saved"), Awaitable[None])
        await flash("saved")
        upload: FileStorage = (await request.files)["report"]
        await upload.save("/tmp/report")
        await app.broadcast.publish("news", "hello")
        assert_type(await send_file("report.txt"), Response)
        assert_type(await render_template_string("hi"), Rendered)
        return text

    def sync_handler() -> None:
        websocket.accept()
        websocket.send("hello")
        websocket.send_json({"n": 1})
        websocket.close()

    async def async_handler() -> None:
        await websocket.accept()
        await websocket.send("hello")
        await websocket.send_json({"n": 1})
        await websocket.close()
    """,
    )
    assert code == 0, out


def test_mypy_names_the_type_each_spelling_gives(tmp_path: Path, cache: Path) -> None:
    code, out = mypy(
        tmp_path,
        cache,
        HEADER
        + """
    def sync_view() -> None:
        raw: bytes = request.get_data(as_text=True)

    async def async_view() -> None:
        text: str = await request.get_data()
        await app.broadcast.publish("news", {"not": "a str"})
    """,
    )
    assert code == 1, out
    assert 'expression has type "BodyText", variable has type "bytes"' in out
    assert 'expression has type "BodyBytes", variable has type "str"' in out
    assert 'Argument 2 to "publish" of "Broadcast" has incompatible type' in out
