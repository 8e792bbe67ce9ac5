"""Serving with uvicorn: :meth:`Flask.run <flaskish.Flask.run>` and
``flaskish run`` both end in :func:`serve`.

One process serves the app object itself. Several processes (``workers``)
and the reloader start fresh interpreters that must import the app by name:
``flaskish run`` gives them :func:`load_app_from_environment`, which repeats
the parent's discovery (``FLASKISH_APP``); ``app.run()`` gives them the
module-level variable holding the app (:func:`~flaskish.discovery.find_import_string`).

``flaskish run --proxy-headers`` serves the app inside :class:`flaskish.ProxyFix`
(:func:`behind_proxy`), in every process, and turns uvicorn's own proxy
header handling off, so the headers are read once, by flaskish.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import click
import uvicorn
from uvicorn.importer import import_from_string

from . import discovery
from .discovery import ScriptInfo, find_import_string, get_debug_flag, get_load_dotenv
from .proxy_fix import ProxyFix

if TYPE_CHECKING:
    from .app import Flask

__all__ = [
    "PROXY_FACTORY", "WORKER_FACTORY", "behind_proxy", "load_app_behind_proxy",
    "load_app_from_environment", "run_app", "serve",
]

#: The uvicorn factory that worker and reloaded processes of ``flaskish run`` import.
WORKER_FACTORY = "flaskish.serving:load_app_from_environment"
#: The same, for ``flaskish run --proxy-headers``: the app inside ``ProxyFix``.
PROXY_FACTORY = "flaskish.serving:load_app_behind_proxy"

#: Werkzeug's ``run_simple`` options that mean nothing to uvicorn; ``app.run()``
#: accepts and ignores them so Flask scripts keep working.
_WERKZEUG_ONLY = ("use_debugger", "use_evalex", "threaded", "passthrough_errors", "extra_files")


def load_app_from_environment() -> Flask:
    """Load the app the way the ``flaskish`` command that started this
    process did: from ``FLASKISH_APP`` (or ``FLASK_APP``), else ``app.py``
    and friends in the current directory. uvicorn calls this in each worker
    and reloaded process (``uvicorn --factory flaskish.serving:load_app_from_environment``).
    """
    path = os.environ.get("FLASKISH_APP") or os.environ.get("FLASK_APP")
    return ScriptInfo(app_import_path=path).load_app()


def behind_proxy(target: Any, factory: bool, forwarded_allow_ips: str) -> tuple[Any, bool]:
    """What to serve for ``flaskish run --proxy-headers``: ``(target,
    factory)`` for :func:`serve` with the app inside
    ``ProxyFix(app, x_for=1, x_proto=1, forwarded_allow_ips=...)``: the last
    ``X-Forwarded-For`` and ``X-Forwarded-Proto`` values are believed on
    requests from *forwarded_allow_ips*.

    :param target: the app, or the import string other processes load it by.
    :param factory: *target* names a function returning the app.
    :param forwarded_allow_ips: the proxies' addresses or networks, or ``*``.
    """
    # Built here also for an import string, so a bad address fails in this process.
    proxied = ProxyFix(target, x_for=1, x_proto=1, forwarded_allow_ips=forwarded_allow_ips)
    if not isinstance(target, str):
        return proxied, False
    os.environ.update(FLASKISH_PROXIED_APP=target, FLASKISH_PROXIED_FACTORY=str(int(factory)),
                      FLASKISH_FORWARDED_ALLOW_IPS=forwarded_allow_ips)
    return PROXY_FACTORY, True


def load_app_behind_proxy() -> ProxyFix:
    """The app inside ``ProxyFix``, as :func:`behind_proxy` described it to
    the worker and reloaded processes (uvicorn calls this in each)."""
    app = import_from_string(os.environ["FLASKISH_PROXIED_APP"])
    if os.environ.get("FLASKISH_PROXIED_FACTORY") == "1":
        app = app()
    return ProxyFix(app, x_for=1, x_proto=1,
                    forwarded_allow_ips=os.environ["FLASKISH_FORWARDED_ALLOW_IPS"])


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def serve(
    target: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 5000,
    factory: bool = False,
    app_name: str | None = None,
    debug: bool | None = None,
    notes: tuple[str, ...] = (),
    **options: Any,
) -> None:
    """Print where the app is served, then run :func:`uvicorn.run`.

    :param target: the ASGI app, or an import string (needed for
        ``workers`` and ``reload``).
    :param host: the interface to bind to.
    :param port: the port to bind to.
    :param factory: *target* names a function returning the app.
    :param app_name: shown in the banner.
    :param debug: shown in the banner.
    :param notes: more lines for the banner.
    :param options: passed to :func:`uvicorn.run` (``uds``, ``workers``,
        ``reload``, ``ssl_certfile``, ``log_level``...).
    """
    if app_name is not None:
        click.echo(f" * Serving flaskish app '{app_name}'")
    if debug is not None:
        click.echo(f" * Debug mode: {'on' if debug else 'off'}")
    for note in notes:
        click.echo(f" * {note}")
    scheme = "https" if options.get("ssl_certfile") else "http"
    if options.get("uds"):
        where = f"unix socket {options['uds']}"
    elif host in ("0.0.0.0", "::"):
        where = f"all addresses ({host}), e.g. {scheme}://127.0.0.1:{port}"
    else:
        where = f"{scheme}://{_url_host(host)}:{port}"
    workers = options.get("workers") or 1
    mode = ""
    if workers > 1:
        mode = f", {workers} workers"
    elif options.get("reload"):
        mode = ", reloading on changes"
    click.echo(f" * Running on {where}{mode} (press CTRL+C to quit)")
    uvicorn.run(target, host=host, port=port, factory=factory, **options)


def run_app(
    app: Flask,
    host: str | None = None,
    port: int | None = None,
    debug: bool | None = None,
    *,
    load_dotenv: bool = True,
    **options: Any,
) -> None:
    """Serve *app* with uvicorn: what :meth:`Flask.run <flaskish.Flask.run>` calls.

    As in Flask, the host and port default to ``SERVER_NAME``'s, else
    ``127.0.0.1:5000``; ``.env`` files are loaded; debug mode turns the
    reloader on; and a call made while the ``flaskish`` command is running
    (an unguarded ``app.run()`` at import time) does nothing.

    :param app: the app to serve.
    :param host: the interface to bind to.
    :param port: the port to bind to.
    :param debug: set the app's debug mode.
    :param load_dotenv: load ``.flaskenv`` and ``.env`` first.
    :param options: :func:`uvicorn.run` options (``workers``, ``reload``,
        ``log_level``, ``ssl_certfile``...). Werkzeug's ``use_reloader``
        and ``processes`` mean ``reload`` and ``workers``; its
        ``use_debugger`` and ``threaded`` are ignored.
    :raises RuntimeError: ``reload`` or ``workers`` was asked for, but the
        app is not a module-level variable other processes can import.
    """
    if os.environ.get("FLASKISH_RUN_FROM_CLI") == "true":
        click.secho(
            " * Ignoring a call to 'app.run()' that would block the current 'flaskish' command."
            " Only call 'app.run()' inside an 'if __name__ == \"__main__\":' block.",
            fg="red",
        )
        return
    if get_load_dotenv(load_dotenv):
        discovery.load_dotenv()
        if "FLASKISH_DEBUG" in os.environ or "FLASK_DEBUG" in os.environ:
            app.debug = get_debug_flag()
    if debug is not None:
        app.debug = bool(debug)
    server_name = app.config.get("SERVER_NAME") or ""
    name_host, _, name_port = server_name.partition(":")
    host = host or name_host or "127.0.0.1"
    if port is None:
        port = int(name_port) if name_port else 5000
    for werkzeug_name, uvicorn_name in (("use_reloader", "reload"), ("processes", "workers")):
        if werkzeug_name in options:
            options.setdefault(uvicorn_name, options.pop(werkzeug_name))
    for name in _WERKZEUG_ONLY:
        options.pop(name, None)
    workers = options.pop("workers", None) or 1
    explicit_reload = options.get("reload") is not None
    reload = bool(options.pop("reload", None) if explicit_reload else app.debug and workers == 1)
    target: Any = app
    if reload or workers > 1:
        import_string = find_import_string(app)
        if import_string is not None:
            target = import_string
            # The new processes import the app afresh; pass the debug mode on.
            os.environ["FLASKISH_DEBUG"] = "1" if app.debug else "0"
        elif explicit_reload or workers > 1:
            raise RuntimeError(
                f"app.run() with reload or workers starts new processes that import the app, "
                f"but the app {app.name!r} is not held by a module-level variable they could "
                "import (was it made by a factory?). Run it with the command line instead: "
                "'flaskish --app module:create_app() run --reload' (or '--workers N')."
            )
        else:
            reload = False
    if workers > 1:
        options["workers"] = workers
    serve(target, host=host, port=port, reload=reload, app_name=app.name, debug=app.debug,
          **options)
