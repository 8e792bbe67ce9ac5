"""Two apps and no ``app``: ``--app several`` must say which to choose."""

from __future__ import annotations

from flaskish import Flask

one = Flask("one")
two = Flask("two")
