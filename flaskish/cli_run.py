"""``flaskish run``: serve the app with uvicorn, with Flask's ``flask run``
options and variables (``FLASK_RUN_*``) where they mean something here."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from .cli_options import _debug_option, pass_script_info
from .discovery import ScriptInfo, find_import_string, get_debug_flag
from .serving import WORKER_FACTORY, behind_proxy, serve

if TYPE_CHECKING:
    from .app import Flask

__all__ = ["run_command"]


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
