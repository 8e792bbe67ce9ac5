"""Calls ``app.run()`` at import time, outside ``if __name__ == "__main__":``."""

from __future__ import annotations

from flaskish import Flask

app = Flask(__name__)


@app.route("/")
def index() -> str:
    return "unguarded"


app.run()
