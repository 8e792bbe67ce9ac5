"""Flask's documented behaviours of the app object: no reference cycle keeps
it alive, where its instance folder is, ``url_build_error_handlers``, and
how the context proxies print.

Each test quotes the Flask documentation (or docstring) sentence it checks.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

import flaskish
from flaskish import (
    Blueprint,
    Flask,
    current_app,
    g,
    render_template_string,
    request,
    session,
    url_for,
)
from flaskish.routing import BuildError

ROOT = Path(__file__).resolve().parent.parent

# -- no reference cycle keeps an app alive -------------------------------------------------


@pytest.fixture
def no_cyclic_gc() -> Iterator[None]:
    """Only reference counting frees objects while the test runs."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _freed_once_deleted(make: Callable[[], Flask]) -> bool:
    """Whether the app *make* returns is freed by reference counting alone
    (the cyclic collector is off). A worker thread that ran a ``def`` view
    drops its last job's context a moment after the response: allow it."""
    ref = weakref.ref(make())
    deadline = time.monotonic() + 2
    while ref() is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    return ref() is None


def _serve(app: Flask, path: str) -> int:
    """One request over ASGI, without the test client."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 1),
        "server": ("localhost", 80),
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    anyio.run(app, scope, receive, send)
    return int(sent[0]["status"])


def test_a_new_app_is_freed_by_reference_counting(no_cyclic_gc: None) -> None:
    """Flask's ``test_app_freed_on_zero_refcount``: "A Flask instance should
    not create a reference cycle that prevents CPython from freeing it when
    all external references to it are released (see #3761)." The static
    view, the router, the thread pool and ``wsgi_app`` hold it weakly."""

    def make() -> Flask:
        app = Flask("freed_app")
        assert app.view_functions["static"]
        return app

    assert _freed_once_deleted(make)


def test_an_app_with_blueprints_and_an_app_context_used_is_freed(no_cyclic_gc: None) -> None:
    """The same, once blueprints are registered and ``with
    app.app_context():`` has run."""
    blueprint = Blueprint("shop", __name__, static_folder="static", template_folder="t")

    @blueprint.route("/items")
    def items() -> str:
        return "items"

    def make() -> Flask:
        app = Flask("freed_with_blueprint")
        app.register_blueprint(blueprint, url_prefix="/shop")
        app.register_blueprint(blueprint, name="shop2", url_prefix="/shop2")
        with app.app_context():
            g.value = 1
            assert current_app.name == "freed_with_blueprint"
        with app.test_request_context("/shop/items"):
            assert url_for("shop.items") == "/shop/items"
        return app

    assert _freed_once_deleted(make)


@pytest.mark.parametrize("kind", ["def", "async def"])
def test_an_app_that_served_requests_and_rendered_templates_is_freed(
    no_cyclic_gc: None, kind: str
) -> None:
    """The same, after requests that used the session, ``g`` and a
    template: the Jinja environment and its loader hold the app weakly."""

    def page() -> str:
        session["seen"] = True
        g.user = "ada"
        return render_template_string("{{ g.user }} {{ url_for('page') }}")

    def make() -> Flask:
        app = Flask("freed_after_requests")
        app.secret_key = "secret"
        if kind == "def":
            app.route("/")(page)
        else:

            @app.route("/")
            async def page_async() -> str:
                return page()

            app.add_url_rule("/page", "page", page)
        assert _serve(app, "/") == 200
        assert _serve(app, "/") == 200
        return app

    assert _freed_once_deleted(make)


def test_an_app_is_freed_after_a_request_through_the_test_client(no_cyclic_gc: None) -> None:
    """The same through the test client, once the client is gone (the
    client itself is in a cycle; see the next test)."""

    def make() -> Flask:
        app = Flask("freed_after_client")

        @app.route("/")
        def index() -> str:
            return "hi"

        client = app.test_client()
        assert client.get("/").text == "hi"
        del client
        gc.collect()  # the client's own cycle, not the app's
        return app

    assert _freed_once_deleted(make)


def test_a_test_client_and_its_app_are_freed_by_reference_counting(no_cyclic_gc: None) -> None:
    """Werkzeug's client holds the app and forms no cycle, so in Flask the
    app goes as soon as the client does."""

    def make() -> Flask:
        app = Flask("freed_with_client")
        app.add_url_rule("/", "index", lambda: "hi")
        assert app.test_client().get("/").text == "hi"  # (a 404 keeps it, in Flask too)
        return app

    assert _freed_once_deleted(make)


# -- the instance folder ----------------------------------------------------------------


@pytest.fixture
def modules_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary folder on ``sys.path`` (as Flask's fixture)."""
    folder = tmp_path / "modules_tmp"
    folder.mkdir()
    monkeypatch.syspath_prepend(os.fspath(folder))
    return folder


@pytest.fixture
def modules_tmp_path_prefix(modules_tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder as ``sys.prefix``."""
    monkeypatch.setattr(sys, "prefix", os.fspath(modules_tmp_path))
    return modules_tmp_path


@pytest.fixture
def site_packages(modules_tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake ``lib/pythonX.Y/site-packages`` on ``sys.path``."""
    folder = (
        modules_tmp_path
        / "lib"
        / f"python{sys.version_info[0]}.{sys.version_info[1]}"
        / "site-packages"
    )
    folder.mkdir(parents=True)
    monkeypatch.syspath_prepend(os.fspath(folder))
    return folder


@pytest.fixture
def purge_module() -> Iterator[Callable[[str], None]]:
    names: list[str] = []
    yield names.append
    for name in names:
        sys.modules.pop(name, None)


APP_SOURCE = "import flaskish\napp = flaskish.Flask(__name__)\n"


def test_an_uninstalled_module_or_package_has_instance_beside_it(
    modules_tmp_path: Path, purge_module: Callable[[str], None]
) -> None:
    """Flask's configuration docs, "Instance Folders": "Uninstalled
    module: /myapp.py /instance" and "Uninstalled package: /myapp
    /__init__.py /instance"."""
    (modules_tmp_path / "config_module_app.py").write_text(APP_SOURCE)
    package = modules_tmp_path / "config_package_app"
    package.mkdir()
    (package / "__init__.py").write_text(APP_SOURCE)
    purge_module("config_module_app")
    purge_module("config_package_app")
    import config_module_app  # type: ignore[import-not-found]
    import config_package_app  # type: ignore[import-not-found]

    assert config_module_app.app.instance_path == os.fspath(modules_tmp_path / "instance")
    assert config_package_app.app.instance_path == os.fspath(modules_tmp_path / "instance")


def test_a_namespace_package_has_instance_beside_the_portion_that_holds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, purge_module: Callable[[str], None]
) -> None:
    """Flask's ``_find_package_path``: for a namespace package, "Pick the
    path in the namespace that contains the submodule" -- whichever of the
    projects sharing the namespace comes first on ``sys.path``."""
    projects = {}
    for name in ("package1", "package2"):
        project = tmp_path / f"project-{name}"
        monkeypatch.syspath_prepend(os.fspath(project))
        (project / "namespace" / name).mkdir(parents=True)
        (project / "namespace" / name / "__init__.py").write_text(APP_SOURCE)
        (project / "namespace" / f"{name}_module.py").write_text(APP_SOURCE)
        projects[name] = project
        purge_module(f"namespace.{name}")
        purge_module(f"namespace.{name}_module")
    purge_module("namespace")
    from namespace import (  # type: ignore[import-not-found]
        package1,
        package1_module,
        package2,
    )

    assert package2.app.instance_path == os.fspath(projects["package2"] / "instance")
    # package1's project is second on sys.path: Flask still finds it.
    assert package1.app.instance_path == os.fspath(projects["package1"] / "instance")
    # A module of a namespace package too (Flask picks the first portion).
    assert package1_module.app.instance_path == os.fspath(projects["package1"] / "instance")


def test_an_installed_module_or_package_has_its_instance_in_prefix_var(
    modules_tmp_path: Path,
    modules_tmp_path_prefix: Path,
    site_packages: Path,
    purge_module: Callable[[str], None],
) -> None:
    """ "Installed module or package: $PREFIX/lib/pythonX.Y/site-packages/myapp
    $PREFIX/var/myapp-instance" (Flask's ``test_installed_module_paths``,
    ``test_prefix_package_paths``)."""
    (site_packages / "site_app.py").write_text(APP_SOURCE)
    (site_packages / "site_package").mkdir()
    (site_packages / "site_package" / "__init__.py").write_text(APP_SOURCE)
    purge_module("site_app")
    purge_module("site_package")
    import site_app  # type: ignore[import-not-found]
    import site_package  # type: ignore[import-not-found]

    var = modules_tmp_path / "var"
    assert site_app.app.instance_path == os.fspath(var / "site_app-instance")
    assert site_package.app.instance_path == os.fspath(var / "site_package-instance")


def test_a_package_anywhere_under_the_prefix_counts_as_installed(
    modules_tmp_path: Path,
    modules_tmp_path_prefix: Path,
    monkeypatch: pytest.MonkeyPatch,
    purge_module: Callable[[str], None],
) -> None:
    """ "``$PREFIX`` is the prefix of your Python installation. This can be
    ``/usr`` or the path to your virtualenv." (Flask's
    ``test_installed_package_paths``: a folder under ``sys.prefix``.)"""
    installed = modules_tmp_path / "path"
    (installed / "installed_package").mkdir(parents=True)
    (installed / "installed_package" / "__init__.py").write_text(APP_SOURCE)
    monkeypatch.syspath_prepend(os.fspath(installed))
    purge_module("installed_package")
    import installed_package  # type: ignore[import-not-found]

    assert installed_package.app.instance_path == os.fspath(
        modules_tmp_path / "var" / "installed_package-instance"
    )


def test_a_script_run_as_main_has_instance_in_the_working_directory(tmp_path: Path) -> None:
    """Flask's ``_find_package_path``: "the module name is __main__" gives
    the working directory."""
    script = tmp_path / "serve.py"
    script.write_text("import flaskish\nprint(flaskish.Flask(__name__).instance_path)\n")
    work = tmp_path / "work"
    work.mkdir()
    result = subprocess.run(
        [sys.executable, os.fspath(script)],
        capture_output=True,
        text=True,
        cwd=work,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == os.fspath(work / "instance")


# -- url_build_error_handlers -----------------------------------------------------------


def test_a_url_build_error_handler_gives_the_url(app: Flask) -> None:
    """``url_build_error_handlers``: "Each function is called with
    ``error``, ``endpoint`` and ``values``. If a function returns ``None``
    or raises a ``BuildError``, it is skipped. Otherwise, its return value
    is returned by ``url_for``." """
    seen: list[tuple[str, dict[str, Any]]] = []

    def skipped(error: BuildError, endpoint: str, values: dict[str, Any]) -> None:
        seen.append((endpoint, values))

    def raises(error: BuildError, endpoint: str, values: dict[str, Any]) -> str:
        raise error

    app.url_build_error_handlers += [
        skipped,
        raises,
        lambda error, endpoint, values: "/test_handler/",
    ]
    with app.test_request_context():
        assert url_for("spam", page=2) == "/test_handler/"
    assert seen[0][0] == "spam" and seen[0][1]["page"] == 2


def test_a_url_build_error_handler_that_raises_the_build_error_re_raises_it(
    app: Flask,
) -> None:
    """``handle_url_build_error``: "If this returns a value, it will be
    returned by ``url_for``, otherwise the error will be re-raised."
    (Flask's ``test_build_error_handler_reraise``.)"""

    def handler_raises_build_error(error: BuildError, endpoint: str, values: dict[str, Any]) -> str:
        raise error

    app.url_build_error_handlers.append(handler_raises_build_error)
    with app.test_request_context(), pytest.raises(BuildError):
        url_for("not.existing")
    with app.test_request_context():
        try:
            url_for("spam")
        except BuildError as err:
            error = err
    with pytest.raises(BuildError):
        app.handle_url_build_error(error, "spam", {})


# -- how the proxies print ----------------------------------------------------------------


def test_the_proxies_print_the_object_they_stand_for(app: Flask) -> None:
    """Flask's ``_AppCtxGlobals``: "<flask.g of 'flask_test'>"
    (``test_appctx.py``); Werkzeug's request prints its URL and method; an
    unbound proxy prints as such, never raising ("<LocalProxy unbound>"
    in Flask's ``test_basic.py``)."""
    with app.test_request_context("/page?x=1", method="POST"):
        assert repr(g) == "<flaskish.g of 'flaskish_test_app'>"
        assert repr(request) == "<Request 'http://localhost/page?x=1' [POST]>"
        assert repr(current_app) == "<Flask 'flaskish_test_app'>"
        assert repr(session) == "<SecureCookieSession {}>"
    for proxy in (g, request, current_app, session, flaskish.globals.request_ctx):
        assert repr(proxy) == "<ContextProxy unbound>"
        assert not proxy


def test_installed_as_flask_the_proxies_print_as_flasks_do() -> None:
    """Once ``import flask`` means flaskish, ``repr(flask.g)`` reads as in
    Flask's tests: "<flask.g of 'flask_test'>", and an unbound proxy
    "<LocalProxy unbound>"."""
    code = textwrap.dedent("""
        import flaskish
        flaskish.install_as_flask()
        import flask
        app = flask.Flask("flask_test")
        with app.test_request_context():
            print(repr(flask.g))
            print(repr(flask.request))
        print(repr(flask.g))
        print(repr(flask.request))
    """)
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "<flask.g of 'flask_test'>",
        "<Request 'http://localhost/' [GET]>",
        "<LocalProxy unbound>",
        "<LocalProxy unbound>",
    ]
