"""The session's fast paths (issue 18) change nothing a user can see.

Tagged JSON skips asking every tag about plain JSON values and parses and
untags in one pass; the signing serializer is built once per key set and
verifies a cookie without itsdangerous's per-call objects. Each test here
pins what that must keep: Flask's exact bytes, registered tags, the app's
JSON provider, a changed ``SECRET_KEY``, every way a cookie is refused.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import UTC, date, datetime
from decimal import Decimal
from types import ModuleType
from typing import Any
from uuid import UUID

import pytest
from markupsafe import Markup

from flaskish import Flask
from flaskish.json.provider import DefaultJSONProvider
from flaskish.json.tag import JSONTag, PassDict, TaggedJSONSerializer

KEY = "perf-session key"


@pytest.fixture
def flask() -> ModuleType:
    return pytest.importorskip("flask")


class Html:
    def __html__(self) -> str:
        return "<i>hi</i>"


class StrSubclass(str):
    pass


class IntSubclass(int):
    pass


VALUES: list[Any] = [
    {"visits": 2},
    {},
    [],
    (),
    "text",
    "ünï 😀",
    0,
    -7,
    2**70,
    0.1,
    True,
    None,
    {"b": 1, "a": [1, 2, {"c": None}]},
    (1, (2, [3, (4,)])),
    [(), [()], {"t": ()}],
    b"\x00\xff",
    {"raw": [b"", b"x" * 50]},
    Markup("<em>x</em>"),
    {"html": Markup("&amp;")},
    Html(),
    UUID(int=7),
    {"id": UUID("12345678-1234-5678-1234-567812345678")},
    datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime(2030, 1, 2, 3, 4, 5),
    {" t": 1},
    {" di": {" t": (1,)}},
    {" b": "not bytes"},
    {" m": {" u": "x"}},
    {" nope": 1},
    {"a": {" b": b"x"}},
    [{" m": "not markup"}],
    {1: "int key", 2: (3,)},
    OrderedDict([("b", (1,)), ("a", 2)]),
    StrSubclass("sub"),
    IntSubclass(5),
    {"sub": [StrSubclass("x"), IntSubclass(3)]},
    {"everything": [1, "two", (3.5, None, True), {"six": b"6"}, {" t": [1]}]},
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_tagged_json_is_byte_for_byte_flasks_outside_an_app(flask: ModuleType, value: Any) -> None:
    from flask.json.tag import TaggedJSONSerializer as FlaskSerializer

    assert TaggedJSONSerializer().dumps(value) == FlaskSerializer().dumps(value)


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_tagged_json_is_byte_for_byte_flasks_inside_an_app(flask: ModuleType, value: Any) -> None:
    """Inside an app context both use the app's JSON provider (sorted keys)."""
    from flask.json.tag import TaggedJSONSerializer as FlaskSerializer

    flask_app = flask.Flask("perf_session")
    with flask_app.app_context():
        expected = FlaskSerializer().dumps(value)
    with Flask("perf_session").app_context():
        assert TaggedJSONSerializer().dumps(value) == expected


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_flasks_tagged_json_loads_as_flask_loads_it(flask: ModuleType, value: Any) -> None:
    from flask.json.tag import TaggedJSONSerializer as FlaskSerializer

    text = FlaskSerializer().dumps(value)
    expected = FlaskSerializer().loads(text)
    for loaded in (TaggedJSONSerializer().loads(text), TaggedJSONSerializer().loads(text.encode())):
        assert repr(loaded) == repr(expected)
        assert type(loaded) is type(expected)


def test_a_tag_registered_after_creation_is_used() -> None:
    class TagOrderedDict(JSONTag):
        __slots__ = ()
        key = " od"

        def check(self, value: Any) -> bool:
            return isinstance(value, OrderedDict)

        def to_json(self, value: Any) -> Any:
            return [[k, self.serializer.tag(v)] for k, v in value.items()]

        def to_python(self, value: Any) -> Any:
            return OrderedDict(value)

    class TagStr(JSONTag):
        """A tag on a plain JSON type: the fast path must not skip it."""

        __slots__ = ()
        key = " s"

        def check(self, value: Any) -> bool:
            return isinstance(value, str)

        def to_json(self, value: Any) -> Any:
            return value.upper()

        def to_python(self, value: Any) -> Any:
            return value.lower()

    serializer = TaggedJSONSerializer()
    serializer.register(TagOrderedDict, index=0)
    assert serializer.dumps({"o": OrderedDict(a=1)}) == '{"o":{" od":[["a",1]]}}'
    serializer.register(TagStr, index=0)
    assert serializer.dumps({"k": "v"}) == '{"k":{" s":"V"}}'
    assert serializer.loads('{"k":{" s":"V"}}') == {"k": "v"}


def test_a_tag_put_into_the_order_list_directly_is_used() -> None:
    class TagInt(JSONTag):
        __slots__ = ()
        key = " i"

        def check(self, value: Any) -> bool:
            return type(value) is int

        def to_json(self, value: Any) -> Any:
            return str(value)

        def to_python(self, value: Any) -> Any:
            return int(value)

    serializer = TaggedJSONSerializer()
    tag = TagInt(serializer)
    serializer.order.insert(0, tag)
    serializer.tags[tag.key] = tag
    assert serializer.dumps([1]) == '[{" i":"1"}]'
    assert serializer.loads('[{" i":"1"}]') == [1]


def test_a_subclass_overriding_tag_and_untag_is_honoured() -> None:
    class Doubling(TaggedJSONSerializer):
        __slots__ = ()

        def tag(self, value: Any) -> Any:
            return value * 2 if type(value) is int else super().tag(value)

        def untag(self, value: dict[str, Any]) -> Any:
            return {"untagged": True, **value}

    serializer = Doubling()
    assert serializer.dumps(21) == "42"
    assert serializer.loads('{"a":1}') == {"untagged": True, "a": 1}


def test_a_subclass_with_other_default_tags_is_honoured() -> None:
    class OnlyDicts(TaggedJSONSerializer):
        __slots__ = ()
        default_tags = [PassDict]  # noqa: RUF012 (as Flask's own attribute)

    assert OnlyDicts().dumps({"t": (1, 2)}) == '{"t":[1,2]}'


def test_a_custom_json_provider_still_writes_and_reads_the_payload() -> None:
    class Loud(DefaultJSONProvider):
        def dumps(self, obj: Any, **kwargs: Any) -> str:
            return "/*loud*/" + super().dumps(obj, **kwargs)

        def loads(self, s: str | bytes, **kwargs: Any) -> Any:
            text = s.decode() if isinstance(s, bytes) else s
            return {"read_by": "loud", **json.loads(text.removeprefix("/*loud*/"), **kwargs)}

    app = Flask("perf_session")
    app.json = Loud(app)
    serializer = TaggedJSONSerializer()
    with app.app_context():
        assert serializer.dumps({"a": (1,)}) == '/*loud*/{"a":{" t":[1]}}'
        assert serializer.loads('/*loud*/{"a":{" t":[1]}}') == {"read_by": "loud", "a": (1,)}


def test_the_apps_provider_settings_still_shape_the_payload() -> None:
    app = Flask("perf_session")
    serializer = TaggedJSONSerializer()
    value = {"b": "é", "a": date(2024, 1, 1), "c": Decimal("1.5")}
    with app.app_context():
        assert serializer.dumps(value) == (
            '{"a":"Mon, 01 Jan 2024 00:00:00 GMT","b":"\\u00e9","c":"1.5"}'
        )
        app.json.ensure_ascii = False  # type: ignore[attr-defined]
        app.json.sort_keys = False  # type: ignore[attr-defined]
        assert serializer.dumps(value) == (
            '{"b":"é","a":"Mon, 01 Jan 2024 00:00:00 GMT","c":"1.5"}'
        )
