"""JSON: the app's provider (``app.json``, ``json_provider_class``),
``DefaultJSONProvider``'s settings and extra types, the ``flaskish.json``
functions inside and outside an app context, ``jsonify``, views returning
``dict`` / ``list``, the test client, and how request bodies are parsed.
(The session's tagged JSON is covered by ``tests/test_sessions.py``.)"""

from __future__ import annotations

import dataclasses
import decimal
import io
import json as std_json
import uuid
import weakref
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from kinds import as_kind, both_kinds
from markupsafe import Markup

from flaskish import Flask, json, jsonify, request
from flaskish.json.provider import DefaultJSONProvider, JSONProvider
from flaskish.testing import FlaskClient


@dataclasses.dataclass
class Point:
    x: int
    when: date


class Html:
    def __html__(self) -> str:
        return "<b>bold</b>"


class SetProvider(DefaultJSONProvider):
    """Serializes sets as sorted lists, and tags what it parses."""

    @staticmethod
    def default(o: Any) -> Any:
        if isinstance(o, set):
            return sorted(o)
        return DefaultJSONProvider.default(o)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_float", decimal.Decimal)
        return super().loads(s, **kwargs)


class SetApp(Flask):
    json_provider_class = SetProvider


# -- app.json ---------------------------------------------------------------------------


def test_app_json_is_a_default_provider_that_holds_the_app_weakly(app: Flask) -> None:
    assert type(app.json) is DefaultJSONProvider
    assert isinstance(app.json, JSONProvider)
    assert app.json._app.name == app.name
    assert type(app.json._app) in (weakref.ProxyType, weakref.CallableProxyType)


def test_json_provider_class_is_used_everywhere(tmp_path: Any) -> None:
    """A ``Flask`` subclass with another provider: jsonify, dict returns,
    flaskish.json in an app context, the test client's ``json=`` and
    ``response.json`` all go through it."""
    app = SetApp("sets")
    assert isinstance(app.json, SetProvider)

    @app.route("/jsonify")
    def with_jsonify() -> Any:
        return jsonify(tags={"b", "a"})

    @app.route("/dict")
    async def with_dict() -> Any:
        return {"tags": {"z", "y"}, "price": 0.1}

    client = app.test_client()
    assert client.get("/jsonify").json == {"tags": ["a", "b"]}
    response = client.get("/dict")
    assert response.json == {"price": decimal.Decimal("0.1"), "tags": ["y", "z"]}
    with app.app_context():
        assert json.dumps({3, 1, 2}) == "[1, 2, 3]"
        assert type(json.loads("2.5")) is decimal.Decimal
    with pytest.raises(TypeError):
        json.dumps({1})  # outside an app context: the standard rules


def test_the_test_client_sends_json_with_the_provider() -> None:
    app = SetApp("sets")

    @app.post("/")
    def echo() -> Any:
        return {"raw": request.get_data(as_text=True)}

    assert app.test_client().post("/", json={"s": {2, 1}}).json == {"raw": '{"s": [1, 2]}'}


def test_app_json_can_be_replaced_by_an_instance(app: Flask, client: FlaskClient) -> None:
    class Upper(JSONProvider):
        """A minimal provider: only dumps and loads."""

        def dumps(self, obj: Any, **kwargs: Any) -> str:
            return std_json.dumps(obj, **kwargs).upper()

        def loads(self, s: str | bytes, **kwargs: Any) -> Any:
            return std_json.loads(s, **kwargs)

    app.json = Upper(app)

    @app.route("/")
    def index() -> Any:
        return ["a", "b"]

    response = client.get("/")
    assert response.text == '["A", "B"]'
    assert response.mimetype == "application/json"
    with app.app_context():
        assert jsonify(x="y").get_data(as_text=True) == '{"X": "Y"}'
        out = io.StringIO()
        json.dump({"k": "v"}, out)
        assert out.getvalue() == '{"K": "V"}'
        assert json.load(io.StringIO('{"a": 1}')) == {"a": 1}


def test_flaskish_json_dump_and_load_use_the_providers_dump_and_load(app: Flask) -> None:
    """As Flask: ``flaskish.json.dump`` calls ``app.json.dump`` (not just
    ``dumps``), so a provider that streams to the file is used."""
    calls: list[str] = []

    class Streaming(DefaultJSONProvider):
        def dump(self, obj: Any, fp: Any, **kwargs: Any) -> None:
            calls.append("dump")
            super().dump(obj, fp, **kwargs)

        def load(self, fp: Any, **kwargs: Any) -> Any:
            calls.append("load")
            return super().load(fp, **kwargs)

    app.json = Streaming(app)
    with app.app_context():
        out = io.StringIO()
        json.dump({"b": 1, "a": 2}, out)
        assert out.getvalue() == '{"a": 2, "b": 1}'
        assert json.load(io.StringIO(out.getvalue())) == {"a": 2, "b": 1}
    assert calls == ["dump", "load"]


# -- flaskish.json inside and outside an app context ------------------------------------


def test_json_functions_outside_an_app_context_use_the_standard_library() -> None:
    """No sorting, standard separators, but Flask's extra types."""
    assert json.dumps({"b": 1, "a": date(2024, 1, 2)}) == (
        '{"b": 1, "a": "Tue, 02 Jan 2024 00:00:00 GMT"}'
    )
    assert json.loads('{"a": [1, 2.5, null]}') == {"a": [1, 2.5, None]}
    assert json.loads(b'"\xc3\xa9"') == "é"
    out = io.StringIO()
    json.dump({"u": uuid.UUID(int=1)}, out)
    assert out.getvalue() == '{"u": "00000000-0000-0000-0000-000000000001"}'
    assert json.load(io.StringIO("[true]")) == [True]
    assert json.load(io.BytesIO(b"[false]")) == [False]


def test_json_functions_in_an_app_context_use_app_json(app: Flask) -> None:
    with app.app_context():
        assert json.dumps({"b": 1, "a": "é"}) == '{"a": "\\u00e9", "b": 1}'
        assert json.dumps({"b": 1}, indent=1) == '{\n "b": 1\n}'
        assert json.loads('{"x": 1}') == {"x": 1}


@pytest.mark.parametrize("in_context", [False, True], ids=["no context", "app context"])
def test_the_json_functions_give_what_flasks_give(in_context: bool) -> None:
    """``flaskish.json.dumps`` / ``dump`` / ``loads`` against ``flask.json``
    on the same values, with and without an app context."""
    import contextlib

    flask = pytest.importorskip("flask")
    import flaskish

    values: list[Any] = [
        {"z": 1, "a": [1.5, None, True], "é": "ü"},
        datetime(2024, 2, 29, 13, 5, 7, 123456),
        datetime(2024, 2, 29, 13, 5, 7, tzinfo=timezone(timedelta(hours=-5))),
        date(1960, 1, 1),
        decimal.Decimal("1.10"),
        uuid.UUID("12345678-1234-5678-1234-567812345678"),
        Markup("<i>x</i>"),
        Html(),
        Point(1, date(2020, 1, 1)),
        [Point(2, datetime(2021, 5, 6, 7, 8, 9))],
    ]
    theirs_app, ours_app = flask.Flask("a"), flaskish.Flask("a")
    with (
        theirs_app.app_context() if in_context else contextlib.nullcontext(),
        ours_app.app_context() if in_context else contextlib.nullcontext(),
    ):
        for value in values:
            assert json.dumps(value) == flask.json.dumps(value), value
            ours, theirs = io.StringIO(), io.StringIO()
            json.dump(value, ours)
            flask.json.dump(value, theirs)
            assert ours.getvalue() == theirs.getvalue()
            text = flask.json.dumps(value)
            assert json.loads(text) == flask.json.loads(text)
        with theirs_app.test_request_context() if in_context else contextlib.nullcontext():
            if in_context:
                assert ours_app.json.response(1, 2).get_data() == (
                    flask.json.jsonify(1, 2).get_data()
                )


# -- DefaultJSONProvider ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2015, 10, 21, 7, 28), "Wed, 21 Oct 2015 07:28:00 GMT"),  # naive: UTC
        (
            datetime(2015, 10, 21, 9, 28, tzinfo=timezone(timedelta(hours=2))),
            "Wed, 21 Oct 2015 07:28:00 GMT",
        ),
        (date(2015, 10, 21), "Wed, 21 Oct 2015 00:00:00 GMT"),
        (uuid.UUID(int=255), "00000000-0000-0000-0000-0000000000ff"),
        (decimal.Decimal("10.50"), "10.50"),
        (Markup("<b>x</b>"), "<b>x</b>"),
        (Html(), "<b>bold</b>"),
        (Point(3, date(2000, 1, 1)), {"when": "Sat, 01 Jan 2000 00:00:00 GMT", "x": 3}),
    ],
    ids=[
        "naive datetime",
        "aware datetime",
        "date",
        "UUID",
        "Decimal",
        "Markup",
        "__html__",
        "dataclass",
    ],
)
def test_default_serializes_flasks_extra_types(app: Flask, value: Any, expected: Any) -> None:
    assert std_json.loads(app.json.dumps({"v": value})) == {"v": expected}


@pytest.mark.parametrize(
    "value",
    [object(), {1, 2}, b"bytes", Point],
    ids=["object", "set", "bytes", "a dataclass class"],
)
def test_default_raises_type_error_for_anything_else(app: Flask, value: Any) -> None:
    with pytest.raises(TypeError, match="is not JSON serializable"):
        app.json.dumps(value)


def test_sort_keys_and_ensure_ascii(app: Flask) -> None:
    data = {"b": "é", "a": 1}
    assert app.json.dumps(data) == '{"a": 1, "b": "\\u00e9"}'
    assert app.json.dumps(data, sort_keys=False) == '{"b": "\\u00e9", "a": 1}'

    class Plain(DefaultJSONProvider):
        sort_keys = False
        ensure_ascii = False

    app.json = Plain(app)
    assert app.json.dumps(data) == '{"b": "é", "a": 1}'
    with app.app_context():
        assert jsonify(data).get_data() == '{"b":"é","a":1}\n'.encode()


def test_a_default_method_on_a_subclass_is_used(app: Flask) -> None:
    class WithMethod(DefaultJSONProvider):
        def default(self, o: Any) -> Any:
            if isinstance(o, complex):
                return [o.real, o.imag]
            return super().default(o)

    app.json = WithMethod(app)
    assert app.json.dumps([1 + 2j, date(2000, 1, 1)]) == (
        '[[1.0, 2.0], "Sat, 01 Jan 2000 00:00:00 GMT"]'
    )


@pytest.mark.parametrize(
    ("compact", "debug", "body"),
    [
        (None, False, '{"a":[1,2]}\n'),
        (None, True, '{\n  "a": [\n    1,\n    2\n  ]\n}\n'),
        (True, True, '{"a":[1,2]}\n'),
        (False, False, '{\n  "a": [\n    1,\n    2\n  ]\n}\n'),
    ],
)
def test_compact_decides_the_layout_of_responses(
    app: Flask, compact: bool | None, debug: bool, body: str
) -> None:
    """``None``: compact, except indented in debug mode."""
    app.debug = debug
    app.json.compact = compact  # type: ignore[attr-defined]
    with app.app_context():
        assert jsonify(a=[1, 2]).get_data(as_text=True) == body


def test_mimetype_of_responses(app: Flask, client: FlaskClient) -> None:
    app.json.mimetype = "application/vnd.api+json"  # type: ignore[attr-defined]

    @app.route("/")
    def index() -> Any:
        return {"data": []}

    response = client.get("/")
    assert response.headers["Content-Type"] == "application/vnd.api+json"
    assert response.is_json
    assert response.json == {"data": []}


# -- response() and jsonify -------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((), {}, None),
        ((1,), {}, 1),
        (([1, 2],), {}, [1, 2]),
        ((1, "two", None), {}, [1, "two", None]),
        ((), {"b": 2, "a": 1}, {"a": 1, "b": 2}),
        (({"k": "v"},), {}, {"k": "v"}),
    ],
    ids=["nothing", "one value", "one list", "several values", "keywords", "one dict"],
)
def test_jsonify_arguments(
    app: Flask, args: tuple[Any, ...], kwargs: dict[str, Any], expected: Any
) -> None:
    with app.app_context():
        response = jsonify(*args, **kwargs)
    assert response.mimetype == "application/json"
    assert response.status_code == 200
    assert response.get_data(as_text=True).endswith("\n")
    assert std_json.loads(response.get_data()) == expected


def test_jsonify_refuses_args_and_kwargs_together(app: Flask) -> None:
    with app.app_context(), pytest.raises(TypeError, match="either args or kwargs"):
        jsonify(1, a=2)
    with pytest.raises(TypeError, match="either args or kwargs"):
        app.json.response(1, a=2)


def test_the_base_providers_response_is_compact_and_has_no_newline(app: Flask) -> None:
    class Minimal(JSONProvider):
        def dumps(self, obj: Any, **kwargs: Any) -> str:
            return std_json.dumps(obj, **kwargs)

        def loads(self, s: str | bytes, **kwargs: Any) -> Any:
            return std_json.loads(s, **kwargs)

    app.json = Minimal(app)
    response = app.json.response(a=1)
    assert (response.get_data(as_text=True), response.mimetype) == ('{"a": 1}', "application/json")
    assert isinstance(response, app.response_class)


def test_jsonify_needs_an_app_context() -> None:
    with pytest.raises(RuntimeError, match="application context"):
        jsonify(a=1)


@both_kinds
def test_jsonify_in_views_with_a_status(app: Flask, client: FlaskClient, kind: str) -> None:
    def created() -> Any:
        return jsonify(id=7), 201

    app.add_url_rule("/", view_func=as_kind(kind, created), methods=["POST"])
    response = client.post("/")
    assert (response.status_code, response.json) == (201, {"id": 7})


# -- views returning dict / list -------------------------------------------------------


@both_kinds
def test_dict_and_list_returned_from_views_use_the_provider(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    calls: list[Any] = []

    class Counting(DefaultJSONProvider):
        def response(self, *args: Any, **kwargs: Any) -> Any:
            calls.append(args)
            return super().response(*args, **kwargs)

    app.json = Counting(app)

    def as_dict() -> Any:
        return {"when": date(2024, 1, 1), "id": uuid.UUID(int=3)}

    def as_list() -> Any:
        return [decimal.Decimal("0.1")], 202, {"X-Kind": kind}

    app.add_url_rule("/dict", view_func=as_kind(kind, as_dict))
    app.add_url_rule("/list", view_func=as_kind(kind, as_list))
    response = client.get("/dict")
    assert response.json == {
        "id": "00000000-0000-0000-0000-000000000003",
        "when": "Mon, 01 Jan 2024 00:00:00 GMT",
    }
    assert response.text == (
        '{"id":"00000000-0000-0000-0000-000000000003","when":"Mon, 01 Jan 2024 00:00:00 GMT"}\n'
    )
    response = client.get("/list")
    assert (response.status_code, response.json, response.headers["X-Kind"]) == (202, ["0.1"], kind)
    assert len(calls) == 2


def test_test_client_response_json_uses_the_providers_loads() -> None:
    app = SetApp("sets")

    @app.route("/")
    def index() -> Any:
        return {"price": 0.1}

    response = app.test_client().get("/")
    assert response.json == {"price": decimal.Decimal("0.1")}
    assert response.get_json() == {"price": decimal.Decimal("0.1")}


# -- request bodies: Flask parses them with the app's provider --------------------------


@both_kinds
def test_request_get_json_parses_a_json_body(app: Flask, client: FlaskClient, kind: str) -> None:
    async def parse_async() -> Any:
        return {"got": await request.get_json()}

    def parse() -> Any:
        return {"got": request.get_json()}

    app.add_url_rule("/", view_func=parse_async if kind == "async def" else parse, methods=["POST"])
    assert client.post("/", json={"a": [1, 2]}).json == {"got": {"a": [1, 2]}}


@both_kinds
def test_request_get_json_uses_the_apps_loads(kind: str) -> None:
    app = SetApp("sets")

    async def parse_async() -> Any:
        data = await request.get_json()
        return {"type": type(data["x"]).__name__}

    def parse() -> Any:
        return {"type": type(request.get_json()["x"]).__name__}

    app.add_url_rule("/", view_func=parse_async if kind == "async def" else parse, methods=["POST"])
    assert app.test_client().post("/", json={"x": 1.5}).json == {"type": "Decimal"}


def test_on_json_loading_failed_can_be_overridden(app: Flask) -> None:
    class LenientRequest(app.request_class):  # type: ignore[name-defined,misc]
        def on_json_loading_failed(self, e: ValueError | None) -> Any:
            return {"fallback": type(e).__name__}

    app.request_class = LenientRequest

    @app.post("/")
    def parse() -> Any:
        return {"got": request.get_json()}

    response = app.test_client().post("/", data="{oops", content_type="application/json")
    assert response.json == {"got": {"fallback": "JSONDecodeError"}}


def test_invalid_json_out_of_debug_mode_is_a_plain_400(app: Flask, client: FlaskClient) -> None:
    @app.post("/")
    def parse() -> Any:
        return {"got": request.get_json()}

    response = client.post("/", data="{oops", content_type="application/json")
    assert response.status_code == 400
    assert "Failed to decode" not in response.text
    assert "could not understand" in response.text


def test_invalid_json_in_debug_mode_says_why(app: Flask, client: FlaskClient) -> None:
    app.debug = True
    app.config["TRAP_BAD_REQUEST_ERRORS"] = False

    @app.post("/")
    def parse() -> Any:
        return {"got": request.get_json()}

    response = client.post("/", data="{oops", content_type="application/json")
    assert response.status_code == 400
    assert "Failed to decode JSON object" in response.text


def test_response_get_json_in_an_app_context_uses_the_apps_loads() -> None:
    app = SetApp("sets")
    with app.app_context():
        response = app.response_class('{"x": 0.1}', mimetype="application/json")
        assert type(response.get_json()["x"]) is decimal.Decimal
