"""The ``flaskish`` command and the click groups apps add commands to.

``flaskish --app hello run`` serves an app with uvicorn, ``flaskish routes``
lists its URL rules, ``flaskish shell`` opens a Python shell in its app
context, and ``@app.cli.command()`` adds commands of your own, run inside
the app context. The behaviour is Flask's (``flask run``, ``FLASK_APP``,
``app.cli``, ``FlaskGroup``), with uvicorn in place of Werkzeug's server.
Finding the app lives in :mod:`flaskish.discovery`, serving in
:mod:`flaskish.serving`.
"""

from __future__ import annotations

import code
import importlib
import importlib.util
import inspect
import os
import sys
import traceback
from collections.abc import Callable
from functools import update_wrapper
from importlib import metadata
from operator import itemgetter
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .as_flask import install_as_flask
from .cli_options import (
    _app_option,
    _debug_option,
    _env_file_option,
    _flask_envvars,
    get_version,
    pass_script_info,
    version_option,
)
from .cli_run import run_command
from .concurrency import is_async_callable
from .ctx import has_app_context
from .discovery import (
    NoAppException,
    ScriptInfo,
    find_app_by_string,
    find_best_app,
    get_debug_flag,
    get_load_dotenv,
    load_dotenv,
    locate_app,
    prepare_import,
)
from .globals import current_app
from .serving import run_app

if TYPE_CHECKING:
    from .app import Flask
    from .routing import Rule

__all__ = [
    "AppGroup",
    "FlaskGroup",
    "NoAppException",
    "ScriptInfo",
    "cli",
    "find_app_by_string",
    "find_best_app",
    "get_debug_flag",
    "get_load_dotenv",
    "get_version",
    "load_dotenv",
    "locate_app",
    "main",
    "make_shell_context",
    "pass_script_info",
    "prepare_import",
    "register_blueprint_commands",
    "routes_command",
    "run_app",
    "run_command",
    "shell_command",
    "version_option",
    "with_appcontext",
]

F = TypeVar("F", bound=Callable[..., Any])


def with_appcontext(f: F) -> F:
    """Run a click command (and its subcommands) inside the app's context,
    loading the app first if no context is pushed. Commands added to
    ``app.cli`` get this without asking.

    :param f: the command callback.
    """

    @click.pass_context
    def decorator(ctx: click.Context, /, *args: Any, **kwargs: Any) -> Any:
        if not has_app_context():
            app = ctx.ensure_object(ScriptInfo).load_app()
            ctx.with_resource(app.app_context())
        return ctx.invoke(f, *args, **kwargs)

    return update_wrapper(decorator, f)  # type: ignore[return-value]


class AppGroup(click.Group):
    """A click group whose :meth:`command` wraps callbacks in
    :func:`with_appcontext` and whose :meth:`group` makes more
    :class:`AppGroup` s. ``app.cli`` is one."""

    def command(  # type: ignore[override]
        self, *args: Any, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], click.Command]:
        """Like :meth:`click.Group.command`, run in the app context unless
        ``with_appcontext=False`` is passed.

        :param args: passed to :meth:`click.Group.command`.
        :param kwargs: passed to :meth:`click.Group.command`, plus ``with_appcontext``.
        """
        wrap = kwargs.pop("with_appcontext", True)

        def decorator(f: Callable[..., Any]) -> click.Command:
            if wrap:
                f = with_appcontext(f)
            return click.Group.command(self, *args, **kwargs)(f)  # type: ignore[no-any-return]

        return decorator

    def group(  # type: ignore[override]
        self, *args: Any, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], click.Group]:
        """Like :meth:`click.Group.group`, making an :class:`AppGroup` by default.

        :param args: passed to :meth:`click.Group.group`.
        :param kwargs: passed to :meth:`click.Group.group`.
        """
        kwargs.setdefault("cls", AppGroup)
        return click.Group.group(self, *args, **kwargs)  # type: ignore[no-any-return]


def register_blueprint_commands(
    app_cli: click.Group, blueprint_cli: click.Group, cli_group: str | None
) -> None:
    """Add a blueprint's commands to the app's, as Flask's
    ``register_blueprint`` does: under the group *cli_group*
    (``flaskish users create``), or straight into ``app.cli`` when it is
    ``None`` (``flaskish create``). Blueprint registration calls this.

    :param app_cli: ``app.cli``.
    :param blueprint_cli: ``blueprint.cli``.
    :param cli_group: the group name (Flask's default is the blueprint's
        name), or ``None``.
    """
    if not blueprint_cli.commands:
        return
    if cli_group is None:
        app_cli.commands.update(blueprint_cli.commands)
    else:
        blueprint_cli.name = cli_group
        app_cli.add_command(blueprint_cli)


class FlaskGroup(AppGroup):
    """The ``flaskish`` command as a group you can build your own script
    from: it knows ``--app``, ``--debug``, ``--env-file`` and ``--version``,
    has the ``run``, ``shell`` and ``routes`` commands, and adds the loaded
    app's ``app.cli`` commands and those of installed packages (entry points
    in the ``flaskish.commands`` group, and in Flask's ``flask.commands``
    group, which turns on :func:`~flaskish.install_as_flask`).

    :param add_default_commands: add ``run``, ``shell`` and ``routes``.
    :param create_app: a function returning the app, instead of ``--app``.
    :param add_version_option: add ``--version``.
    :param load_dotenv: load ``.env`` and ``.flaskenv``.
    :param set_debug_flag: set ``app.debug`` from ``FLASKISH_DEBUG``.
    :param extra: passed to :class:`click.Group`; ``auto_envvar_prefix``
        defaults to ``FLASKISH`` so every option has a ``FLASKISH_...``
        (``FLASKISH_RUN_PORT``) variable.
    """

    def __init__(
        self,
        add_default_commands: bool = True,
        create_app: Callable[..., Flask] | None = None,
        add_version_option: bool = True,
        load_dotenv: bool = True,
        set_debug_flag: bool = True,
        **extra: Any,
    ) -> None:
        params: list[click.Parameter] = list(extra.pop("params", None) or ())
        params.extend((_env_file_option, _app_option, _debug_option))
        if add_version_option:
            params.append(version_option)
        extra.setdefault("context_settings", {}).setdefault("auto_envvar_prefix", "FLASKISH")
        super().__init__(params=params, **extra)
        self.create_app = create_app
        self.load_dotenv = load_dotenv
        self.set_debug_flag = set_debug_flag
        if add_default_commands:
            self.add_command(run_command)
            self.add_command(shell_command)
            self.add_command(routes_command)
        self._plugins_loaded = False

    def _load_plugin_commands(self) -> None:
        if self._plugins_loaded:
            return
        for entry_point in metadata.entry_points(group="flaskish.commands"):
            self.add_command(entry_point.load(), entry_point.name)
        flask_plugins = list(metadata.entry_points(group="flask.commands"))
        if flask_plugins:
            # Flask's plugins (Flask-Migrate's ``db``) import ``flask``: it
            # must mean flaskish for them to see the app flaskish loaded.
            try:
                install_as_flask()
            except RuntimeError as error:
                click.secho(f"Warning: Flask CLI plugins not loaded: {error}", err=True)
                flask_plugins = []
        for entry_point in flask_plugins:
            if entry_point.name not in self.commands:
                self.add_command(entry_point.load(), entry_point.name)
        self._plugins_loaded = True

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """A built-in or plugin command, else one of the app's (in its app context).

        :param ctx: the click context.
        :param cmd_name: the command's name.
        """
        self._load_plugin_commands()
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        try:
            app = ctx.ensure_object(ScriptInfo).load_app()
        except NoAppException as error:
            click.secho(f"Error: {error.format_message()}\n", err=True, fg="red")
            return None
        if not has_app_context() or current_app._get_current_object() is not app:  # type: ignore[attr-defined]
            ctx.with_resource(app.app_context())
        return app.cli.get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The built-in, plugin and app commands; an app that fails to load
        is reported and its commands left out.

        :param ctx: the click context.
        """
        self._load_plugin_commands()
        names = set(super().list_commands(ctx))
        try:
            names.update(ctx.ensure_object(ScriptInfo).load_app().cli.list_commands(ctx))
        except NoAppException as error:
            click.secho(f"Error: {error.format_message()}\n", err=True, fg="red")
        except Exception:
            click.secho(f"{traceback.format_exc()}\n", err=True, fg="red")
        return sorted(names)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """Create the context, with a :class:`ScriptInfo` as its ``obj``.

        :param info_name: the program name.
        :param args: the command line arguments.
        :param parent: the parent context.
        :param extra: passed to :meth:`click.Group.make_context`.
        """
        # Makes app.run() a no-op, should the app's module call it on import.
        os.environ["FLASKISH_RUN_FROM_CLI"] = "true"
        if "obj" not in extra and "obj" not in self.context_settings:
            extra["obj"] = ScriptInfo(
                create_app=self.create_app,
                set_debug_flag=self.set_debug_flag,
                load_dotenv_defaults=self.load_dotenv,
            )
        return super().make_context(info_name, args, parent=parent, **extra)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse *args*; for bare ``--help``, read ``--env-file`` and
        ``--app`` from the environment first so the app's commands are listed.

        :param ctx: the click context.
        :param args: the command line arguments.
        """
        if (not args and self.no_args_is_help) or (
            len(args) == 1 and args[0] in self.get_help_option_names(ctx)
        ):
            _env_file_option.handle_parse_result(ctx, {}, [])
            _app_option.handle_parse_result(ctx, {}, [])
        return super().parse_args(ctx, args)


# -- flaskish shell --------------------------------------------------------------


def make_shell_context(app: Flask) -> dict[str, Any]:
    """The names ``flaskish shell`` starts with: ``app``, ``g`` and what the
    app's ``shell_context_processor`` functions return (``async def`` ones too).

    :param app: the app.
    """
    return app.make_shell_context()


@click.command("shell", short_help="Run a Python shell in the app context.")
@click.option(
    "--ipython/--no-ipython",
    default=None,
    help="Use IPython. Default: when it is installed and the input is a terminal.",
)
@with_appcontext
def shell_command(ipython: bool | None) -> None:
    """Run an interactive Python shell with the app context pushed and
    'app', 'g' and the app's shell context processors' names defined."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    namespace: dict[str, Any] = {}
    startup = os.environ.get("PYTHONSTARTUP")
    if startup and os.path.isfile(startup):
        with open(startup) as file:
            exec(compile(file.read(), startup, "exec"), namespace)
    namespace.update(make_shell_context(app))
    interactive = sys.stdin.isatty()
    if ipython is None:
        try:
            ipython = interactive and importlib.util.find_spec("IPython") is not None
        except ValueError:  # sys.modules["IPython"] is None: treat as not installed
            ipython = False
    if ipython:
        try:
            ipython_module = importlib.import_module("IPython")
        except ImportError:
            raise click.UsageError(
                "IPython is not installed. Install it (pip install ipython) or drop --ipython."
            ) from None
        ipython_module.start_ipython(argv=[], user_ns=namespace)
        return
    hook = getattr(sys, "__interactivehook__", None)
    if interactive and hook is not None:
        try:  # imported here: only the shell needs them, and some Pythons lack readline
            import readline
            from rlcompleter import Completer
        except ImportError:
            pass
        else:
            readline.set_completer(Completer(namespace).complete)
        hook()
    banner = (
        f"Python {sys.version} on {sys.platform}\n"
        f"App: {app.import_name}\nInstance: {app.instance_path}"
    )
    code.interact(banner=banner, local=namespace)


# -- flaskish routes -------------------------------------------------------------


def _view_kind(view: Callable[..., Any] | None) -> str:
    if view is None:
        return "-"
    if is_async_callable(view) or inspect.isasyncgenfunction(view):
        return "async def"
    return "def"


def _match_order(rules: list[Rule]) -> list[Rule]:
    """The rules in the order the router tries them: static paths first,
    then by Werkzeug's rule priority; build-only rules last."""
    position = {id(rule): index for index, rule in enumerate(rules)}

    def key(rule: Rule) -> tuple[Any, ...]:
        return (
            rule.build_only,
            not rule.is_static,
            () if rule.is_static else rule._sort_key(),
            position[id(rule)],
        )

    return sorted(rules, key=key)


@click.command("routes", short_help="Show the app's routes.")
@click.option(
    "--sort",
    "-s",
    type=click.Choice(("endpoint", "methods", "domain", "rule", "match")),
    default="endpoint",
    show_default=True,
    help="How to sort: 'match' is the order requests are matched in.",
)
@click.option("--all-methods", is_flag=True, help="Show HEAD and OPTIONS too.")
@with_appcontext
def routes_command(sort: str, all_methods: bool) -> None:
    """Show every route: endpoint, methods, rule, and whether the view is a
    'def' (run on a worker thread) or an 'async def' (run on the event loop)."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    rules: list[Rule] = list(app.url_map.iter_rules())
    if not rules:
        click.echo("No routes were registered.")
        return
    ignored = set() if all_methods else {"HEAD", "OPTIONS"}
    host_matching = app.url_map.host_matching
    has_domain = any(rule.host if host_matching else rule.subdomain for rule in rules)
    if sort == "match":
        rules = _match_order(rules)
    headers = ["Endpoint", "Methods"]
    if has_domain:
        headers.append("Host" if host_matching else "Subdomain")
    headers += ["Rule", "View"]
    rows = []
    for rule in rules:
        methods = (
            "WEBSOCKET" if rule.websocket else ", ".join(sorted((rule.methods or set()) - ignored))
        )
        row = [rule.endpoint, methods]
        if has_domain:
            row.append((rule.host if host_matching else rule.subdomain) or "")
        row += [rule.rule, _view_kind(app.view_functions.get(rule.endpoint))]
        rows.append(row)
    columns = {"endpoint": 0, "methods": 1, "domain": 2, "rule": len(headers) - 2}
    if sort != "match" and (sort != "domain" or has_domain):
        rows.sort(key=itemgetter(columns[sort]))
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, ["-" * width for width in widths], *rows]:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


cli = FlaskGroup(
    name="flaskish",
    help="""\
A command line for flaskish apps: serve them, list their routes, open a
shell, and run the commands they add with @app.cli.command().

Name the app with '--app', the FLASKISH_APP (or FLASK_APP) environment
variable, or an 'app.py' or 'wsgi.py' file in the current directory.
""",
)


def main() -> None:
    """The ``flaskish`` console script (and ``python -m flaskish``)."""
    cli.main()


for _command in (run_command, shell_command, routes_command):
    _flask_envvars(_command)
