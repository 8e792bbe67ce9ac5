"""Routing as a Flask user sees it: URL rules and converters, trailing
slashes, methods (405, automatic HEAD and OPTIONS), the registration API,
Werkzeug's matching order, ``url_for``, and rules being Starlette routes."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlsplit

import pytest
import starlette.routing

from flaskish import Flask, request, url_for
from flaskish.routing import BaseConverter, BuildError, RequestRedirect, ValidationError
from flaskish.testing import FlaskClient


@pytest.fixture
def app() -> Flask:
    """An app without a static folder, so its only rules are the test's own
    (the static rule is tested in tests/test_static.py)."""
    app = Flask("flaskish_test_app", static_folder=None)
    app.config.update(TESTING=True, SECRET_KEY="test secret")
    return app


def allow_set(response: Any) -> set[str]:
    """The methods of a response's ``Allow`` header, as a set (the order is
    not specified by Flask)."""
    return {method.strip() for method in response.headers["Allow"].split(",")}


class ListConverter(BaseConverter):
    """``<list:items>``: comma separated values, as in Flask's docs."""

    def to_python(self, value: str) -> list[str]:
        return value.split(",")

    def to_url(self, value: Any) -> str:
        return ",".join(super(ListConverter, self).to_url(item) for item in value)


class EvenConverter(BaseConverter):
    """``<even:n>``: an even number; odd numbers are "no match"."""

    regex = r"\d+"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number % 2:
            raise ValidationError()
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


# -- 1. built-in converters -----------------------------------------------------


def test_default_converter_matches_one_segment_as_str(app: Flask, client: FlaskClient) -> None:
    @app.route("/user/<name>")
    def user(name: str) -> str:
        assert isinstance(name, str)
        return f"user {name}"

    assert client.get("/user/ada").text == "user ada"
    assert client.get("/user/ada/extra").status_code == 404
    assert client.get("/user/").status_code == 404


def test_percent_encoded_segment_reaches_the_view_decoded(app: Flask, client: FlaskClient) -> None:
    @app.route("/user/<name>")
    def user(name: str) -> str:
        return name

    assert client.get("/user/J%C3%BCrgen%20M").text == "Jürgen M"


def test_string_converter_length(app: Flask, client: FlaskClient) -> None:
    @app.route("/code/<string(length=3):code>")
    def code(code: str) -> str:
        return f"code {code}"

    assert client.get("/code/abc").text == "code abc"
    assert client.get("/code/ab").status_code == 404
    assert client.get("/code/abcd").status_code == 404


def test_string_converter_minlength_and_maxlength(app: Flask, client: FlaskClient) -> None:
    @app.route("/tag/<string(minlength=2, maxlength=4):tag>")
    def tag(tag: str) -> str:
        return f"tag {tag}"

    assert client.get("/tag/a").status_code == 404
    assert client.get("/tag/ab").text == "tag ab"
    assert client.get("/tag/abcd").text == "tag abcd"
    assert client.get("/tag/abcde").status_code == 404


def test_int_converter_gives_an_int(app: Flask, client: FlaskClient) -> None:
    @app.route("/post/<int:post_id>")
    def post(post_id: int) -> dict[str, Any]:
        return {"id": post_id, "type": type(post_id).__name__}

    assert client.get("/post/42").json == {"id": 42, "type": "int"}
    assert client.get("/post/abc").status_code == 404
    assert client.get("/post/1.5").status_code == 404
    assert client.get("/post/-3").status_code == 404, "unsigned by default"


def test_int_converter_min_and_max(app: Flask, client: FlaskClient) -> None:
    @app.route("/page/<int(min=1, max=10):page>")
    def page(page: int) -> str:
        return f"page {page}"

    assert client.get("/page/0").status_code == 404
    assert client.get("/page/1").text == "page 1"
    assert client.get("/page/10").text == "page 10"
    assert client.get("/page/11").status_code == 404


def test_int_converter_signed(app: Flask, client: FlaskClient) -> None:
    @app.route("/offset/<int(signed=True):offset>")
    def offset(offset: int) -> dict[str, int]:
        return {"offset": offset}

    assert client.get("/offset/-7").json == {"offset": -7}
    assert client.get("/offset/7").json == {"offset": 7}


def test_int_converter_fixed_digits(app: Flask, client: FlaskClient) -> None:
    @app.route("/year/<int(fixed_digits=4):year>")
    def year(year: int) -> dict[str, int]:
        return {"year": year}

    assert client.get("/year/2024").json == {"year": 2024}
    assert client.get("/year/0042").json == {"year": 42}
    assert client.get("/year/42").status_code == 404
    assert client.get("/year/20245").status_code == 404
    with app.test_request_context():
        assert url_for("year", year=42) == "/year/0042"


def test_float_converter_requires_a_decimal_point(app: Flask, client: FlaskClient) -> None:
    @app.route("/price/<float:amount>")
    def price(amount: float) -> dict[str, Any]:
        return {"amount": amount, "type": type(amount).__name__}

    assert client.get("/price/1.5").json == {"amount": 1.5, "type": "float"}
    assert client.get("/price/1").status_code == 404
    assert client.get("/price/-1.5").status_code == 404, "unsigned by default"


def test_float_converter_signed(app: Flask, client: FlaskClient) -> None:
    @app.route("/temp/<float(signed=True):degrees>")
    def temp(degrees: float) -> dict[str, float]:
        return {"degrees": degrees}

    assert client.get("/temp/-2.5").json == {"degrees": -2.5}
    assert client.get("/temp/2.5").json == {"degrees": 2.5}


def test_path_converter_accepts_slashes(app: Flask, client: FlaskClient) -> None:
    @app.route("/files/<path:subpath>")
    def files(subpath: str) -> str:
        return subpath

    assert client.get("/files/a/b/c.txt").text == "a/b/c.txt"
    assert client.get("/files/readme").text == "readme"
    assert client.get("/files/").status_code == 404


def test_path_converter_followed_by_static_text(app: Flask, client: FlaskClient) -> None:
    @app.route("/repo/<path:name>/edit")
    def edit(name: str) -> str:
        return f"edit {name}"

    assert client.get("/repo/org/project/edit").text == "edit org/project"


def test_uuid_converter_gives_a_uuid(app: Flask, client: FlaskClient) -> None:
    seen: list[Any] = []

    @app.route("/obj/<uuid:obj_id>")
    def obj(obj_id: uuid.UUID) -> str:
        seen.append(obj_id)
        return str(obj_id)

    value = uuid.uuid4()
    assert client.get(f"/obj/{value}").text == str(value)
    assert client.get(f"/obj/{str(value).upper()}").status_code == 200
    assert seen == [value, value]
    assert all(isinstance(item, uuid.UUID) for item in seen)
    assert client.get("/obj/not-a-uuid").status_code == 404
    with app.test_request_context():
        assert url_for("obj", obj_id=value) == f"/obj/{value}"


def test_any_converter_matches_only_the_listed_words(app: Flask, client: FlaskClient) -> None:
    @app.route("/<any(about, help):page>")
    def page(page: str) -> str:
        return f"page {page}"

    assert client.get("/about").text == "page about"
    assert client.get("/help").text == "page help"
    assert client.get("/contact").status_code == 404
    with app.test_request_context():
        assert url_for("page", page="help") == "/help"


def test_several_converters_in_one_rule(app: Flask, client: FlaskClient) -> None:
    @app.route("/archive/<int:year>/<int(fixed_digits=2):month>/<slug>")
    def archive(year: int, month: int, slug: str) -> dict[str, Any]:
        return {"year": year, "month": month, "slug": slug}

    assert client.get("/archive/2024/03/hello").json == {
        "year": 2024,
        "month": 3,
        "slug": "hello",
    }
    assert client.get("/archive/2024/3/hello").status_code == 404


# -- 2. custom converters ---------------------------------------------------------


def test_custom_converter_to_python_and_to_url(app: Flask, client: FlaskClient) -> None:
    app.url_map.converters["list"] = ListConverter

    @app.route("/tags/<list:tags>")
    def tags(tags: list[str]) -> dict[str, list[str]]:
        return {"tags": tags}

    assert client.get("/tags/a,b,c").json == {"tags": ["a", "b", "c"]}
    with app.test_request_context():
        assert url_for("tags", tags=["x", "y z"]) == "/tags/x,y%20z"


def test_custom_converter_regex_decides_what_matches(app: Flask, client: FlaskClient) -> None:
    class LowerConverter(BaseConverter):
        regex = "[a-z]+"

    app.url_map.converters["lower"] = LowerConverter

    @app.route("/word/<lower:word>")
    def word(word: str) -> str:
        return word

    assert client.get("/word/abc").text == "abc"
    assert client.get("/word/ABC").status_code == 404
    assert client.get("/word/ab1").status_code == 404


def test_custom_converters_belong_to_one_app(app: Flask) -> None:
    """A converter registered on one app is unknown to another; using it
    raises LookupError telling how to register it."""
    app.url_map.converters["list"] = ListConverter
    other = Flask("flaskish_test_other_app")

    assert "list" in app.url_map.converters
    assert "list" not in other.url_map.converters

    def view(tags: list[str]) -> str:
        return ",".join(tags)

    app.add_url_rule("/tags/<list:tags>", "tags", view)
    with pytest.raises(LookupError) as excinfo:
        other.add_url_rule("/tags/<list:tags>", "tags", view)
    message = str(excinfo.value)
    assert "'list'" in message
    assert "app.url_map.converters['list']" in message
    assert app.test_client().get("/tags/a,b").text == "a,b"


def test_unknown_converter_raises_lookup_error(app: Flask) -> None:
    with pytest.raises(LookupError, match=r"url_map\.converters"):
        app.add_url_rule("/x/<nosuch:value>", "x", lambda value: value)


def test_converter_validation_error_falls_through_to_the_next_rule(
    app: Flask, client: FlaskClient
) -> None:
    app.url_map.converters["even"] = EvenConverter

    @app.route("/n/<even:n>")
    def even(n: int) -> str:
        return f"even {n}"

    @app.route("/n/<value>")
    def other(value: str) -> str:
        return f"other {value}"

    assert client.get("/n/4").text == "even 4"
    assert client.get("/n/5").text == "other 5"


def test_converter_validation_error_without_other_rule_is_404(
    app: Flask, client: FlaskClient
) -> None:
    app.url_map.converters["even"] = EvenConverter

    @app.route("/n/<even:n>")
    def even(n: int) -> str:
        return f"even {n}"

    assert client.get("/n/8").text == "even 8"
    assert client.get("/n/7").status_code == 404


def test_url_for_uses_the_custom_converters_to_url(app: Flask) -> None:
    class UpperConverter(BaseConverter):
        def to_python(self, value: str) -> str:
            return value.lower()

        def to_url(self, value: Any) -> str:
            return str(value).upper()

    app.url_map.converters["upper"] = UpperConverter

    @app.route("/code/<upper:code>")
    def code(code: str) -> str:
        return code

    with app.test_request_context():
        assert url_for("code", code="abc") == "/code/ABC"
    assert app.test_client().get("/code/XYZ").text == "xyz"


# -- 3. trailing slashes ------------------------------------------------------------


def test_missing_trailing_slash_redirects_with_308(app: Flask, client: FlaskClient) -> None:
    @app.route("/projects/")
    def projects() -> str:
        return "projects"

    response = client.get("/projects")
    assert response.status_code == 308
    assert urlsplit(response.location).path == "/projects/"
    assert client.get("/projects/").text == "projects"
    followed = client.get("/projects", follow_redirects=True)
    assert followed.status_code == 200
    assert followed.text == "projects"


def test_trailing_slash_redirect_keeps_the_query_string(app: Flask, client: FlaskClient) -> None:
    @app.route("/projects/")
    def projects() -> str:
        return request.args.get("q", "")

    response = client.get("/projects?q=flask&page=2")
    assert response.status_code == 308
    target = urlsplit(response.location)
    assert target.path == "/projects/"
    assert target.query == "q=flask&page=2"
    assert client.get("/projects?q=flask", follow_redirects=True).text == "flask"


def test_trailing_slash_redirect_for_a_variable_rule(app: Flask, client: FlaskClient) -> None:
    @app.route("/user/<name>/")
    def user(name: str) -> str:
        return name

    response = client.get("/user/ada?tab=posts")
    assert response.status_code == 308
    target = urlsplit(response.location)
    assert (target.path, target.query) == ("/user/ada/", "tab=posts")


def test_trailing_slash_redirect_keeps_non_ascii_path_encoded(
    app: Flask, client: FlaskClient
) -> None:
    @app.route("/user/<name>/")
    def user(name: str) -> str:
        return name

    response = client.get("/user/caf%C3%A9")
    assert response.status_code == 308
    assert urlsplit(response.location).path == "/user/caf%C3%A9/"
    assert client.get("/user/caf%C3%A9", follow_redirects=True).text == "café"


def test_trailing_slash_redirect_for_post_keeps_the_method(app: Flask, client: FlaskClient) -> None:
    """308 (not 301/302) so the client repeats the POST with its body."""

    @app.route("/form/", methods=["POST"])
    def form() -> str:
        return f"{request.method} {request.form['name']}"

    response = client.post("/form", data={"name": "ada"})
    assert response.status_code == 308
    assert urlsplit(response.location).path == "/form/"
    followed = client.post("/form", data={"name": "ada"}, follow_redirects=True)
    assert followed.text == "POST ada"


def test_trailing_slash_redirect_is_not_passed_to_error_handlers(
    app: Flask, client: FlaskClient
) -> None:
    """404 and 405 go through the app's error handlers, the 308 does not."""

    @app.route("/dir/")
    def directory() -> str:
        return "dir"

    @app.errorhandler(404)
    def not_found(error: Exception) -> tuple[str, int]:
        return "custom 404", 404

    @app.errorhandler(405)
    def not_allowed(error: Exception) -> tuple[str, int]:
        return "custom 405", 405

    @app.errorhandler(RequestRedirect)
    def redirect_handler(error: Exception) -> tuple[str, int]:
        return "should not be called", 500

    redirected = client.get("/dir")
    assert redirected.status_code == 308
    assert urlsplit(redirected.location).path == "/dir/"
    missing = client.get("/missing")
    assert (missing.status_code, missing.text) == (404, "custom 404")
    wrong_method = client.post("/dir/")
    assert (wrong_method.status_code, wrong_method.text) == (405, "custom 405")


def test_trailing_slash_redirect_wins_over_method_mismatch_on_the_bare_path(
    app: Flask, client: FlaskClient
) -> None:
    @app.post("/items")
    def create() -> str:
        return "created"

    @app.get("/items/")
    def listing() -> str:
        return "list"

    assert client.post("/items").text == "created"
    response = client.get("/items")
    assert response.status_code == 308
    assert urlsplit(response.location).path == "/items/"


def test_extra_trailing_slash_is_404(app: Flask, client: FlaskClient) -> None:
    @app.route("/about")
    def about() -> str:
        return "about"

    @app.route("/user/<name>")
    def user(name: str) -> str:
        return name

    assert client.get("/about").text == "about"
    assert client.get("/about/").status_code == 404
    assert client.get("/user/ada/").status_code == 404


def test_strict_slashes_false_matches_with_and_without_slash(
    app: Flask, client: FlaskClient
) -> None:
    @app.route("/about", strict_slashes=False)
    def about() -> str:
        return "about"

    @app.route("/docs/", strict_slashes=False)
    def docs() -> str:
        return "docs"

    @app.route("/user/<name>", strict_slashes=False)
    def user(name: str) -> str:
        return f"user {name}"

    @app.route("/team/<name>/", strict_slashes=False)
    def team(name: str) -> str:
        return f"team {name}"

    for path, body in [
        ("/about", "about"),
        ("/about/", "about"),
        ("/docs", "docs"),
        ("/docs/", "docs"),
        ("/user/ada", "user ada"),
        ("/user/ada/", "user ada"),
        ("/team/core", "team core"),
        ("/team/core/", "team core"),
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.text == body, path


def test_map_wide_strict_slashes_false(app: Flask, client: FlaskClient) -> None:
    app.url_map.strict_slashes = False

    @app.route("/about")
    def about() -> str:
        return "about"

    @app.route("/team/<name>/")
    def team(name: str) -> str:
        return f"team {name}"

    @app.route("/strict/", strict_slashes=True)
    def strict() -> str:
        return "strict"

    assert client.get("/about/").text == "about"
    assert client.get("/team/core").text == "team core"
    assert client.get("/strict").status_code == 308


def test_strict_slashes_false_with_static_text_after_a_variable(
    app: Flask, client: FlaskClient
) -> None:
    @app.route("/org/<name>/members/", strict_slashes=False)
    def members(name: str) -> str:
        return f"members {name}"

    assert client.get("/org/acme/members/").text == "members acme"
    response = client.get("/org/acme/members")
    assert response.status_code == 200
    assert response.text == "members acme"


# -- 4. methods ------------------------------------------------------------------------


def test_wrong_method_is_405_with_allow(app: Flask, client: FlaskClient) -> None:
    @app.route("/submit", methods=["POST"])
    def submit() -> str:
        return "ok"

    response = client.get("/submit")
    assert response.status_code == 405
    assert allow_set(response) == {"POST", "OPTIONS"}
    assert client.post("/submit").text == "ok"


def test_405_allow_lists_methods_of_every_rule_on_the_path(app: Flask, client: FlaskClient) -> None:
    @app.get("/items")
    def list_items() -> str:
        return "list"

    @app.post("/items")
    def create_item() -> tuple[str, int]:
        return "created", 201

    response = client.delete("/items")
    assert response.status_code == 405
    assert allow_set(response) == {"GET", "HEAD", "OPTIONS", "POST"}


def test_405_for_a_variable_rule(app: Flask, client: FlaskClient) -> None:
    @app.route("/items/<int:item_id>", methods=["GET", "PUT"])
    def item(item_id: int) -> str:
        return str(item_id)

    response = client.delete("/items/3")
    assert response.status_code == 405
    assert allow_set(response) == {"GET", "HEAD", "OPTIONS", "PUT"}
    assert client.delete("/items/abc").status_code == 404


def test_separate_views_per_method_on_one_path(app: Flask, client: FlaskClient) -> None:
    @app.get("/items/<int:item_id>")
    def read(item_id: int) -> str:
        return f"read {item_id}"

    @app.post("/items/<int:item_id>")
    async def write(item_id: int) -> str:
        return f"write {item_id}"

    @app.put("/items/<int:item_id>")
    def replace(item_id: int) -> str:
        return f"replace {item_id}"

    @app.patch("/items/<int:item_id>")
    def update(item_id: int) -> str:
        return f"update {item_id}"

    @app.delete("/items/<int:item_id>")
    def remove(item_id: int) -> str:
        return f"remove {item_id}"

    assert client.get("/items/1").text == "read 1"
    assert client.post("/items/2").text == "write 2"
    assert client.put("/items/3").text == "replace 3"
    assert client.patch("/items/4").text == "update 4"
    assert client.delete("/items/5").text == "remove 5"


def test_method_mismatch_on_one_rule_falls_through_to_another(
    app: Flask, client: FlaskClient
) -> None:
    """A rule that matches the path but not the method does not stop a
    later rule that accepts the method."""

    @app.route("/thing/<int:n>", methods=["POST"])
    def post_int(n: int) -> str:
        return f"post {n}"

    @app.route("/thing/<name>")
    def get_name(name: str) -> str:
        return f"get {name}"

    assert client.get("/thing/5").text == "get 5"
    assert client.post("/thing/5").text == "post 5"


def test_methods_are_case_insensitive(app: Flask, client: FlaskClient) -> None:
    @app.route("/lower", methods=["post"])
    def lower() -> str:
        return "ok"

    assert client.post("/lower").text == "ok"
    assert client.get("/lower").status_code == 405


def test_head_is_answered_for_get_routes(app: Flask, client: FlaskClient) -> None:
    @app.route("/hello")
    def hello() -> tuple[str, dict[str, str]]:
        return "hello world", {"X-Custom": "yes"}

    get = client.get("/hello")
    head = client.head("/hello")
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Length"] == str(len(b"hello world"))
    assert head.headers["X-Custom"] == "yes"
    assert dict(head.headers.items()) == dict(get.headers.items())


def test_head_is_not_answered_for_post_only_routes(app: Flask, client: FlaskClient) -> None:
    @app.post("/only-post")
    def only_post() -> str:
        return "ok"

    assert client.head("/only-post").status_code == 405


def test_options_is_answered_automatically(app: Flask, client: FlaskClient) -> None:
    called: list[str] = []

    @app.route("/res", methods=["GET", "POST"])
    def res() -> str:
        called.append(request.method)
        return "view"

    response = client.options("/res")
    assert response.status_code == 200
    assert allow_set(response) == {"GET", "HEAD", "OPTIONS", "POST"}
    assert response.data == b""
    assert called == []


def test_automatic_options_lists_methods_of_all_rules_on_the_path(
    app: Flask, client: FlaskClient
) -> None:
    @app.get("/things")
    def read() -> str:
        return "read"

    @app.post("/things")
    def write() -> str:
        return "write"

    response = client.options("/things")
    assert response.status_code == 200
    assert allow_set(response) == {"GET", "HEAD", "OPTIONS", "POST"}


def test_provide_automatic_options_false_gives_405(app: Flask, client: FlaskClient) -> None:
    @app.route("/no-options", provide_automatic_options=False)
    def no_options() -> str:
        return "ok"

    response = client.options("/no-options")
    assert response.status_code == 405
    assert allow_set(response) == {"GET", "HEAD"}
    rule = next(iter(app.url_map.iter_rules("no_options")))
    assert rule.methods == {"GET", "HEAD"}


def test_view_listing_options_answers_it(app: Flask, client: FlaskClient) -> None:
    @app.route("/cors", methods=["GET", "OPTIONS"])
    def cors() -> tuple[str, int, dict[str, str]]:
        if request.method == "OPTIONS":
            return "", 204, {"Access-Control-Allow-Origin": "*"}
        return "data", 200, {}

    response = client.options("/cors")
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert client.get("/cors").text == "data"


def test_options_for_unknown_path_is_404(app: Flask, client: FlaskClient) -> None:
    @app.route("/known")
    def known() -> str:
        return "ok"

    assert client.options("/unknown").status_code == 404


# -- 5. registration API ---------------------------------------------------------------


def test_route_with_endpoint_name(app: Flask, client: FlaskClient) -> None:
    @app.route("/home", endpoint="homepage")
    def index() -> str:
        return "home"

    assert app.view_functions["homepage"] is index
    assert "index" not in app.view_functions
    assert client.get("/home").text == "home"
    with app.test_request_context():
        assert url_for("homepage") == "/home"


def test_route_defaults_pass_values_to_the_view(app: Flask, client: FlaskClient) -> None:
    @app.route("/users/", defaults={"page": 1})
    @app.route("/users/page/<int:page>")
    def users(page: int) -> str:
        return f"page {page}"

    assert client.get("/users/").text == "page 1"
    assert client.get("/users/page/3").text == "page 3"
    with app.test_request_context():
        assert url_for("users") == "/users/"
        assert url_for("users", page=3) == "/users/page/3"


def test_url_for_prefers_the_rule_whose_defaults_match(app: Flask) -> None:
    """Flask's documented pattern: page 1 is ``/users/``, whatever order the
    decorators register the rules in."""

    @app.route("/users/", defaults={"page": 1})
    @app.route("/users/page/<int:page>")
    def users(page: int) -> str:
        return f"page {page}"

    with app.test_request_context():
        assert url_for("users", page=1) == "/users/"


def test_url_equal_to_defaults_redirects_to_the_default_rule(
    app: Flask, client: FlaskClient
) -> None:
    @app.route("/users/", defaults={"page": 1})
    @app.route("/users/page/<int:page>")
    def users(page: int) -> str:
        return f"page {page}"

    response = client.get("/users/page/1")
    assert response.status_code == 308
    assert urlsplit(response.location).path == "/users/"
    assert client.get("/users/page/2").text == "page 2"


def test_rule_arguments_include_default_keys(app: Flask) -> None:
    @app.route("/users/", defaults={"page": 1})
    def users(page: int) -> str:
        return f"page {page}"

    (rule,) = app.url_map.iter_rules("users")
    assert rule.arguments == {"page"}


def test_method_decorators_register_one_method_each(app: Flask) -> None:
    @app.get("/g")
    def g_view() -> str:
        return "g"

    @app.post("/p")
    def p_view() -> str:
        return "p"

    @app.put("/u")
    def u_view() -> str:
        return "u"

    @app.patch("/a")
    def a_view() -> str:
        return "a"

    @app.delete("/d")
    def d_view() -> str:
        return "d"

    methods = {rule.endpoint: rule.methods for rule in app.url_map}
    assert methods == {
        "g_view": {"GET", "HEAD", "OPTIONS"},
        "p_view": {"POST", "OPTIONS"},
        "u_view": {"PUT", "OPTIONS"},
        "a_view": {"PATCH", "OPTIONS"},
        "d_view": {"DELETE", "OPTIONS"},
    }


@pytest.mark.parametrize("decorator", ["get", "post", "put", "patch", "delete"])
def test_method_decorators_refuse_methods_argument(app: Flask, decorator: str) -> None:
    with pytest.raises(TypeError, match="route"):
        getattr(app, decorator)("/x", methods=["GET"])


def test_add_url_rule_with_view_func(app: Flask, client: FlaskClient) -> None:
    def index() -> str:
        return "index"

    def show(item_id: int) -> str:
        return f"item {item_id}"

    app.add_url_rule("/", "index", index)
    app.add_url_rule("/item/<int:item_id>", view_func=show, methods=["GET", "POST"])

    assert app.view_functions == {"index": index, "show": show}
    assert client.get("/").text == "index"
    assert client.post("/item/9").text == "item 9"


def test_endpoint_decorator_with_add_url_rule_without_view(app: Flask, client: FlaskClient) -> None:
    app.add_url_rule("/about", "about_page")

    @app.endpoint("about_page")
    def about() -> str:
        return "about"

    assert app.view_functions["about_page"] is about
    assert client.get("/about").text == "about"


def test_view_function_methods_attribute_is_used(app: Flask, client: FlaskClient) -> None:
    """Like Flask's class-based views, a view's ``methods`` attribute gives
    the rule's methods when ``methods=`` is not passed."""

    def view() -> str:
        return request.method

    view.methods = ["POST"]  # type: ignore[attr-defined]
    app.add_url_rule("/v", "v", view)

    assert client.post("/v").text == "POST"
    assert client.get("/v").status_code == 405


def test_url_map_iteration_gives_rule_details(app: Flask) -> None:
    @app.route("/user/<int:user_id>/post/<slug>", methods=["GET", "POST"])
    def user_post(user_id: int, slug: str) -> str:
        return slug

    @app.route("/")
    def index() -> str:
        return "index"

    rules = {rule.endpoint: rule for rule in app.url_map}
    assert set(rules) == {"user_post", "index"}
    rule = rules["user_post"]
    assert rule.rule == "/user/<int:user_id>/post/<slug>"
    assert str(rule) == rule.rule
    assert rule.methods == {"GET", "HEAD", "OPTIONS", "POST"}
    assert rule.arguments == {"user_id", "slug"}
    assert rules["index"].arguments == set()
    assert rules["index"].methods == {"GET", "HEAD", "OPTIONS"}
    assert [r.rule for r in app.url_map] == ["/user/<int:user_id>/post/<slug>", "/"]


def test_same_function_may_be_registered_twice(app: Flask, client: FlaskClient) -> None:
    @app.route("/")
    @app.route("/index")
    def index() -> str:
        return "index"

    assert client.get("/").text == "index"
    assert client.get("/index").text == "index"
    assert [rule.rule for rule in app.url_map.iter_rules("index")] == ["/index", "/"]


def test_another_function_for_an_existing_endpoint_is_refused(app: Flask) -> None:
    @app.route("/a")
    def view() -> str:
        return "a"

    def make_other() -> Any:
        def view() -> str:
            return "b"

        return view

    with pytest.raises(AssertionError, match="existing endpoint function: view"):
        app.route("/b")(make_other())
    assert app.view_functions["view"] is view


def test_methods_as_a_string_is_a_type_error(app: Flask) -> None:
    def view() -> str:
        return "x"

    with pytest.raises(TypeError, match="list of strings"):
        app.route("/x", methods="POST")(view)
    with pytest.raises(TypeError):
        app.add_url_rule("/y", "y", view, methods="GET")
    assert list(app.url_map) == []


@pytest.mark.parametrize(
    "rule",
    ["/user/<int:id", "/user/<>", "/user/int:id>", "/user/<int:>", "no-leading-slash"],
)
def test_malformed_rule_is_a_value_error(app: Flask, rule: str) -> None:
    with pytest.raises(ValueError):
        app.add_url_rule(rule, "view", lambda **kwargs: "x")


def test_variable_used_twice_is_a_value_error(app: Flask) -> None:
    with pytest.raises(ValueError, match="twice"):
        app.add_url_rule("/<a>/<a>", "view", lambda a: a)


@pytest.mark.parametrize(
    ("method_name", "args"),
    [
        ("route", ("/late",)),
        ("get", ("/late",)),
        ("add_url_rule", ("/late", "late", lambda: "late")),
        ("endpoint", ("late",)),
        ("url_defaults", (lambda endpoint, values: None,)),
    ],
)
def test_registration_after_first_request_is_refused(
    app: Flask, client: FlaskClient, method_name: str, args: tuple[Any, ...]
) -> None:
    @app.route("/")
    def index() -> str:
        return "index"

    assert client.get("/").status_code == 200
    with pytest.raises(AssertionError, match=f"setup method '{method_name}'"):
        getattr(app, method_name)(*args)


def test_registration_after_a_404_request_is_refused(app: Flask, client: FlaskClient) -> None:
    """Any request, even one that matches no rule, ends the setup phase."""
    assert client.get("/nothing").status_code == 404
    with pytest.raises(AssertionError, match="already handled its first request"):
        app.add_url_rule("/late", "late", lambda: "late")


# -- 6. matching order --------------------------------------------------------------


@pytest.mark.parametrize("static_first", [True, False])
def test_static_segment_beats_variable_segment(
    app: Flask, client: FlaskClient, static_first: bool
) -> None:
    def admin() -> str:
        return "admin page"

    def user(name: str) -> str:
        return f"user {name}"

    registrations = [("/user/admin", "admin", admin), ("/user/<name>", "user", user)]
    if not static_first:
        registrations.reverse()
    for rule, endpoint, view in registrations:
        app.add_url_rule(rule, endpoint, view)

    assert client.get("/user/admin").text == "admin page"
    assert client.get("/user/ada").text == "user ada"


def test_static_segment_beats_variable_in_a_later_segment(app: Flask, client: FlaskClient) -> None:
    @app.route("/user/<name>/<action>")
    def action(name: str, action: str) -> str:
        return f"action {name} {action}"

    @app.route("/user/<name>/edit")
    def edit(name: str) -> str:
        return f"edit {name}"

    assert client.get("/user/ada/edit").text == "edit ada"
    assert client.get("/user/ada/delete").text == "action ada delete"


def test_earlier_static_segment_decides_over_later_ones(app: Flask, client: FlaskClient) -> None:
    @app.route("/<section>/latest")
    def section_latest(section: str) -> str:
        return f"section {section}"

    @app.route("/news/<item>")
    def news(item: str) -> str:
        return f"news {item}"

    assert client.get("/news/latest").text == "news latest"
    assert client.get("/sport/latest").text == "section sport"


def test_int_converter_beats_string(app: Flask, client: FlaskClient) -> None:
    @app.route("/item/<name>")
    def by_name(name: str) -> str:
        return f"name {name}"

    @app.route("/item/<int:item_id>")
    def by_id(item_id: int) -> str:
        return f"id {item_id}"

    assert client.get("/item/42").text == "id 42"
    assert client.get("/item/abc").text == "name abc"


def test_path_converter_is_tried_last(app: Flask, client: FlaskClient) -> None:
    @app.route("/<path:anything>")
    def catch_all(anything: str) -> str:
        return f"catch-all {anything}"

    @app.route("/docs/<page>")
    def docs(page: str) -> str:
        return f"docs {page}"

    @app.route("/<int:number>")
    def number(number: int) -> str:
        return f"number {number}"

    @app.route("/about")
    def about() -> str:
        return "about"

    assert client.get("/about").text == "about"
    assert client.get("/docs/intro").text == "docs intro"
    assert client.get("/7").text == "number 7"
    assert client.get("/docs/intro/deep").text == "catch-all docs/intro/deep"
    assert client.get("/something/else").text == "catch-all something/else"


def test_segment_with_static_suffix_beats_plain_variable(app: Flask, client: FlaskClient) -> None:
    @app.route("/<name>")
    def page(name: str) -> str:
        return f"page {name}"

    @app.route("/<name>.json")
    def page_json(name: str) -> str:
        return f"json {name}"

    assert client.get("/report").text == "page report"
    assert client.get("/report.json").text == "json report"


# -- 7. url_for ---------------------------------------------------------------------------


@pytest.fixture
def user_app(app: Flask) -> Flask:
    """An app with a few rules to build URLs for."""

    @app.route("/")
    def index() -> str:
        return "index"

    @app.route("/user/<int:user_id>")
    def user(user_id: int) -> str:
        return url_for("user", user_id=user_id, _external=True)

    @app.route("/search")
    def search() -> str:
        return "search"

    return app


def test_url_for_builds_paths(user_app: Flask) -> None:
    with user_app.test_request_context():
        assert url_for("index") == "/"
        assert url_for("user", user_id=7) == "/user/7"


def test_url_for_unknown_values_become_the_query_string(user_app: Flask) -> None:
    with user_app.test_request_context():
        assert url_for("search", q="flask") == "/search?q=flask"
        assert url_for("user", user_id=1, tab="posts") == "/user/1?tab=posts"
        assert url_for("search", tag=["a", "b"]) == "/search?tag=a&tag=b"
        assert url_for("search", q="a b&c") == "/search?q=a+b%26c"
        assert url_for("search", q=None) == "/search"


def test_url_for_external(user_app: Flask) -> None:
    with user_app.test_request_context():
        assert url_for("user", user_id=3, _external=True) == "http://localhost/user/3"


def test_url_for_in_a_view(user_app: Flask) -> None:
    assert user_app.test_client().get("/user/5").text == "http://localhost/user/5"


def test_url_for_scheme(user_app: Flask) -> None:
    with user_app.test_request_context():
        assert url_for("index", _scheme="https", _external=True) == "https://localhost/"
        with pytest.raises(ValueError, match="_external"):
            url_for("index", _scheme="https", _external=False)


def test_url_for_anchor(user_app: Flask) -> None:
    with user_app.test_request_context():
        assert url_for("index", _anchor="top") == "/#top"
        assert url_for("user", user_id=1, _anchor="a b") == "/user/1#a%20b"
        assert url_for("search", q="x", _anchor="r") == "/search?q=x#r"


def test_url_for_method_picks_the_rule(app: Flask) -> None:
    def items() -> str:
        return "items"

    app.add_url_rule("/items", "items", items, methods=["GET"])
    app.add_url_rule("/items/new", "items", items, methods=["POST"])

    with app.test_request_context():
        assert url_for("items") == "/items"
        assert url_for("items", _method="GET") == "/items"
        assert url_for("items", _method="POST") == "/items/new"
        with pytest.raises(BuildError) as excinfo:
            url_for("items", _method="DELETE")
    assert "DELETE" in str(excinfo.value)


def test_url_for_outside_a_request_uses_server_name(user_app: Flask) -> None:
    user_app.config["SERVER_NAME"] = "example.com"
    with user_app.app_context():
        assert url_for("user", user_id=2) == "http://example.com/user/2"
        assert url_for("index", _scheme="https") == "https://example.com/"


def test_url_for_outside_a_request_without_server_name_fails(user_app: Flask) -> None:
    with user_app.app_context(), pytest.raises(RuntimeError, match="SERVER_NAME"):
        url_for("index")


def test_url_for_missing_value_names_it(user_app: Flask) -> None:
    with user_app.test_request_context(), pytest.raises(BuildError) as excinfo:
        url_for("user")
    assert isinstance(excinfo.value, LookupError)
    message = str(excinfo.value)
    assert "'user'" in message
    assert "user_id" in message


def test_url_for_unknown_endpoint_suggests_a_close_one(user_app: Flask) -> None:
    with user_app.test_request_context(), pytest.raises(BuildError) as excinfo:
        url_for("usr", user_id=1)
    assert "Did you mean 'user'" in str(excinfo.value)


def test_url_for_unknown_endpoint_without_close_match(user_app: Flask) -> None:
    with user_app.test_request_context(), pytest.raises(BuildError) as excinfo:
        url_for("zzzzzz")
    assert "'zzzzzz'" in str(excinfo.value)


def test_url_defaults_fill_values(app: Flask, client: FlaskClient) -> None:
    @app.url_defaults
    def add_language(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "about":
            values.setdefault("lang", "en")

    @app.route("/<lang>/about")
    def about(lang: str) -> str:
        return url_for("about")

    @app.route("/plain")
    def plain() -> str:
        return url_for("plain")

    with app.test_request_context():
        assert url_for("about") == "/en/about"
        assert url_for("about", lang="fr") == "/fr/about"
        assert url_for("plain") == "/plain"
    assert client.get("/de/about").text == "/en/about"


def test_url_build_error_handler_can_supply_a_url(user_app: Flask) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    def fallback(error: BuildError, endpoint: str, values: dict[str, Any]) -> str | None:
        seen.append((endpoint, dict(values)))
        if endpoint == "external_docs":
            return "https://docs.example.com/"
        return None

    user_app.url_build_error_handlers.append(fallback)
    with user_app.test_request_context():
        assert url_for("external_docs") == "https://docs.example.com/"
        with pytest.raises(BuildError):
            url_for("still_missing")
    assert [endpoint for endpoint, _ in seen] == ["external_docs", "still_missing"]


def test_url_build_error_handler_may_raise_its_own_build_error(user_app: Flask) -> None:
    def reraise(error: BuildError, endpoint: str, values: dict[str, Any]) -> str:
        raise error

    user_app.url_build_error_handlers.append(reraise)
    with user_app.test_request_context(), pytest.raises(BuildError):
        url_for("missing")


# -- 8. many routes -----------------------------------------------------------------------


def test_a_thousand_routes_match_the_last_one(app: Flask, client: FlaskClient) -> None:
    def make_view(i: int) -> Any:
        def view(**kwargs: Any) -> dict[str, Any]:
            return {"route": i, "kwargs": kwargs}

        return view

    for i in range(500):
        app.add_url_rule(f"/static{i}", f"static{i}", make_view(i))
        app.add_url_rule(f"/dyn{i}/<int:item>", f"dyn{i}", make_view(i))

    assert len(app.url_map) == 1000
    assert client.get("/dyn499/12").json == {"route": 499, "kwargs": {"item": 12}}
    assert client.get("/static499").json == {"route": 499, "kwargs": {}}
    assert client.get("/static0").json == {"route": 0, "kwargs": {}}
    assert client.get("/dyn250/1").json == {"route": 250, "kwargs": {"item": 1}}
    assert client.get("/dyn499/x").status_code == 404
    assert client.get("/static500").status_code == 404
    with app.test_request_context():
        assert url_for("dyn499", item=3) == "/dyn499/3"


def test_a_thousand_variable_rules_under_one_prefix(app: Flask, client: FlaskClient) -> None:
    def view(i: int, **kwargs: Any) -> str:
        return f"{i} {kwargs}"

    for i in range(1000):
        app.add_url_rule(f"/api/v{i}/<name>", f"v{i}", view, defaults={"i": i})

    assert client.get("/api/v999/ada").text == "999 {'name': 'ada'}"
    assert client.get("/api/v0/ada").text == "0 {'name': 'ada'}"


# -- 9. rules are Starlette routes ------------------------------------------------------


def test_rules_are_starlette_routes(app: Flask) -> None:
    @app.route("/")
    def index() -> str:
        return "index"

    @app.route("/user/<int:user_id>")
    def user(user_id: int) -> str:
        return str(user_id)

    rules = list(app.url_map)
    assert all(isinstance(rule, starlette.routing.Route) for rule in rules)
    assert list(app.router.routes) == rules
    assert [route.path for route in app.router.routes] == ["/", "/user/<int:user_id>"]


def test_router_routes_follow_later_registrations(app: Flask) -> None:
    @app.route("/a")
    def a() -> str:
        return "a"

    routes = app.router.routes
    app.add_url_rule("/b", "b", lambda: "b")
    assert [route.path for route in app.router.routes] == ["/a", "/b"]
    assert len(routes) == 2


def test_host_matching_routes_by_the_host_header_and_builds_urls_for_other_hosts() -> None:
    """With ``host_matching``, a rule's ``host`` decides which host it
    answers on; ``url_for`` makes a rule on another host an external URL."""
    app = Flask("hosts", static_folder=None, host_matching=True)

    @app.route("/", host="www.example.com")
    def www() -> str:
        return f"www {url_for('api_index')}"

    @app.route("/", host="api.example.com", endpoint="api_index")
    async def api() -> str:
        return f"api {url_for('api_index')}"

    @app.route("/health", host="<name>")
    def health(name: str) -> str:
        return f"any host: {name}"

    @app.route("/nowhere")
    def nowhere() -> str:
        return "a rule without a host answers on none (Werkzeug)"

    client = app.test_client()
    assert client.get("http://www.example.com/").text == "www http://api.example.com/"
    assert client.get("http://api.example.com/").text == "api /"
    assert client.get("http://other.example.com/").status_code == 404
    assert client.get("http://other.example.com/health").text == "any host: other.example.com"
    assert client.get("http://www.example.com/nowhere").status_code == 404
