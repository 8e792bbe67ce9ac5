"""pytest plugin (``-p flaskish_compat``): make ``import flask`` mean flaskish.

pytest imports ``-p`` plugins before it loads any ``conftest.py``, so calling
:func:`flaskish.install_as_flask` at import time here puts flaskish in place
before an extension's test suite (or the extension itself) imports ``flask``.

There is no fallback: if flaskish cannot stand in for Flask (no
``install_as_flask`` yet, or real Flask already imported), importing this
module raises and pytest stops before running a single test. Set
``COMPAT_REAL_FLASK=1`` to make this plugin do nothing, so that the same
harness runs the suites on the real Flask that is installed beside flaskish.

``compat/run.py`` also imports this module from its ``flask`` command shim, so
that suites which run ``flask ...`` in a subprocess (Flask-Migrate) get
flaskish's CLI too.
"""

from __future__ import annotations

import os

REAL_FLASK = os.environ.get("COMPAT_REAL_FLASK", "") == "1"

if not REAL_FLASK:
    import flaskish

    flaskish.install_as_flask()

    import flask

    if getattr(flask, "Flask", None) is not flaskish.Flask:
        raise RuntimeError("flaskish.install_as_flask() ran, but flask.Flask is not flaskish.Flask")
