"""Serve one benchmark app on a listening socket inherited from the harness:
``python -m benchmarks.serve FRAMEWORK APP FD``.

ASGI apps run on one uvicorn worker (uvloop and httptools when installed);
Flask runs on one gunicorn gthread worker with 40 threads. The harness binds
the socket (127.0.0.1 only) and passes its file descriptor, so no port is
raced for.
"""

from __future__ import annotations

import argparse
import importlib.util
import socket
from typing import Any

from .apps import FRAMEWORKS

#: gunicorn gthread threads, like anyio's (and flaskish's) 40 worker threads.
GUNICORN_THREADS = 40


def serve_uvicorn(app: Any, fd: int) -> None:
    import uvicorn

    def have(name: str) -> bool:
        return importlib.util.find_spec(name) is not None

    config = uvicorn.Config(
        app,
        loop="uvloop" if have("uvloop") else "asyncio",
        http="httptools" if have("httptools") else "h11",
        lifespan="auto",
        log_level="warning",
        access_log=False,
    )
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=fd)])


def serve_gunicorn(app: Any, fd: int) -> None:
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {
                "bind": [f"fd://{fd}"],
                "workers": 1,
                "worker_class": "gthread",
                "threads": GUNICORN_THREADS,
                "loglevel": "warning",
                "accesslog": None,
                "keepalive": 5,
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return app

    Server().run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("framework", choices=[f.name for f in FRAMEWORKS])
    parser.add_argument("app")
    parser.add_argument("fd", type=int)
    args = parser.parse_args()
    framework = next(f for f in FRAMEWORKS if f.name == args.framework)
    app = framework.build(args.app)
    if framework.server == "gunicorn":
        serve_gunicorn(app, args.fd)
    else:
        serve_uvicorn(app, args.fd)


if __name__ == "__main__":
    main()
