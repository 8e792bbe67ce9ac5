"""The names Flask apps and extensions import from ``flask.*`` exist in
``flaskish.*`` (checked against Flask 3.1, a test-only dependency). Where a
name cannot exist on ASGI, it is listed here with the reason."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
from blinker import Signal

flask = pytest.importorskip("flask")

SUBMODULES = [
    "",
    ".app",
    ".blueprints",
    ".cli",
    ".config",
    ".ctx",
    ".globals",
    ".helpers",
    ".json",
    ".json.provider",
    ".json.tag",
    ".logging",
    ".sessions",
    ".signals",
    ".templating",
    ".testing",
    ".typing",
    ".views",
    ".wrappers",
]

# Names Flask's modules happen to hold but flaskish does not, and why.
NOT_PROVIDED = {
    # Werkzeug and WSGI internals that Flask's modules import for their own use.
    "BaseResponse": "Werkzeug's WSGI response; flaskish.Response subclasses its sans-IO base",
    "BaseRequest": "Werkzeug's WSGI request; flaskish.Request subclasses its sans-IO base",
    "RequestBase": "Werkzeug's WSGI request",
    "ResponseBase": "Werkzeug's WSGI response",
    "MapAdapter": "Werkzeug's routing adapter; flaskish.routing.Map matches directly",
    "Client": "Werkzeug's test client; use app.test_client()",
    "run_simple": "Werkzeug's WSGI server; flaskish serves with uvicorn (app.run)",
    "LocalProxy": "Werkzeug's proxy; flaskish.globals.ContextProxy plays its part",
    "CallbackDict": "werkzeug.datastructures.CallbackDict (flaskish.datastructures has it)",
    "ImmutableDict": "werkzeug.datastructures.ImmutableDict (flaskish.datastructures has it)",
    "SansioBlueprint": "Flask's sans-IO split; flaskish has one Blueprint",
    "App": "Flask's sans-IO split; flaskish has one Flask class",
    "BaseEnvironment": "jinja2.Environment, under its own name",
    "CertParamType": "a click parameter type of Flask's run command",
    "SeparatedPathType": "a click parameter type of Flask's run command",
    "show_server_banner": "Werkzeug's banner; flaskish run prints its own address",
    "is_running_from_reloader": "Werkzeug's reloader; uvicorn reloads",
    "get_host": "Werkzeug's host helper; use request.host",
    "iscoroutinefunction": "a helper Flask imports; flaskish.concurrency.is_async_callable",
    "BeforeFirstRequestCallable": "before_first_request was removed in Flask 2.3",
    "cache": "functools.cache, imported by flask.helpers",
    "copy": "copy.copy, imported by flask.testing",
    "ExitStack": "contextlib.ExitStack, imported by flask.testing",
    "TracebackType": "types.TracebackType",
    "ModuleType": "types.ModuleType",
    "timezone": "datetime.timezone",
    "F": "a TypeVar",
}


def _public(module: types.ModuleType) -> set[str]:
    """The names a Flask module defines (or, for the package, exports):
    not what it merely imports for its own use."""
    names = getattr(module, "__all__", None) or [n for n in vars(module) if n[:1] != "_"]
    package = module.__name__ == "flask"
    result = set()
    for name in names:
        value = getattr(module, name, None)
        if inspect.ismodule(value) or name.startswith("T_"):
            continue
        home = getattr(value, "__module__", None)
        if isinstance(value, Signal) and module.__name__ != "flask.signals":
            continue  # a signal some module imports to send it
        if (
            package
            or home is None
            or home == module.__name__
            or (not isinstance(value, type) and not callable(value))
        ):
            result.add(name)
    return result


@pytest.mark.parametrize("suffix", SUBMODULES, ids=[s or "flaskish" for s in SUBMODULES])
def test_every_flask_name_is_importable_from_the_same_flaskish_module(suffix: str) -> None:
    theirs = importlib.import_module("flask" + suffix)
    ours = importlib.import_module("flaskish" + suffix)
    missing = sorted(
        name for name in _public(theirs) if not hasattr(ours, name) and name not in NOT_PROVIDED
    )
    assert missing == [], f"flaskish{suffix} lacks {missing}"


def test_the_listed_omissions_are_still_flask_names() -> None:
    """Keeps NOT_PROVIDED honest: every entry names something Flask has."""
    everything: set[str] = set()
    for suffix in SUBMODULES:
        everything |= set(vars(importlib.import_module("flask" + suffix)))
    assert set(NOT_PROVIDED) <= everything


def test_werkzeug_names_flask_users_import_are_werkzeugs_own_objects() -> None:
    """The HTTP vocabulary is Werkzeug's, the very objects (so extensions'
    ``isinstance`` and ``except`` work); routing is flaskish's own."""
    import werkzeug.datastructures
    import werkzeug.exceptions
    import werkzeug.utils

    import flaskish
    import flaskish.datastructures
    import flaskish.exceptions
    from flaskish.routing import BaseConverter, Map, Rule, ValidationError

    for name in (
        "Authorization",
        "CombinedMultiDict",
        "ETags",
        "Headers",
        "ImmutableMultiDict",
        "MIMEAccept",
        "MultiDict",
        "Range",
    ):
        assert getattr(flaskish.datastructures, name) is getattr(werkzeug.datastructures, name)
    # The one subclass: save() and read() also work in async views.
    assert issubclass(flaskish.datastructures.FileStorage, werkzeug.datastructures.FileStorage)
    for name in ("BadRequest", "HTTPException", "NotFound", "Aborter"):
        assert getattr(flaskish.exceptions, name) is getattr(werkzeug.exceptions, name)
    assert flaskish.secure_filename is werkzeug.utils.secure_filename
    # As in Flask, abort() is the app's (current_app.aborter), not Werkzeug's.
    assert flaskish.abort is flaskish.exceptions.abort is not werkzeug.exceptions.abort
    # No hand-written copies of werkzeug.http / werkzeug.utils are left.
    for gone in ("flaskish.http", "flaskish.utils", "flaskish.accept"):
        assert importlib.util.find_spec(gone) is None, gone
    for obj in (BaseConverter, Map, Rule, ValidationError):
        assert obj.__module__.startswith("flaskish"), obj


#: Werkzeug's WSGI side, which flaskish must not use.
WSGI_MODULES = (
    "werkzeug.wrappers",
    "werkzeug.serving",
    "werkzeug.debug",
    "werkzeug.test",
    "werkzeug.wsgi",
    "werkzeug.middleware",
)


def imported_modules(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sys.modules))"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return set(output.split())


def test_importing_flaskish_imports_no_flask_and_no_more_of_werkzeug_wsgi_than_werkzeug() -> None:
    """``import flaskish`` never imports the real ``flask``. Werkzeug's own
    ``__init__`` imports ``werkzeug.serving``, ``.test`` and ``.wrappers``
    (so any ``import werkzeug.x`` does): flaskish adds no WSGI module to
    those, and the debugger is never loaded."""
    ours = imported_modules("import flaskish, flaskish.cli, flaskish.testing")
    baseline = imported_modules("import werkzeug")
    assert not {m for m in ours if m.split(".")[0] == "flask"}
    wsgi = {m for m in ours if m.startswith(WSGI_MODULES)}
    assert wsgi == {m for m in baseline if m.startswith(WSGI_MODULES)}
    assert not {m for m in ours if m.startswith("werkzeug.debug")}


def test_no_flaskish_module_imports_werkzeugs_wsgi_parts() -> None:
    import ast
    from pathlib import Path

    import flaskish

    root = Path(flaskish.__file__).parent
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if path.name == "testing_environ.py" and name.startswith("werkzeug.test"):
                    # EnvironBuilder is a sans-IO helper: it builds the
                    # environ of a test request, which flaskish sends over ASGI.
                    continue
                assert not name.startswith(WSGI_MODULES), (path, name)
                assert name.split(".")[0] != "flask", (path, name)


def test_request_environ_is_a_wsgi_style_view_of_the_scope() -> None:
    from flaskish import Flask, request

    app = Flask(__name__)
    with app.test_request_context(
        "/a/b?x=1", headers={"X-Token": "t"}, method="POST", data=b"body", content_type="text/plain"
    ):
        environ = request.environ
        assert environ["REQUEST_METHOD"] == "POST"
        assert environ["PATH_INFO"] == "/a/b"
        assert environ["QUERY_STRING"] == "x=1"
        assert environ["REMOTE_ADDR"] == "127.0.0.1"
        assert environ["HTTP_X_TOKEN"] == "t"
        assert environ["CONTENT_TYPE"] == "text/plain"
        assert environ["CONTENT_LENGTH"] == "4"
        assert environ["wsgi.url_scheme"] == "http"
        assert environ["asgi.scope"] is request.scope
        assert "wsgi.input" not in environ
        with pytest.raises(TypeError):
            environ["REMOTE_ADDR"] = "10.0.0.1"  # type: ignore[index]


def test_the_migration_guide_lists_exactly_the_names_not_provided() -> None:
    guide = (Path(__file__).resolve().parent.parent / "docs" / "migrating.md").read_text()
    section = guide.split("## Names Flask has and flaskish does not", 1)[1]
    listed = re.findall(r"^\| `([^`]+)` \|", section, re.M)
    assert listed == list(NOT_PROVIDED)
