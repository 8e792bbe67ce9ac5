"""What the cheaper ``render_template`` (issue 18) must keep doing: the
render context built from the globals as Jinja builds it (the
environment's globals as they are now, a template's own over them, the
render's values over both), the default autoescape rule called without
the app, context processors found on every blueprint of the chain, the
template signals sent to receivers connected at any time, the session
opened only by a template that uses it, and templates re-read from disk
only with auto-reload on.

The templates are written into ``tmp_path``."""

from __future__ import annotations

import gc
import os
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import pytest
from kinds import as_kind, both_kinds

from flaskish import (
    Blueprint,
    Flask,
    before_render_template,
    get_template_attribute,
    render_template,
    render_template_string,
    stream_template,
    template_rendered,
)
from flaskish.sessions import SecureCookieSession, SecureCookieSessionInterface
from flaskish.templating import Template


def make_app(tmp_path: Path, **templates: str) -> Flask:
    """An app rooted in *tmp_path* with these ``templates/`` files
    (``name_html="..."`` is ``name.html``)."""
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    for name, source in templates.items():
        (folder / name.replace("_html", ".html").replace("_txt", ".txt")).write_text(source)
    app = Flask("perf_template_app", root_path=str(tmp_path))
    app.config.update(TESTING=True, SECRET_KEY="test secret")
    return app


# -- the render context ----------------------------------------------------------------


def test_templates_are_of_the_environments_template_class(tmp_path: Path) -> None:
    app = make_app(tmp_path, page_html="x")
    assert app.jinja_env.template_class is Template
    with app.app_context():
        assert isinstance(app.jinja_env.get_template("page.html"), Template)
        assert isinstance(app.jinja_env.from_string("y"), Template)


def test_globals_changed_after_a_template_was_loaded_are_seen(tmp_path: Path) -> None:
    """Jinja's globals are a chain map so that a change of the environment's
    globals reaches templates already loaded; the faster context keeps that."""
    app = make_app(tmp_path, page_html="{{ version }}|{{ extra is defined }}")
    with app.app_context():
        app.jinja_env.globals["version"] = "1"
        assert render_template("page.html") == "1|False"
        app.jinja_env.globals.update(version="2", extra=True)
        assert render_template("page.html") == "2|True"
        del app.jinja_env.globals["extra"]
        assert render_template("page.html") == "2|False"


def test_a_templates_own_globals_beat_the_environments_and_render_values_beat_both(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path, page_html="{{ a }}{{ b }}{{ c }}")
    app.jinja_env.globals.update(a="env", b="env", c="env")
    with app.app_context():
        template = app.jinja_env.get_template("page.html", globals={"b": "own", "c": "own"})
        assert render_template(template) == "envownown"
        assert render_template(template, c="render") == "envownrender"
        # The template's own globals stay its own.
        assert render_template_string("{{ b }}") == "env"


def test_the_context_lists_the_globals_values_and_context_processor_values(
    tmp_path: Path,
) -> None:
    app = make_app(tmp_path)
    seen: dict[str, Any] = {}

    @app.context_processor
    def site() -> dict[str, str]:
        return {"site": "S"}

    @app.template_global()
    def remember() -> str:
        return ""

    def capture(context: Any) -> str:
        seen.update(context.get_all())
        return ""

    app.jinja_env.globals["capture"] = jinja2.pass_context(capture)
    with app.test_request_context("/"):
        render_template_string("{{ capture() }}", value=1)
    for name in ("url_for", "config", "request", "session", "g", "range", "remember", "site"):
        assert name in seen
    assert seen["value"] == 1


def test_blocks_includes_imports_and_macros_render_as_before(tmp_path: Path) -> None:
    """Inheritance, ``super()``, ``include`` and imports with and without the
    context (Jinja's other ways of making a context) are unchanged."""
    app = make_app(
        tmp_path,
        base_html="<{% block body %}base {{ who }}{% endblock %}>",
        child_html=(
            '{% extends "base.html" %}{% import "macros.html" as m %}'
            '{% from "macros.html" import hello with context %}'
            "{% block body %}{{ super() }}|{{ m.shout(who) }}|{{ hello() }}|"
            '{% include "part.html" %}|{% call m.wrap() %}{{ who }}{% endcall %}'
            "{% endblock %}"
        ),
        macros_html=(
            "{% macro shout(x) %}{{ x|upper }}{% endmacro %}"
            "{% macro hello() %}hi {{ who }}{% endmacro %}"
            "{% macro wrap() %}[{{ caller() }}]{% endmacro %}"
            "{% set answer = 42 %}"
        ),
        part_html="part {{ who }} {{ site }}",
    )

    @app.context_processor
    def site() -> dict[str, str]:
        return {"site": "S"}

    with app.test_request_context("/"):
        assert render_template("child.html", who="<ann>") == (
            "<base &lt;ann&gt;|&lt;ANN&gt;|hi &lt;ann&gt;|part &lt;ann&gt; S|[&lt;ann&gt;]>"
        )
        assert get_template_attribute("macros.html", "answer") == 42
        assert get_template_attribute("macros.html", "shout")("a") == "A"


def test_a_shared_context_is_the_values_alone(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    with app.app_context():
        template = app.jinja_env.from_string("{{ x }}|{{ url_for is defined }}")
        context = template.new_context({"x": 1}, shared=True)
        assert "".join(template.root_render_func(context)) == "1|False"
        assert template.render(x=2) == "2|True"


def test_streamed_templates_see_the_globals_too(tmp_path: Path) -> None:
    app = make_app(tmp_path, rows_html="{% for r in rows %}{{ r }}{{ sep }}{% endfor %}")
    app.jinja_env.globals["sep"] = ";"

    @app.route("/")
    def rows() -> Any:
        return app.response_class(stream_template("rows.html", rows=[1, 2]))

    assert app.test_client().get("/").text == "1;2;"


# -- autoescape --------------------------------------------------------------------------


def test_the_default_autoescape_rule_holds_no_reference_to_the_app(tmp_path: Path) -> None:
    app = make_app(tmp_path, page_html="{{ v }}", page_txt="{{ v }}")
    env = app.jinja_env
    with app.app_context():
        assert render_template("page.html", v="<") == "&lt;"
        assert render_template("page.txt", v="<") == "<"
        assert render_template_string("{{ v }}", v="<") == "&lt;"
    gone = weakref.ref(app)
    del app
    gc.collect()
    assert gone() is None
    assert env.autoescape("x.svg") is True  # type: ignore[operator]


def test_select_jinja_autoescape_overridden_by_a_subclass_is_used(tmp_path: Path) -> None:
    class TextEscapingApp(Flask):
        def select_jinja_autoescape(self, filename: str | None) -> bool:
            return filename is not None and filename.endswith(".txt")

    make_app(tmp_path, page_html="{{ v }}", page_txt="{{ v }}")
    app = TextEscapingApp("perf_template_app", root_path=str(tmp_path))
    with app.app_context():
        assert render_template("page.html", v="<") == "<"
        assert render_template("page.txt", v="<") == "&lt;"
    gone = weakref.ref(app)
    del app
    gc.collect()
    assert gone() is None


def test_select_jinja_autoescape_set_on_the_app_is_used(tmp_path: Path) -> None:
    app = make_app(tmp_path, page_html="{{ v }}")
    app.select_jinja_autoescape = lambda filename: False  # type: ignore[method-assign]
    with app.app_context():
        assert render_template("page.html", v="<") == "<"


def test_autoescape_given_in_jinja_options_wins(tmp_path: Path) -> None:
    app = make_app(tmp_path, page_html="{{ v }}")
    app.jinja_options = {"autoescape": False}
    with app.app_context():
        assert render_template("page.html", v="<") == "<"


# -- url_for -------------------------------------------------------------------------------


def test_url_for_in_templates_builds_urls_and_outlives_no_app(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    @app.route("/item/<int:n>")
    def item(n: int) -> str:
        return render_template_string("{{ url_for('item', n=n + 1) }}", n=n)

    assert app.test_client().get("/item/1").text == "/item/2"
    url_for = app.jinja_env.globals["url_for"]
    gone = weakref.ref(app)
    del app, item
    gc.collect()
    assert gone() is None
    with pytest.raises(RuntimeError, match="no longer exists"):
        url_for("item", n=1)


# -- context processors ------------------------------------------------------------------


@both_kinds
def test_context_processors_of_the_app_and_of_each_nested_blueprint(
    tmp_path: Path, kind: str
) -> None:
    app = make_app(tmp_path)
    outer = Blueprint("outer", __name__)
    inner = Blueprint("inner", __name__)

    @app.context_processor
    def from_app() -> dict[str, str]:
        return {"a": "app", "b": "app", "c": "app"}

    @outer.context_processor
    def from_outer() -> dict[str, str]:
        return {"b": "outer", "c": "outer"}

    @inner.context_processor
    def from_inner() -> dict[str, str]:
        return {"c": "inner"}

    def page() -> str:
        return render_template_string("{{ a }} {{ b }} {{ c }}")

    inner.add_url_rule("/page", view_func=as_kind(kind, page))
    outer.add_url_rule("/page", view_func=as_kind(kind, page))
    outer.register_blueprint(inner, url_prefix="/inner")
    app.register_blueprint(outer, url_prefix="/outer")
    app.add_url_rule("/page", view_func=as_kind(kind, page))
    client = app.test_client()
    assert client.get("/page").text == "app app app"
    assert client.get("/outer/page").text == "app outer outer"
    assert client.get("/outer/inner/page").text == "app outer inner"


def test_without_context_processors_the_default_context_is_there(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    assert not app.template_context_processors

    @app.route("/")
    def page() -> str:
        return render_template_string("{{ request.path }} {{ g.x }} {{ session.get('k', '-') }}")

    @app.before_request
    def set_g() -> None:
        from flaskish import g

        g.x = "gx"

    assert app.test_client().get("/").text == "/ gx -"


def test_a_context_processor_may_replace_a_default_value(tmp_path: Path) -> None:
    app = make_app(tmp_path)

    @app.context_processor
    def mine() -> dict[str, str]:
        return {"request": "mine"}

    with app.test_request_context("/"):
        assert render_template_string("{{ request }}") == "mine"
        assert render_template_string("{{ request }}", request="passed") == "passed"


# -- the session -------------------------------------------------------------------------


class CountingInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self.opened = 0

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession | None:
        self.opened += 1
        return super().open_session(app, request)


@both_kinds
def test_rendering_opens_the_session_only_if_the_template_uses_it(
    tmp_path: Path, kind: str
) -> None:
    app = make_app(tmp_path, plain_html="{{ x }}", user_html="{{ session.get('user', 'nobody') }}")
    interface = app.session_interface = CountingInterface()

    def plain() -> str:
        return render_template("plain.html", x="no session")

    def user() -> str:
        return render_template("user.html")

    app.add_url_rule("/plain", view_func=as_kind(kind, plain))
    app.add_url_rule("/user", view_func=as_kind(kind, user))
    client = app.test_client()
    client.set_cookie("session", "not even a valid one")
    assert client.get("/plain").text == "no session"
    assert interface.opened == 0
    assert client.get("/user").text == "nobody"
    assert interface.opened == 1


# -- signals -----------------------------------------------------------------------------


@both_kinds
def test_template_signals_reach_receivers_connected_after_earlier_renders(
    tmp_path: Path, kind: str
) -> None:
    app = make_app(tmp_path, page_html="{{ x }}")
    events: list[tuple[str, str | None, Any]] = []

    def page() -> str:
        return render_template("page.html", x=1)

    app.add_url_rule("/", view_func=as_kind(kind, page))
    client = app.test_client()
    assert client.get("/").text == "1"  # nobody listens yet

    def before(sender: Flask, template: jinja2.Template, context: dict[str, Any]) -> None:
        events.append(("before", template.name, context["x"]))

    def after(sender: Flask, template: jinja2.Template, context: dict[str, Any]) -> None:
        events.append(("rendered", template.name, context["x"]))

    before_render_template.connect(before, app)
    template_rendered.connect(after, app)
    try:
        assert client.get("/").text == "1"
    finally:
        before_render_template.disconnect(before, app)
        template_rendered.disconnect(after, app)
    assert events == [("before", "page.html", 1), ("rendered", "page.html", 1)]
    assert client.get("/").text == "1"
    assert len(events) == 2


# -- reading templates from disk -----------------------------------------------------------


def rewrite(path: Path, text: str) -> None:
    """Change a template, with a clearly newer mtime."""
    path.write_text(text)
    later = time.time() + 10
    os.utime(path, (later, later))


def count_reads(app: Flask, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names the app's folder loader is asked for, from now on."""
    reads: list[str] = []
    loader = app.jinja_loader
    assert loader is not None
    original: Callable[..., Any] = loader.get_source

    def counting(environment: jinja2.Environment, name: str) -> Any:
        reads.append(name)
        return original(environment, name)

    monkeypatch.setattr(loader, "get_source", counting)
    return reads


@pytest.mark.parametrize("auto_reload", [True, False], ids=["reload-on", "reload-off"])
def test_an_edited_template_is_read_again_only_with_auto_reload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, auto_reload: bool
) -> None:
    app = make_app(tmp_path, page_html="one")
    app.config["TEMPLATES_AUTO_RELOAD"] = auto_reload
    reads = count_reads(app, monkeypatch)

    @app.route("/")
    async def page() -> str:
        return render_template("page.html")

    client = app.test_client()
    assert [client.get("/").text for _ in range(3)] == ["one"] * 3
    assert reads == ["page.html"]  # unchanged: read once either way
    rewrite(tmp_path / "templates" / "page.html", "two")
    assert [client.get("/").text for _ in range(2)] == ["two" if auto_reload else "one"] * 2
    assert reads == (["page.html", "page.html"] if auto_reload else ["page.html"])
