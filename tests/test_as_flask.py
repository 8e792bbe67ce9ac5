"""``flaskish.install_as_flask()``: after one call, ``import flask`` and
every ``flask.*`` module resolve to flaskish for the whole process, so an
extension's ``from flask import current_app`` sees flaskish's context.

Each test runs in a fresh interpreter: the switch is process-wide, and this
test process has imported real Flask (the session interop tests use it).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(code: str, tmp_path: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run *code* in a fresh interpreter (with *tmp_path* on its path)."""
    env_path = [str(ROOT)] + ([str(tmp_path)] if tmp_path else [])
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=str(tmp_path or ROOT),
        env={"PYTHONPATH": ":".join(env_path), "PATH": "/usr/bin:/bin"},
    )


def check(code: str, tmp_path: Path | None = None) -> str:
    result = run(code, tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_flask_names_are_flaskish_objects() -> None:
    out = check("""
        import flaskish
        flaskish.install_as_flask()
        import flask, flask.json, flask.globals, flask.views
        from flask import Flask, current_app, request
        from flask.json.tag import TaggedJSONSerializer
        from flask.sansio.scaffold import Scaffold
        assert Flask is flaskish.Flask and current_app is flaskish.current_app
        assert request is flaskish.request
        assert flask.json is flaskish.json and flask.views is flaskish.views
        assert TaggedJSONSerializer is flaskish.json.tag.TaggedJSONSerializer
        assert Scaffold is flaskish.scaffold.Scaffold
        print("ok")
    """)
    assert out.strip() == "ok"


def test_an_extension_written_for_flask_uses_flaskish_contexts(tmp_path: Path) -> None:
    """A stand-in extension that imports ``flask`` as real ones do."""
    (tmp_path / "flask_greeter.py").write_text(
        textwrap.dedent("""
        from flask import current_app, g, request

        class Greeter:
            def __init__(self, app=None):
                if app is not None:
                    self.init_app(app)

            def init_app(self, app):
                app.extensions["greeter"] = self
                app.before_request(self._before)

            def _before(self):
                g.greeting = f"hello {request.args.get('name', 'you')} from {current_app.name}"
    """)
    )
    out = check(
        """
        import flaskish
        flaskish.install_as_flask()
        from flask import Flask, g
        from flask_greeter import Greeter

        app = Flask("demo")
        Greeter(app)

        @app.route("/")
        async def index():
            return g.greeting

        assert isinstance(app, flaskish.Flask)
        print(app.test_client().get("/?name=ada").text)
    """,
        tmp_path,
    )
    assert out.strip() == "hello ada from demo"


def test_calling_it_twice_is_harmless() -> None:
    check("""
        import flaskish
        flaskish.install_as_flask()
        flaskish.install_as_flask()
        import flask
        assert flask.Flask is flaskish.Flask
    """)


def test_it_refuses_once_real_flask_was_imported() -> None:
    result = run("""
        import flask
        import flaskish
        flaskish.install_as_flask()
    """)
    assert result.returncode != 0
    assert "Flask's own modules were already imported" in result.stderr
    assert "before importing flask or any Flask extension" in result.stderr


def test_flask_version_is_the_api_flaskish_implements() -> None:
    out = check("""
        import importlib.metadata, warnings
        import flaskish
        flaskish.install_as_flask()
        import flask
        print(importlib.metadata.version("flask"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            print(flask.__version__)
        assert caught and caught[0].category is DeprecationWarning
    """)
    assert out.split() == [flaskish_api_version(), flaskish_api_version()]


def flaskish_api_version() -> str:
    from flaskish.as_flask import FLASK_API_VERSION

    assert FLASK_API_VERSION.startswith("3.1.")
    return FLASK_API_VERSION


def test_a_flask_module_flaskish_lacks_names_what_is_missing() -> None:
    result = run("""
        import flaskish
        flaskish.install_as_flask()
        import flask.no_such_module
    """)
    assert result.returncode != 0
    assert "flaskish has no module 'flaskish.no_such_module'" in result.stderr
    assert "imported as 'flask.no_such_module'" in result.stderr


def test_a_flask_name_flaskish_lacks_names_what_is_missing() -> None:
    result = run("""
        import flaskish
        flaskish.install_as_flask()
        import flask
        flask.no_such_name
    """)
    assert result.returncode != 0
    assert "flaskish has no 'no_such_name', which the code imported as 'flask.no_such_name'" in (
        result.stderr
    )


@pytest.mark.parametrize("module", ["flask", "flask.json"])
def test_is_installed_as_flask_tells(module: str) -> None:
    out = check(f"""
        import flaskish
        from flaskish.as_flask import is_installed_as_flask
        before = is_installed_as_flask()
        flaskish.install_as_flask()
        import {module}
        print(before, is_installed_as_flask())
    """)
    assert out.split() == ["False", "True"]


def test_flask_cli_plugins_appear_in_the_flaskish_command(tmp_path: Path) -> None:
    """A package registering a command under Flask's ``flask.commands``
    entry-point group (as Flask-Migrate registers ``db``) adds it to the
    ``flaskish`` command, and the command sees flaskish's app."""
    (tmp_path / "greet_plugin.py").write_text(
        textwrap.dedent("""
        import click
        from flask import current_app
        from flask.cli import with_appcontext

        @click.command("greet")
        @with_appcontext
        def greet():
            click.echo(f"greetings from {current_app.name}")
    """)
    )
    info = tmp_path / "greet_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: greet-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[flask.commands]\ngreet = greet_plugin:greet\n")
    (tmp_path / "hello.py").write_text("from flaskish import Flask\napp = Flask('hello')\n")
    out = check(
        """
        from flaskish.cli import cli
        cli.main(["--app", "hello", "greet"], standalone_mode=False)
    """,
        tmp_path,
    )
    assert out.strip() == "greetings from hello"


# -- the pieces, in this process (without installing anything) ------------------------


def test_the_finder_maps_flask_module_names_to_flaskish_modules() -> None:
    import flaskish.json
    import flaskish.scaffold
    from flaskish.as_flask import FLASK_API_VERSION, _FlaskFinder

    finder = _FlaskFinder()
    assert finder.find_spec("flaskish.json", None) is None  # only flask.* names
    assert finder.find_spec("flask", None) is None  # "flask" itself is the module object
    spec = finder.find_spec("flask.json", None)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    saved = sys.modules.get("flask.json")
    try:
        spec.loader.exec_module(module)
        assert sys.modules["flask.json"] is flaskish.json
    finally:
        if saved is not None:
            sys.modules["flask.json"] = saved
    renamed = finder.find_spec("flask.sansio.scaffold", None)
    assert renamed is not None and renamed.loader.target is flaskish.scaffold  # type: ignore[union-attr]
    with pytest.raises(ModuleNotFoundError, match=r"flaskish has no module 'flaskish\.nope'"):
        finder.find_spec("flask.nope", None)

    (dist,) = finder.find_distributions(importlib.metadata.DistributionFinder.Context(name="Flask"))
    assert dist.version == FLASK_API_VERSION and dist.metadata["Name"] == "Flask"
    with pytest.raises(FileNotFoundError):
        dist.locate_file("flask/__init__.py")
    assert dist.read_text("entry_points.txt") is None
    assert (
        list(
            finder.find_distributions(
                importlib.metadata.DistributionFinder.Context(name="flask-login")
            )
        )
        == []
    )
    assert list(finder.find_distributions(importlib.metadata.DistributionFinder.Context())) == []


def test_the_flask_module_reads_every_name_from_flaskish() -> None:
    import flaskish
    from flaskish.as_flask import FLASK_API_VERSION, _FlaskModule

    module = _FlaskModule("flask")
    assert module.Flask is flaskish.Flask and module.request is flaskish.request
    assert "Flask" in dir(module) and "__version__" in dir(module)
    with pytest.warns(DeprecationWarning, match=r"importlib\.metadata\.version"):
        assert module.__version__ == FLASK_API_VERSION
    with pytest.raises(AttributeError, match=r"imported as 'flask\.nothing_here'"):
        module.nothing_here  # noqa: B018
