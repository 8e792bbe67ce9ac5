"""The options of the ``flaskish`` command (:class:`~flaskish.cli.FlaskGroup`):
``--env-file``, ``--app``, ``--debug`` and ``--version``, and the callbacks
that apply them before the app is loaded.
"""

from __future__ import annotations

import os
import platform

import click
import starlette
import uvicorn
from click.core import ParameterSource

from . import __version__
from .discovery import ScriptInfo, load_dotenv

__all__ = ["get_version", "version_option"]


def get_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """The callback of ``--version`` (:data:`version_option`), as Flask's
    ``flask.cli.get_version``: print the versions of flaskish, Starlette,
    uvicorn and Python and exit, when *value* is set.

    :param ctx: the click context.
    :param param: the option.
    :param value: whether ``--version`` was given.
    """
    if not value or ctx.resilient_parsing:
        return
    click.echo(
        f"flaskish {__version__}\nStarlette {starlette.__version__}\n"
        f"uvicorn {uvicorn.__version__}\nPython {platform.python_version()}",
        color=ctx.color,
    )
    ctx.exit()


def _set_app(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        ctx.ensure_object(ScriptInfo).app_import_path = value
    return value


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool | None:
    # Unless given (or set in the environment), leave debug to FLASKISH_DEBUG.
    source = ctx.get_parameter_source(param.name or "debug")
    if source in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP):
        return None
    # An environment variable, so that a factory sees it and worker processes inherit it.
    os.environ["FLASKISH_DEBUG"] = "1" if value else "0"
    return value


def _load_env_file(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        try:  # imported here: python-dotenv is optional (flaskish[dotenv])
            import dotenv  # noqa: F401
        except ImportError:
            raise click.BadParameter(
                "python-dotenv must be installed to load an env file: "
                "pip install 'flaskish[dotenv]'.",
                ctx=ctx,
                param=param,
            ) from None
    defaults = ctx.ensure_object(ScriptInfo).load_dotenv_defaults
    if value is not None or defaults:
        load_dotenv(value, load_defaults=defaults)
    return value


#: The ``--version`` option of :class:`~flaskish.cli.FlaskGroup` (Flask's
#: ``flask.cli.version_option``), for groups of your own.
version_option = click.Option(
    ["--version"],
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=get_version,
    help="Show the flaskish, Starlette, uvicorn and Python versions.",
)
# Eager, so that the app (and its commands) can be loaded for --help.
_app_option = click.Option(
    ["-A", "--app"],
    metavar="IMPORT",
    is_eager=True,
    expose_value=False,
    callback=_set_app,
    envvar=["FLASKISH_APP", "FLASK_APP"],
    help="The app or factory to load: 'module:name', 'module:create_app(args)' or a file "
    "path. The name may be left out if it is 'app', 'application', 'create_app' or "
    "'make_app'. [env var: FLASKISH_APP, FLASK_APP]",
)
_debug_option = click.Option(
    ["--debug/--no-debug"],
    expose_value=False,
    callback=_set_debug,
    envvar=["FLASKISH_DEBUG", "FLASK_DEBUG"],
    help="Set debug mode (and reload by default).",
)
# First and eager, so that variables it sets are seen by the other options.
_env_file_option = click.Option(
    ["-e", "--env-file"],
    type=click.Path(exists=True, dir_okay=False),
    is_eager=True,
    expose_value=False,
    callback=_load_env_file,
    help="Load environment variables from this file, over '.env' and '.flaskenv'; "
    "variables already set win. Needs python-dotenv.",
)


#: Passes the :class:`ScriptInfo` to a command: ``@pass_script_info def cmd(info): ...``.
pass_script_info = click.make_pass_decorator(ScriptInfo, ensure=True)


def _flask_envvars(command: click.Command) -> None:
    """Let every option of *command* be set as in Flask too:
    ``FLASK_<COMMAND>_<OPTION>`` after flaskish's ``FLASKISH_<COMMAND>_<OPTION>``
    (and ``FLASK_RUN_CERT`` / ``FLASK_RUN_KEY``, Flask's names of the TLS files)."""
    prefix = (command.name or "").upper().replace("-", "_")
    for param in command.params:
        if not isinstance(param, click.Option) or param.envvar is not None or not param.name:
            continue
        names = [param.name.upper()]
        names += [
            opt.lstrip("-").upper().replace("-", "_")
            for opt in param.opts
            if opt.startswith("--") and opt.lstrip("-").upper().replace("-", "_") not in names
        ]
        param.envvar = [f"FLASKISH_{prefix}_{name}" for name in names] + [
            f"FLASK_{prefix}_{name}" for name in names
        ]
