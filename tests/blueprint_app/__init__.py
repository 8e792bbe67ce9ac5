"""A small app for the blueprint tests, shaped like a real one: the app
and two blueprints, each in its own package with its own ``templates/``
and ``static/`` folders.

* ``admin`` (``url_prefix="/admin"``) serves its static files under
  ``/admin/static`` and has a template the app overrides;
* ``frontend`` (no prefix) has a static folder whose URL, ``/static``, is
  the app's own: the app's static route wins.
"""

from __future__ import annotations

from flaskish import Flask

from . import admin, frontend


def create_app() -> Flask:
    """A new app with both blueprints registered."""
    app = Flask(__name__)
    app.config["TESTING"] = True
    app.register_blueprint(admin.bp)
    app.register_blueprint(frontend.bp)
    return app
