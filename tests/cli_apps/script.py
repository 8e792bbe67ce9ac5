"""The quickstart's way: ``python script.py PORT WORKERS`` calls ``app.run()``."""

from __future__ import annotations

import os
import sys

from flaskish import Flask

app = Flask(__name__)


@app.route("/")
def index() -> dict[str, object]:
    return {"pid": os.getpid(), "debug": app.debug}


if __name__ == "__main__":
    app.run(port=int(sys.argv[1]), workers=int(sys.argv[2]), log_level="warning")
