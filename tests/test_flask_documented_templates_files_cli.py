"""Flask's documented behaviours of templates, file responses and the CLI
helpers extensions import: ``EXPLAIN_TEMPLATE_LOADING``, a custom
``jinja_environment``, ``send_file``'s ``direct_passthrough``, and
``flaskish.cli``'s ``get_version`` / ``ScriptInfo`` / ``FlaskGroup`` /
``with_appcontext`` / ``pass_script_info`` / ``load_dotenv``.

Each test quotes the Flask documentation (or docstring) sentence it checks.
"""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from jinja2 import TemplateNotFound

import flaskish
from flaskish import Blueprint, Flask, current_app, render_template, send_file
from flaskish.cli import (
    FlaskGroup,
    ScriptInfo,
    get_version,
    load_dotenv,
    pass_script_info,
    version_option,
    with_appcontext,
)
from flaskish.templating import Environment
from flaskish.testing import FlaskClient

HERE = Path(__file__).resolve().parent

# -- EXPLAIN_TEMPLATE_LOADING -----------------------------------------------------------


@pytest.fixture
def explained(app: Flask) -> Iterator[list[str]]:
    """The messages ``app.logger`` logs at INFO."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Collect(logging.INFO)
    app.logger.addHandler(handler)
    level = app.logger.level
    app.logger.setLevel(logging.INFO)
    app.config["EXPLAIN_TEMPLATE_LOADING"] = True
    yield messages
    app.logger.removeHandler(handler)
    app.logger.setLevel(level)


def _app_with_blueprints(app: Flask) -> None:
    admin = Blueprint("admin", "blueprint_app.admin", template_folder="templates")
    frontend = Blueprint("frontend", "blueprint_app.frontend", template_folder="templates")

    @frontend.route("/missing")
    def missing() -> str:
        return render_template("missing_template.html")

    app.register_blueprint(admin, url_prefix="/admin")
    app.register_blueprint(frontend)


def test_explain_template_loading_logs_each_loader_tried(
    app: Flask, client: FlaskClient, explained: list[str]
) -> None:
    """``EXPLAIN_TEMPLATE_LOADING``: "Log debugging information tracing how
    a template file was loaded. This can be useful to figure out why a
    template was not loaded or the wrong file appears to be loaded." The
    text is Flask's ``explain_template_loading_attempts`` (its
    ``test_template_loader_debugging``)."""
    _app_with_blueprints(app)
    with pytest.raises(TemplateNotFound, match=r"missing_template\.html"):
        client.get("/missing")
    (text,) = explained
    assert text.startswith("Locating template 'missing_template.html':")
    assert "1: trying loader of application 'flaskish_test_app'" in text
    assert "2: trying loader of blueprint 'admin' (blueprint_app.admin)" in text
    assert "3: trying loader of blueprint 'frontend' (blueprint_app.frontend)" in text
    assert "class: jinja2.loaders.FileSystemLoader" in text
    assert "-> no match" in text
    assert "Error: the template could not be found." in text
    assert "looked up from an endpoint that belongs to the blueprint 'frontend'" in text
    assert "See https://flask.palletsprojects.com/blueprints/#templates" in text


def test_explain_template_loading_warns_when_several_loaders_match(
    app: Flask, tmp_path: Path, explained: list[str]
) -> None:
    """Flask's explanation ends with "Warning: multiple loaders returned a
    match for the template." when the wrong file may be the one loaded; the
    first match is still the one used."""
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "page.html").write_text(name)
    app.register_blueprint(Blueprint("one", __name__, template_folder=str(tmp_path / "one")))
    app.register_blueprint(Blueprint("two", __name__, template_folder=str(tmp_path / "two")))
    with app.app_context():
        assert render_template("page.html") == "one"
    (text,) = explained
    assert f"-> found ({str(tmp_path / 'one' / 'page.html')!r})" in text
    assert "Warning: multiple loaders returned a match for the template." in text


# -- jinja_environment ----------------------------------------------------------------


def test_a_flask_subclass_chooses_its_jinja_environment_class() -> None:
    """Flask's ``jinja_environment``: "The class that is used for the Jinja
    environment." (Flask's ``test_custom_jinja_env``.)"""

    class CustomEnvironment(Environment):
        pass

    class CustomFlask(Flask):
        jinja_environment = CustomEnvironment

    app = CustomFlask(__name__)
    assert isinstance(app.jinja_env, CustomEnvironment)
    assert app.jinja_env.app is app
    with app.app_context():
        assert flaskish.render_template_string("{{ 40 + 2 }}") == "42"


# -- send_file and direct_passthrough -------------------------------------------------


def test_send_file_responses_are_in_direct_passthrough_mode() -> None:
    """Werkzeug's ``Response``: "direct_passthrough: Pass the response body
    directly through as the WSGI iterable. This can be used when the body
    is a binary file or other iterator of bytes, to skip some unnecessary
    checks." Flask's ``test_send_file`` then sets it to ``False`` to read
    the body with ``rv.data``."""
    app = Flask("templates_app", root_path=str(HERE / "templates_app"))
    with app.test_request_context():
        rv = send_file("static/style.css")
        assert rv.direct_passthrough
        assert rv.mimetype == "text/css"
        with pytest.raises(RuntimeError, match="direct passthrough mode"):
            rv.get_data()
        with app.open_resource("static/style.css") as f:
            rv.direct_passthrough = False
            assert rv.data == f.read()
        rv.close()


def test_a_direct_passthrough_body_is_still_sent_whole(client: FlaskClient, app: Flask) -> None:
    """The flag only tells code that would buffer the body to leave it; the
    body is sent unchanged (and an ``after_request`` hook may look at the
    flag, as Flask-Compress does, to skip it)."""
    app.root_path = str(HERE / "templates_app")
    seen: list[bool] = []

    @app.after_request
    def look(response: flaskish.Response) -> flaskish.Response:
        seen.append(response.direct_passthrough)
        return response

    @app.route("/file")
    def file() -> Any:
        return send_file("static/style.css")

    response = client.get("/file")
    assert response.data == (HERE / "templates_app" / "static" / "style.css").read_bytes()
    assert seen == [True]


# -- the CLI helpers extensions import ------------------------------------------------


def test_the_cli_helpers_have_flasks_signatures() -> None:
    """Flask's ``flask.cli``: ``ScriptInfo(app_import_path=None,
    create_app=None, set_debug_flag=True, load_dotenv_defaults=True)``,
    ``FlaskGroup(add_default_commands=True, create_app=None,
    add_version_option=True, load_dotenv=True, set_debug_flag=True)``,
    ``load_dotenv(path=None, load_defaults=True)``, and the ``--version``
    option with its ``get_version(ctx, param, value)`` callback."""

    def defaults(func: Any) -> dict[str, Any]:
        return {
            name: p.default
            for name, p in inspect.signature(func).parameters.items()
            if p.default is not inspect.Parameter.empty
        }

    assert defaults(ScriptInfo) == {
        "app_import_path": None,
        "create_app": None,
        "set_debug_flag": True,
        "load_dotenv_defaults": True,
    }
    assert defaults(FlaskGroup) == {
        "add_default_commands": True,
        "create_app": None,
        "add_version_option": True,
        "load_dotenv": True,
        "set_debug_flag": True,
    }
    assert defaults(load_dotenv) == {"path": None, "load_defaults": True}
    assert list(inspect.signature(get_version).parameters) == ["ctx", "param", "value"]
    assert version_option.opts == ["--version"] and version_option.callback is get_version
    assert version_option.is_eager and not version_option.expose_value


def test_version_option_prints_the_versions_on_a_group_of_your_own() -> None:
    """Flask's ``get_version`` prints the versions and exits; an extension's
    own group adds it with ``params=[version_option]``."""

    @click.group(params=[version_option])
    def cli() -> None:
        pass

    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert f"flaskish {flaskish.__version__}" in result.output
    assert result.output.splitlines()[-1].startswith("Python ")


def test_script_info_loads_the_app_once_with_the_debug_flag(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``ScriptInfo.load_app``: "Loads the Flask app (if not yet loaded)
    and returns it." With ``set_debug_flag``, ``app.debug`` is set from
    ``FLASK_DEBUG``; without it, the app keeps its own."""
    monkeypatch.setenv("FLASK_DEBUG", "0")
    monkeypatch.delenv("FLASKISH_DEBUG", raising=False)
    made: list[Flask] = []

    def create_app() -> Flask:
        made.append(Flask("script_info_app"))
        made[-1].debug = True
        return made[-1]

    info = ScriptInfo(create_app=create_app)
    assert info.load_app() is info.load_app() is made[0]
    assert len(made) == 1 and made[0].debug is False
    assert ScriptInfo(create_app=create_app, set_debug_flag=False).load_app().debug is True


@pytest.mark.parametrize("set_debug_flag", [True, False])
def test_flask_group_commands_run_in_the_app_context(set_debug_flag: bool) -> None:
    """Flask's ``test_flaskgroup_debug``: a ``FlaskGroup`` built with
    ``create_app`` and ``set_debug_flag`` runs its commands in the app's
    context; ``with_appcontext`` and ``pass_script_info`` work on plain
    click commands."""

    def create_app() -> Flask:
        app = Flask("flaskgroup")
        app.debug = True
        return app

    @click.group(cls=FlaskGroup, create_app=create_app, set_debug_flag=set_debug_flag)
    def cli(**params: Any) -> None:
        pass

    @cli.command()
    def test() -> None:
        click.echo(f"{current_app.name} {current_app.debug}")

    @cli.command()
    @pass_script_info
    def info(script_info: ScriptInfo) -> None:
        click.echo(type(script_info).__name__)

    @click.command()
    @with_appcontext
    def plain() -> None:
        click.echo(current_app.name)

    runner = CliRunner(env={"FLASK_DEBUG": None, "FLASKISH_DEBUG": None})
    result = runner.invoke(cli, ["test"])
    assert result.exit_code == 0, result.output
    assert result.output == f"flaskgroup {not set_debug_flag}\n"
    assert runner.invoke(cli, ["info"]).output == "ScriptInfo\n"
    result = runner.invoke(plain, obj=ScriptInfo(create_app=lambda: Flask("plainapp")))
    assert result.output == "plainapp\n"


def test_load_dotenv_says_whether_it_loaded_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``load_dotenv``: "Returns ``True`` if a file was loaded." Variables
    already set win, ``.env`` wins over ``.flaskenv`` (Flask's
    ``test_load_dotenv``)."""
    (tmp_path / ".env").write_text("FOO=env\nSPAM=1\nEGGS=2\n")
    (tmp_path / ".flaskenv").write_text("FOO=flaskenv\nBAR=bar\nEGGS=0\n")
    for name in ("FOO", "BAR", "SPAM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("EGGS", "3")
    monkeypatch.chdir(tmp_path)
    try:
        assert load_dotenv() is True
        assert (os.environ["FOO"], os.environ["BAR"], os.environ["SPAM"], os.environ["EGGS"]) == (
            "env",
            "bar",
            "1",
            "3",
        )
        assert load_dotenv("non-existent-file", load_defaults=False) is False
    finally:
        for name in ("FOO", "BAR", "SPAM"):
            os.environ.pop(name, None)
