"""An app whose module fails to import one of its dependencies."""

from __future__ import annotations

import flaskish_no_such_dependency  # noqa: F401

from flaskish import Flask

app = Flask(__name__)
