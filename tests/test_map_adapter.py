"""``app.url_map.bind(...)`` and ``app.create_url_adapter(...)``: the map
bound to a server, matching paths and building URLs outside a request, as
Werkzeug's ``MapAdapter`` does (Flask-Limiter's CLI matches with it)."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

from flaskish import Flask, request
from flaskish.routing import BuildError, MapAdapter, RequestRedirect


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


def test_a_subdomain_is_refused_with_what_to_write(app: Flask) -> None:
    with pytest.raises(ValueError, match="bind the full host name as server_name"):
        app.url_map.bind("example.com", subdomain="api")


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
