"""Every Python code sample in docs/ runs, in order, one namespace per page.

A sample preceded by the line ``<!-- no-run -->`` is shown but not run (it
starts a server, for instance); one preceded by ``<!-- run-in-subprocess -->``
runs alone in a fresh interpreter, as a script (``install_as_flask()`` must
run before anything imports real Flask, which this test process has).
Samples check themselves with ``assert``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(
    r"(?:<!-- (?P<marker>no-run|run-in-subprocess) -->\s*\n)?```python\n(?P<code>.*?)```", re.S
)
ROOT = DOCS.parent


def samples(page: Path) -> list[tuple[int, str, bool]]:
    """(line, code, alone) for each sample to run; *alone* means in a
    subprocess of its own."""
    text = page.read_text()
    return [
        (
            text.count("\n", 0, match.start()) + 1,
            match["code"],
            match["marker"] == "run-in-subprocess",
        )
        for match in BLOCK.finditer(text)
        if match["marker"] != "no-run"
    ]


PAGES = sorted(DOCS.glob("*.md"))


def test_every_page_is_collected() -> None:
    assert {page.name for page in PAGES} >= {"index.md", "quickstart.md", "architecture.md"}


# async.md shows the blocking-call detector at work: its sample blocks the
# event loop on purpose.
BLOCKS_ON_PURPOSE = {"async.md"}


@pytest.mark.parametrize(
    "page",
    [
        pytest.param(page, marks=[pytest.mark.blocking_allowed] * (page.name in BLOCKS_ON_PURPOSE))
        for page in PAGES
    ],
    ids=[page.name for page in PAGES],
)
def test_code_samples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for line, code, alone in samples(page):
        if alone:
            result = subprocess.run(
                [sys.executable, "-W", "error", "-c", code],
                capture_output=True,
                text=True,
                timeout=60,
                cwd=tmp_path,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            assert result.returncode == 0, f"the sample at {page.name}:{line} failed:\n" + (
                result.stderr
            )
            continue
        try:
            exec(compile(code, f"{page.name}:{line}", "exec"), namespace)
        except Exception as exc:
            raise AssertionError(f"the sample at {page.name}:{line} failed: {exc!r}") from exc


CLAIM_ROW = re.compile(r"^\| (?P<claim>[^|]+) \| `(?P<test>tests/[^`]+)` \|$", re.M)


def test_every_claim_in_the_index_names_a_test_that_exists() -> None:
    text = (DOCS / "index.md").read_text()
    section = text.split("## What each claim rests on", 1)[1].split("\n## ", 1)[0]
    rows = CLAIM_ROW.findall(section)
    assert len(rows) >= 10, "the claims table is missing or unreadable"
    for claim, test in rows:
        path, _, name = test.partition("::")
        source = ROOT / path
        assert source.is_file(), f"{claim!r}: {path} does not exist"
        if name:
            assert re.search(rf"^(async )?def {re.escape(name)}\(", source.read_text(), re.M), (
                f"{claim!r}: {path} has no test {name}"
            )
