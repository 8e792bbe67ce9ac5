"""The frameworks under test and their apps.

Each module here writes the scenarios' endpoints (``benchmarks/scenarios.py``)
in one framework and exposes ``build(app_name)`` and ``UNSUPPORTED``
(scenario name -> why the framework cannot run it). A framework whose
package is not installed (Quart and Flask outside ``benchmarks/.venv``) is
skipped with a note, so the smoke run needs only the project's venv.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from types import ModuleType
from typing import Any

__all__ = ["FRAMEWORKS", "Framework", "available", "version_of"]


@dataclass(frozen=True)
class Framework:
    """A framework under test.

    :param name: its column in the tables.
    :param module: the module in ``benchmarks/apps`` with its endpoints.
    :param kind: ``asgi`` or ``wsgi`` (how it is called in-process).
    :param requires: the distributions it needs; missing ones skip it.
    :param server: what serves it over HTTP: ``uvicorn`` or ``gunicorn``.
    """

    name: str
    module: str
    kind: str
    requires: tuple[str, ...]
    server: str

    @property
    def code(self) -> ModuleType:
        """The module that builds its apps."""
        return importlib.import_module(f"{__name__}.{self.module}")

    def build(self, app_name: str) -> Any:
        """A fresh app serving the scenarios of *app_name*."""
        return self.code.build(app_name)

    def unsupported(self) -> dict[str, str]:
        """Scenario name -> why this framework does not run it."""
        return dict(self.code.UNSUPPORTED)

    def missing(self) -> list[str]:
        """The required packages that are not installed here."""
        return [name for name in self.requires if importlib.util.find_spec(name) is None]

    def can_serve(self) -> bool:
        """Whether its HTTP server (uvicorn or gunicorn) is installed here."""
        return importlib.util.find_spec(self.server) is not None


FRAMEWORKS = [
    Framework("raw ASGI", "raw_asgi", "asgi", ("anyio",), "uvicorn"),
    Framework(
        "Starlette", "starlette_app", "asgi", ("starlette", "jinja2", "itsdangerous"), "uvicorn"
    ),
    Framework("Quart", "quart_app", "asgi", ("quart",), "uvicorn"),
    Framework("Flask", "flask_app", "wsgi", ("flask",), "gunicorn"),
    Framework("flaskish", "flaskish_app", "asgi", ("flaskish",), "uvicorn"),
]


def available(names: list[str] | None = None) -> tuple[list[Framework], list[str]]:
    """The frameworks that can run here (among *names*, if given), and a
    note for each one skipped."""
    chosen, notes = [], []
    for framework in FRAMEWORKS:
        if names and framework.name not in names:
            continue
        missing = framework.missing()
        if missing:
            notes.append(
                f"{framework.name} skipped: {', '.join(missing)} not installed in this "
                "environment (`make bench` installs it into benchmarks/.venv)"
            )
        else:
            chosen.append(framework)
    return chosen, notes


def version_of(distribution: str) -> str:
    """The installed version of *distribution*, or ``-``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "-"
