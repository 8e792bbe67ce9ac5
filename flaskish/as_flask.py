"""``install_as_flask()``: make ``import flask`` mean flaskish, for the whole
process, so that Flask extensions (which all write ``from flask import
current_app``) and the app's own ``from flask import ...`` lines use
flaskish's app, proxies and contexts.

It works the way ``pymysql.install_as_MySQLdb()`` does: ``flask`` and every
``flask.*`` module name resolve to flaskish's modules through an import
finder placed first on :data:`sys.meta_path`. ``flask`` itself is a thin
module that reads every name from :mod:`flaskish`, except ``__version__``,
which is the Flask version whose API flaskish implements, and
``importlib.metadata.version("flask")`` gives that version too, so
version-gated extension code takes its Flask 3.1 path.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.metadata
import sys
import warnings
from collections.abc import Iterable, Sequence
from types import ModuleType
from typing import Any

import flaskish

from . import globals as _globals

__all__ = ["FLASK_API_VERSION", "install_as_flask", "is_installed_as_flask"]

#: The Flask release whose API flaskish implements: what ``flask.__version__``
#: and ``importlib.metadata.version("flask")`` report once installed.
FLASK_API_VERSION = "3.1.3"

# Flask modules whose flaskish counterpart has another name. Everything else
# under ``flask.`` maps to the same name under ``flaskish.``.
_RENAMED = {
    "flask.sansio": "flaskish",
    "flask.sansio.app": "flaskish.app",
    "flask.sansio.blueprints": "flaskish.blueprints",
    "flask.sansio.scaffold": "flaskish.scaffold",
}


def _target(fullname: str) -> str:
    return _RENAMED.get(fullname) or "flaskish" + fullname[len("flask") :]


class _FlaskModule(ModuleType):
    """``sys.modules["flask"]``: every attribute is read from flaskish."""

    __all__: list[str]

    def __getattr__(self, name: str) -> Any:
        if name == "__version__":
            warnings.warn(
                "The '__version__' attribute is deprecated and will be removed in Flask 3.2. "
                "Use feature detection or 'importlib.metadata.version(\"flask\")' instead.",
                DeprecationWarning,
                stacklevel=2,
            )
            return FLASK_API_VERSION
        try:
            return getattr(flaskish, name)
        except AttributeError:
            raise AttributeError(
                f"flaskish has no {name!r}, which the code imported as 'flask.{name}'. "
                "See docs/migrating.md for the parts of Flask's API flaskish leaves out."
            ) from None

    def __dir__(self) -> list[str]:
        return sorted({*dir(flaskish), "__version__"})


class _AliasLoader(importlib.abc.Loader):
    """Loads ``flask.X`` by putting the already imported ``flaskish.X`` in
    its place in :data:`sys.modules` (the import system returns whatever
    module the loader left there)."""

    def __init__(self, target: ModuleType) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        sys.modules[module.__name__] = self.target


class _FlaskDistribution(importlib.metadata.Distribution):
    """What :mod:`importlib.metadata` says about ``flask`` once flaskish
    stands in for it."""

    def read_text(self, filename: str) -> str | None:
        if filename == "METADATA":
            return f"Metadata-Version: 2.1\nName: Flask\nVersion: {FLASK_API_VERSION}\n"
        return None

    def locate_file(self, path: Any) -> Any:
        raise FileNotFoundError(f"flaskish stands in for Flask; it has no Flask file {path}.")


class _FlaskFinder(importlib.abc.MetaPathFinder):
    """Resolves ``flask`` and ``flask.*`` imports to flaskish's modules."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith("flask."):
            return None
        name = _target(fullname)
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            raise ModuleNotFoundError(
                f"flaskish has no module {name!r}, which the code imported as {fullname!r}. "
                "See docs/migrating.md for the parts of Flask's API flaskish leaves out.",
                name=fullname,
            ) from None
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(module))

    def find_distributions(self, context: Any = None) -> Iterable[importlib.metadata.Distribution]:
        # Only a lookup by name: a listing of every distribution keeps a real
        # Flask's own record (and its entry points) if one is installed.
        name = getattr(context, "name", None)
        if name is not None and name.lower() == "flask":
            return [_FlaskDistribution()]
        return []


_finder = _FlaskFinder()
_globals._flask_finder = _finder  # the proxies' repr asks whether it is installed


def is_installed_as_flask() -> bool:
    """Whether :func:`install_as_flask` has run in this process."""
    return _finder in sys.meta_path


def install_as_flask() -> None:
    """Make ``import flask`` (and every ``flask.*`` module) resolve to
    flaskish, for the whole process.

    Call it once, at the top of the app's entry module, before the app or
    any Flask extension imports ``flask``::

        import flaskish
        flaskish.install_as_flask()

        from flask import Flask        # flaskish.Flask
        from flask_login import LoginManager   # uses flaskish's proxies

    Calling it again does nothing.

    :raises RuntimeError: if real Flask's modules were already imported:
        objects made from them cannot be swapped afterwards.
    """
    if is_installed_as_flask():
        return
    already = sorted(name for name in sys.modules if name == "flask" or name.startswith("flask."))
    if already:
        raise RuntimeError(
            f"Flask's own modules were already imported ({', '.join(already[:3])}), so "
            "flaskish cannot stand in for them any more. Call flaskish.install_as_flask() "
            "at the top of your entry module, before importing flask or any Flask extension."
        )
    module = _FlaskModule("flask", __doc__)
    module.__path__ = []  # a package, so that ``import flask.json`` asks the finder
    module.__all__ = list(flaskish.__all__)
    sys.meta_path.insert(0, _finder)
    sys.modules["flask"] = module
