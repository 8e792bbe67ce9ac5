"""Blueprints as a Flask user sees them: the constructor's parameters,
``register_blueprint`` options, nesting, per-blueprint and app-wide hooks,
error handlers, URL processors, templates, static files and commands.
Views and hooks run both as ``def`` and as ``async def``."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import blueprint_app
import pytest
from jinja2 import TemplateNotFound
from kinds import as_kind, both_kinds

from flaskish import Flask, abort, g, request, url_for
from flaskish.blueprints import Blueprint, BlueprintSetupState
from flaskish.exceptions import Forbidden, HTTPException
from flaskish.routing import Rule
from flaskish.templating import render_template, render_template_string
from flaskish.testing import FlaskClient

F = TypeVar("F", bound=Callable[..., Any])


def rules(app: Flask) -> dict[str, Rule]:
    """The app's rules by endpoint."""
    return {rule.endpoint: rule for rule in app.url_map.iter_rules()}


# -- the constructor -------------------------------------------------------------


def test_a_blueprint_name_may_not_be_empty() -> None:
    with pytest.raises(ValueError, match="may not be empty"):
        Blueprint("", __name__)


def test_a_blueprint_name_may_not_contain_a_dot() -> None:
    with pytest.raises(ValueError, match=r"may not contain a dot.*register_blueprint\(child\)"):
        Blueprint("app.ui", __name__)


def test_the_root_path_is_the_folder_of_the_import_name() -> None:
    admin = blueprint_app.admin.bp

    assert admin.root_path == os.path.dirname(blueprint_app.admin.__file__)
    assert admin.import_name == "blueprint_app.admin"
    assert repr(admin) == "<Blueprint 'admin'>"


def test_root_path_overrides_the_import_name(app: Flask, tmp_path: Path) -> None:
    (tmp_path / "files").mkdir()
    (tmp_path / "files" / "a.txt").write_text("from root_path")
    (tmp_path / "schema.sql").write_text("create table t (x);")
    bp = Blueprint("bp", "not.a.module", root_path=str(tmp_path), static_folder="files")
    assert bp.root_path == str(tmp_path)
    assert bp.static_folder == str(tmp_path / "files")
    with bp.open_resource("schema.sql") as f:
        assert f.read() == b"create table t (x);"
    with bp.open_resource("schema.sql", "r") as f:
        assert f.read() == "create table t (x);"
    with pytest.raises(ValueError, match="only be opened for reading"):
        bp.open_resource("schema.sql", "w")
    app.register_blueprint(bp, url_prefix="/bp")
    assert app.test_client().get("/bp/files/a.txt").data == b"from root_path"


@pytest.mark.parametrize(
    ("prefix", "rule", "url"),
    [
        ("", "/", "/"),
        ("/", "", "/"),
        ("/", "/", "/"),
        ("/foo", "", "/foo"),
        ("/foo/", "", "/foo/"),
        ("", "/bar", "/bar"),
        ("/foo/", "/bar", "/foo/bar"),
        ("/foo/", "bar", "/foo/bar"),
        ("/foo", "/bar", "/foo/bar"),
        ("/foo/", "//bar", "/foo/bar"),
        ("/foo//", "/bar", "/foo/bar"),
    ],
)
def test_the_url_prefix_and_the_rule_are_joined_with_one_slash(
    app: Flask, client: FlaskClient, prefix: str, rule: str, url: str
) -> None:
    bp = Blueprint("bp", __name__, url_prefix=prefix)

    @bp.route(rule)
    def index() -> tuple[str, int]:
        return "", 204

    app.register_blueprint(bp)
    assert client.get(url).status_code == 204


def test_the_subdomain_is_kept_on_the_rules(app: Flask) -> None:
    """Host matching is not supported: the subdomain is stored on the rule,
    as Flask computes it, for tools that read the URL map."""
    bp = Blueprint("bp", __name__, subdomain="api")
    bp.add_url_rule("/", "index", lambda: "")
    bp.add_url_rule("/own", "own", lambda: "", subdomain="own")
    app.register_blueprint(bp)
    app.register_blueprint(bp, name="other", subdomain="other")
    assert rules(app)["bp.index"].subdomain == "api"
    assert rules(app)["bp.own"].subdomain == "own"
    assert rules(app)["other.index"].subdomain == "other"


def test_nested_subdomains_are_combined(app: Flask) -> None:
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__, subdomain="api")
    only_parent = Blueprint("only_parent", __name__)
    for bp in (child, only_parent):
        bp.add_url_rule("/", "index", lambda: "")
    parent.register_blueprint(child)
    parent.register_blueprint(only_parent, url_prefix="/p")
    app.register_blueprint(parent, subdomain="parent")
    assert rules(app)["parent.child.index"].subdomain == "api.parent"
    assert rules(app)["parent.only_parent.index"].subdomain == "parent"


@both_kinds
def test_url_defaults_are_passed_to_the_views(app: Flask, client: FlaskClient, kind: str) -> None:
    bp = Blueprint("bp", __name__, url_defaults={"bar": 1, "baz": 2})

    def foo(bar: int, baz: int) -> str:
        return f"{bar}/{baz}"

    def qux(bar: int, baz: int) -> str:
        return f"{bar}/{baz}"

    bp.route("/foo")(as_kind(kind, foo))
    bp.route("/qux", defaults={"baz": 42})(as_kind(kind, qux))
    app.register_blueprint(bp, url_prefix="/1")
    app.register_blueprint(bp, name="bp2", url_prefix="/2", url_defaults={"bar": 19})
    assert client.get("/1/foo").data == b"1/2"
    assert client.get("/1/qux").data == b"1/42"
    assert client.get("/2/foo").data == b"19/2"
    assert client.get("/2/qux").data == b"19/42"


def test_one_view_with_a_defaults_rule_and_a_variable_rule(app: Flask, client: FlaskClient) -> None:
    bp = Blueprint("bp", __name__)

    @bp.route("/", defaults={"page": 1})
    @bp.route("/page/<int:page>")
    def something(page: int) -> str:
        return str(page)

    app.register_blueprint(bp)
    assert client.get("/").data == b"1"
    assert client.get("/page/2").data == b"2"
    with app.test_request_context():
        assert url_for("bp.something", page=1) == "/"
        assert url_for("bp.something", page=3) == "/page/3"


# -- static files ----------------------------------------------------------------


def test_blueprint_static_files_are_served_under_its_prefix() -> None:
    app = blueprint_app.create_app()
    client = app.test_client()
    response = client.get("/admin/static/test.txt")
    assert response.status_code == 200
    assert response.data.strip() == b"Admin File"
    assert response.mimetype == "text/plain"
    assert client.get("/admin/static/css/test.css").data.strip() == b"/* nested file */"
    assert client.get("/admin/static/nope.txt").status_code == 404
    assert client.get("/admin/static/../__init__.py").status_code == 404
    with app.test_request_context():
        assert url_for("admin.static", filename="test.txt") == "/admin/static/test.txt"
        assert url_for("admin.static", filename="css/test.css") == "/admin/static/css/test.css"


def test_static_max_age_comes_from_the_config_or_the_blueprint() -> None:
    class LongCache(Blueprint):
        def get_send_file_max_age(self, filename: str | None) -> int | None:
            return 100

    app = blueprint_app.create_app()
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    cached = LongCache("cached", "blueprint_app.admin", static_folder="static")
    app.register_blueprint(cached, url_prefix="/cached")
    client = app.test_client()
    assert "max-age=3600" in client.get("/admin/static/test.txt").headers["Cache-Control"]
    assert "max-age=100" in client.get("/cached/static/test.txt").headers["Cache-Control"]


def test_static_url_path_sets_the_url_of_the_static_folder(
    app: Flask, client: FlaskClient, tmp_path: Path
) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "app.js").write_text("let x = 1;")
    bp = Blueprint(
        "bp", __name__, root_path=str(tmp_path), static_folder="assets", static_url_path="/js/"
    )
    assert bp.static_url_path == "/js"
    app.register_blueprint(bp, url_prefix="/bp")
    assert client.get("/bp/js/app.js").data == b"let x = 1;"
    assert client.get("/bp/assets/app.js").status_code == 404
    with app.test_request_context():
        assert url_for("bp.static", filename="app.js") == "/bp/js/app.js"


def test_without_a_static_folder_there_is_no_static_route(app: Flask) -> None:
    bp = Blueprint("bp", __name__)
    assert not bp.has_static_folder
    assert bp.static_folder is None
    app.register_blueprint(bp)
    assert "bp.static" not in rules(app)
    with app.test_request_context(), pytest.raises(RuntimeError, match="static_folder"):
        bp.send_static_file("x.txt")


def test_the_apps_static_route_wins_over_an_unprefixed_blueprints() -> None:
    """As in Flask: a blueprint without a URL prefix has the app's static
    URL, and the app's rule was registered first."""
    app = blueprint_app.create_app()
    client = app.test_client()
    assert client.get("/static/app.txt").data.strip() == b"App File"
    assert client.get("/static/front.txt").status_code == 404
    with app.test_request_context():
        assert url_for("frontend.static", filename="front.txt") == "/static/front.txt"


# -- templates -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/", "/admin/async"])
def test_blueprint_templates_are_found_in_its_template_folder(path: str) -> None:
    client = blueprint_app.create_app().test_client()
    assert client.get(path).data == (b"Hello from the Admin, static at /admin/static/test.txt")
    assert client.get("/").data == b"Hello from the Frontend: hi"


def test_the_apps_templates_override_a_blueprints() -> None:
    client = blueprint_app.create_app().test_client()
    assert client.get("/admin/overridden").data.strip() == b"from the app"


def test_template_not_found_lists_the_blueprint_folders() -> None:
    app = blueprint_app.create_app()
    with pytest.raises(TemplateNotFound) as info:
        app.test_client().get("/admin/missing")
    assert info.value.name == "admin/missing.html"
    message = str(info.value)
    assert os.path.join(os.path.dirname(blueprint_app.__file__), "templates") in message
    assert os.path.join(os.path.dirname(blueprint_app.admin.__file__), "templates") in message
    assert "blueprint 'admin'" in message
    assert "blueprint 'frontend'" in message


def test_list_templates_includes_the_blueprints() -> None:
    app = blueprint_app.create_app()
    assert app.jinja_env.list_templates() == [
        "admin/index.html",
        "admin/overridden.html",
        "frontend/index.html",
    ]


def test_a_blueprint_without_template_folder_adds_no_loader() -> None:
    assert Blueprint("bp", __name__).jinja_loader is None


# -- register_blueprint ----------------------------------------------------------


@both_kinds
def test_register_options_override_the_constructor(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/from-init")

    def index() -> str:
        return f"{request.endpoint} {request.blueprint} {url_for('.index')}"

    bp.route("/")(as_kind(kind, index))
    app.register_blueprint(bp)
    app.register_blueprint(bp, name="renamed", url_prefix="/from-register")
    assert client.get("/from-init/").data == b"bp.index bp /from-init/"
    assert client.get("/from-register/").data == b"renamed.index renamed /from-register/"
    assert set(app.blueprints) == {"bp", "renamed"}
    assert list(app.iter_blueprints()) == [bp, bp]


def test_registering_twice_under_one_name_is_an_error(app: Flask) -> None:
    bp = Blueprint("bp", __name__)
    app.register_blueprint(bp)
    with pytest.raises(ValueError, match=r"'bp' is already registered for this blueprint.*name="):
        app.register_blueprint(bp)
    app.register_blueprint(bp, name="again")


def test_another_blueprint_with_a_taken_name_is_an_error(app: Flask) -> None:
    app.register_blueprint(Blueprint("bp", __name__))
    other = Blueprint("bp", __name__)
    with pytest.raises(ValueError, match="'bp' is already registered for a different blueprint"):
        app.register_blueprint(other)
    app.register_blueprint(other, name="alt")
    assert app.blueprints["alt"] is other


def test_nested_name_clash_names_the_dotted_name(app: Flask) -> None:
    parent = Blueprint("parent", __name__)
    parent.register_blueprint(Blueprint("child", __name__))
    parent.register_blueprint(Blueprint("child", __name__))
    with pytest.raises(ValueError, match=r"different blueprint 'parent\.child'"):
        app.register_blueprint(parent)


def test_a_blueprint_cannot_be_registered_on_itself() -> None:
    bp = Blueprint("bp", __name__)
    with pytest.raises(ValueError, match="on itself"):
        bp.register_blueprint(bp)


def test_setup_methods_after_registration_raise(app: Flask) -> None:
    bp = Blueprint("bp", __name__)
    bp.route("/")(lambda: "")
    app.register_blueprint(bp)
    calls: list[Callable[[], Any]] = [
        lambda: bp.route("/late")(lambda: ""),
        lambda: bp.add_url_rule("/late", "late", lambda: ""),
        lambda: bp.before_request(lambda: None),
        lambda: bp.errorhandler(404)(lambda e: ""),
        lambda: bp.record(lambda state: None),
        lambda: bp.before_app_request(lambda: None),
        lambda: bp.register_blueprint(Blueprint("child", __name__)),
    ]
    for setup_call in calls:
        with pytest.raises(AssertionError, match="already been registered at least once"):
            setup_call()


def test_registering_a_blueprint_after_the_first_request_raises(
    app: Flask, client: FlaskClient
) -> None:
    app.route("/")(lambda: "")
    client.get("/")
    with pytest.raises(AssertionError, match="first request"):
        app.register_blueprint(Blueprint("bp", __name__))


def test_record_runs_at_each_registration_and_record_once_once_per_app() -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    states: list[BlueprintSetupState] = []
    once: list[BlueprintSetupState] = []
    bp.record(states.append)

    @bp.record_once
    def first(state: BlueprintSetupState) -> None:
        once.append(state)

    app, other_app = Flask("one"), Flask("two")
    app.register_blueprint(bp)
    app.register_blueprint(bp, name="again", url_prefix="/again", url_defaults={"x": 1})
    other_app.register_blueprint(bp)
    assert [s.first_registration for s in states] == [True, False, True]
    assert [s.app for s in once] == [app, other_app]
    state = states[1]
    assert state.blueprint is bp
    assert state.name == "again"
    assert state.url_prefix == "/again"
    assert state.url_defaults == {"x": 1}
    assert state.options == {"name": "again", "url_prefix": "/again", "url_defaults": {"x": 1}}


def test_record_gets_a_state_that_adds_prefixed_rules(app: Flask, client: FlaskClient) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")

    @bp.record
    def add_rule(state: BlueprintSetupState) -> None:
        state.add_url_rule("/recorded", view_func=lambda: "recorded", endpoint="recorded")

    app.register_blueprint(bp)
    assert client.get("/bp/recorded").data == b"recorded"
    assert "bp.recorded" in rules(app)


# -- routes ----------------------------------------------------------------------


@both_kinds
def test_route_add_url_rule_and_method_decorators(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    bp = Blueprint("bp", __name__)

    def endpoint() -> str:
        return f"{request.method} {request.endpoint}"

    bp.route("/route", methods=["GET", "POST"])(as_kind(kind, endpoint))
    bp.add_url_rule("/added", "added", as_kind(kind, endpoint))
    for method in ("get", "post", "put", "delete", "patch"):
        getattr(bp, method)("/verbs", endpoint=method)(as_kind(kind, endpoint))
    app.register_blueprint(bp, url_prefix="/py")
    assert client.get("/py/route").data == b"GET bp.endpoint"
    assert client.post("/py/route").data == b"POST bp.endpoint"
    assert client.get("/py/added").data == b"GET bp.added"
    for method in ("get", "post", "put", "delete", "patch"):
        assert getattr(client, method)("/py/verbs").data == f"{method.upper()} bp.{method}".encode()
    assert client.put("/py/route").status_code == 405


def test_custom_endpoints_are_prefixed(app: Flask, client: FlaskClient) -> None:
    bp = Blueprint("bp", __name__)

    @bp.route("/foo")
    def foo() -> str:
        return request.endpoint or ""

    @bp.route("/bar", endpoint="bar")
    def foo_bar() -> str:
        return request.endpoint or ""

    @bp.route("/bar/123", endpoint="123")
    def foo_bar_foo() -> str:
        return request.endpoint or ""

    app.register_blueprint(bp, url_prefix="/py")
    assert client.get("/py/foo").data == b"bp.foo"
    assert client.get("/py/bar").data == b"bp.bar"
    assert client.get("/py/bar/123").data == b"bp.123"


def test_endpoints_with_dots_are_refused() -> None:
    bp = Blueprint("bp", __name__)
    with pytest.raises(ValueError, match=r"'endpoint' may not contain a dot.*'a_b'"):
        bp.route("/", endpoint="a.b")(lambda: "")
    with pytest.raises(ValueError, match="'endpoint' may not contain a dot"):
        bp.add_url_rule("/", endpoint="a.b")

    def view() -> str:
        return ""

    view.__name__ = "a.b"
    with pytest.raises(ValueError, match="'view_func' name may not contain a dot"):
        bp.add_url_rule("/", view_func=view)


def test_the_endpoint_decorator_registers_an_unprefixed_endpoint(
    app: Flask, client: FlaskClient
) -> None:
    """As in Flask: ``@bp.endpoint("bar")`` names the app's endpoint ``bar``."""
    app.url_map.add(Rule("/foo", endpoint="bar"))
    bp = Blueprint("bp", __name__)

    @bp.endpoint("bar")
    def foobar() -> str:
        return request.endpoint or ""

    app.register_blueprint(bp, url_prefix="/bp_prefix")
    assert client.get("/foo").data == b"bar"
    assert client.get("/bp_prefix/bar").status_code == 404


def test_app_and_blueprint_endpoints_link_to_each_other(app: Flask, client: FlaskClient) -> None:
    bp = Blueprint("test", __name__)

    @app.route("/")
    def app_index() -> str:
        return url_for("test.index")

    @bp.route("/test/")
    def index() -> str:
        return url_for("app_index")

    app.register_blueprint(bp)
    assert client.get("/").data == b"/test/"
    assert client.get("/test/").data == b"/"


# -- nesting ---------------------------------------------------------------------


def three_levels() -> tuple[Blueprint, Blueprint, Blueprint]:
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__)
    grandchild = Blueprint("grandchild", __name__)
    for bp in (parent, child, grandchild):

        @bp.route("/")
        def index() -> str:
            return f"{request.blueprint} {request.blueprints} {url_for('.index')}"

    return parent, child, grandchild


def test_nested_blueprints_have_dotted_names_and_combined_prefixes(
    app: Flask, client: FlaskClient
) -> None:
    parent, child, grandchild = three_levels()
    child.register_blueprint(grandchild, url_prefix="/grandchild")
    parent.register_blueprint(child, url_prefix="/child")
    app.register_blueprint(parent, url_prefix="/parent")
    assert client.get("/parent/").text == "parent ['parent'] /parent/"
    assert client.get("/parent/child/").text == (
        "parent.child ['parent.child', 'parent'] /parent/child/"
    )
    assert client.get("/parent/child/grandchild/").text == (
        "parent.child.grandchild ['parent.child.grandchild', 'parent.child', 'parent'] "
        "/parent/child/grandchild/"
    )
    assert set(app.blueprints) == {"parent", "parent.child", "parent.child.grandchild"}
    with app.test_request_context():
        assert url_for("parent.child.grandchild.index") == "/parent/child/grandchild/"


@pytest.mark.parametrize(
    ("parent_init", "child_init", "parent_registration", "child_registration"),
    [
        ("/parent", "/child", None, None),
        ("/parent", None, None, "/child"),
        (None, None, "/parent", "/child"),
        ("/other", "/something", "/parent", "/child"),
        ("/parent", "/child", "/parent", None),
    ],
)
def test_nested_url_prefixes_come_from_the_constructor_or_the_registration(
    app: Flask,
    client: FlaskClient,
    parent_init: str | None,
    child_init: str | None,
    parent_registration: str | None,
    child_registration: str | None,
) -> None:
    parent = Blueprint("parent", __name__, url_prefix=parent_init)
    child = Blueprint("child", __name__, url_prefix=child_init)
    child.route("/")(lambda: "index")
    parent.register_blueprint(child, url_prefix=child_registration)
    app.register_blueprint(parent, url_prefix=parent_registration)
    assert client.get("/parent/child/").status_code == 200


def test_a_nested_blueprint_may_be_renamed_and_its_parent_registered_twice(
    app: Flask, client: FlaskClient
) -> None:
    bp = Blueprint("bp", __name__)
    bp2 = Blueprint("bp2", __name__)

    @bp.get("/")
    def index() -> str:
        return request.endpoint or ""

    @bp.get("/error")
    def error() -> str:
        abort(403)

    @bp.errorhandler(403)
    def forbidden(e: Exception) -> tuple[str, int]:
        return "Error", 403

    @bp2.get("/")
    def index2() -> str:
        return request.endpoint or ""

    bp.register_blueprint(bp2, url_prefix="/a", name="sub")
    app.register_blueprint(bp, url_prefix="/a")
    app.register_blueprint(bp, url_prefix="/b", name="alt")
    assert client.get("/a/").data == b"bp.index"
    assert client.get("/b/").data == b"alt.index"
    assert client.get("/a/a/").data == b"bp.sub.index2"
    assert client.get("/b/a/").data == b"alt.sub.index2"
    assert client.get("/a/error").data == b"Error"
    assert client.get("/b/error").data == b"Error"


@both_kinds
def test_nested_hooks_run_app_first_then_outer_to_inner(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    """before_request: app, parent, child; after_request and
    teardown_request: child, parent, app (each in reverse registration
    order); context processors: the innermost wins."""
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__)
    events: list[str] = []
    for owner, label in ((app, "app"), (parent, "parent"), (child, "child")):
        for n in (1, 2):

            def before(label: str = label, n: int = n) -> None:
                events.append(f"before {label}_{n}")

            def after(response: Any, label: str = label, n: int = n) -> Any:
                events.append(f"after {label}_{n}")
                return response

            def teardown(exc: BaseException | None, label: str = label, n: int = n) -> None:
                events.append(f"teardown {label}_{n}")

            owner.before_request(as_kind(kind, before))
            owner.after_request(as_kind(kind, after))
            owner.teardown_request(as_kind(kind, teardown))

        def processor(label: str = label) -> dict[str, str]:
            return {"key": label}

        owner.context_processor(as_kind(kind, processor))

    child.route("/a", endpoint="a")(as_kind(kind, lambda: "a"))
    child.route("/b", endpoint="b")(lambda: render_template_string("{{ key }}"))
    parent.route("/p", endpoint="p")(lambda: render_template_string("{{ key }}"))
    parent.register_blueprint(child)
    app.register_blueprint(parent)
    assert client.get("/a").data == b"a"
    outer_to_inner = ["app_1", "app_2", "parent_1", "parent_2", "child_1", "child_2"]
    inner_to_outer = ["child_2", "child_1", "parent_2", "parent_1", "app_2", "app_1"]
    assert events == (
        [f"before {label}" for label in outer_to_inner]
        + [f"after {label}" for label in inner_to_outer]
        + [f"teardown {label}" for label in inner_to_outer]
    )
    assert client.get("/b").data == b"child"
    assert client.get("/p").data == b"parent"


# -- hooks -----------------------------------------------------------------------


@both_kinds
def test_blueprint_hooks_run_only_for_its_requests(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    bp = Blueprint("bp", __name__)
    events: list[str] = []

    def before() -> None:
        events.append("before")

    def after(response: Any) -> Any:
        response.data += b"|after"
        events.append("after")
        return response

    def teardown(exc: BaseException | None) -> None:
        events.append(f"teardown {exc!r}")

    bp.before_request(as_kind(kind, before))
    bp.after_request(as_kind(kind, after))
    bp.teardown_request(as_kind(kind, teardown))
    bp.route("/bp")(as_kind(kind, lambda: "request"))
    app.route("/app")(as_kind(kind, lambda: "app"))
    app.register_blueprint(bp)
    assert client.get("/app").data == b"app"
    assert events == []
    assert client.get("/bp").data == b"request|after"
    assert events == ["before", "after", "teardown None"]


@both_kinds
def test_blueprint_teardown_gets_the_unhandled_exception(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    bp = Blueprint("bp", __name__)
    seen: list[BaseException | None] = []

    def fail() -> str:
        raise KeyError("boom")

    bp.teardown_request(as_kind(kind, seen.append))
    bp.route("/")(as_kind(kind, fail))
    app.register_blueprint(bp)
    assert client.get("/").status_code == 500
    assert len(seen) == 1 and isinstance(seen[0], KeyError)


@both_kinds
def test_a_blueprint_before_request_may_answer_the_request(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    bp = Blueprint("bp", __name__)
    bp.before_request(as_kind(kind, lambda: ("stopped", 403)))
    bp.route("/")(as_kind(kind, lambda: "view"))
    app.register_blueprint(bp)
    response = client.get("/")
    assert (response.status_code, response.data) == (403, b"stopped")


@both_kinds
def test_app_wide_hooks_registered_on_a_blueprint_run_for_every_request(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    bp = Blueprint("bp", __name__)
    events: list[str] = []

    def before_app() -> None:
        events.append("before")

    def after_app(response: Any) -> Any:
        response.data += b"|after"
        events.append("after")
        return response

    def teardown_app(exc: BaseException | None) -> None:
        events.append("teardown")

    bp.before_app_request(as_kind(kind, before_app))
    bp.after_app_request(as_kind(kind, after_app))
    bp.teardown_app_request(as_kind(kind, teardown_app))
    app.register_blueprint(bp)
    app.register_blueprint(bp, name="again")  # app-wide hooks are added once
    app.route("/")(as_kind(kind, lambda: "request"))
    assert events == []
    assert client.get("/").data == b"request|after"
    assert client.get("/").data == b"request|after"
    assert events == ["before", "after", "teardown"] * 2


# -- error handlers --------------------------------------------------------------


@both_kinds
def test_a_blueprint_error_handler_comes_before_the_apps(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    frontend = Blueprint("frontend", __name__)
    backend = Blueprint("backend", __name__)
    sideend = Blueprint("sideend", __name__)
    frontend.errorhandler(403)(as_kind(kind, lambda e: ("frontend says no", 403)))
    backend.errorhandler(Forbidden)(as_kind(kind, lambda e: ("backend says no", 403)))
    for bp in (frontend, backend, sideend):
        bp.route(f"/{bp.name}-no")(as_kind(kind, lambda: abort(403)))
        app.register_blueprint(bp)
    app.errorhandler(403)(as_kind(kind, lambda e: ("application itself says no", 403)))
    assert client.get("/frontend-no").data == b"frontend says no"
    assert client.get("/backend-no").data == b"backend says no"
    assert client.get("/sideend-no").data == b"application itself says no"


@both_kinds
def test_blueprint_handlers_for_exception_classes(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    class DecoratorError(Exception):
        pass

    class FunctionError(Exception):
        pass

    class SubError(FunctionError):
        pass

    blue = Blueprint("blue", __name__)
    blue.errorhandler(DecoratorError)(as_kind(kind, lambda e: "boom"))
    blue.register_error_handler(FunctionError, as_kind(kind, lambda e: f"bam {type(e).__name__}"))

    def raise_(exc: type[Exception]) -> Callable[[], str]:
        def view() -> str:
            raise exc()

        return view

    blue.route("/decorator", endpoint="decorator")(as_kind(kind, raise_(DecoratorError)))
    blue.route("/function", endpoint="function")(as_kind(kind, raise_(FunctionError)))
    blue.route("/sub", endpoint="sub")(as_kind(kind, raise_(SubError)))
    app.register_blueprint(blue)
    # The blueprint's handler for a base class wins over the app's for the class itself.
    app.errorhandler(SubError)(lambda e: "app")
    assert client.get("/decorator").data == b"boom"
    assert client.get("/function").data == b"bam FunctionError"
    assert client.get("/sub").data == b"bam SubError"


def test_a_code_handler_comes_before_a_class_handler_across_blueprint_and_app(
    app: Flask, client: FlaskClient
) -> None:
    """As in Flask: handlers for the error's code (blueprint's, then app's)
    are looked at before handlers for a base class such as HTTPException."""
    bp = Blueprint("bp", __name__)
    bp.errorhandler(HTTPException)(lambda e: ("bp: any HTTP error", e.code))
    bp.route("/forbidden", endpoint="forbidden")(lambda: abort(403))
    bp.route("/gone", endpoint="gone")(lambda: abort(410))
    app.errorhandler(403)(lambda e: ("app: 403", 403))
    app.register_blueprint(bp)
    assert client.get("/forbidden").data == b"app: 403"
    assert client.get("/gone").data == b"bp: any HTTP error"


@both_kinds
def test_a_404_for_an_unknown_url_uses_the_apps_handler(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    bp.errorhandler(404)(as_kind(kind, lambda e: ("bp 404", 404)))
    bp.route("/")(as_kind(kind, lambda: abort(404)))
    app.errorhandler(404)(as_kind(kind, lambda e: ("app 404", 404)))
    app.register_blueprint(bp)
    assert client.get("/bp/").data == b"bp 404"
    assert client.get("/bp/unknown").data == b"app 404"
    assert client.get("/unknown").data == b"app 404"


@both_kinds
def test_a_blueprint_500_handler_gets_unhandled_exceptions_of_its_requests(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    bp = Blueprint("bp", __name__)

    def fail() -> str:
        raise KeyError("boom")

    def server_error(e: Any) -> tuple[str, int]:
        return f"bp 500 {type(e.original_exception).__name__}", 500

    bp.errorhandler(500)(as_kind(kind, server_error))
    bp.route("/bp")(as_kind(kind, fail))
    app.route("/app")(as_kind(kind, fail))
    app.register_blueprint(bp)
    assert client.get("/bp").data == b"bp 500 KeyError"
    response = client.get("/app")
    assert response.status_code == 500
    assert b"bp 500" not in response.data


def test_nested_blueprints_fall_back_to_the_parents_handler(
    app: Flask, client: FlaskClient
) -> None:
    parent, child, grandchild = three_levels()
    parent.errorhandler(403)(lambda e: ("Parent no", 403))
    grandchild.errorhandler(403)(lambda e: ("Grandchild no", 403))
    for bp in (parent, child, grandchild):
        bp.route("/no", endpoint="no")(lambda: abort(403))
    child.register_blueprint(grandchild, url_prefix="/grandchild")
    parent.register_blueprint(child, url_prefix="/child")
    app.register_blueprint(parent, url_prefix="/parent")
    assert client.get("/parent/no").data == b"Parent no"
    assert client.get("/parent/child/no").data == b"Parent no"
    assert client.get("/parent/child/grandchild/no").data == b"Grandchild no"


@both_kinds
def test_app_errorhandler_handles_errors_of_every_request(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    errors = Blueprint("errors", __name__)
    errors.app_errorhandler(403)(as_kind(kind, lambda e: ("you shall not pass", 403)))
    app.route("/forbidden")(as_kind(kind, lambda: abort(403)))
    forbidden_bp = Blueprint("forbidden_bp", __name__)
    forbidden_bp.route("/nope")(as_kind(kind, lambda: abort(403)))
    app.register_blueprint(errors)
    app.register_blueprint(forbidden_bp)
    assert client.get("/forbidden").data == b"you shall not pass"
    assert client.get("/nope").data == b"you shall not pass"
    assert client.get("/nope").status_code == 403


# -- URL processors --------------------------------------------------------------


@both_kinds
def test_blueprint_url_processors_and_relative_url_for(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    bp = Blueprint("frontend", __name__, url_prefix="/<lang_code>")

    def add_language_code(endpoint: str, values: dict[str, Any]) -> None:
        values.setdefault("lang_code", g.lang_code)

    def pull_lang_code(endpoint: str | None, values: dict[str, Any]) -> None:
        g.lang_code = values.pop("lang_code")

    bp.url_defaults(add_language_code)
    bp.url_value_preprocessor(as_kind(kind, pull_lang_code))
    bp.route("/", endpoint="index")(as_kind(kind, lambda: url_for(".about")))
    bp.route("/about", endpoint="about")(as_kind(kind, lambda: url_for(".index")))
    app.route("/other", endpoint="other")(lambda: str(g.get("lang_code")))
    app.register_blueprint(bp)
    assert client.get("/de/").data == b"/de/about"
    assert client.get("/de/about").data == b"/de/"
    assert client.get("/other").data == b"None"


@both_kinds
def test_app_url_processors_registered_on_a_blueprint(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    bp = Blueprint("bp", __name__)

    def add_language_code(endpoint: str, values: dict[str, Any]) -> None:
        values.setdefault("lang_code", g.lang_code)

    def pull_lang_code(endpoint: str | None, values: dict[str, Any]) -> None:
        g.lang_code = values.pop("lang_code")

    bp.app_url_defaults(add_language_code)
    bp.app_url_value_preprocessor(as_kind(kind, pull_lang_code))
    app.route("/<lang_code>/", endpoint="index")(as_kind(kind, lambda: url_for("about")))
    app.route("/<lang_code>/about", endpoint="about")(as_kind(kind, lambda: url_for("index")))
    app.register_blueprint(bp)
    assert client.get("/de/").data == b"/de/about"
    assert client.get("/de/about").data == b"/de/"


# -- template context, filters, tests and globals -------------------------------


@both_kinds
def test_context_processors_are_scoped_to_the_blueprint(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    answer_bp = Blueprint("answer_bp", __name__)

    def template_string() -> str:
        return render_template_string(
            "{% if notanswer %}{{ notanswer }} is not the answer. {% endif %}"
            "{% if answer %}{{ answer }} is the answer.{% endif %}"
        )

    answer_bp.app_context_processor(lambda: {"notanswer": 43})
    answer_bp.context_processor(lambda: {"answer": 42})
    answer_bp.route("/bp")(as_kind(kind, template_string))
    app.route("/")(as_kind(kind, template_string))
    app.register_blueprint(answer_bp)
    assert client.get("/").data == b"43 is not the answer. "
    assert client.get("/bp").data == b"43 is not the answer. 42 is the answer."


@pytest.mark.parametrize("name", [None, "strrev"])
@pytest.mark.parametrize("style", ["decorator", "add"])
def test_app_template_filter(app: Flask, client: FlaskClient, name: str | None, style: str) -> None:
    bp = Blueprint("bp", __name__)

    def my_reverse(s: str) -> str:
        return s[::-1]

    if style == "decorator":
        bp.app_template_filter(name)(my_reverse)
    else:
        bp.add_app_template_filter(my_reverse, name)
    app.register_blueprint(bp, url_prefix="/py")
    key = name or "my_reverse"
    assert app.jinja_env.filters[key] is my_reverse
    app.route("/")(lambda: render_template_string(f"{{{{ value|{key} }}}}", value="abcd"))
    assert client.get("/").data == b"dcba"


@pytest.mark.parametrize("name", [None, "boolean"])
@pytest.mark.parametrize("style", ["decorator", "add"])
def test_app_template_test(app: Flask, client: FlaskClient, name: str | None, style: str) -> None:
    bp = Blueprint("bp", __name__)

    def is_boolean(value: object) -> bool:
        return isinstance(value, bool)

    if style == "decorator":
        bp.app_template_test(name)(is_boolean)
    else:
        bp.add_app_template_test(is_boolean, name)
    app.register_blueprint(bp)
    key = name or "is_boolean"
    assert app.jinja_env.tests[key] is is_boolean
    template = f"{{% if value is {key} %}}Success!{{% endif %}}"
    app.route("/")(lambda: render_template_string(template, value=False))
    assert client.get("/").data == b"Success!"


@pytest.mark.parametrize("name", [None, "answer"])
@pytest.mark.parametrize("style", ["decorator", "add"])
def test_app_template_global(app: Flask, name: str | None, style: str) -> None:
    bp = Blueprint("bp", __name__)

    def get_answer() -> int:
        return 42

    if style == "decorator":
        bp.app_template_global(name)(get_answer)
    else:
        bp.add_app_template_global(get_answer, name)
    key = name or "get_answer"
    assert key not in app.jinja_env.globals
    app.register_blueprint(bp)
    assert app.jinja_env.globals[key] is get_answer
    with app.app_context():
        assert render_template_string(f"{{{{ {key}() }}}}") == "42"


def test_template_filters_reach_templates_of_views_added_before(
    app: Flask, client: FlaskClient
) -> None:
    app.route("/")(lambda: render_template_string("{{ 'abcd'|super_reverse }}"))
    bp = Blueprint("bp", __name__)
    bp.app_template_filter()(lambda s: s[::-1])
    bp.add_app_template_filter(lambda s: s[::-1], "super_reverse")
    app.register_blueprint(bp)
    assert client.get("/").data == b"dcba"


def test_outside_a_blueprint_request_its_context_processor_does_not_apply() -> None:
    app = blueprint_app.create_app()
    with app.app_context():
        assert render_template("frontend/index.html") == "Hello from the Frontend: "


def test_a_test_request_context_matches_its_blueprint() -> None:
    app = blueprint_app.create_app()
    with app.test_request_context("/admin/"):
        assert request.endpoint == "admin.index"
        assert request.blueprint == "admin"
        assert request.blueprints == ["admin"]
        assert url_for(".static", filename="test.txt") == "/admin/static/test.txt"
    with app.test_request_context("/"):
        assert render_template("frontend/index.html") == "Hello from the Frontend: hi"


# -- commands --------------------------------------------------------------------


def cli_or_skip() -> Any:
    return pytest.importorskip(
        "flaskish.cli", reason="flaskish/cli.py (Blueprint.cli) is not written yet"
    )


@pytest.mark.parametrize(
    ("cli_group", "register_option", "args"),
    [
        ("__default__", "__none__", ["bp", "hello"]),
        ("users", "__none__", ["users", "hello"]),
        (None, "__none__", ["hello"]),
        ("users", "people", ["people", "hello"]),
        ("users", None, ["hello"]),
    ],
)
def test_blueprint_commands_join_the_apps_cli(
    app: Flask, cli_group: str | None, register_option: str | None, args: list[str]
) -> None:
    cli_or_skip()
    kwargs: dict[str, Any] = {} if cli_group == "__default__" else {"cli_group": cli_group}
    bp = Blueprint("bp", __name__, **kwargs)

    @bp.cli.command("hello")
    def hello() -> None:
        print(f"hello from {bp.name}")

    options = {} if register_option == "__none__" else {"cli_group": register_option}
    app.register_blueprint(bp, **options)
    result = app.test_cli_runner().invoke(args=args)
    assert result.exit_code == 0, result.output
    assert result.output == "hello from bp\n"


def test_a_blueprint_without_commands_adds_no_group(app: Flask) -> None:
    cli_or_skip()
    bp = Blueprint("bp", __name__)
    assert len(bp.cli.commands) == 0
    app.register_blueprint(bp)
    assert "bp" not in app.cli.commands
