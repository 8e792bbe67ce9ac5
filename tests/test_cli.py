"""The ``flaskish`` command, as a user runs it: in a subprocess
(``python -m flaskish`` and the console script) and in-process through
click's ``CliRunner``. The apps it loads live in ``tests/cli_apps``.

Servers started here bind 127.0.0.1 on a free port and are always stopped.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import httpx2 as httpx
import pytest
import starlette
import uvicorn
from click.testing import CliRunner
from conftest import free_port

import flaskish
from flaskish import Flask, ProxyFix, current_app, g
from flaskish.cli import (
    AppGroup,
    FlaskGroup,
    ScriptInfo,
    cli,
    pass_script_info,
    register_blueprint_commands,
    routes_command,
    shell_command,
    with_appcontext,
)
from flaskish.ctx import has_app_context
from flaskish.serving import (
    PROXY_FACTORY,
    RELOAD_FACTORY,
    WORKER_FACTORY,
    load_app_behind_proxy,
    load_app_from_environment,
    run_app,
)

APPS = Path(__file__).resolve().parent / "cli_apps"


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts in ``cli_apps`` with no FLASK*/FLASKISH* variables,
    and leaves the environment, ``sys.path`` and the app modules as found."""
    saved_env, saved_path, saved_modules = dict(os.environ), list(sys.path), set(sys.modules)
    for name in list(os.environ):
        if name.startswith(("FLASK_", "FLASKISH_")) or name == "GREETING":
            monkeypatch.delenv(name)
    monkeypatch.chdir(APPS)
    yield
    os.environ.clear()
    os.environ.update(saved_env)
    sys.path[:] = saved_path
    for name in set(sys.modules) - saved_modules:
        filename = str(getattr(sys.modules[name], "__file__", None) or "")
        if filename.startswith((str(APPS), tempfile.gettempdir())):
            del sys.modules[name]


def app_module(name: str) -> Any:
    """Import one of the apps in ``cli_apps`` (removed again after the test)."""
    if str(APPS) not in sys.path:
        sys.path.insert(0, str(APPS))
    return importlib.import_module(name)


def invoke(*args: str, **kwargs: Any) -> Any:
    """Run the ``flaskish`` group in-process."""
    return CliRunner().invoke(cli, list(args), **kwargs)


def user_env(**extra: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("FLASK_", "FLASKISH_", "PYTEST_", "COV_"))
    }
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


def flaskish_command(
    *args: str, cwd: Path = APPS, input: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    """``python -m flaskish ARGS`` in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "flaskish", *args],
        cwd=cwd,
        input=input,
        env=user_env(**env),
        capture_output=True,
        text=True,
        timeout=30,
    )


class Server:
    """A server process started by a test, and where it listens."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.log = log

    def output(self) -> str:
        return self.log.read_text()


@contextlib.contextmanager
def server_process(
    command: list[str], log: Path, port: int | None = None, uds: str | None = None, cwd: Path = APPS
) -> Iterator[Server]:
    """Start *command*, wait until it accepts connections, stop it after."""
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, cwd=cwd, env=user_env(), stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                raise AssertionError(f"the server exited early:\n{log.read_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not start:\n{log.read_text()}")
            family, address = (
                (socket.AF_UNIX, uds) if uds else (socket.AF_INET, ("127.0.0.1", port))
            )
            with socket.socket(family) as sock:
                if sock.connect_ex(address) == 0:
                    break
            time.sleep(0.05)
        yield Server(process, f"http://127.0.0.1:{port}", log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def flaskish_run(tmp_path: Path, *run_args: str, app: str = "hello") -> Iterator[Server]:
    """``python -m flaskish --app APP run --port FREE RUN_ARGS``."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "flaskish",
        "--app",
        app,
        "run",
        "--port",
        str(port),
        "--log-level",
        "warning",
        *run_args,
    ]
    with server_process(command, tmp_path / "server.log", port) as server:
        yield server


def exited_with_sigterm(returncode: int) -> bool:
    # uvicorn re-raises the signal after its graceful shutdown.
    return returncode in (0, -signal.SIGTERM)


# -- app discovery ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("app", "command", "expected"),
    [
        ("hello", "init-db", "Initialized app.db for hello."),
        ("hello:app", "init-db", "Initialized app.db for hello."),
        ("hello.py", "init-db", "Initialized app.db for hello."),
        ("factory", "greet", "hello"),
        ("factory:create_app", "greet", "hello"),
        ("factory:create_app()", "greet", "hello"),
        ("factory:create_app('hi')", "greet", "hi"),
        ('factory:create_app("hi", punctuation="!")', "greet", "hi!"),
        ("factory_pkg", "where", "made by factory_pkg.make_app"),
    ],
)
def test_app_is_found_from_every_form_of_import_path(app: str, command: str, expected: str) -> None:
    result = invoke("--app", app, command)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == expected


def test_app_is_found_from_a_file_path_in_another_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("--app", str(APPS / "hello.py"), "init-db")
    assert result.output.strip() == "Initialized app.db for hello."


@pytest.mark.parametrize(
    ("folder", "rule"), [("in_cwd", "/from-app-py"), ("in_cwd_wsgi", "/from-wsgi-py")]
)
def test_app_py_or_wsgi_py_in_the_current_folder_is_found_without_app(
    folder: str, rule: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(APPS / folder)
    result = invoke("routes")
    assert result.exit_code == 0, result.output
    assert rule in result.output


def test_flaskish_app_variable_and_flask_app_fallback() -> None:
    assert invoke("greet", env={"FLASKISH_APP": "factory"}).output.strip() == "hello"
    assert invoke("greet", env={"FLASK_APP": "factory"}).output.strip() == "hello"
    both = invoke("where", env={"FLASKISH_APP": "factory_pkg", "FLASK_APP": "factory"})
    assert both.output.strip() == "made by factory_pkg.make_app"
    assert invoke("--app", "factory", "greet", env={"FLASKISH_APP": "hello"}).exit_code == 0


@pytest.mark.parametrize(
    ("app", "message"),
    [
        ("nope", "Could not import 'nope'. Check the name, run flaskish from the folder"),
        ("hello:nope", "Failed to find attribute 'nope' in module 'hello'."),
        (
            "several",
            "Detected several flaskish applications in module 'several' (one, two). "
            "Use '--app several:name'",
        ),
        ("no_app", "Failed to find a flaskish application or factory in module 'no_app'."),
        (
            "factory_needs_args",
            "Detected factory 'create_app' in module 'factory_needs_args', "
            "but it could not be called without arguments.",
        ),
        (
            "factory:needs_args()",
            "The factory 'needs_args()' in module 'factory' could not be "
            "called with the given arguments.",
        ),
        ("factory:not_an_app", "'factory:not_an_app' is not a flaskish application"),
        ("factory:create_app(", "Failed to parse 'create_app(' as an attribute name"),
        ("factory:create_app(x)", "Failed to parse the arguments of 'create_app(x)'"),
        ("factory:a.b", "Failed to parse 'a.b' as an attribute name or function call."),
        ("factory:a.b()", "The factory in 'a.b()' must be a simple name"),
    ],
)
def test_discovery_errors_say_what_went_wrong_and_what_to_do(app: str, message: str) -> None:
    result = invoke("--app", app, "routes")
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_an_import_error_inside_the_app_is_shown_with_its_traceback() -> None:
    result = flaskish_command("--app", "broken_import", "routes")
    assert result.returncode == 2
    assert "While importing 'broken_import', an ImportError was raised." in result.stderr
    assert "Traceback (most recent call last)" in result.stderr
    assert 'broken_import.py", line' in result.stderr
    assert "No module named 'flaskish_no_such_dependency'" in result.stderr


def test_a_type_error_raised_inside_a_factory_is_not_hidden() -> None:
    result = invoke("--app", "factory:raises_type_error()", "routes")
    assert isinstance(result.exception, TypeError)
    assert str(result.exception) == "a bug inside the factory"


def test_no_app_anywhere_says_how_to_name_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke("routes")
    assert result.exit_code == 2
    assert "Could not locate a flaskish application. Use the 'flaskish --app' option" in (
        " ".join(result.output.split())
    )
    # Unknown commands still report why the app did not load.
    assert "Could not locate a flaskish application" in invoke("init-db").output


def test_help_lists_the_apps_commands_even_from_the_environment() -> None:
    assert "init-db" in invoke("--app", "hello", "--help").output
    assert "init-db" in invoke("--help", env={"FLASKISH_APP": "hello"}).output
    broken = invoke("--app", "broken_import", "--help")
    assert broken.exit_code == 0
    assert "an ImportError was raised" in broken.output


# -- .env and .flaskenv ------------------------------------------------------------


def write_env_files(folder: Path) -> None:
    (folder / ".flaskenv").write_text("FLASKISH_APP=factory\nGREETING=from-flaskenv\n")
    (folder / ".env").write_text("GREETING=from-env\n")
    (folder / "custom.env").write_text("GREETING=from-custom\n")


def test_dotenv_files_are_loaded_with_env_over_flaskenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(APPS))

    def greeting(*args: str, **env: str) -> str:
        for name in ("GREETING", "FLASKISH_APP"):  # set by the previous call's files
            os.environ.pop(name, None)
        return str(invoke(*args, "greet", env=env).output.strip())

    assert greeting() == "from-env"
    assert greeting("-e", "custom.env") == "from-custom"
    assert greeting(GREETING="set-directly") == "set-directly"


def test_dotenv_files_are_skipped_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(APPS))
    result = invoke("--app", "factory", "greet", env={"FLASKISH_SKIP_DOTENV": "1"})
    assert result.output.strip() == "hello"
    custom = FlaskGroup(load_dotenv=False)
    assert CliRunner().invoke(custom, ["--app", "factory", "greet"]).output.strip() == "hello"


def test_dotenv_files_are_loaded_by_the_real_command(tmp_path: Path) -> None:
    write_env_files(tmp_path)
    result = flaskish_command("greet", cwd=tmp_path, PYTHONPATH=str(APPS))
    assert result.stdout.strip() == "from-env", result.stderr


def test_without_python_dotenv_there_is_a_tip_and_env_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env_files(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "dotenv", None)  # import dotenv raises ImportError
    result = invoke("--app", str(APPS / "factory.py"), "greet")
    assert result.stdout.strip() == "hello"
    assert "Tip: there are .env files here. Install python-dotenv" in result.stderr
    refused = invoke("-e", "custom.env", "--app", str(APPS / "factory.py"), "greet")
    assert refused.exit_code == 2
    assert "python-dotenv must be installed to load an env file" in refused.output


# -- debug mode ------------------------------------------------------------------


def test_debug_comes_from_the_option_or_the_environment() -> None:
    assert invoke("--app", "hello", "debug-status").output.strip() == "debug=False"
    assert invoke("--app", "hello", "--debug", "debug-status").output.strip() == "debug=True"
    assert (
        invoke("--app", "hello", "debug-status", env={"FLASKISH_DEBUG": "1"}).output.strip()
        == "debug=True"
    )
    assert (
        invoke("--app", "hello", "debug-status", env={"FLASK_DEBUG": "true"}).output.strip()
        == "debug=True"
    )
    assert (
        invoke(
            "--app", "hello", "--no-debug", "debug-status", env={"FLASKISH_DEBUG": "1"}
        ).output.strip()
        == "debug=False"
    )


# -- --version and the entry points -------------------------------------------------


def test_version_names_flaskish_starlette_uvicorn_and_python() -> None:
    result = flaskish_command("--version")
    assert result.stdout.splitlines() == [
        f"flaskish {flaskish.__version__}",
        f"Starlette {starlette.__version__}",
        f"uvicorn {uvicorn.__version__}",
        f"Python {platform.python_version()}",
    ]


def test_the_console_script_runs_the_same_command() -> None:
    script = Path(sys.executable).parent / "flaskish"
    if not script.exists():
        pytest.skip("flaskish is not installed as a console script (pip install -e .)")
    result = subprocess.run(
        [str(script), "--app", "hello", "init-db"],
        cwd=APPS,
        env=user_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.stdout.strip() == "Initialized app.db for hello.", result.stderr


def test_an_unguarded_app_run_does_not_block_the_command() -> None:
    result = flaskish_command("--app", "unguarded", "routes")
    assert result.returncode == 0
    assert "Ignoring a call to 'app.run()' that would block the current 'flaskish' command" in (
        result.stdout
    )
    assert "index" in result.stdout


def test_installed_packages_add_commands_through_entry_points(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    @click.command()
    def hello_plugin() -> None:
        click.echo("from a plugin")

    entry_point = types.SimpleNamespace(name="plugin", load=lambda: hello_plugin)
    calls: list[str] = []
    installed: list[bool] = []

    def entry_points(group: str) -> list[Any]:
        calls.append(group)
        return [entry_point] if group == "flaskish.commands" else []

    monkeypatch.setattr("flaskish.cli.metadata.entry_points", entry_points)
    monkeypatch.setattr("flaskish.cli.install_as_flask", lambda: installed.append(True))
    group = FlaskGroup()
    assert CliRunner().invoke(group, ["plugin"]).output == "from a plugin\n"
    # Flask's group is read too; with no Flask plugin, ``flask`` is left alone.
    assert calls == ["flaskish.commands", "flask.commands"]
    assert installed == []


def test_flask_plugins_load_after_install_as_flask_and_flaskish_plugins_win(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Flask's ``flask.commands`` plugins (Flask-Migrate's ``db``) import
    ``flask``, so ``install_as_flask()`` runs before they are loaded; a
    ``flaskish.commands`` plugin of the same name is the one kept."""
    events: list[str] = []

    def plugin(name: str, text: str) -> Any:
        @click.command(name)
        def command() -> None:
            click.echo(text)

        def load() -> click.Command:
            events.append(f"load {text}")
            return command

        return types.SimpleNamespace(name=name, load=load)

    groups = {
        "flaskish.commands": [plugin("shared", "flaskish's")],
        "flask.commands": [plugin("db", "flask's db"), plugin("shared", "flask's shared")],
    }
    monkeypatch.setattr("flaskish.cli.metadata.entry_points", lambda group: groups[group])
    monkeypatch.setattr("flaskish.cli.install_as_flask", lambda: events.append("install"))
    group = FlaskGroup()
    assert CliRunner().invoke(group, ["db"]).output == "flask's db\n"
    assert CliRunner().invoke(group, ["shared"]).output == "flaskish's\n"
    assert events == ["load flaskish's", "install", "load flask's db"]


def test_flask_plugins_are_skipped_with_a_warning_when_flask_cannot_be_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse() -> None:
        raise RuntimeError("the real flask is already imported")

    def never_loaded() -> click.Command:
        raise AssertionError("a Flask plugin was loaded without install_as_flask()")

    flask_plugin = types.SimpleNamespace(name="db", load=never_loaded)
    monkeypatch.setattr(
        "flaskish.cli.metadata.entry_points",
        lambda group: [flask_plugin] if group == "flask.commands" else [],
    )
    monkeypatch.setattr("flaskish.cli.install_as_flask", refuse)
    result = CliRunner().invoke(FlaskGroup(), ["db"])
    assert "Flask CLI plugins not loaded: the real flask is already imported" in result.output
    assert "No such command 'db'" in result.output


# -- custom commands ---------------------------------------------------------------


def test_app_commands_run_in_the_app_context_through_the_test_runner(app: Flask) -> None:
    @app.cli.command("init-db")
    @click.option("--force", is_flag=True)
    def init_db(force: bool) -> None:
        click.echo(f"{current_app.name} force={force}")

    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).output == "flaskish_test_app force=False\n"
    assert runner.invoke(args=["init-db", "--force"]).output == "flaskish_test_app force=True\n"
    assert not has_app_context()


def test_test_runner_keeps_the_debug_flag_the_test_set(app: Flask) -> None:
    app.debug = True

    @app.cli.command()
    def status() -> None:
        click.echo(f"debug={current_app.debug}")

    assert app.test_cli_runner().invoke(args=["status"]).output == "debug=True\n"


def test_commands_can_opt_out_of_the_app_context(app: Flask) -> None:
    @app.cli.command(with_appcontext=False)
    def bare() -> None:
        click.echo(f"context={has_app_context()}")

    assert app.test_cli_runner().invoke(args=["bare"]).output == "context=False\n"


def test_app_cli_groups_are_app_groups_with_the_context(app: Flask) -> None:
    @app.cli.group()
    def users() -> None:
        """Manage users."""

    @users.command()
    @click.argument("name")
    def create(name: str) -> None:
        click.echo(f"created {name} in {current_app.name}")

    assert isinstance(users, AppGroup)
    result = app.test_cli_runner().invoke(args=["users", "create", "ada"])
    assert result.output == "created ada in flaskish_test_app\n"


def test_with_appcontext_and_pass_script_info_on_plain_click_commands(app: Flask) -> None:
    @click.command()
    @pass_script_info
    @with_appcontext
    def report(info: ScriptInfo) -> None:
        click.echo(
            f"{info.load_app() is current_app._get_current_object()} "  # type: ignore[attr-defined]
            f"{type(info).__name__}"
        )

    result = app.test_cli_runner().invoke(report)
    assert result.output == "True ScriptInfo\n"


def test_a_custom_flask_group_entry_point_serves_the_apps_commands(app: Flask) -> None:
    @app.cli.command()
    def hello() -> None:
        click.echo(f"hello from {current_app.name}")

    @click.group(cls=FlaskGroup, create_app=lambda: app)
    def manage() -> None:
        """My project's management script."""

    runner = CliRunner()
    assert runner.invoke(manage, ["hello"]).output == "hello from flaskish_test_app\n"
    listing = runner.invoke(manage, ["--help"]).output
    assert "My project's management script." in listing
    for name in ("hello", "routes", "run", "shell"):
        assert f"  {name}" in listing
    assert not has_app_context()


def test_blueprint_commands_join_the_app_under_a_group_or_directly() -> None:
    app_cli, blueprint_cli = AppGroup("app"), AppGroup("bp")

    @blueprint_cli.command()
    def create() -> None:
        click.echo("created")

    register_blueprint_commands(app_cli, AppGroup("empty"), "empty")
    assert app_cli.commands == {}
    register_blueprint_commands(app_cli, blueprint_cli, None)
    assert app_cli.commands["create"] is create
    register_blueprint_commands(app_cli, blueprint_cli, "users")
    assert app_cli.commands["users"] is blueprint_cli
    assert blueprint_cli.name == "users"


def test_app_commands_from_the_real_command_line() -> None:
    result = flaskish_command("--app", "hello", "init-db", "--name", "prod.db")
    assert result.stdout == "Initialized prod.db for hello.\n", result.stderr


# -- flaskish routes ---------------------------------------------------------------


def routes_app() -> Flask:
    app = Flask("routes_app", static_folder=None)

    @app.route("/users/<int:id>", methods=["GET", "POST"])
    async def user(id: int) -> str:
        return ""

    @app.route("/about")
    def about() -> str:
        return ""

    @app.route("/<path:anything>")
    def catch_all(anything: str) -> str:
        return ""

    @app.route("/users/<name>")
    def user_by_name(name: str) -> str:
        return ""

    return app


def routes_output(app: Flask, *args: str) -> list[str]:
    result = app.test_cli_runner().invoke(routes_command, list(args))
    assert result.exit_code == 0, result.output
    return str(result.output).splitlines()


def test_routes_lists_endpoint_methods_rule_and_def_or_async_def() -> None:
    assert routes_output(routes_app()) == [
        "Endpoint      Methods    Rule              View",
        "------------  ---------  ----------------  ---------",
        "about         GET        /about            def",
        "catch_all     GET        /<path:anything>  def",
        "user          GET, POST  /users/<int:id>   async def",
        "user_by_name  GET        /users/<name>     def",
    ]


@pytest.mark.parametrize(
    ("sort", "endpoints"),
    [
        ("endpoint", ["about", "catch_all", "user", "user_by_name"]),
        ("rule", ["catch_all", "about", "user", "user_by_name"]),
        ("methods", ["about", "catch_all", "user_by_name", "user"]),
        ("match", ["about", "user", "user_by_name", "catch_all"]),
        ("domain", ["user", "about", "catch_all", "user_by_name"]),  # no domains: as registered
    ],
)
def test_routes_sorts_by_column_or_by_match_order(sort: str, endpoints: list[str]) -> None:
    rows = routes_output(routes_app(), "--sort", sort)[2:]
    assert [row.split()[0] for row in rows] == endpoints


def test_match_order_is_the_order_requests_are_matched_in() -> None:
    app = routes_app()
    client = app.test_client()
    # /users/42 is matched by 'user' before 'user_by_name' and 'catch_all'.
    assert client.post("/users/42").status_code == 200
    assert client.get("/users/ada").status_code == 200


def test_routes_all_methods_shows_head_and_options() -> None:
    rows = routes_output(routes_app(), "--all-methods")
    assert "GET, HEAD, OPTIONS, POST  /users/<int:id>" in "\n".join(rows)


def test_routes_shows_subdomains_and_says_when_there_are_none() -> None:
    app = Flask("domains", static_folder=None, subdomain_matching=True)
    assert routes_output(app) == ["No routes were registered."]
    app.add_url_rule("/", "admin", lambda: "", subdomain="admin")
    app.add_url_rule("/", "index", lambda: "")
    rows = routes_output(app, "--sort", "domain")
    assert rows[0].split() == ["Endpoint", "Methods", "Subdomain", "Rule", "View"]
    assert [row.split()[0] for row in rows[2:]] == ["index", "admin"]


def test_routes_from_the_real_command_line() -> None:
    result = flaskish_command("--app", "hello", "routes", "--sort", "rule")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Endpoint", "Methods", "Rule", "View"]
    assert "slow_async  GET      /slow-async              async def" in lines
    assert "slow        GET      /slow                    def" in lines


# -- flaskish shell ----------------------------------------------------------------


def test_shell_has_app_g_and_the_shell_context_in_scope() -> None:
    script = "\n".join(
        [
            "print(app.name)",
            "print(answer)",
            "g.user = 'ada'",
            "from flaskish import current_app, g as g2",
            "print(g2.user, current_app.name)",
        ]
    )
    result = flaskish_command("--app", "hello", "shell", input=script + "\n")
    assert result.returncode == 0, result.stderr
    assert ">>> hello\n>>> 42\n>>> >>> >>> ada hello\n>>> " in result.stdout
    assert "App: hello" in result.stderr


def test_shell_uses_ipython_when_asked(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[dict[str, Any]] = []
    fake = types.ModuleType("IPython")
    fake.start_ipython = lambda argv, user_ns: started.append(user_ns)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", fake)

    @app.shell_context_processor
    async def models() -> dict[str, object]:
        return {"User": "the model"}

    result = app.test_cli_runner().invoke(shell_command, ["--ipython"])
    assert result.exit_code == 0, result.output
    assert started[0]["app"] is app
    assert started[0]["User"] == "the model"
    assert started[0]["g"] is g


def test_shell_ipython_missing_says_how_to_get_it(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "IPython", None)
    result = app.test_cli_runner().invoke(shell_command, ["--ipython"])
    assert result.exit_code == 2
    assert "IPython is not installed. Install it (pip install ipython)" in result.output
    plain = app.test_cli_runner().invoke(shell_command, input="print(app.name)\n")
    assert "flaskish_test_app" in plain.output


# -- flaskish run, in-process with uvicorn.run recorded ------------------------------------


@pytest.fixture
def uvicorn_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, dict[str, Any]]]:
    """What uvicorn.run was called with; for a reloaded process, what
    RELOAD_FACTORY loads (it serves an error page while that fails). The
    port is not probed (test_cli_serving.py probes it for real)."""
    calls: list[tuple[Any, dict[str, Any]]] = []

    def run(target: Any, **options: Any) -> None:
        if target == RELOAD_FACTORY:
            target = os.environ["FLASKISH_RELOAD_TARGET"]
            options["factory"] = os.environ["FLASKISH_RELOAD_FACTORY"] == "1"
        calls.append((target, options))

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr("flaskish.serving._check_port", lambda host, port: port)
    return calls


def test_run_defaults_serve_the_app_object_on_localhost_5000(uvicorn_calls: list[Any]) -> None:
    result = invoke("--app", "hello", "run")
    assert result.exit_code == 0, result.output
    ((target, options),) = uvicorn_calls
    assert target is sys.modules["hello"].app
    assert options == {
        "host": "127.0.0.1",
        "port": 5000,
        "factory": False,
        "uds": None,
        "root_path": "",
        "reload": False,
        "proxy_headers": False,
    }
    assert result.output.splitlines() == [
        " * Serving flaskish app 'hello'",
        " * Debug mode: off",
        " * Running on http://127.0.0.1:5000 (press CTRL+C to quit)",
    ]


def test_run_passes_every_option_to_uvicorn(uvicorn_calls: list[Any], tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_text("key")
    (tmp_path / "cert.pem").write_text("cert")
    result = invoke(
        "--app",
        "hello",
        "run",
        "--host",
        "0.0.0.0",
        "--port",
        "8001",
        "--root-path",
        "/api",
        "--forwarded-allow-ips",
        "10.0.0.1,10.0.0.2",
        "--log-level",
        "debug",
        "--timeout-graceful-shutdown",
        "7",
        "--ssl-keyfile",
        str(tmp_path / "key.pem"),
        "--ssl-certfile",
        str(tmp_path / "cert.pem"),
        "--uds",
        str(tmp_path / "app.sock"),
    )
    assert result.exit_code == 0, result.output
    ((target, options),) = uvicorn_calls
    assert options == {
        "host": "0.0.0.0",
        "port": 8001,
        "factory": False,
        "uds": str(tmp_path / "app.sock"),
        "root_path": "/api",
        "reload": False,
        "proxy_headers": False,
        "log_level": "debug",
        "timeout_graceful_shutdown": 7,
        "ssl_keyfile": str(tmp_path / "key.pem"),
        "ssl_certfile": str(tmp_path / "cert.pem"),
    }
    # The proxy headers are flaskish.ProxyFix's to read, not uvicorn's.
    assert isinstance(target, ProxyFix) and target.app is sys.modules["hello"].app
    assert (target.x_for, target.x_proto, target.x_host, target.x_prefix) == (1, 1, 0, 0)
    assert f" * Running on unix socket {tmp_path / 'app.sock'}" in result.output
    assert " * Believing X-Forwarded-For and X-Forwarded-Proto from 10.0.0.1,10.0.0.2" in (
        result.output
    )


def test_run_options_come_from_flaskish_run_variables(
    uvicorn_calls: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    env = {
        "FLASKISH_APP": "hello",
        "FLASKISH_RUN_HOST": "0.0.0.0",
        "FLASKISH_RUN_PORT": "8123",
        "FLASKISH_RUN_WORKERS": "3",
        "FLASKISH_RUN_PROXY_HEADERS": "1",
        "FLASKISH_RUN_LOG_LEVEL": "warning",
    }
    result = invoke("run", env=env)
    assert result.exit_code == 0, result.output
    ((target, options),) = uvicorn_calls
    assert (target, options["factory"], options["workers"]) == (PROXY_FACTORY, True, 3)
    assert (options["host"], options["port"], options["log_level"]) == ("0.0.0.0", 8123, "warning")
    assert options["proxy_headers"] is False and "forwarded_allow_ips" not in options
    # Each worker loads the app as without --proxy-headers, inside ProxyFix.
    monkeypatch.setenv("FLASKISH_APP", "hello")  # a worker's, set by CliRunner above
    proxied = load_app_behind_proxy()
    assert isinstance(proxied, ProxyFix) and proxied.app is sys.modules["hello"].app
    assert (proxied.x_for, proxied.x_proto) == (1, 1)
    assert os.environ["FLASKISH_FORWARDED_ALLOW_IPS"] == "127.0.0.1,::1"
    assert "Running on all addresses (0.0.0.0), e.g. http://127.0.0.1:8123, 3 workers" in (
        result.output
    )


def test_workers_and_reload_import_the_app_by_name(
    uvicorn_calls: list[Any], tmp_path: Path
) -> None:
    assert invoke("--app", "factory:create_app('hi')", "run", "--workers", "2").exit_code == 0
    assert os.environ["FLASKISH_APP"] == "factory:create_app('hi')"
    assert load_app_from_environment().config["GREETING"] == "hi"
    result = invoke(
        "--app",
        "hello",
        "run",
        "--reload",
        "--reload-dir",
        str(tmp_path),
        "--reload-include",
        "*.html",
    )
    assert result.exit_code == 0, result.output
    target, options = uvicorn_calls[-1]
    assert (target, options["factory"], options["reload"]) == (WORKER_FACTORY, True, True)
    assert options["reload_dirs"] == [str(tmp_path)]
    assert options["reload_includes"] == ["*.html"]


def test_debug_turns_reload_on_unless_told_otherwise(uvicorn_calls: list[Any]) -> None:
    invoke("--app", "hello", "--debug", "run")
    invoke("--app", "hello", "run", "--debug", "--no-reload")
    invoke("--app", "hello", "--debug", "run", "--workers", "2")
    assert [options["reload"] for _, options in uvicorn_calls] == [True, False, False]
    assert os.environ["FLASKISH_DEBUG"] == "1"  # inherited by the new processes


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--reload", "--workers", "2"], "--reload and --workers cannot be combined"),
        (["--no-reload", "--reload-dir", "."], "--reload-dir and --reload-include need --reload"),
        (["--ssl-keyfile", "hello.py"], "--ssl-keyfile needs --ssl-certfile too."),
        (["--workers", "0"], "0 is not in the range x>=1"),
        (["--log-level", "loud"], "'loud' is not one of"),
    ],
)
def test_run_refuses_options_that_cannot_work(
    uvicorn_calls: list[Any], args: list[str], message: str
) -> None:
    result = invoke("--app", "hello", "run", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert uvicorn_calls == []


def test_a_custom_group_reloads_through_its_create_app(uvicorn_calls: list[Any]) -> None:
    factory = app_module("factory")
    group = FlaskGroup(create_app=factory.create_app)
    assert CliRunner().invoke(group, ["run", "--reload"]).exit_code == 0
    assert uvicorn_calls[-1][0] == "factory:create_app"
    assert uvicorn_calls[-1][1]["factory"] is True
    hello = app_module("hello")
    CliRunner().invoke(FlaskGroup(create_app=lambda: hello.app), ["run", "--workers", "2"])
    assert uvicorn_calls[-1][0] == "hello:app"
    lonely = FlaskGroup(create_app=lambda: Flask("lonely"))
    result = CliRunner().invoke(lonely, ["run", "--reload"])
    assert result.exit_code == 2
    assert "create_app is not a module-level function they could import" in result.output


# -- app.run() -------------------------------------------------------------------------


def test_app_run_defaults_and_server_name(uvicorn_calls: list[Any], app: Flask) -> None:
    run_app(app)
    app.config["SERVER_NAME"] = "example.test:8080"
    app.run()
    app.run(host="127.0.0.2", port=9000, use_reloader=False, threaded=True, use_debugger=True)
    assert [(options["host"], options["port"]) for _, options in uvicorn_calls] == [
        ("127.0.0.1", 5000),
        ("example.test", 8080),
        ("127.0.0.2", 9000),
    ]
    assert all(target is app for target, _ in uvicorn_calls)


def test_app_run_debug_reloads_a_module_level_app_by_name(uvicorn_calls: list[Any]) -> None:
    hello = app_module("hello")
    hello.app.run(debug=True)
    hello.app.run(processes=2)
    assert [
        (target, options["reload"], options.get("workers")) for target, options in uvicorn_calls
    ] == [("hello:app", True, None), ("hello:app", False, 2)]
    assert os.environ["FLASKISH_DEBUG"] == "1"


def test_app_run_reload_of_a_factory_made_app_points_to_the_command(
    uvicorn_calls: list[Any], app: Flask
) -> None:
    app.run(debug=True)  # reload only implied: served without it
    assert uvicorn_calls[-1][0] is app and uvicorn_calls[-1][1]["reload"] is False
    for options in ({"reload": True}, {"workers": 2}):
        with pytest.raises(RuntimeError, match="flaskish --app module:create_app\\(\\) run"):
            app.run(**options)


def test_app_run_inside_the_flaskish_command_does_nothing(
    uvicorn_calls: list[Any], app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    os.environ["FLASKISH_RUN_FROM_CLI"] = "true"
    app.run()
    assert uvicorn_calls == []
    assert "Ignoring a call to 'app.run()'" in capsys.readouterr().out


# -- real servers ------------------------------------------------------------------------


def test_run_serves_requests_on_a_free_port_then_stops(tmp_path: Path) -> None:
    with flaskish_run(tmp_path) as server:
        assert httpx.get(server.url + "/").text == "Hello from flaskish!"
        assert httpx.get(server.url + "/user/ada").text == "Hello, ada!"
        server.process.send_signal(signal.SIGTERM)
        assert exited_with_sigterm(server.process.wait(10))
    assert f" * Running on {server.url} (press CTRL+C to quit)" in server.output()


def test_two_workers_accept_each_others_session_cookie(tmp_path: Path) -> None:
    """Sessions are signed cookies: a worker that never saw the login reads it."""
    with (
        flaskish_run(tmp_path, "--workers", "2") as server,
        httpx.Client(
            base_url=server.url,
            headers={"Connection": "close"},  # a new connection each time
        ) as http,
    ):
        issuer = http.post("/login", params={"user": "ada"}).json()["pid"]
        seen: dict[int, object] = {}
        deadline = time.monotonic() + 15
        while len(seen) < 2 and time.monotonic() < deadline:
            answer = http.get("/whoami").json()
            seen[answer["pid"]] = answer["user"]
    assert len(seen) == 2, f"only one worker answered: {seen}"
    assert issuer in seen
    assert set(seen.values()) == {"ada"}
    assert f"{server.url}, 2 workers" in server.output()


@pytest.mark.parametrize(
    ("run_args", "expected"),
    [
        ([], {"remote_addr": "127.0.0.1", "is_secure": False, "url": "http://example.com/api/"}),
        (
            ["--forwarded-allow-ips", "192.0.2.1"],
            {"remote_addr": "127.0.0.1", "is_secure": False, "url": "http://example.com/api/"},
        ),
        (
            ["--forwarded-allow-ips", "127.0.0.1"],
            {"remote_addr": "203.0.113.7", "is_secure": True, "url": "https://example.com/api/"},
        ),
        (
            ["--proxy-headers"],
            {"remote_addr": "203.0.113.7", "is_secure": True, "url": "https://example.com/api/"},
        ),
    ],
    ids=["not-enabled", "untrusted-proxy", "trusted-proxy", "default-trusts-loopback"],
)
def test_forwarded_headers_count_only_from_trusted_proxies(
    tmp_path: Path, run_args: list[str], expected: dict[str, object]
) -> None:
    headers = {
        "Host": "example.com",
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Proto": "https",
    }
    with flaskish_run(tmp_path, "--root-path", "/api", *run_args) as server:
        assert httpx.get(server.url + "/forwarded", headers=headers).json() == expected


def test_proxy_headers_believe_one_hop_in_every_worker_and_uvicorn_never_adds_its_own(
    tmp_path: Path,
) -> None:
    """``flaskish.ProxyFix(x_for=1, x_proto=1)``: only the value the proxy
    appended counts. uvicorn's own handling (which skips trusted addresses
    and would give ``6.6.6.6`` here) is off in each worker."""
    headers = {"X-Forwarded-For": "6.6.6.6, 127.0.0.1", "X-Forwarded-Proto": "https"}
    with flaskish_run(tmp_path, "--proxy-headers", "--workers", "2") as server:
        answers = [httpx.get(server.url + "/forwarded", headers=headers).json() for _ in range(4)]
    assert {(a["remote_addr"], a["is_secure"]) for a in answers} == {("127.0.0.1", True)}


def test_run_help_says_what_proxy_headers_trust() -> None:
    text = " ".join(invoke("run", "--help").output.split())
    assert (
        "--proxy-headers / --no-proxy-headers Believe the last X-Forwarded-For and "
        "X-Forwarded-Proto values (one proxy: flaskish.ProxyFix with x_for=1, x_proto=1) "
        "on requests from --forwarded-allow-ips."
    ) in text
    assert "(default: $FORWARDED_ALLOW_IPS, else 127.0.0.1,::1)" in text


def test_a_forwarded_allow_ips_entry_that_is_not_an_address_is_a_usage_error(
    uvicorn_calls: list[Any],
) -> None:
    result = invoke("--app", "hello", "run", "--forwarded-allow-ips", "nginx")
    assert result.exit_code == 2 and uvicorn_calls == []
    assert "'nginx' is not an IP address or network" in result.output


def test_run_serves_https_and_unix_sockets(tmp_path: Path) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    openssl = (
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-days",
                "1",
                "-subj",
                "/CN=localhost",
            ],
            capture_output=True,
            check=False,
        )
        if shutil.which("openssl")
        else None
    )
    if openssl is not None and openssl.returncode == 0:
        with flaskish_run(tmp_path, "--ssl-keyfile", str(key), "--ssl-certfile", str(cert)) as s:
            https = s.url.replace("http:", "https:")
            assert httpx.get(https + "/forwarded", verify=False).json()["is_secure"] is True
    uds = str(tmp_path / "app.sock")
    command = [sys.executable, "-m", "flaskish", "--app", "hello", "run", "--uds", uds]
    with (
        server_process(command, tmp_path / "uds.log", uds=uds),
        httpx.Client(transport=httpx.HTTPTransport(uds=uds)) as http,
    ):
        assert http.get("http://app/").text == "Hello from flaskish!"


def slow_request(server: Server, path: str, marker: Path, result: list[Any]) -> threading.Thread:
    """Start a request to *path* in a thread; return once the view has started."""

    def request() -> None:
        try:
            result.append(httpx.get(f"{server.url}{path}&marker={marker}", timeout=30))
        except httpx.HTTPError as error:
            result.append(error)

    thread = threading.Thread(target=request)
    thread.start()
    deadline = time.monotonic() + 10
    while not marker.exists():
        if time.monotonic() > deadline:
            raise AssertionError("the slow view did not start")
        time.sleep(0.01)
    return thread


def test_sigterm_lets_a_request_in_flight_finish(tmp_path: Path) -> None:
    with flaskish_run(tmp_path) as server:
        result: list[Any] = []
        thread = slow_request(server, "/slow?seconds=1", tmp_path / "started", result)
        server.process.send_signal(signal.SIGTERM)
        thread.join(15)
        assert exited_with_sigterm(server.process.wait(10))
    assert result[0].status_code == 200
    assert result[0].text == "finished"


def test_graceful_shutdown_timeout_bounds_the_wait(tmp_path: Path) -> None:
    with flaskish_run(tmp_path, "--timeout-graceful-shutdown", "1") as server:
        result: list[Any] = []
        thread = slow_request(server, "/slow-async?seconds=30", tmp_path / "started", result)
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        assert exited_with_sigterm(server.process.wait(10))
        assert time.monotonic() - started < 5
        thread.join(15)
    assert not isinstance(result[0], httpx.Response) or result[0].status_code == 500


def test_app_run_in_a_script_serves_with_workers(tmp_path: Path) -> None:
    """``python script.py`` with ``app.run(workers=2)``: the workers import ``script:app``."""
    port = free_port()
    command = [sys.executable, "script.py", str(port), "2"]
    with server_process(command, tmp_path / "script.log", port) as server:
        answer = httpx.get(server.url + "/").json()
        assert answer["pid"] != server.process.pid
        assert answer["debug"] is False
    assert f"Running on {server.url}, 2 workers" in server.output()


def test_reload_restarts_the_server_when_the_code_changes(tmp_path: Path) -> None:
    source = tmp_path / "app.py"
    source.write_text(
        "from flaskish import Flask\napp = Flask(__name__)\n"
        "@app.route('/')\ndef index():\n    return 'version 1'\n"
    )
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "flaskish",
        "run",
        "--reload",
        "--port",
        str(port),
        "--reload-dir",
        str(tmp_path),
        "--log-level",
        "warning",
    ]
    with server_process(command, tmp_path / "server.log", port, cwd=tmp_path) as server:
        assert httpx.get(server.url).text == "version 1"
        new_source = source.read_text().replace("version 1", "version 2")
        deadline = time.monotonic() + 15
        written = 0.0
        while time.monotonic() < deadline:
            # The reloader's file watcher may start after the server answers:
            # a change made before it watches is never seen, so write again
            # until one is.
            if time.monotonic() - written > 1:
                source.write_text(new_source)
                written = time.monotonic()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(server.url).text == "version 2":
                    break
            time.sleep(0.1)
        else:
            raise AssertionError(f"the server did not reload:\n{server.output()}")
    assert "reloading on changes" in server.output()


def test_flask_run_variables_are_honoured_and_flaskish_ones_win(
    uvicorn_calls: list[Any], tmp_path: Path
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("cert")
    key.write_text("key")
    result = invoke(
        "--app",
        "hello",
        "run",
        env={
            "FLASK_RUN_HOST": "127.0.0.2",
            "FLASK_RUN_PORT": "8001",
            "FLASK_RUN_CERT": str(cert),
            "FLASK_RUN_KEY": str(key),
        },
    )
    assert result.exit_code == 0, result.output
    options = uvicorn_calls[-1][1]
    assert (options["host"], options["port"]) == ("127.0.0.2", 8001)
    assert (options["ssl_certfile"], options["ssl_keyfile"]) == (str(cert), str(key))
    assert "Running on https://127.0.0.2:8001" in result.output
    invoke("--app", "hello", "run", env={"FLASK_RUN_PORT": "8001", "FLASKISH_RUN_PORT": "8002"})
    assert uvicorn_calls[-1][1]["port"] == 8002


def test_flask_run_variables_from_flaskenv(
    uvicorn_calls: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "hello.py").write_text((APPS / "hello.py").read_text())
    (tmp_path / ".flaskenv").write_text("FLASK_APP=hello\nFLASK_RUN_PORT=8003\n")
    monkeypatch.chdir(tmp_path)
    result = invoke("run")
    assert result.exit_code == 0, result.output
    assert uvicorn_calls[-1][1]["port"] == 8003


def test_flask_run_variables_with_no_meaning_here_are_named(uvicorn_calls: list[Any]) -> None:
    result = invoke("--app", "hello", "run", env={"FLASK_RUN_WITH_THREADS": "1"})
    assert result.exit_code == 0
    assert (
        "FLASK_RUN_WITH_THREADS is set, and ignored: def views always run on worker "
        "threads" in result.output
    )


def test_reload_serves_a_page_that_says_why_the_app_does_not_load(
    uvicorn_calls: list[Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from starlette.testclient import TestClient

    from flaskish.serving import load_app_for_reload

    assert invoke("--app", "hello", "run", "--reload").exit_code == 0
    (tmp_path / "broken_now.py").write_text("def oops(:\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("FLASKISH_RELOAD_TARGET", "broken_now:app")
    monkeypatch.setenv("FLASKISH_RELOAD_FACTORY", "0")
    monkeypatch.setenv("FLASKISH_DEBUG", "1")
    failed = load_app_for_reload()
    with TestClient(failed) as client:
        response = client.get("/")
    assert response.status_code == 500
    assert "The app failed to load" in response.text and "SyntaxError" in response.text
    monkeypatch.setenv("FLASKISH_DEBUG", "0")
    with TestClient(load_app_for_reload()) as client:
        assert "SyntaxError" not in client.get("/").text  # the traceback only in debug mode
