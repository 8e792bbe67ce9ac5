"""Finding the app to serve: ``--app``, ``FLASKISH_APP``, ``app.py``.

:class:`ScriptInfo` loads the app the ``flaskish`` command works on. The
import path takes Flask's forms: ``module``, ``module:name``,
``module:factory()``, ``module:factory("arg", key=1)``, or a file path
(``src/hello.py``). Without one, ``asgi.py``, ``wsgi.py`` and ``app.py`` in
the current directory are tried. Loading also reads ``.flaskenv`` and
``.env`` (:func:`load_dotenv`) when python-dotenv is installed.
"""

from __future__ import annotations

import ast
import inspect
import os
import sys
import traceback
from collections.abc import Callable
from types import ModuleType
from typing import Any

import click

from .app import Flask
from .helpers import get_debug_flag, get_load_dotenv

__all__ = [
    "NoAppException",
    "ScriptInfo",
    "find_app_by_string",
    "find_best_app",
    "find_import_string",
    "get_debug_flag",
    "get_load_dotenv",
    "load_dotenv",
    "locate_app",
    "prepare_import",
]

#: Files tried, in order, when no import path is given.
DEFAULT_FILES = ("asgi.py", "wsgi.py", "app.py")


class NoAppException(click.UsageError):
    """The app could not be found or loaded; the message says why and what
    to pass instead (Flask's ``NoAppException``)."""


def _flask_class() -> type[Flask]:
    return Flask


def load_dotenv(path: str | os.PathLike[str] | None = None, load_defaults: bool = True) -> bool:
    """Set environment variables from ``.flaskenv``, then ``.env`` (found in
    the current directory or its parents), then *path*; later files win, and
    variables already set in the environment win over all files.

    Does nothing (beyond a tip, if such files exist) when python-dotenv is
    not installed: ``pip install flaskish[dotenv]``.

    :param path: one more file to load, taking precedence over the defaults.
    :param load_defaults: look for ``.flaskenv`` and ``.env``.
    :return: whether any variable was read.
    """
    try:  # imported here: python-dotenv is optional (flaskish[dotenv])
        import dotenv
    except ImportError:
        if path or os.path.isfile(".env") or os.path.isfile(".flaskenv"):
            click.secho(
                " * Tip: there are .env files here. Install python-dotenv to use them:"
                " pip install 'flaskish[dotenv]'.",
                fg="yellow",
                err=True,
            )
        return False
    values: dict[str, str | None] = {}
    if load_defaults:
        for name in (".flaskenv", ".env"):
            found = dotenv.find_dotenv(name, usecwd=True)
            if found:
                values |= dotenv.dotenv_values(found, encoding="utf-8")
    if path is not None and os.path.isfile(path):
        values |= dotenv.dotenv_values(path, encoding="utf-8")
    for key, value in values.items():
        if key not in os.environ and value is not None:
            os.environ[key] = value
    return bool(values)


def prepare_import(path: str) -> str:
    """The module name for *path* (a dotted name or a file, ``.py`` or a
    package folder), after putting the folder it is importable from first
    on ``sys.path``: ``src/pkg/views.py`` gives ``pkg.views`` when ``src/pkg``
    holds an ``__init__.py``.

    :param path: a module name or a file system path.
    """
    path = os.path.realpath(path)
    stem, ext = os.path.splitext(path)
    if ext == ".py":
        path = stem
    if os.path.basename(path) == "__init__":
        path = os.path.dirname(path)
    parts: list[str] = []
    while True:
        path, name = os.path.split(path)
        parts.append(name)
        if not os.path.exists(os.path.join(path, "__init__.py")):
            break
    if not sys.path or sys.path[0] != path:
        sys.path.insert(0, path)
    return ".".join(reversed(parts))


def split_import_path(import_path: str) -> tuple[str, str | None]:
    """``"module:name"`` -> ``("module", "name")``; a colon followed by a
    slash or backslash is part of a path (``C:\\app.py``), not a separator.

    :param import_path: the value of ``--app``.
    """
    start = 0
    while (colon := import_path.find(":", start)) != -1:
        if import_path[colon + 1 : colon + 2] not in ("/", "\\"):
            return import_path[:colon], import_path[colon + 1 :]
        start = colon + 1
    return import_path, None


def _called_with_wrong_args(func: Callable[..., Any]) -> bool:
    """Whether the ``TypeError`` being handled came from calling *func* with
    the wrong arguments (rather than from inside it)."""
    tb = sys.exc_info()[2]
    try:
        while tb is not None:
            if tb.tb_frame.f_code is getattr(func, "__code__", None):
                return False
            tb = tb.tb_next
        return True
    finally:
        del tb


def find_best_app(module: ModuleType) -> Flask:
    """The app in *module*: a variable named ``app`` or ``application``,
    the only app among its variables, or what ``create_app()`` or
    ``make_app()`` returns.

    :param module: an imported module.
    :raises NoAppException: none, or several apps, were found.
    """
    flask_class = _flask_class()
    name = module.__name__
    for attr in ("app", "application"):
        value = getattr(module, attr, None)
        if isinstance(value, flask_class):
            return value
    found = [value for value in vars(module).values() if isinstance(value, flask_class)]
    if len(found) == 1:
        return found[0]
    if found:
        names = ", ".join(
            sorted(key for key, value in vars(module).items() if isinstance(value, flask_class))
        )
        raise NoAppException(
            f"Detected several flaskish applications in module '{name}' ({names}). Use "
            f"'--app {name}:name' to say which one to load."
        )
    for attr in ("create_app", "make_app"):
        factory = getattr(module, attr, None)
        if not inspect.isfunction(factory):
            continue
        try:
            app = factory()
        except TypeError as error:
            if not _called_with_wrong_args(factory):
                raise
            raise NoAppException(
                f"Detected factory '{attr}' in module '{name}', but it could not be called "
                f"without arguments. Use '--app \"{name}:{attr}(args)\"' to pass them."
            ) from error
        if isinstance(app, flask_class):
            return app
    raise NoAppException(
        f"Failed to find a flaskish application or factory in module '{name}'. Name it "
        f"'app' or 'create_app', or use '--app {name}:name' to say which one to load."
    )


def _parse_app_name(app_name: str) -> tuple[str, list[Any], dict[str, Any]]:
    try:
        expr = ast.parse(app_name.strip(), mode="eval").body
    except SyntaxError:
        raise NoAppException(
            f"Failed to parse {app_name!r} as an attribute name or function call. Write "
            "'name' or 'factory(\"arg\", key=1)'."
        ) from None
    if isinstance(expr, ast.Name):
        return expr.id, [], {}
    if not isinstance(expr, ast.Call):
        raise NoAppException(
            f"Failed to parse {app_name!r} as an attribute name or function call. Write "
            "'name' or 'factory(\"arg\", key=1)'."
        )
    if not isinstance(expr.func, ast.Name):
        raise NoAppException(
            f"The factory in {app_name!r} must be a simple name, such as 'create_app(...)'."
        )
    try:
        args = [ast.literal_eval(arg) for arg in expr.args]
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in expr.keywords if kw.arg}
    except ValueError:
        raise NoAppException(
            f"Failed to parse the arguments of {app_name!r}: they must be Python literals "
            "(strings, numbers, lists...)."
        ) from None
    return expr.func.id, args, kwargs


def find_app_by_string(module: ModuleType, app_name: str) -> Flask:
    """The app named *app_name* in *module*: a variable, or a factory
    called with literal arguments (``create_app("dev", debug=True)``).

    :param module: an imported module.
    :param app_name: what follows the colon in ``--app module:name``.
    :raises NoAppException: the name is missing, cannot be called, or is
        not an app.
    """
    name, args, kwargs = _parse_app_name(app_name)
    try:
        value = getattr(module, name)
    except AttributeError as error:
        raise NoAppException(
            f"Failed to find attribute {name!r} in module {module.__name__!r}. Check the name "
            f"after the colon in '{module.__name__}:{app_name}'."
        ) from error
    if inspect.isfunction(value):
        try:
            value = value(*args, **kwargs)
        except TypeError as error:
            if not _called_with_wrong_args(value):
                raise
            raise NoAppException(
                f"The factory {app_name!r} in module {module.__name__!r} could not be called "
                "with the given arguments. Pass the arguments it takes: "
                f"'--app \"{module.__name__}:{name}(...)\"'."
            ) from error
    if isinstance(value, _flask_class()):
        return value
    raise NoAppException(
        f"'{module.__name__}:{app_name}' is not a flaskish application (it is "
        f"{type(value).__name__!r}). Point --app at a Flask instance or a factory returning one."
    )


def _not_found(error: ImportError, module_name: str) -> bool:
    missing = getattr(error, "name", None)
    return (
        isinstance(error, ModuleNotFoundError)
        and missing is not None
        and (module_name == missing or module_name.startswith(missing + "."))
    )


def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: bool = True
) -> Flask | None:
    """Import *module_name* and find the app in it.

    :param module_name: a module importable from ``sys.path``.
    :param app_name: a name or factory call, or ``None`` for
        :func:`find_best_app`.
    :param raise_if_not_found: if false, a missing module gives ``None``.
    :raises NoAppException: the module is missing, failed to import, or
        holds no app.
    """
    try:
        __import__(module_name)
    except ImportError as error:
        if not _not_found(error, module_name):
            raise NoAppException(
                f"While importing {module_name!r}, an ImportError was raised. Fix the import "
                f"in your app (is a dependency missing?):\n\n{traceback.format_exc()}"
            ) from None
        if not raise_if_not_found:
            return None
        raise NoAppException(
            f"Could not import {module_name!r}. Check the name, run flaskish from the folder "
            "that contains it, or pass a file path: '--app path/to/app.py'."
        ) from None
    module = sys.modules[module_name]
    if app_name is None:
        return find_best_app(module)
    return find_app_by_string(module, app_name)


def find_import_string(app: Flask) -> str | None:
    """``"module:variable"`` for a module-level variable holding *app*, so
    that other processes (uvicorn's workers and reloader) can import it;
    ``None`` if there is none (the app was made by a factory).

    :param app: the app.
    """
    for module in (sys.modules.get(app.import_name), sys.modules.get("__main__")):
        if module is None:
            continue
        name = next((key for key, value in vars(module).items() if value is app), None)
        if name is None:
            continue
        module_name = module.__name__
        if module_name == "__main__":
            spec = getattr(module, "__spec__", None)
            filename = getattr(module, "__file__", None)
            if spec is not None:
                module_name = spec.name
            elif filename is not None:
                module_name = prepare_import(str(filename))
            else:
                return None
        return f"{module_name}:{name}"
    return None


class ScriptInfo:
    """What the ``flaskish`` command knows about the app to load, passed to
    commands as click's ``obj`` (:func:`~flaskish.cli.pass_script_info`).

    :param app_import_path: ``--app``: ``module``, ``module:name``,
        ``module:factory(args)`` or a file path.
    :param create_app: a function returning the app, used instead of the
        import path (custom :class:`~flaskish.cli.FlaskGroup` scripts).
    :param set_debug_flag: set ``app.debug`` from ``FLASKISH_DEBUG`` /
        ``FLASK_DEBUG`` when the app is loaded.
    :param load_dotenv_defaults: whether ``.env`` and ``.flaskenv`` are
        loaded (unless ``FLASKISH_SKIP_DOTENV`` is set).
    """

    def __init__(
        self,
        app_import_path: str | None = None,
        create_app: Callable[..., Flask] | None = None,
        set_debug_flag: bool = True,
        load_dotenv_defaults: bool = True,
    ) -> None:
        #: The import path of the app, if given.
        self.app_import_path = app_import_path
        #: A function returning the app, if given.
        self.create_app = create_app
        #: Free-form data for commands.
        self.data: dict[Any, Any] = {}
        self.set_debug_flag = set_debug_flag
        #: Whether the default ``.env`` files are to be loaded.
        self.load_dotenv_defaults = get_load_dotenv(load_dotenv_defaults)
        self._loaded_app: Flask | None = None

    def load_app(self) -> Flask:
        """Load the app, once; later calls return the same object.

        :raises NoAppException: no app could be found or loaded.
        """
        if self._loaded_app is not None:
            return self._loaded_app
        app: Flask | None = None
        if self.create_app is not None:
            app = self.create_app()
        elif self.app_import_path:
            path, name = split_import_path(self.app_import_path)
            app = locate_app(prepare_import(path), name)
        else:
            for filename in DEFAULT_FILES:
                if os.path.isfile(filename):
                    app = locate_app(prepare_import(filename), None, raise_if_not_found=False)
                    if app is not None:
                        break
        if app is None:
            raise NoAppException(
                "Could not locate a flaskish application. Use the 'flaskish --app' option, the "
                "'FLASKISH_APP' environment variable, or an 'app.py' or 'wsgi.py' file in the "
                "current directory."
            )
        if self.set_debug_flag:
            app.debug = get_debug_flag()
        self._loaded_app = app
        return app
