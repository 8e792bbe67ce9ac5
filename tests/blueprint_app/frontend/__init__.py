"""The frontend blueprint: templates, and a static folder without a URL
prefix (so its URL is the app's ``/static``)."""

from __future__ import annotations

from flaskish.blueprints import Blueprint
from flaskish.templating import render_template

bp = Blueprint("frontend", __name__, static_folder="static", template_folder="templates")


@bp.context_processor
def greeting() -> dict[str, str]:
    return {"greeting": "hi"}


@bp.route("/")
def index() -> str:
    return render_template("frontend/index.html")
