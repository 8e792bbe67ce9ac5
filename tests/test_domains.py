"""Subdomain and host routing, merged slashes, ``redirect_to`` and
``alias``, as Flask (Werkzeug's routing) has them; and no routing keyword
accepted and ignored."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from flaskish import Blueprint, Flask, url_for
from flaskish.routing import Map, Rule
from flaskish.testing import FlaskClient


def admin_app(subdomain_matching: bool = True) -> Flask:
    """The exposure case: an admin area isolated by subdomain."""
    app = Flask(__name__, subdomain_matching=subdomain_matching, static_folder=None)
    app.config["SERVER_NAME"] = "example.com"

    @app.route("/")
    def public() -> str:
        return "public"

    @app.route("/", subdomain="admin")
    def admin() -> str:
        return "admin panel"

    return app


# -- subdomains -------------------------------------------------------------------


def test_an_admin_subdomain_answers_on_its_own_host_only() -> None:
    """Before, ``subdomain="admin"`` was ignored: every host got the admin
    panel, and it shadowed the public ``/``."""
    client = admin_app().test_client()
    assert client.get("http://admin.example.com/").text == "admin panel"
    assert client.get("http://example.com/").text == "public"
    www = client.get("http://www.example.com/")
    assert www.status_code == 404
    assert "admin panel" not in www.text


def test_without_subdomain_matching_subdomain_rules_never_match_but_build() -> None:
    """Flask: ``subdomain_matching`` -- "Consider the subdomain relative to
    SERVER_NAME when matching routes. Defaults to False." Without it, every
    host gets the default-subdomain rules."""
    app = admin_app(subdomain_matching=False)
    client = app.test_client()
    for host in ("example.com", "admin.example.com", "www.example.com", "127.0.0.1"):
        assert client.get(f"http://{host}/").text == "public", host
    with app.test_request_context("http://example.com/"):
        assert url_for("admin") == "http://admin.example.com/"
        assert url_for("public") == "/"


def test_a_variable_subdomain_is_a_view_argument_and_builds_its_host() -> None:
    app = Flask(__name__, subdomain_matching=True, static_folder=None)
    app.config["SERVER_NAME"] = "localhost.localdomain"

    @app.route("/", subdomain="<user>")
    def index(user: str) -> str:
        return f"index for {user} {url_for('index', user='other')}"

    client = app.test_client()
    assert client.get("http://mitsuhiko.localhost.localdomain/").text == (
        "index for mitsuhiko http://other.localhost.localdomain/"
    )
    assert client.get("http://localhost.localdomain/").status_code == 404


def test_a_static_subdomain_wins_over_a_variable_one() -> None:
    app = Flask(__name__, subdomain_matching=True, static_folder=None)
    app.config["SERVER_NAME"] = "example.com"
    app.add_url_rule("/", "user", lambda user: f"user {user}", subdomain="<user>")
    app.add_url_rule("/", "api", lambda: "api", subdomain="api")
    client = app.test_client()
    assert client.get("http://api.example.com/").text == "api"
    assert client.get("http://bob.example.com/").text == "user bob"


def test_a_server_name_with_a_port_matches_subdomains_on_that_port() -> None:
    app = Flask(__name__, subdomain_matching=True, static_folder=None)
    app.config["SERVER_NAME"] = "localhost.localdomain:3000"
    app.add_url_rule("/", "index", lambda user: f"index for {user}", subdomain="<user>")
    client = app.test_client()
    assert client.get("http://mitsuhiko.localhost.localdomain:3000/").text == (
        "index for mitsuhiko"
    )


def test_a_default_port_in_server_name_is_ignored_as_in_werkzeug() -> None:
    app = admin_app()
    app.config["SERVER_NAME"] = "example.com:443"
    client = app.test_client()
    assert client.get("https://admin.example.com/").text == "admin panel"
    assert client.get("https://example.com/").text == "public"


@pytest.mark.parametrize("matching", [False, True])
def test_a_host_outside_server_name_gets_a_404_with_subdomain_matching(matching: bool) -> None:
    """Flask's test: "ip address can't match name" -- with a warning naming
    both names, as Werkzeug's."""
    app = Flask(__name__, subdomain_matching=matching, static_folder=None)
    app.config["SERVER_NAME"] = "localhost.localdomain:3000"
    app.add_url_rule("/", "index", lambda: ("", 204))
    client = app.test_client()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = client.get("http://127.0.0.1:3000/")
    assert response.status_code == (404 if matching else 204)
    messages = [str(warning.message) for warning in caught]
    if matching:
        assert any(
            "'127.0.0.1:3000'" in m and "'localhost.localdomain:3000'" in m for m in messages
        ), messages
    else:
        assert not any("server name" in m for m in messages)


def test_without_server_name_only_default_subdomain_rules_match() -> None:
    app = Flask(__name__, subdomain_matching=True, static_folder=None)
    app.add_url_rule("/", "index", lambda: "default")
    app.add_url_rule("/", "foo", lambda: "foo", subdomain="foo")
    client = app.test_client()
    assert client.get("http://foo.localhost/").text == "default"


def test_nested_blueprints_on_a_subdomain() -> None:
    """Flask's ``test_nesting_subdomains``: a child blueprint without a
    subdomain of its own is on its parent's."""
    app = Flask(__name__, static_folder=None)
    app.subdomain_matching = True
    app.config["SERVER_NAME"] = "example.test"
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__)
    child.add_url_rule("/child/", "index", lambda: "child")
    parent.register_blueprint(child)
    app.register_blueprint(parent, subdomain="api")
    client = app.test_client()
    assert client.get("/child/", base_url="http://api.example.test").text == "child"
    assert client.get("/child/", base_url="http://example.test").status_code == 404


def test_child_and_parent_subdomains_are_joined() -> None:
    """Flask's ``test_child_and_parent_subdomain``: ``api`` under ``parent``
    is ``api.parent``."""
    app = Flask(__name__, static_folder=None)
    app.subdomain_matching = True
    app.config["SERVER_NAME"] = "example.test"
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__, subdomain="api")
    child.add_url_rule("/", "index", lambda: "child")
    parent.register_blueprint(child)
    app.register_blueprint(parent, subdomain="parent")
    client = app.test_client()
    assert client.get("/", base_url="http://api.parent.example.test").text == "child"
    assert client.get("/", base_url="http://parent.example.test").status_code == 404
    with app.test_request_context("http://example.test/"):
        assert url_for("parent.child.index") == "http://api.parent.example.test/"


def test_url_for_outside_a_request_builds_the_subdomain() -> None:
    app = admin_app()
    with app.app_context():
        assert url_for("admin") == "http://admin.example.com/"
        assert url_for("public") == "http://example.com/"


def test_url_for_on_a_subdomain_is_relative_for_its_own_rules() -> None:
    app = admin_app()
    with app.test_request_context("http://admin.example.com/"):
        assert url_for("admin") == "/"
        assert url_for("admin", _external=True) == "http://admin.example.com/"
        assert url_for("public") == "http://example.com/"


def test_url_for_uses_server_name_whatever_host_the_request_names() -> None:
    """A spoofed ``Host`` never changes an external URL when ``SERVER_NAME``
    is set (Flask 3.1 builds with ``SERVER_NAME``)."""
    app = admin_app(subdomain_matching=False)
    with app.test_request_context("http://evil.test/"):
        assert url_for("public", _external=True) == "http://example.com/"


def test_the_default_subdomain_of_the_map_applies_to_rules_without_one() -> None:
    app = Flask(__name__, subdomain_matching=True, static_folder=None)
    app.config["SERVER_NAME"] = "example.com"
    app.url_map.default_subdomain = "www"
    app.add_url_rule("/", "index", lambda: "www")
    client = app.test_client()
    assert client.get("http://www.example.com/").text == "www"
    assert client.get("http://example.com/").status_code == 404


# -- hosts ------------------------------------------------------------------------


def tenant_app() -> Flask:
    app = Flask(__name__, host_matching=True, static_host="static.shop.test")

    @app.route("/", host="<tenant>.shop.test")
    def shop(tenant: str) -> str:
        return f"shop of {tenant}: {url_for('shop', tenant='other')}"

    @app.route("/", host="shop.test")
    def home() -> str:
        return f"home {url_for('shop', tenant='acme')}"

    return app


def test_a_host_with_a_variable_passes_it_to_the_view() -> None:
    """Before, ``host="<tenant>.shop.test"`` gave a 404."""
    client = tenant_app().test_client()
    assert client.get("http://acme.shop.test/").text == ("shop of acme: http://other.shop.test/")
    assert client.get("http://shop.test/").text == "home http://acme.shop.test/"
    assert client.get("http://elsewhere.test/").status_code == 404


def test_host_matching_keeps_the_port_of_a_non_default_one() -> None:
    client = tenant_app().test_client()
    assert client.get("http://shop.test:8000/").status_code == 404
    app = Flask(__name__, host_matching=True, static_host="s.test")
    app.add_url_rule("/", "index", lambda: "on 8000", host="shop.test:8000")
    assert app.test_client().get("http://shop.test:8000/").text == "on 8000"


def test_flasks_server_name_matching_table() -> None:
    """Flask's ``test_server_name_matching``, every row."""
    rows = [
        (False, False, "default", "default", "default"),
        (True, False, "default", "abc", "<invalid>"),
        (False, True, "default", "abc", "default"),
    ]
    for subdomain_matching, host_matching, base, abc, xyz in rows:
        app = Flask(
            __name__,
            subdomain_matching=subdomain_matching,
            host_matching=host_matching,
            static_host="example.test" if host_matching else None,
        )
        app.config["SERVER_NAME"] = "example.test"

        @app.route("/", defaults={"name": "default"}, host="<name>")
        @app.route("/", subdomain="<name>", host="<name>.example.test")
        def index(name: str) -> str:
            return name

        client = app.test_client()
        assert client.get(base_url="http://example.test").text == base
        assert client.get(base_url="http://abc.example.test").text == abc
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            response = client.get(base_url="http://xyz.other.test")
        # "<invalid>": Werkzeug's subdomain for a host outside SERVER_NAME,
        # which a variable subdomain matches like any other.
        assert response.text == xyz


# -- merged slashes, redirect_to, alias --------------------------------------------


def slashes_app(**rule_options: Any) -> Flask:
    app = Flask(__name__, static_folder=None)
    app.add_url_rule("/a/b", "ab", lambda: "ab", **rule_options)
    app.add_url_rule("/dir/", "dir", lambda: "dir")
    return app


def test_repeated_slashes_redirect_to_the_merged_path() -> None:
    """Werkzeug's ``merge_slashes`` (on by default): ``/a//b`` is 308 to
    ``/a/b``, the query string kept."""
    client = slashes_app().test_client()
    response = client.get("/a//b?x=1")
    assert response.status_code == 308
    assert response.headers["Location"] == "/a/b?x=1"
    assert client.get("/a//b", follow_redirects=True).text == "ab"
    # Leading slashes are ignored, as by Werkzeug (a client would read
    # "//a/b" as a URL with the host "a": the server's path is set here).
    assert client.get("/", environ_overrides={"PATH_INFO": "//a/b"}).text == "ab"
    merged_then_slashed = client.get("/dir//")
    assert (merged_then_slashed.status_code, merged_then_slashed.headers["Location"]) == (
        308,
        "/dir/",
    )


def test_a_rule_or_the_map_may_turn_slash_merging_off() -> None:
    assert slashes_app(merge_slashes=False).test_client().get("/a//b").status_code == 404
    app = slashes_app()
    app.url_map.merge_slashes = False
    assert app.test_client().get("/a//b").status_code == 404


def test_redirect_to_a_string_fills_in_the_rules_variables() -> None:
    app = Flask(__name__, static_folder=None)
    app.add_url_rule("/old/<int:id>", "old", redirect_to="/new/<id>")
    app.add_url_rule("/new/<int:id>", "new", lambda id: f"new {id}")
    client = app.test_client()
    response = client.get("/old/3")
    assert response.status_code == 308
    assert response.headers["Location"] == "http://localhost/new/3"
    assert client.get("/old/3", follow_redirects=True).text == "new 3"


def test_redirect_to_a_callable_gets_the_adapter_and_the_values() -> None:
    app = Flask(__name__, static_folder=None)
    app.add_url_rule("/new/<name>", "new", lambda name: f"new {name}")

    def target(adapter: Any, name: str) -> str:
        return adapter.build("new", {"name": name.upper()})

    app.add_url_rule("/old/<name>", "old", redirect_to=target)
    response = app.test_client().get("/old/abc")
    assert (response.status_code, response.headers["Location"]) == (308, "http://localhost/new/ABC")


def test_redirect_to_naming_an_unknown_variable_fails_at_registration() -> None:
    app = Flask(__name__, static_folder=None)
    with pytest.raises(ValueError, match=r"names ident: not a variable.*<name>"):
        app.add_url_rule("/old/<int:id>", "old", redirect_to="/new/<ident>")


def test_an_alias_rule_redirects_to_the_canonical_url() -> None:
    app = Flask(__name__, static_folder=None)
    app.add_url_rule("/users/<int:id>", "user", lambda id: f"user {id}")
    app.add_url_rule("/u/<int:id>", "user", alias=True)
    client = app.test_client()
    response = client.get("/u/7")
    assert (response.status_code, response.headers["Location"]) == (308, "/users/7")
    with app.test_request_context():
        assert url_for("user", id=7) == "/users/7"  # aliases build last


def test_redirect_defaults_can_be_turned_off() -> None:
    app = Flask(__name__, static_folder=None)
    app.add_url_rule("/users/", "users", lambda page: f"page {page}", defaults={"page": 1})
    app.add_url_rule("/users/page/<int:page>", "users")
    client = app.test_client()
    assert client.get("/users/page/1").status_code == 308
    app.url_map.redirect_defaults = False
    assert client.get("/users/page/1").text == "page 1"


def test_sort_parameters_sorts_the_query_string_of_built_urls() -> None:
    app = Flask(__name__, static_folder=None)
    app.add_url_rule("/", "index", lambda: "")
    app.url_map.sort_parameters = True
    with app.test_request_context():
        assert url_for("index", b=1, a=2, c=3) == "/?a=2&b=1&c=3"
    app.url_map.sort_key = lambda item: -item[1]
    with app.test_request_context():
        assert url_for("index", b=1, a=2, c=3) == "/?c=3&a=2&b=1"


# -- nothing accepted and ignored --------------------------------------------------


def test_an_unknown_routing_keyword_is_refused_at_registration() -> None:
    app = Flask(__name__, static_folder=None)
    with pytest.raises(TypeError, match="subdomian"):
        app.add_url_rule("/", "index", lambda: "", subdomian="admin")
    with pytest.raises(TypeError, match="hots"):
        app.route("/", hots="example.com")(lambda: "")


def test_a_websocket_rule_takes_get_only() -> None:
    app = Flask(__name__, static_folder=None)
    with pytest.raises(ValueError, match="a websocket handshake is a GET"):
        app.add_url_rule("/ws", "ws", lambda: "", websocket=True, methods=["POST"])


def test_url_for_takes_a_value_named_self() -> None:
    app = Flask(__name__, static_folder=None)
    app.add_url_rule("/<self>", "me", lambda self: self)
    with app.test_request_context():
        assert url_for("me", self="alice") == "/alice"
        assert app.url_for("me", self="bob") == "/bob"


def test_a_map_used_on_its_own_matches_by_domain() -> None:
    url_map = Map([Rule("/", endpoint="a", subdomain="a"), Rule("/", endpoint="root")])
    assert url_map.bind("x.test", subdomain="a").match("/") == ("a", {})
    assert url_map.bind("x.test").match("/") == ("root", {})


def test_allowed_methods_and_options_are_per_domain(client: FlaskClient) -> None:
    app = Flask(__name__, subdomain_matching=True, static_folder=None)
    app.config["SERVER_NAME"] = "example.com"
    app.add_url_rule("/", "get", lambda: "", methods=["GET"])
    app.add_url_rule("/", "post", lambda: "", methods=["POST"], subdomain="api")
    api = app.test_client()
    response = api.options("http://api.example.com/")
    assert response.headers["Allow"] == "OPTIONS, POST"
    assert api.put("http://api.example.com/").status_code == 405
    assert api.post("http://example.com/").status_code == 405


def test_a_path_without_its_leading_slash_is_matched_as_werkzeug_matches_it() -> None:
    """Werkzeug matches ``"/" + path_info.lstrip("/")``: Flask-Cors's tests
    call ``client.get("name")``."""
    app = Flask(__name__, static_folder=None)
    app.add_url_rule("/page", "page", lambda: "page")
    assert app.test_client().get("page").text == "page"
