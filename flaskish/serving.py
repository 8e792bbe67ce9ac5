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

import errno
import html
import logging
import os
import socket
import traceback
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
    "PROXY_FACTORY",
    "RELOAD_FACTORY",
    "WORKER_FACTORY",
    "behind_proxy",
    "load_app_behind_proxy",
    "load_app_for_reload",
    "load_app_from_environment",
    "run_app",
    "serve",
]

#: The uvicorn factory that worker and reloaded processes of ``flaskish run`` import.
WORKER_FACTORY = "flaskish.serving:load_app_from_environment"
#: The same, for ``flaskish run --proxy-headers``: the app inside ``ProxyFix``.
PROXY_FACTORY = "flaskish.serving:load_app_behind_proxy"
#: What each reloaded process serves: the app, or, while it fails to import,
#: a page that says why (see :func:`load_app_for_reload`).
RELOAD_FACTORY = "flaskish.serving:load_app_for_reload"

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
    os.environ.update(
        FLASKISH_PROXIED_APP=target,
        FLASKISH_PROXIED_FACTORY=str(int(factory)),
        FLASKISH_FORWARDED_ALLOW_IPS=forwarded_allow_ips,
    )
    return PROXY_FACTORY, True


def load_app_behind_proxy() -> ProxyFix:
    """The app inside ``ProxyFix``, as :func:`behind_proxy` described it to
    the worker and reloaded processes (uvicorn calls this in each)."""
    app = import_from_string(os.environ["FLASKISH_PROXIED_APP"])
    if os.environ.get("FLASKISH_PROXIED_FACTORY") == "1":
        app = app()
    return ProxyFix(
        app, x_for=1, x_proto=1, forwarded_allow_ips=os.environ["FLASKISH_FORWARDED_ALLOW_IPS"]
    )


def load_app_for_reload() -> Any:
    """The app of a reloaded process (``--reload``). If it fails to import
    (a syntax error just saved), the error is logged and the process serves
    a 500 page in its place, with the traceback in debug mode, until the next
    change reloads it: the reloader keeps watching, as Flask's does."""
    try:
        app = import_from_string(os.environ["FLASKISH_RELOAD_TARGET"])
        if os.environ.get("FLASKISH_RELOAD_FACTORY") == "1":
            app = app()
    except Exception:
        text = traceback.format_exc()
        logging.getLogger("uvicorn.error").error(
            "The app failed to load; fix it and save, and the server reloads.\n%s", text
        )
        return _LoadFailed(text, os.environ.get("FLASKISH_DEBUG") == "1")
    return app


class _LoadFailed:
    """The ASGI app of a reloaded process whose app failed to load."""

    def __init__(self, text: str, debug: bool) -> None:
        detail = (
            f"<pre>{html.escape(text)}</pre>"
            if debug
            else ("<p>The traceback is in the server's log.</p>")
        )
        self.page = (
            "<!doctype html>\n<title>The app failed to load</title>\n"
            "<h1>The app failed to load</h1>\n"
            "<p>Fix the error and save the file: the server reloads.</p>\n" + detail
        ).encode()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
        elif scope["type"] == "http":
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"text/html; charset=utf-8"),
                        (b"content-length", str(len(self.page)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": self.page})
        else:
            await send({"type": "websocket.close", "code": 1011})


def _reloading(target: str, factory: bool) -> tuple[str, bool]:
    """The target of a reloaded process: :data:`RELOAD_FACTORY`, told what
    to import."""
    os.environ.update(FLASKISH_RELOAD_TARGET=target, FLASKISH_RELOAD_FACTORY=str(int(factory)))
    return RELOAD_FACTORY, True


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
    if not options.get("uds") and options.get("fd") is None:
        # Before anything of the app's runs (its startup hooks): a port in
        # use is said plainly, and port 0 becomes the free port chosen.
        port = _check_port(host, port)
    if options.get("reload") and isinstance(target, str):
        target, factory = _reloading(target, factory)
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
    # That banner is the one: uvicorn's own "Uvicorn running on" line goes.
    logging.getLogger("uvicorn.error").addFilter(_no_uvicorn_banner)
    uvicorn.run(target, host=host, port=port, factory=factory, **options)


def _no_uvicorn_banner(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith("Uvicorn running on")


def _check_port(host: str, port: int) -> int:
    """Whether *host*:*port* can be listened on (raising a
    :class:`click.ClickException` that says what to do if not); the port,
    or for port 0 a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise click.ClickException(
                    f"Port {port} on {host} is in use by another program. Stop that program, "
                    f"or serve on another port: --port {port + 1 if port < 65535 else 8000} "
                    "(--port 0 picks a free one)."
                ) from None
            raise click.ClickException(f"Cannot listen on {host}:{port}: {exc.strerror}.") from None
        return int(probe.getsockname()[1])


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
    serve(
        target, host=host, port=port, reload=reload, app_name=app.name, debug=app.debug, **options
    )
