"""``app.url_map.bind(...)`` and ``app.create_url_adapter(...)``: the map
bound to a server, matching paths and building URLs outside a request, as
Werkzeug's ``MapAdapter`` does (Flask-Limiter's CLI matches with it)."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import MethodNotAllowed, NotFound

from flaskish import Flask, request
from flaskish.routing import BuildError, MapAdapter, RequestRedirect, WebsocketMismatch


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)

    @app.route("/users/<int:user_id>")
    def user(user_id: int) -> str:
        return str(user_id)

    @app.route("/docs/", methods=["GET", "POST"])
    def docs() -> str:
        return "docs"

    return app


def test_match_gives_the_endpoint_and_converted_values(app: Flask) -> None:
    adapter = app.url_map.bind("dev.null")
    assert isinstance(adapter, MapAdapter)
    assert adapter.match("/users/42") == ("user", {"user_id": 42})
    rule, values = adapter.match("/users/42", return_rule=True)
    assert (rule.rule, values) == ("/users/<int:user_id>", {"user_id": 42})


def test_match_raises_werkzeugs_routing_errors(app: Flask) -> None:
    adapter = app.url_map.bind("dev.null")
    with pytest.raises(NotFound):
        adapter.match("/nowhere")
    with pytest.raises(MethodNotAllowed) as error:
        adapter.match("/users/1", method="DELETE")
    assert "GET" in (error.value.valid_methods or [])
    with pytest.raises(RequestRedirect) as redirect:
        adapter.match("/docs", query_args="page=2")
    assert redirect.value.new_url == "/docs/?page=2"


def test_test_and_allowed_methods(app: Flask) -> None:
    adapter = app.url_map.bind("dev.null")
    assert adapter.test("/users/1") and adapter.test("/docs")
    assert not adapter.test("/users/x")
    assert adapter.allowed_methods("/docs/") == ["GET", "HEAD", "OPTIONS", "POST"]


def test_build_gives_paths_under_the_script_name_or_absolute_urls(app: Flask) -> None:
    adapter = app.url_map.bind("example.com", "/app", url_scheme="https")
    assert adapter.build("user", {"user_id": 5}) == "/app/users/5"
    assert adapter.build("user", {"user_id": 5}, force_external=True) == (
        "https://example.com/app/users/5"
    )
    assert adapter.build("user", {"user_id": 5, "tab": "posts"}) == "/app/users/5?tab=posts"
    with pytest.raises(BuildError):
        adapter.build("user", {})


def test_bound_to_a_subdomain_it_matches_and_builds_that_subdomains_rules() -> None:
    """Werkzeug's ``Map.bind(server_name, subdomain=...)``: rules of other
    subdomains build as absolute URLs."""
    app = Flask(__name__, static_folder=None)
    app.route("/", subdomain="api", endpoint="api")(lambda: "api")
    app.route("/", endpoint="www")(lambda: "www")
    app.route("/u", subdomain="<user>", endpoint="user")(lambda user: user)
    api = app.url_map.bind("example.com", subdomain="api")
    assert api.match("/") == ("api", {})
    assert api.build("api") == "/"
    assert api.build("www") == "http://example.com/"
    assert api.build("user", {"user": "bob"}) == "http://bob.example.com/u"
    plain = app.url_map.bind("example.com")
    assert plain.match("/") == ("www", {})
    assert plain.build("api") == "http://api.example.com/"
    assert app.url_map.bind("example.com", subdomain="bob").match("/u") == ("user", {"user": "bob"})


def test_create_url_adapter_binds_to_the_request(app: Flask) -> None:
    with app.test_request_context("/users/7", base_url="https://shop.test/root"):
        adapter = app.create_url_adapter(request)
        assert adapter is not None
        assert adapter.match() == ("user", {"user_id": 7})
        assert adapter.build("docs", force_external=True) == "https://shop.test/root/docs/"


def test_create_url_adapter_without_a_request_needs_server_name(app: Flask) -> None:
    assert app.create_url_adapter(None) is None
    app.config.update(SERVER_NAME="example.org", PREFERRED_URL_SCHEME="https")
    adapter = app.create_url_adapter(None)
    assert adapter is not None
    assert adapter.build("user", {"user_id": 1}, force_external=True) == (
        "https://example.org/users/1"
    )


def test_match_with_websocket_matches_websocket_rules_only(app: Flask) -> None:
    """Werkzeug's ``websocket=``: a websocket match finds websocket rules,
    and an HTTP rule is a ``WebsocketMismatch`` (400) for it, and the
    other way round."""
    app.websocket("/live")(lambda: None)
    adapter = app.url_map.bind("dev.null")
    assert adapter.match("/live", websocket=True) == ("<lambda>", {})
    with pytest.raises(WebsocketMismatch):
        adapter.match("/live")
    with pytest.raises(WebsocketMismatch):
        adapter.match("/docs/", websocket=True)
    assert adapter.match("/docs/", websocket=False) == ("docs", {})
    assert app.url_map.bind("dev.null", url_scheme="ws").match("/live") == ("<lambda>", {})
    assert adapter.build("<lambda>", force_external=True) == "ws://dev.null/live"


def test_match_without_a_path_uses_the_bound_path_and_method(app: Flask) -> None:
    adapter = app.url_map.bind("dev.null", path_info="/docs/", default_method="post")
    assert adapter.match() == ("docs", {})
    assert adapter.allowed_methods() == ["GET", "HEAD", "OPTIONS", "POST"]
    with pytest.raises(MethodNotAllowed):
        app.url_map.bind("dev.null", path_info="/users/1", default_method="post").match()


@pytest.mark.parametrize(
    ("query_args", "new_url"),
    [
        ({"page": "2", "tag": ["a", "b"]}, "/docs/?page=2&tag=a&tag=b"),
        (MultiDict([("tag", "a"), ("tag", "b")]), "/docs/?tag=a&tag=b"),
        ({}, "/docs/"),
        ("", "/docs/"),
    ],
    ids=["dict with a list", "MultiDict", "empty dict", "empty string"],
)
def test_a_slash_redirect_keeps_query_args_given_as_a_mapping(
    app: Flask, query_args: Any, new_url: str
) -> None:
    with pytest.raises(RequestRedirect) as redirect:
        app.url_map.bind("dev.null").match("/docs", query_args=query_args)
    assert redirect.value.new_url == new_url


def test_a_slash_redirect_keeps_the_bound_query_args_and_script_name(app: Flask) -> None:
    adapter = app.url_map.bind("dev.null", "/app", query_args={"page": "3"})
    with pytest.raises(RequestRedirect) as redirect:
        adapter.match("/docs")
    assert redirect.value.new_url == "/app/docs/?page=3"
    with pytest.raises(RequestRedirect) as redirect:
        adapter.match("/docs", query_args="page=4")
    assert redirect.value.new_url == "/app/docs/?page=4"


def test_repr_shows_the_bound_scheme_host_and_script_name(app: Flask) -> None:
    assert repr(app.url_map.bind("Example.COM", "/app/", url_scheme="https")) == (
        "<MapAdapter https://example.com/app/>"
    )
    assert repr(app.url_map.bind("dev.null")) == "<MapAdapter http://dev.null/>"


def test_with_host_matching_a_rule_on_another_host_builds_an_absolute_url() -> None:
    app = Flask(__name__, host_matching=True, static_folder=None)
    app.route("/", host="api.example.com")(lambda: "api")
    app.route("/", host="www.example.com", endpoint="www")(lambda: "www")
    adapter = app.url_map.bind("api.example.com")
    assert adapter.match("/") == ("<lambda>", {})
    assert adapter.build("<lambda>") == "/"
    assert adapter.build("www") == "http://www.example.com/"
    assert app.url_map.bind("www.example.com").match("/") == ("www", {})
    assert not app.url_map.bind("other.test").test("/")


def test_build_with_a_multidict_appends_every_value_of_a_repeated_key(app: Flask) -> None:
    adapter = app.url_map.bind("dev.null")
    values = MultiDict([("user_id", 1), ("tag", "a"), ("tag", "b")])
    assert adapter.build("user", values) == "/users/1?tag=a&tag=b"


def test_build_uses_url_scheme_for_external_urls_only_as_in_werkzeug(app: Flask) -> None:
    adapter = app.url_map.bind("example.com")
    assert adapter.build("user", {"user_id": 1}, url_scheme="https") == "/users/1"
    assert adapter.build("user", {"user_id": 1}, url_scheme="https", force_external=True) == (
        "https://example.com/users/1"
    )
    assert (
        app.url_map.bind("example.com", "/app").build(
            "user", {"user_id": 1}, url_scheme="https", force_external=True
        )
        == "https://example.com/app/users/1"
    )
