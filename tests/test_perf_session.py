"""The session's fast paths (issue 18) change nothing a user can see.

Tagged JSON skips asking every tag about plain JSON values and parses and
untags in one pass; the signing serializer is built once per key set and
verifies a cookie without itsdangerous's per-call objects. Each test here
pins what that must keep: Flask's exact bytes, registered tags, the app's
JSON provider, a changed ``SECRET_KEY``, every way a cookie is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from datetime import UTC, date, datetime
from decimal import Decimal
from types import ModuleType
from typing import Any
from uuid import UUID

import pytest
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner
from markupsafe import Markup

from flaskish import Flask, session
from flaskish.json.provider import DefaultJSONProvider
from flaskish.json.tag import JSONTag, PassDict, TaggedJSONSerializer
from flaskish.sessions import SecureCookieSessionInterface

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


# -- the signing serializer ----------------------------------------------------------


def plain_signer(key: str | bytes | list[str | bytes]) -> URLSafeTimedSerializer:
    """Flask's session serializer, from itsdangerous alone: what flaskish's
    must match."""
    return URLSafeTimedSerializer(
        key,  # type: ignore[arg-type]
        salt="cookie-session",
        serializer=TaggedJSONSerializer(),
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


def flaskish_signer(app: Flask) -> URLSafeTimedSerializer:
    signer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    assert signer is not None
    return signer  # type: ignore[no-any-return]


@pytest.fixture
def frozen_time(monkeypatch: pytest.MonkeyPatch) -> Any:
    def freeze(timestamp: int) -> None:
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: timestamp)

    return freeze


PAYLOADS: list[Any] = [
    {"visits": 2},
    {},
    {"t": (1, b"x"), "when": datetime(2030, 1, 1, tzinfo=UTC)},
    {"blob": "ab" * 200},  # compressed
    {"ü": "😀" * 30},
]


@pytest.mark.parametrize("value", PAYLOADS, ids=repr)
def test_cookies_are_signed_as_itsdangerous_signs_them(value: Any, frozen_time: Any) -> None:
    frozen_time(1_750_000_000)
    app = Flask("perf_session")
    app.secret_key = KEY
    with app.app_context():
        ours = flaskish_signer(app).dumps(value)
        reference = plain_signer(KEY).dumps(value)
        if reference.startswith("."):
            # Compressed with a smaller zlib state (session_signing): another
            # zlib stream, so another signature; the same timestamp and value.
            assert ours.startswith(".")
            assert ours.rsplit(".", 2)[1] == reference.rsplit(".", 2)[1]
            assert repr(plain_signer(KEY).loads(ours, max_age=60)) == repr(
                plain_signer(KEY).loads(reference, max_age=60)
            )
        else:
            assert ours == reference
        assert repr(flaskish_signer(app).loads(ours, max_age=60)) == repr(
            plain_signer(KEY).loads(ours, max_age=60)
        )


def _refused(signer: URLSafeTimedSerializer, cookie: str | bytes, **kwargs: Any) -> Any:
    try:
        signer.loads(cookie, **kwargs)
    except Exception as error:
        return type(error), str(error)
    raise AssertionError(f"{cookie!r} was accepted")


def _corrupted(good: str, other_key_cookie: str) -> list[str]:
    payload, stamp, sig = good.split(".")
    return [
        "",
        "no-dots",
        f"{payload}.{stamp}",
        f"{payload}.{stamp}.{sig[:-2]}",
        f"{payload}.{stamp}.{sig[::-1]}",
        f"{payload}.{stamp}.!!!!",
        f"{payload}x.{stamp}.{sig}",
        f"{payload}.{stamp}x.{sig}",
        f"{payload}{stamp}.{sig}",
        other_key_cookie,
        "." + good,
    ]


def test_every_cookie_itsdangerous_refuses_is_refused_with_the_same_error(
    frozen_time: Any,
) -> None:
    frozen_time(1_750_000_000)
    app = Flask("perf_session")
    app.secret_key = KEY
    ours, plain = flaskish_signer(app), plain_signer(KEY)
    good = plain.dumps({"visits": 1})
    for cookie in _corrupted(good, plain_signer("another key").dumps({"visits": 1})):
        assert _refused(ours, cookie, max_age=60) == _refused(plain, cookie, max_age=60), cookie


def test_a_signature_valid_over_a_malformed_timestamp_is_refused_as_itsdangerous_does() -> None:
    """The HMAC covers the timestamp, so these cookies need the key to make:
    no timestamp, an empty one, one too long for 64 bits, one not base64."""
    app = Flask("perf_session")
    app.secret_key = KEY
    ours, plain = flaskish_signer(app), plain_signer(KEY)
    signer = plain.make_signer()
    for value in (b"eyJ2IjoxfQ", b"eyJ2IjoxfQ.", b"eyJ2IjoxfQ.AAAAAAAAAAAAAAAA", b"eyJ2IjoxfQ.!"):
        cookie = (value + b"." + signer.get_signature(value)).decode()
        assert _refused(ours, cookie, max_age=60) == _refused(plain, cookie, max_age=60)


def test_an_expired_cookie_and_one_from_the_future_are_refused(frozen_time: Any) -> None:
    app = Flask("perf_session")
    app.secret_key = KEY
    ours, plain = flaskish_signer(app), plain_signer(KEY)
    frozen_time(1_750_000_000)
    cookie = plain.dumps({"visits": 1})
    for now in (1_750_000_061, 1_749_999_999):
        frozen_time(now)
        refused = _refused(ours, cookie, max_age=60)
        assert refused[0] is SignatureExpired
        assert refused == _refused(plain, cookie, max_age=60)
    frozen_time(1_750_000_060)
    assert ours.loads(cookie, max_age=60) == {"visits": 1}
    frozen_time(1_850_000_000)
    assert ours.loads(cookie) == {"visits": 1}  # no max_age: no expiry


def test_loads_with_its_other_arguments_is_itsdangerous_loads(frozen_time: Any) -> None:
    frozen_time(1_750_000_000)
    app = Flask("perf_session")
    app.secret_key = KEY
    ours, plain = flaskish_signer(app), plain_signer(KEY)
    cookie = plain.dumps({"visits": 1})
    assert ours.loads(cookie, max_age=60, return_timestamp=True) == plain.loads(
        cookie, max_age=60, return_timestamp=True
    )
    salted = plain.dumps({"v": 1}, salt="other")
    assert ours.loads(salted, salt="other") == {"v": 1}
    with pytest.raises(BadSignature):
        ours.loads(salted)
    assert ours.loads(cookie.encode(), max_age=60) == {"visits": 1}


def test_fallback_keys_verify_and_the_newest_key_signs() -> None:
    app = Flask("perf_session")
    app.config.update(SECRET_KEY=KEY, SECRET_KEY_FALLBACKS=["old", b"older"])
    ours = flaskish_signer(app)
    for key in ("old", b"older", KEY):
        assert ours.loads(plain_signer(key).dumps({"k": str(key)})) == {"k": str(key)}
    assert plain_signer(KEY).loads(ours.dumps({"v": 1})) == {"v": 1}
    with pytest.raises(BadSignature):
        plain_signer("old").loads(ours.dumps({"v": 1}))


def _session_app() -> Flask:
    app = Flask("perf_session")
    app.secret_key = KEY

    @app.post("/write")
    def write() -> str:
        session["n"] = session.get("n", 0) + 1
        return str(session["n"])

    @app.get("/read")
    def read() -> str:
        return str(session.get("n"))

    return app


def test_a_secret_key_changed_after_the_first_request_is_honoured() -> None:
    """As in Flask, which builds its signer on every request: the new key
    signs the next cookie, and a cookie signed with the old key is no longer
    read (unless the old key is listed in SECRET_KEY_FALLBACKS)."""
    app = _session_app()
    client = app.test_client()
    assert client.post("/write").text == "1"
    old_cookie = client.get_cookie("session")
    assert old_cookie is not None

    app.secret_key = "a brand new key"
    assert client.get("/read").text == "None"
    assert client.post("/write").text == "1"
    new_cookie = client.get_cookie("session")
    assert new_cookie is not None
    assert plain_signer("a brand new key").loads(new_cookie.value) == {"n": 1}

    app.config["SECRET_KEY_FALLBACKS"] = [KEY]
    client.set_cookie("session", old_cookie.value)
    assert client.get("/read").text == "1"
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert client.get("/read").text == "None"


def test_removing_the_secret_key_after_the_first_request_gives_the_null_session() -> None:
    app = _session_app()
    client = app.test_client()
    client.post("/write")
    app.secret_key = None
    assert client.get("/read").text == "None"
    app.config["TESTING"] = False
    assert client.post("/write").status_code == 500


def test_a_custom_serializer_on_the_interface_is_used() -> None:
    class Upper(TaggedJSONSerializer):
        __slots__ = ()

        def dumps(self, value: Any) -> str:
            return super().dumps(value).upper()

        def loads(self, value: str | bytes) -> Any:
            return {"lowered": super().loads(value.lower())}  # type: ignore[arg-type]

    app = _session_app()
    interface = app.session_interface = SecureCookieSessionInterface()
    interface.serializer = Upper()
    client = app.test_client()
    client.post("/write")
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert plain_signer(KEY).loads(cookie.value) == {"N": 1}
    assert flaskish_signer(app).loads(cookie.value) == {"lowered": {"n": 1}}
