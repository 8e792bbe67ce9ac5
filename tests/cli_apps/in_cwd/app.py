"""Found without --app: ``app`` in ``app.py`` in the current directory."""

from __future__ import annotations

from flaskish import Flask

app = Flask("found_in_app_py")


@app.route("/from-app-py")
def index() -> str:
    return "app.py"
