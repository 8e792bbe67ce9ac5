"""Jinja templates from ``def`` and ``async def`` views: ``render_template``
(names, lists, inheritance, macros), ``render_template_string``, the
streaming forms, ``app.jinja_env`` and its options, autoescaping, the
default context and context processors, filters / tests / globals,
auto-reload, missing templates, the template signals and
``get_template_attribute``.

The templates live in ``tests/templates_app/templates``."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx2 as httpx
import jinja2
import markupsafe
import pytest
from jinja2 import TemplateNotFound, TemplatesNotFound
from kinds import as_kind, both_kinds
from templates_app import ROOT, create_app

import flaskish
from flaskish import (
    Flask,
    Markup,
    before_render_template,
    escape,
    flash,
    g,
    get_template_attribute,
    redirect,
    render_template,
    render_template_string,
    request,
    session,
    stream_template,
    stream_template_string,
    template_rendered,
    url_for,
)
from flaskish.templating import DispatchingJinjaLoader, Environment
from flaskish.testing import FlaskClient

F = TypeVar("F", bound=Callable[..., Any])


TEMPLATES = ROOT / "templates"


@pytest.fixture
def app() -> Flask:
    """An app whose root is ``tests/templates_app``."""
    app = Flask("templates_app", root_path=str(ROOT))
    app.config.update(TESTING=True, SECRET_KEY="test secret")
    return app


def tmp_app(tmp_path: Path, **templates: str) -> Flask:
    """An app rooted in *tmp_path* with the given ``templates/`` files
    (``name_html="..."`` writes ``name.html``)."""
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    for name, source in templates.items():
        (folder / name.replace("_html", ".html").replace("_txt", ".txt")).write_text(source)
    app = Flask("tmp_templates_app", root_path=str(tmp_path))
    app.config.update(TESTING=True, SECRET_KEY="test secret")
    return app


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


# -- render_template ---------------------------------------------------------------


@both_kinds
def test_render_template_fills_the_blocks_of_the_parent_template(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    """``{% extends %}``: the child's blocks replace the parent's, ``super()``
    brings the parent's back, and blocks it does not override stay."""

    def page() -> str:
        return render_template("page.html", title="Home", body="<hello>")

    app.add_url_rule("/", view_func=as_kind(kind, page))
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert lines(response.text) == [
        "<title>Home - Site</title>",
        "<main><p>&lt;hello&gt;</p></main>",
        "<footer>(c) flaskish</footer>",
    ]


@both_kinds
def test_render_template_with_a_list_uses_the_first_that_exists(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def page() -> str:
        return render_template(["missing.html", "page.html", "base.html"], title="T", body="b")

    app.add_url_rule("/", view_func=as_kind(kind, page))
    assert lines(client.get("/").text)[0] == "<title>T - Site</title>"


def test_render_template_takes_template_objects(app: Flask) -> None:
    with app.app_context():
        template = app.jinja_env.from_string("[{{ x }}]")
        assert render_template(template, x=1) == "[1]"
        assert render_template([template], x=2) == "[2]"


@both_kinds
def test_macros_are_imported_with_import_and_from_import(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def page() -> str:
        return render_template("macros.html", name="<Ann>", values=["a", "<b>"])

    app.add_url_rule("/", view_func=as_kind(kind, page))
    assert client.get("/").text.strip() == (
        "Hello &lt;Ann&gt;!<ul><li>a</li><li>&lt;b&gt;</li></ul>42"
    )


@both_kinds
def test_render_template_string_is_autoescaped(app: Flask, client: FlaskClient, kind: str) -> None:
    def page() -> str:
        return render_template_string(
            "{% for x in items %}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}",
            items=["<i>", Markup("<b>ok</b>")],
        )

    app.add_url_rule("/", view_func=as_kind(kind, page))
    assert client.get("/").text == "&lt;i&gt;,<b>ok</b>"


def test_rendering_needs_an_app_context_and_says_so(app: Flask) -> None:
    with pytest.raises(RuntimeError, match="app_context"):
        render_template_string("x")
    with pytest.raises(RuntimeError, match="app_context"):
        render_template("page.html")


def test_rendering_in_an_app_context_without_a_request(app: Flask) -> None:
    """An email body rendered in a CLI command: config and url_for work,
    request is falsy."""
    app.config["SERVER_NAME"] = "example.com"

    @app.route("/unsubscribe")
    def unsubscribe() -> str:
        return ""

    with app.app_context():
        text = render_template_string(
            "{{ config.SERVER_NAME }} {{ url_for('unsubscribe', _external=True) }} "
            "{{ 'request' if request else 'no request' }}"
        )
    assert text == "example.com http://example.com/unsubscribe no request"


# -- streaming ---------------------------------------------------------------------


@both_kinds
def test_stream_template_renders_lazily_with_the_request_context(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    """The view returns before anything renders; while the body streams,
    ``request`` and ``g`` are those of the request."""
    rendered: list[str] = []

    def items() -> Iterator[str]:
        for item in ("a", "b", "c"):
            rendered.append(item)
            yield item

    def page() -> Any:
        g.mark = "m"
        stream = stream_template("stream.html", items=items())
        assert isinstance(stream, Iterator)
        assert rendered == []  # nothing rendered yet
        return app.response_class(stream)

    app.add_url_rule("/", view_func=as_kind(kind, page))
    response = client.get("/?who=ann")
    assert response.status_code == 200
    assert response.text.strip() == "<a:ann:m><b:ann:m><c:ann:m>"
    assert rendered == ["a", "b", "c"]


@both_kinds
def test_stream_template_string(app: Flask, client: FlaskClient, kind: str) -> None:
    def page() -> Any:
        return stream_template_string(
            "{% for i in range(3) %}{{ i }}{{ request.args.sep }}{% endfor %}{{ x }}", x="<x>"
        )

    app.add_url_rule("/", view_func=as_kind(kind, page))
    assert client.get("/?sep=;").text == "0;1;2;&lt;x&gt;"


@both_kinds
def test_stream_template_sends_chunks_as_they_render_over_a_real_server(
    app: Flask, live_server: Any, kind: str
) -> None:
    """The first chunk reaches the client while the template still waits
    for the rest of its data: the body is not rendered whole first."""
    first_chunk_seen = threading.Event()
    waited: list[bool] = []

    def items() -> Iterator[str]:
        yield "first"
        waited.append(first_chunk_seen.wait(5))
        yield "second"

    def page() -> Any:
        return stream_template_string("{% for i in items %}[{{ i }}]{% endfor %}", items=items())

    app.add_url_rule("/", view_func=as_kind(kind, page))
    with live_server(app) as server, httpx.Client(base_url=server.url) as http:
        with http.stream("GET", "/") as response:
            body = b""
            for chunk in response.iter_raw():
                body += chunk
                if b"first" in body:
                    first_chunk_seen.set()
    assert body == b"[first][second]"
    assert waited == [True]


@both_kinds
def test_templates_render_over_a_real_server(app: Flask, live_server: Any, kind: str) -> None:
    def page() -> str:
        return render_template("page.html", title=request.args["t"], body="<b>")

    app.add_url_rule("/", view_func=as_kind(kind, page))
    with live_server(app) as server, httpx.Client(base_url=server.url) as http:
        for _ in range(2):  # read from disk, then from the cache
            response = http.get("/", params={"t": "Live"})
            assert response.status_code == 200
            assert response.headers["Content-Type"] == "text/html; charset=utf-8"
            assert lines(response.text)[:2] == [
                "<title>Live - Site</title>",
                "<main><p>&lt;b&gt;</p></main>",
            ]


# -- the environment ----------------------------------------------------------------


def test_jinja_env_is_created_on_first_use_and_kept(app: Flask) -> None:
    assert "jinja_env" not in vars(app)
    env = app.jinja_env
    assert isinstance(env, Environment)
    assert isinstance(env, jinja2.Environment)
    assert isinstance(env.loader, DispatchingJinjaLoader)
    assert env.app is app
    assert app.jinja_env is env


def test_create_jinja_environment_can_be_overridden() -> None:
    class MyApp(Flask):
        def create_jinja_environment(self) -> Environment:
            env = super().create_jinja_environment()
            env.globals["site"] = "My site"
            env.filters["shout"] = str.upper
            return env

    app = MyApp("my_app", root_path=str(ROOT))
    with app.app_context():
        assert render_template_string("{{ site|shout }}") == "MY SITE"


def test_jinja_options_are_passed_to_the_environment(app: Flask) -> None:
    app.jinja_options["trim_blocks"] = True
    app.jinja_options["line_statement_prefix"] = "%"
    with app.app_context():
        text = render_template_string(
            "% for i in range(2)\n{{ i }}\n% endfor\n{% if 1 %}\nx{% endif %}"
        )
    assert text == "0\n1\nx"
    assert app.jinja_env.trim_blocks is True


def test_jinja_options_of_a_subclass_and_per_app_copies() -> None:
    class MyApp(Flask):
        jinja_options = {"extensions": ["jinja2.ext.loopcontrols"]}  # noqa: RUF012

    first = MyApp("first", root_path=str(ROOT))
    second = MyApp("second", root_path=str(ROOT))
    first.jinja_options["trim_blocks"] = True
    assert "trim_blocks" not in second.jinja_options
    assert "trim_blocks" not in MyApp.jinja_options
    with second.app_context():
        source = "{% for i in range(5) %}{% if i == 2 %}{% break %}{% endif %}{{ i }}{% endfor %}"
        assert render_template_string(source) == "01"


def test_the_loader_searches_the_template_folder_beside_the_app() -> None:
    """``Flask(__name__)`` in a package finds ``templates/`` next to it."""
    app = create_app()
    assert app.root_path == str(ROOT)
    assert app.jinja_loader is not None
    assert app.jinja_loader.searchpath == [str(TEMPLATES)]
    with app.app_context():
        assert "<title>T - Site</title>" in render_template("page.html", title="T", body="")
    assert "page.html" in app.jinja_env.list_templates()


def test_a_custom_template_folder(tmp_path: Path) -> None:
    (tmp_path / "views").mkdir()
    (tmp_path / "views" / "hi.html").write_text("hi {{ name }}")
    app = Flask("custom_folder", root_path=str(tmp_path), template_folder="views")
    with app.app_context():
        assert render_template("hi.html", name="<a>") == "hi &lt;a&gt;"


def test_no_template_folder_means_no_loader(tmp_path: Path) -> None:
    app = Flask("no_templates", root_path=str(tmp_path), template_folder=None)
    assert app.jinja_loader is None
    with app.app_context():
        assert render_template_string("{{ 1 + 1 }}") == "2"
        with pytest.raises(TemplateNotFound, match="no template folders"):
            render_template("index.html")


# -- autoescaping -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extension", "escaped"),
    [("html", True), ("htm", True), ("xml", True), ("xhtml", True), ("svg", True), ("txt", False)],
)
@both_kinds
def test_autoescape_depends_on_the_file_extension(
    app: Flask, client: FlaskClient, kind: str, extension: str, escaped: bool
) -> None:
    def page() -> str:
        return render_template(f"escape/value.{extension}", value="<b>&</b>")

    app.add_url_rule("/", view_func=as_kind(kind, page))
    assert client.get("/").text == ("&lt;b&gt;&amp;&lt;/b&gt;" if escaped else "<b>&</b>")


def test_select_jinja_autoescape(app: Flask) -> None:
    assert app.select_jinja_autoescape(None) is True  # string templates
    for name in ("a.html", "a.htm", "a.xml", "a.xhtml", "a.svg"):
        assert app.select_jinja_autoescape(name) is True
    for name in ("a.txt", "a.js", "a.css", "a.md"):
        assert app.select_jinja_autoescape(name) is False


def test_autoescape_blocks_switch_escaping_off_and_on(app: Flask) -> None:
    with app.app_context():
        assert render_template("autoescape_off.html", value="<i>").strip() == "<i>|&lt;i&gt;"
        assert render_template("autoescape_on.txt", value="<i>").strip() == "&lt;i&gt;|<i>"
        assert (
            render_template_string("{% autoescape false %}{{ v }}{% endautoescape %}{{ v }}", v="<")
            == "<&lt;"
        )


def test_escape_and_markup_are_markupsafes(app: Flask) -> None:
    assert escape is markupsafe.escape
    assert Markup is markupsafe.Markup
    assert flaskish.escape("<script>") == "&lt;script&gt;"
    assert isinstance(escape("x"), Markup)
    with app.app_context():
        assert (
            render_template_string(
                "{{ a }}{{ b }}{{ c|safe }}", a=Markup("<b>"), b=escape("<i>"), c="<u>"
            )
            == "<b>&lt;i&gt;<u>"
        )


def test_the_tojson_filter_uses_the_app_json_provider(app: Flask) -> None:
    """``|tojson`` is safe inside ``<script>`` and dumps with ``app.json``."""
    with app.app_context():
        text = render_template_string("{{ data|tojson }}", data={"b": "</script>", "a": 1})
    assert text == '{"a": 1, "b": "\\u003c/script\\u003e"}'


# -- the default context and context processors -------------------------------------


@both_kinds
def test_the_default_context(app: Flask, client: FlaskClient, kind: str) -> None:
    """``config``, ``request``, ``session``, ``g``, ``url_for`` and
    ``get_flashed_messages`` are in every template."""

    def index() -> Any:
        flash("saved")
        flash("<twice>")
        session["user"] = "ann"
        return redirect(url_for("show"))

    def show() -> str:
        g.color = "blue"
        return render_template("context.html")

    app.add_url_rule("/", view_func=as_kind(kind, index))
    app.add_url_rule("/show", view_func=as_kind(kind, show))
    response = client.get("/", follow_redirects=True)
    assert response.text.strip() == (
        "debug=False path=/show user=ann g=blue url=/?page=2 flashes=saved,&lt;twice&gt;"
    )
    # Shown once: the next page has no messages left.
    assert client.get("/show").text.strip().endswith("flashes=")


@both_kinds
def test_context_processors_add_values_and_render_arguments_win(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    @app.context_processor
    def site() -> dict[str, Any]:
        return {"site": "flaskish", "title": "Default title", "agent": request.headers["X-Agent"]}

    @app.context_processor
    def later() -> dict[str, Any]:
        return {"site": "later wins"}

    def page() -> str:
        return render_template_string("{{ site }}|{{ title }}|{{ agent }}", title="From the view")

    app.add_url_rule("/", view_func=as_kind(kind, page))
    response = client.get("/", headers={"X-Agent": "tests"})
    assert response.text == "later wins|From the view|tests"


def test_context_processors_apply_to_streamed_templates(app: Flask, client: FlaskClient) -> None:
    @app.context_processor
    def site() -> dict[str, str]:
        return {"site": "S"}

    @app.route("/")
    def page() -> Any:
        return stream_template_string("{{ site }}{{ x }}", x=1)

    assert client.get("/").text == "S1"


def test_update_template_context_keeps_the_callers_values(app: Flask) -> None:
    @app.context_processor
    def values() -> dict[str, int]:
        return {"a": 1, "b": 2}

    context = {"b": 3}
    with app.test_request_context():
        app.update_template_context(context)
        assert context["request"] is request._get_current_object()
        assert context["g"] is g._get_current_object()
    assert {key: context[key] for key in ("a", "b")} == {"a": 1, "b": 3}
    assert set(context) == {"a", "b", "g", "request", "session"}


# -- filters, tests and globals -----------------------------------------------------


@both_kinds
def test_template_filters_tests_and_globals_by_decorator(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    @app.template_filter()
    def reverse(value: str) -> str:
        return value[::-1]

    @app.template_filter("double")
    def twice(value: str) -> str:
        return value * 2

    @app.template_test()
    def even(value: int) -> bool:
        return value % 2 == 0

    @app.template_test("big")
    def over_ten(value: int) -> bool:
        return value > 10

    @app.template_global()
    def answer() -> int:
        return 42

    @app.template_global("site_name")
    def name() -> str:
        return "<flaskish>"

    assert reverse("ab") == "ba"  # the decorators return the function
    source = (
        "{{ 'abc'|reverse }} {{ 'ab'|double }} {{ 4 is even }} {{ 3 is even }} "
        "{{ 11 is big }} {{ answer() }} {{ site_name() }}"
    )

    def page() -> str:
        return render_template_string(source)

    app.add_url_rule("/", view_func=as_kind(kind, page))
    assert client.get("/").text == "cba abab True False True 42 &lt;flaskish&gt;"


def test_add_template_filter_test_and_global(app: Flask) -> None:
    app.add_template_filter(str.upper)
    app.add_template_filter(str.lower, "small")
    app.add_template_test(str.isdigit)
    app.add_template_test(str.isalpha, "letters")
    app.add_template_global(len)
    app.add_template_global(sorted, "in_order")
    assert app.jinja_env.filters["upper"] is str.upper
    assert app.jinja_env.tests["letters"] is str.isalpha
    assert app.jinja_env.globals["in_order"] is sorted
    with app.app_context():
        assert (
            render_template_string(
                "{{ 'a'|upper }}{{ 'B'|small }}{{ '12' is isdigit }}{{ 'a1' is letters }}"
                "{{ len('abc') }}{{ in_order([2, 1]) }}"
            )
            == "AbTrueFalse3[1, 2]"
        )


def test_template_helpers_cannot_be_added_after_the_first_request(
    app: Flask, client: FlaskClient
) -> None:
    @app.route("/")
    def index() -> str:
        return ""

    client.get("/")
    with pytest.raises(AssertionError, match="template_filter"):
        app.template_filter()(str.upper)
    with pytest.raises(AssertionError, match="add_template_global"):
        app.add_template_global(len)


# -- auto-reload --------------------------------------------------------------------


def rewrite(path: Path, text: str) -> None:
    """Change a template, with a clearly newer mtime."""
    path.write_text(text)
    later = time.time() + 10
    os.utime(path, (later, later))


@pytest.mark.parametrize(
    ("auto_reload", "debug", "reloaded"),
    [(True, False, True), (None, True, True), (False, True, False), (None, False, False)],
    ids=["on", "debug", "off-even-in-debug", "off-by-default"],
)
@both_kinds
def test_templates_auto_reload(
    tmp_path: Path, kind: str, auto_reload: bool | None, debug: bool, reloaded: bool
) -> None:
    """With ``TEMPLATES_AUTO_RELOAD`` (or in debug when it is ``None``) a
    changed template is read again; otherwise the cached one is used."""
    app = tmp_app(tmp_path, page_html="one")
    app.config.update(TEMPLATES_AUTO_RELOAD=auto_reload, DEBUG=debug)

    def page() -> str:
        return render_template("page.html")

    app.add_url_rule("/", view_func=as_kind(kind, page))
    client = app.test_client()
    assert client.get("/").text == "one"
    assert app.jinja_env.auto_reload is reloaded
    rewrite(tmp_path / "templates" / "page.html", "two")
    assert client.get("/").text == ("two" if reloaded else "one")


def test_a_template_is_read_from_disk_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = tmp_app(tmp_path, page_html="cached")
    loads: list[str] = []
    loader = app.jinja_loader
    assert loader is not None
    original = loader.get_source

    def counting_get_source(environment: jinja2.Environment, name: str) -> Any:
        loads.append(name)
        return original(environment, name)

    monkeypatch.setattr(loader, "get_source", counting_get_source)
    with app.app_context():
        for _ in range(3):
            assert render_template("page.html") == "cached"
    assert loads == ["page.html"]


def test_turning_debug_on_later_turns_auto_reload_on(tmp_path: Path) -> None:
    """As in Flask: ``app.debug = True`` after the environment exists (as
    ``app.run(debug=True)`` does) makes templates reload."""
    app = tmp_app(tmp_path, page_html="one")
    with app.app_context():
        assert render_template("page.html") == "one"
        app.debug = True
        rewrite(tmp_path / "templates" / "page.html", "two")
        assert render_template("page.html") == "two"


# -- missing templates --------------------------------------------------------------


def test_a_missing_template_names_the_folders_searched(app: Flask) -> None:
    with app.app_context(), pytest.raises(TemplateNotFound) as info:
        render_template("nope.html")
    assert info.value.name == "nope.html"
    assert "nope.html" in str(info.value)
    assert str(TEMPLATES) in str(info.value)


def test_a_list_of_missing_templates(app: Flask) -> None:
    with app.app_context(), pytest.raises(TemplatesNotFound) as info:
        render_template(["nope.html", "neither.html"])
    assert isinstance(info.value, TemplateNotFound)
    assert info.value.templates == ["nope.html", "neither.html"]


@both_kinds
def test_a_missing_template_in_a_view(app: Flask, client: FlaskClient, kind: str) -> None:
    def page() -> str:
        return render_template("nope.html")

    app.add_url_rule("/", view_func=as_kind(kind, page))
    with pytest.raises(TemplateNotFound, match=r"nope\.html"):
        client.get("/")
    app.testing = False
    assert client.get("/").status_code == 500


def test_explain_template_loading_logs_the_search(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["EXPLAIN_TEMPLATE_LOADING"] = True
    caplog.set_level(logging.INFO, logger=app.logger.name)
    with app.app_context():
        render_template("base.html")
        found = [r.getMessage() for r in caplog.records if r.name == app.logger.name]
        assert len(found) == 1
        assert "base.html" in found[0]
        assert str(TEMPLATES) in found[0]
        caplog.clear()
        with pytest.raises(TemplateNotFound):
            render_template("nope.html")
    missing = [r.getMessage() for r in caplog.records if r.name == app.logger.name]
    assert len(missing) == 1
    assert "nope.html" in missing[0]
    assert "Error: the template could not be found." in missing[0]  # Flask's words
    assert str(TEMPLATES) in missing[0]


def test_without_explain_template_loading_nothing_is_logged(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with app.app_context():
        render_template("base.html")
        with pytest.raises(TemplateNotFound):
            render_template("nope.html")
    assert [r for r in caplog.records if r.name == app.logger.name] == []


# -- signals ------------------------------------------------------------------------


@both_kinds
def test_before_render_template_and_template_rendered_signals(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    events: list[tuple[str, Any, str | None, dict[str, Any]]] = []

    def before(sender: Flask, template: jinja2.Template, context: dict[str, Any]) -> None:
        events.append(("before", sender, template.name, dict(context)))
        context["extra"] = "added by a receiver"  # the context can still change

    def after(sender: Flask, template: jinja2.Template, context: dict[str, Any]) -> None:
        events.append(("rendered", sender, template.name, dict(context)))

    def page() -> str:
        return render_template(
            "page.html", title="T", body="{{ nothing }}"
        ) + render_template_string("|{{ extra }}")

    app.add_url_rule("/", view_func=as_kind(kind, page))
    with (
        before_render_template.connected_to(before, app),
        template_rendered.connected_to(after, app),
    ):
        response = client.get("/")
    assert response.text.endswith("|added by a receiver")
    assert [(e[0], e[1], e[2]) for e in events] == [
        ("before", app, "page.html"),
        ("rendered", app, "page.html"),
        ("before", app, None),
        ("rendered", app, None),
    ]
    assert events[0][3]["title"] == "T"
    assert events[1][3]["extra"] == "added by a receiver"


def test_template_rendered_is_sent_after_a_stream_finishes(app: Flask, client: FlaskClient) -> None:
    events: list[str] = []

    @app.route("/")
    def page() -> Any:
        def parts() -> Iterator[str]:
            events.append("rendering")
            yield "x"

        return stream_template_string("{% for p in parts %}{{ p }}{% endfor %}", parts=parts())

    with (
        before_render_template.connected_to(lambda *a, **k: events.append("before"), app),
        template_rendered.connected_to(lambda *a, **k: events.append("rendered"), app),
    ):
        assert client.get("/").text == "x"
    assert events == ["before", "rendering", "rendered"]


def test_signals_for_another_app_are_not_received(app: Flask) -> None:
    other = Flask("other", root_path=str(ROOT))
    events: list[object] = []
    with (
        template_rendered.connected_to(lambda sender, **k: events.append(sender), other),
        app.app_context(),
    ):
        render_template_string("x")
    assert events == []


# -- get_template_attribute ---------------------------------------------------------


def test_get_template_attribute_returns_macros_and_variables(app: Flask) -> None:
    with app.app_context():
        hello = get_template_attribute("_macros.html", "hello")
        assert hello("<Ann>") == "Hello &lt;Ann&gt;!"
        assert isinstance(hello("x"), Markup)
        assert get_template_attribute("_macros.html", "answer") == 42
        with pytest.raises(AttributeError):
            get_template_attribute("_macros.html", "nothing")


@both_kinds
def test_get_template_attribute_in_a_view(app: Flask, client: FlaskClient, kind: str) -> None:
    def page() -> str:
        item = get_template_attribute("_macros.html", "item")
        return str(item(request.args["v"]))

    app.add_url_rule("/", view_func=as_kind(kind, page))
    assert client.get("/?v=<x>").text == "<li>&lt;x&gt;</li>"
