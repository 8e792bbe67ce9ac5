"""Every Python code sample in docs/ runs, in order, one namespace per page.

A sample preceded by the line ``<!-- no-run -->`` is shown but not run (it
starts a server, for instance). Samples check themselves with ``assert``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"(?P<marker><!-- no-run -->\s*\n)?```python\n(?P<code>.*?)```", re.S)


def samples(page: Path) -> list[tuple[int, str]]:
    text = page.read_text()
    return [
        (text.count("\n", 0, match.start()) + 1, match["code"])
        for match in BLOCK.finditer(text)
        if not match["marker"]
    ]


PAGES = sorted(DOCS.glob("*.md"))


def test_every_page_is_collected() -> None:
    assert {page.name for page in PAGES} >= {"index.md", "quickstart.md", "architecture.md"}


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_code_samples_run(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    for line, code in samples(page):
        try:
            exec(compile(code, f"{page.name}:{line}", "exec"), namespace)
        except Exception as exc:
            raise AssertionError(f"the sample at {page.name}:{line} failed: {exc!r}") from exc
