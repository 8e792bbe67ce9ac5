"""Found without --app: ``application`` in ``wsgi.py`` in the current directory."""

from __future__ import annotations

from flaskish import Flask

application = Flask("found_in_wsgi_py")


@application.route("/from-wsgi-py")
def index() -> str:
    return "wsgi.py"
