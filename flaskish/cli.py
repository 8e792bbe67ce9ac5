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
    get_version,
    version_option,
)
from .concurrency import is_async_callable
from .ctx import has_app_context
from .discovery import (
    NoAppException,
    ScriptInfo,
    find_app_by_string,
    find_best_app,
    find_import_string,
    get_debug_flag,
    get_load_dotenv,
    load_dotenv,
    locate_app,
    prepare_import,
)
from .globals import current_app
from .serving import WORKER_FACTORY, behind_proxy, run_app, serve

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

#: Passes the :class:`ScriptInfo` to a command: ``@pass_script_info def cmd(info): ...``.
pass_script_info = click.make_pass_decorator(ScriptInfo, ensure=True)


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


# -- flaskish run ----------------------------------------------------------------

_LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def _import_target(info: ScriptInfo, app: Flask) -> tuple[str, bool]:
    """What worker and reloaded processes import: ``(import string, factory)``."""
    if info.create_app is None:
        if info.app_import_path:
            os.environ["FLASKISH_APP"] = info.app_import_path
        return WORKER_FACTORY, True
    found = find_import_string(app)
    if found is not None:
        return found, False
    module = sys.modules.get(info.create_app.__module__)
    name = info.create_app.__qualname__
    if module is not None and getattr(module, name, None) is info.create_app:
        return f"{module.__name__}:{name}", True
    raise click.UsageError(
        "--reload and --workers start processes that import the app, but this script's "
        "create_app is not a module-level function they could import. Define it at the "
        "top level of a module, or run 'flaskish --app module:create_app run --reload'."
    )


@click.command("run", short_help="Serve the app with uvicorn.")
@click.option(
    "--host",
    "-h",
    default="127.0.0.1",
    show_default=True,
    help="The interface to bind to (0.0.0.0 for all).",
)
@click.option(
    "--port",
    "-p",
    default=5000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="The port to bind to.",
)
@click.option(
    "--reload/--no-reload",
    default=None,
    help="Restart when code changes. On by default in debug mode.",
)
@click.option(
    "--reload-dir",
    multiple=True,
    type=click.Path(exists=True, file_okay=False),
    help="A folder to watch (repeatable; default: the current one).",
)
@click.option(
    "--reload-include",
    multiple=True,
    help="A glob pattern of files to watch, such as '*.html' (repeatable).",
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=None, help="Serve with this many processes."
)
@click.option("--uds", type=click.Path(dir_okay=False), help="Bind to this Unix socket.")
@click.option(
    "--root-path", default="", help="The URL prefix a proxy mounts the app under, such as '/api'."
)
@click.option(
    "--proxy-headers/--no-proxy-headers",
    default=None,
    help="Believe the last X-Forwarded-For and X-Forwarded-Proto values (one proxy: "
    "flaskish.ProxyFix with x_for=1, x_proto=1) on requests from "
    "--forwarded-allow-ips. Off unless --forwarded-allow-ips is given.",
)
@click.option(
    "--forwarded-allow-ips",
    default=None,
    help="Comma-separated addresses or networks of the proxies to trust, or '*' "
    "(default: $FORWARDED_ALLOW_IPS, else 127.0.0.1,::1). Turns --proxy-headers on.",
)
@click.option(
    "--ssl-keyfile",
    "--key",
    type=click.Path(exists=True, dir_okay=False),
    help="The TLS private key file.",
)
@click.option(
    "--ssl-certfile",
    "--cert",
    type=click.Path(exists=True, dir_okay=False),
    help="The TLS certificate file: serve HTTPS.",
)
@click.option(
    "--log-level",
    type=click.Choice(_LOG_LEVELS),
    default=None,
    help="uvicorn's log level (default: info).",
)
@click.option(
    "--timeout-graceful-shutdown",
    type=click.IntRange(min=0),
    default=None,
    help="On SIGTERM, seconds to let requests in flight finish (default: no limit).",
)
@pass_script_info
def run_command(
    info: ScriptInfo,
    host: str,
    port: int,
    reload: bool | None,
    reload_dir: tuple[str, ...],
    reload_include: tuple[str, ...],
    workers: int | None,
    uds: str | None,
    root_path: str,
    proxy_headers: bool | None,
    forwarded_allow_ips: str | None,
    ssl_keyfile: str | None,
    ssl_certfile: str | None,
    log_level: str | None,
    timeout_graceful_shutdown: int | None,
) -> None:
    """Serve the app with uvicorn.

    Every option can also be set with a FLASKISH_RUN_<OPTION> environment
    variable (FLASKISH_RUN_PORT=8000, FLASKISH_RUN_WORKERS=4), or Flask's
    FLASK_RUN_<OPTION> (FLASK_RUN_HOST, FLASK_RUN_PORT, FLASK_RUN_CERT...),
    also from .flaskenv; FLASKISH_RUN_* wins when both are set.
    """
    _note_flask_only_variables()
    if ssl_keyfile and not ssl_certfile:
        raise click.BadParameter(
            "--ssl-keyfile needs --ssl-certfile too.", param_hint="'--ssl-keyfile'"
        )
    app = info.load_app()
    debug = get_debug_flag()
    processes = workers or 1
    if reload and processes > 1:
        raise click.UsageError(
            "--reload and --workers cannot be combined: use --reload while developing and "
            "--workers in production."
        )
    if reload is None:
        reload = bool(reload_dir or reload_include) or (debug and processes == 1)
    elif (reload_dir or reload_include) and not reload:
        raise click.UsageError("--reload-dir and --reload-include need --reload.")
    target: Any = app
    factory = False
    if reload or processes > 1:
        target, factory = _import_target(info, app)
    options: dict[str, Any] = {"uds": uds, "root_path": root_path, "reload": reload}
    if processes > 1:
        options["workers"] = processes
    if reload:
        options.update(
            reload_dirs=list(reload_dir) or None, reload_includes=list(reload_include) or None
        )
    options["proxy_headers"] = False  # flaskish.ProxyFix reads them, never uvicorn too
    notes: tuple[str, ...] = ()
    if proxy_headers or (proxy_headers is None and forwarded_allow_ips is not None):
        allowed = (
            forwarded_allow_ips
            if forwarded_allow_ips is not None
            else os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
        )
        try:
            target, factory = behind_proxy(target, factory, allowed)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'--forwarded-allow-ips'") from None
        notes = (f"Believing X-Forwarded-For and X-Forwarded-Proto from {allowed}",)
    for name, value in (
        ("ssl_keyfile", ssl_keyfile),
        ("ssl_certfile", ssl_certfile),
        ("log_level", log_level),
        ("timeout_graceful_shutdown", timeout_graceful_shutdown),
    ):
        if value is not None:
            options[name] = value
    serve(
        target,
        host=host,
        port=port,
        factory=factory,
        app_name=info.app_import_path or app.name,
        debug=debug,
        notes=notes,
        **options,
    )


run_command.params.insert(0, _debug_option)

#: Flask's ``flask run`` variables with no flaskish meaning, and what to use.
_FLASK_ONLY = {
    "FLASK_RUN_DEBUGGER": "there is no interactive debugger (debug mode shows a traceback page)",
    "FLASK_RUN_WITH_THREADS": "def views always run on worker threads (THREAD_POOL_SIZE)",
    "FLASK_RUN_EXTRA_FILES": "use FLASKISH_RUN_RELOAD_INCLUDE (glob patterns) instead",
    "FLASK_RUN_EXCLUDE_PATTERNS": "uvicorn's reloader watches --reload-dir and "
    "--reload-include only",
}


def _note_flask_only_variables() -> None:
    """Say so about ``FLASK_RUN_*`` variables that mean nothing here."""
    for name, instead in _FLASK_ONLY.items():
        if os.environ.get(name):
            click.secho(f" * {name} is set, and ignored: {instead}.", fg="yellow", err=True)


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
