"""The admin blueprint: URL prefix, static files and templates."""

from __future__ import annotations

from flaskish.blueprints import Blueprint
from flaskish.templating import render_template

bp = Blueprint(
    "admin", __name__, url_prefix="/admin", static_folder="static", template_folder="templates"
)


@bp.route("/")
def index() -> str:
    return render_template("admin/index.html")


@bp.route("/async")
async def index_async() -> str:
    return render_template("admin/index.html")


@bp.route("/overridden")
def overridden() -> str:
    return render_template("admin/overridden.html")


@bp.route("/missing")
async def missing() -> str:
    return render_template("admin/missing.html")
