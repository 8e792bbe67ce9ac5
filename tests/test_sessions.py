"""Sessions (``flaskish.sessions``, ``flaskish.json.tag``) and cookies.

Session cookies pass between flaskish and real Flask 3.1 in both directions,
and ``tests/data/flask_session_vectors.json`` (minted by Flask) pins the format
for runs without Flask. Then: key rotation, lifetimes, when the cookie is
set, every cookie setting, missing secret key, untrustworthy cookies, lazy
opening, custom (sync and async) session interfaces, request cookies and the
test client's session helpers.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID, uuid4

import anyio
import pytest
from itsdangerous import BadSignature, URLSafeTimedSerializer, base64_decode, base64_encode
from itsdangerous.signer import Signer
from itsdangerous.timed import TimestampSigner
from markupsafe import Markup
from starlette.testclient import TestClient

from flaskish import Flask, Response, flash, get_flashed_messages, request, session
from flaskish.json.provider import DefaultJSONProvider
from flaskish.json.tag import JSONTag, TaggedJSONSerializer
from flaskish.sessions import (
    NullSession,
    SecureCookieSession,
    SecureCookieSessionInterface,
    SessionInterface,
    SessionMixin,
)
from flaskish.testing import FlaskClient

DATA = Path(__file__).resolve().parent / "data"


def _load_vector_maker() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_session_vectors", DATA / "make_session_vectors.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


maker = _load_vector_maker()
CASES: dict[str, dict[str, Any]] = maker.CASES
KEY: str = maker.SECRET_KEY
OLD_KEY: str = maker.OLD_SECRET_KEY
VECTOR_FILE = json.loads((DATA / "flask_session_vectors.json").read_text())
VECTORS: list[dict[str, Any]] = VECTOR_FILE["vectors"]


# -- helpers ----------------------------------------------------------------------


def same(a: Any, b: Any) -> bool:
    """Equal, and of the same types all the way down (a tuple is not a list,
    Markup is not str, an aware datetime keeps its offset)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, datetime):
        return bool(a == b and a.utcoffset() == b.utcoffset())
    return bool(a == b)


def python_value(text: str) -> Any:
    """A value written with ``repr`` by the vector maker."""
    import datetime as datetime_module

    return eval(text, {"datetime": datetime_module, "UUID": UUID, "Markup": Markup})


def signer_for(key: str | bytes, serializer: Any = None) -> URLSafeTimedSerializer:
    """Flask's session signer, built from itsdangerous alone."""
    return URLSafeTimedSerializer(
        key,
        salt="cookie-session",
        serializer=serializer or TaggedJSONSerializer(),
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


def set_cookies(response: Any) -> list[str]:
    return list(response.headers.getlist("Set-Cookie"))


def parse_set_cookie(header: str) -> tuple[str, str, dict[str, str]]:
    """``name``, ``value`` and the attributes (lower-cased names) of a header."""
    first, *rest = header.split("; ")
    name, _, value = first.partition("=")
    attrs = {}
    for part in rest:
        key, _, val = part.partition("=")
        attrs[key.lower()] = val
    return name, value, attrs


def session_cookie(response: Any, name: str = "session") -> tuple[str, dict[str, str]]:
    for header in set_cookies(response):
        cookie_name, value, attrs = parse_set_cookie(header)
        if cookie_name == name:
            return value, attrs
    raise AssertionError(f"no {name} cookie in {set_cookies(response)}")


def vary(response: Any) -> list[str]:
    return [v.strip() for h in response.headers.getlist("Vary") for v in h.split(",")]


@pytest.fixture
def frozen_time(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Set the clock itsdangerous signs and checks cookies with."""

    def freeze(timestamp: int) -> None:
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: timestamp)

    return freeze


def make_app(**config: Any) -> Flask:
    app = Flask("flaskish_sessions")
    app.config.update(TESTING=True, SECRET_KEY=KEY)
    app.config.update(config)

    @app.get("/read")
    def read() -> Any:
        return {"session": dict(session), "permanent": session.permanent}

    @app.get("/nothing")
    def nothing() -> str:
        return "no session here"

    @app.post("/set")
    def set_values() -> str:
        session.update(request.get_json())
        return "set"

    @app.post("/permanent")
    def make_permanent() -> str:
        session.permanent = True
        session["user"] = "ada"
        return "permanent"

    @app.post("/clear")
    def clear() -> str:
        session.clear()
        return "cleared"

    return app


# -- interop with real Flask 3.1 -----------------------------------------------------


@pytest.fixture
def flask() -> ModuleType:
    return pytest.importorskip("flask")


def flask_app(flask: ModuleType, key: str = KEY, **config: Any) -> Any:
    app = flask.Flask("flask_interop")
    app.config.update(SECRET_KEY=key, **config)

    @app.post("/fill/<name>")
    def fill(name: str) -> str:
        flask.session.update(CASES[name])
        return ""

    @app.post("/flash")
    def flash() -> str:
        flask.flash("From Flask.", "info")
        return ""

    @app.get("/flashes")
    def flashes() -> Any:
        return flask.jsonify(flask.get_flashed_messages(with_categories=True))

    return app


def flask_mint(flask: ModuleType, name: str, key: str = KEY) -> str:
    client = flask_app(flask, key).test_client()
    client.post(f"/fill/{name}")
    cookie = client.get_cookie("session")
    assert cookie is not None
    return str(cookie.value)


def flask_read(flask: ModuleType, cookie: str, key: str = KEY, **config: Any) -> dict[str, Any]:
    app = flask_app(flask, key, **config)
    with app.test_request_context(headers={"Cookie": f"session={cookie}"}):
        return dict(flask.session)


@pytest.mark.parametrize("name", list(CASES))
def test_a_cookie_minted_by_flask_is_read_by_flaskish(flask: ModuleType, name: str) -> None:
    cookie = flask_mint(flask, name)
    app = make_app()

    @app.get("/check")
    def check() -> str:
        return "same" if same(dict(session), CASES[name]) else repr(dict(session))

    client = app.test_client()
    client.set_cookie("session", cookie)
    assert client.get("/check").text == "same"


@pytest.mark.parametrize("name", list(CASES))
def test_a_cookie_minted_by_flaskish_is_read_by_flask(flask: ModuleType, name: str) -> None:
    app = make_app()

    @app.post("/fill")
    def fill() -> str:
        session.update(CASES[name])
        return ""

    client = app.test_client()
    client.post("/fill")
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert same(flask_read(flask, cookie.value), CASES[name])


@pytest.mark.parametrize("name", list(CASES))
def test_flaskish_mints_the_cookie_flask_mints(
    flask: ModuleType, name: str, frozen_time: Callable[[int], None]
) -> None:
    frozen_time(1_750_000_000)
    app = make_app()

    @app.post("/fill")
    def fill() -> str:
        session.update(CASES[name])
        return ""

    client = app.test_client()
    client.post("/fill")
    cookie = client.get_cookie("session")
    assert cookie is not None
    flasks = flask_mint(flask, name)
    if not flasks.startswith("."):
        assert cookie.value == flasks
        return
    # Flask compressed the payload. flaskish leaves JSON under 64 bytes as it
    # is, and compresses longer JSON with a smaller zlib state (an 8 KB
    # window), so the payload, and with it the signature, differs; the JSON
    # inside and the timestamp are Flask's, and Flask reads the cookie.
    assert maker.cookie_payload(cookie.value) == maker.cookie_payload(flasks)
    assert cookie.value.rsplit(".", 2)[1] == flasks.rsplit(".", 2)[1]  # the timestamp
    assert same(flask_read(flask, cookie.value), CASES[name])
    if not cookie.value.startswith("."):
        assert len(maker.cookie_payload(cookie.value).encode()) < 64
        return
    ours, theirs = zlib_stream(cookie.value), zlib_stream(flasks)
    assert len(ours) <= len(theirs) * 1.02 + 2
    assert (ours[0] >> 4, theirs[0] >> 4) == (13 - 8, 15 - 8)  # the window sizes


def flaskish_mint(value: dict[str, Any]) -> str:
    """The session cookie flaskish sets for a session holding *value*."""
    app = make_app()

    @app.post("/fill")
    def fill() -> str:
        session.update(value)
        return ""

    client = app.test_client()
    client.post("/fill")
    cookie = client.get_cookie("session")
    assert cookie is not None
    return str(cookie.value)


def zlib_stream(cookie: str) -> bytes:
    """The zlib stream in a session cookie with a compressed payload."""
    payload = cookie.rsplit(".", 2)[0]
    assert payload.startswith(".")
    return base64_decode(payload[1:])


def _session_payloads() -> list[dict[str, Any]]:
    cart = [{"id": i, "name": f"item {i}", "qty": i % 3} for i in range(60)]
    return [
        {"visits": 6},
        {"_fresh": True, "_id": "a1b2c3d4" * 16, "_user_id": "42", "csrf_token": "f3" * 20},
        {"cart": cart[:5]},
        {"cart": cart},
        {"notes": "lorem ipsum dolor sit amet " * 40},
        {f"k{i}": i * 7919 for i in range(120)},
    ]


@pytest.mark.parametrize("value", _session_payloads(), ids=lambda v: str(len(json.dumps(v))))
def test_json_of_64_bytes_or_more_is_compressed_when_itsdangerous_would_compress_it(
    value: dict[str, Any],
) -> None:
    app = make_app()
    with app.test_request_context():
        signer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        ours = signer.dump_payload(value)
        reference = URLSafeTimedSerializer(KEY, serializer=signer.serializer).dump_payload(value)
    assert ours.startswith(b".") == reference.startswith(b".")
    if reference.startswith(b"."):
        # The same JSON, compressed about as well as zlib's default state does.
        ours_z, reference_z = base64_decode(ours[1:]), base64_decode(reference[1:])
        assert zlib.decompress(ours_z) == zlib.decompress(reference_z)
        assert len(ours_z) <= len(reference_z) * 1.02 + 2
    else:
        assert ours == reference


def test_json_under_64_bytes_is_not_compressed_even_when_it_would_shrink(
    flask: ModuleType,
) -> None:
    value = {"a": "x" * 50}  # 58 bytes of JSON; zlib makes it 19
    cookie = flaskish_mint(value)
    assert base64_decode(cookie.rsplit(".", 2)[0]) == b'{"a":"' + b"x" * 50 + b'"}'
    assert flask_read(flask, cookie) == value


def test_a_large_compressed_session_round_trips_and_flask_reads_it(flask: ModuleType) -> None:
    big = {"log": [f"event {i}: user clicked button {i % 7}" for i in range(400)]}
    cookie = flaskish_mint(big)
    assert cookie.startswith(".")
    assert len(cookie) < 4093  # fits in a cookie only compressed
    client = make_app().test_client()
    client.set_cookie("session", cookie)
    assert client.get("/read").json["session"] == big
    assert flask_read(flask, cookie) == big


def test_messages_flashed_by_flask_are_shown_by_flaskish_and_back(flask: ModuleType) -> None:
    flask_client = flask_app(flask).test_client()
    flask_client.post("/flash")
    from_flask = flask_client.get_cookie("session")
    assert from_flask is not None

    app = make_app()

    @app.get("/show-and-flash")
    def show_and_flash() -> Any:
        shown = get_flashed_messages(with_categories=True)
        flash("From flaskish.", "warning")
        return list(shown)

    client = app.test_client()
    client.set_cookie("session", from_flask.value)
    assert client.get("/show-and-flash").json == [["info", "From Flask."]]
    from_flaskish = client.get_cookie("session")
    assert from_flaskish is not None

    flask_client.set_cookie("session", from_flaskish.value)
    assert flask_client.get("/flashes").json == [["warning", "From flaskish."]]


def test_a_permanent_flask_session_stays_permanent_and_is_refreshed(flask: ModuleType) -> None:
    client = make_app().test_client()
    client.set_cookie("session", flask_mint(flask, "permanent"))
    response = client.get("/read")
    assert response.json == {"session": {"_permanent": True, "user_id": 7}, "permanent": True}
    value, attrs = session_cookie(response)
    assert "expires" in attrs
    assert flask_read(flask, value) == {"_permanent": True, "user_id": 7}


def test_rotating_the_key_of_a_live_flask_app_without_logging_anyone_out(
    flask: ModuleType,
) -> None:
    """Flask signed with the old key; flaskish gets the new key plus the old one
    as a fallback, reads the old cookie and re-signs it with the new key, which
    Flask configured with only the new key then reads."""
    old_cookie = flask_mint(flask, "nested", key=OLD_KEY)
    app = make_app(SECRET_KEY=KEY, SECRET_KEY_FALLBACKS=[OLD_KEY])

    @app.post("/touch")
    def touch() -> str:
        session["seen"] = True
        return "ok"

    client = app.test_client()
    client.set_cookie("session", old_cookie)
    assert client.get("/read").json["session"] == CASES["nested"]
    new_cookie = session_cookie(client.post("/touch"))[0]
    assert flask_read(flask, new_cookie, key=KEY) == {**CASES["nested"], "seen": True}
    assert flask_read(flask, new_cookie, key=OLD_KEY) == {}


def test_the_committed_vectors_are_what_flask_mints_today(flask: ModuleType) -> None:
    fresh = maker.generate()
    assert [v["cookie"] for v in fresh["vectors"]] == [v["cookie"] for v in VECTORS], (
        "Flask's session cookie format changed: check flaskish against it, then "
        "regenerate with `.venv/bin/python tests/data/make_session_vectors.py`."
    )


def test_flaskish_sessions_never_import_flask_or_werkzeugs_wsgi_side() -> None:
    """Sessions sign with itsdangerous, not Flask. Werkzeug is a dependency,
    and its ``__init__`` loads its WSGI modules: the sessions add none."""
    wsgi = (
        "werkzeug.wrappers",
        "werkzeug.serving",
        "werkzeug.debug",
        "werkzeug.test",
        "werkzeug.wsgi",
    )
    code = (
        "import sys, {}; print(sorted(m for m in sys.modules"
        " if m.split('.')[0] == 'flask' or m.startswith({!r})))"
    )
    ours = subprocess.run(
        [
            sys.executable,
            "-c",
            code.format(
                "flaskish, flaskish.sessions, flaskish.json.tag, flaskish.helpers, "
                "flaskish.testing",
                wsgi,
            ),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    werkzeugs = subprocess.run(
        [sys.executable, "-c", code.format("werkzeug", wsgi)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert ours == werkzeugs
    assert "'flask" not in ours and "werkzeug.debug" not in ours


# -- the committed Flask vectors, without Flask ------------------------------------------


def vector_ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [v["name"] for v in vectors]


def test_the_vectors_cover_every_case_and_were_made_by_flask_3_1() -> None:
    assert VECTOR_FILE["flask"].startswith("3.1.")
    assert set(CASES) | {"signed_with_the_old_key", "flashed_messages"} == set(vector_ids(VECTORS))
    assert any(v["cookie"].startswith(".") for v in VECTORS), "a compressed payload"


@pytest.mark.parametrize("vector", VECTORS, ids=vector_ids(VECTORS))
def test_flaskish_reads_the_flask_vectors(
    vector: dict[str, Any], frozen_time: Callable[[int], None]
) -> None:
    frozen_time(VECTOR_FILE["timestamp"])
    app = make_app(SECRET_KEY=KEY, SECRET_KEY_FALLBACKS=[OLD_KEY])
    with app.test_request_context(headers={"Cookie": f"session={vector['cookie']}"}):
        assert same(dict(session), python_value(vector["session"]))


@pytest.mark.parametrize("vector", VECTORS, ids=vector_ids(VECTORS))
def test_flaskish_writes_the_payload_of_the_flask_vectors(
    vector: dict[str, Any], frozen_time: Callable[[int], None]
) -> None:
    frozen_time(VECTOR_FILE["timestamp"])
    key = VECTOR_FILE[vector["signed_with"]]
    app = make_app(SECRET_KEY=key)
    value = python_value(vector["session"])
    with app.test_request_context():
        interface = app.session_interface
        assert isinstance(interface, SecureCookieSessionInterface)
        assert interface.serializer.dumps(value) == vector["payload"]
        signer = interface.get_signing_serializer(app)
        assert signer is not None
        minted = signer.dumps(value)
    assert maker.cookie_payload(minted) == vector["payload"]
    if not vector["cookie"].startswith("."):  # zlib output may vary between builds
        assert minted == vector["cookie"]


def test_the_flashed_messages_of_a_flask_vector_are_shown_once(
    frozen_time: Callable[[int], None],
) -> None:
    frozen_time(VECTOR_FILE["timestamp"])
    [vector] = [v for v in VECTORS if v["name"] == "flashed_messages"]
    app = make_app()

    @app.get("/show")
    def show() -> Any:
        return list(get_flashed_messages(with_categories=True))

    client = app.test_client()
    client.set_cookie("session", vector["cookie"])
    assert client.get("/show").json == [["info", "Saved."], ["message", "Welcome back!"]]
    assert client.get("/show").json == []


def test_the_flask_vectors_have_expired_by_now() -> None:
    """They were signed in 2023; the default lifetime is 31 days."""
    client = make_app().test_client()
    client.set_cookie("session", VECTORS[0]["cookie"])
    assert client.get("/read").json["session"] == {}


# -- tagged JSON ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        (1, (2, [3])),
        b"\x00\xff",
        Markup("<em>x</em>"),
        UUID(int=7),
        datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC),
        {" t": 1},
        {" di": {" t": (1,)}},
        {"a": {" b": b"x"}},
        [{" m": "not markup"}],
        {"ünï": "cødé"},
    ],
    ids=repr,
)
def test_tagged_json_round_trips(value: Any) -> None:
    serializer = TaggedJSONSerializer()
    assert same(serializer.loads(serializer.dumps(value)), value)


def test_a_one_key_dict_whose_key_is_a_tag_is_tagged_as_a_dict() -> None:
    assert TaggedJSONSerializer().dumps({" t": [1]}) == '{" di":{" t__":[1]}}'


def test_objects_with_html_load_back_as_markup() -> None:
    class Html:
        def __html__(self) -> str:
            return "<i>hi</i>"

    serializer = TaggedJSONSerializer()
    loaded = serializer.loads(serializer.dumps(Html()))
    assert type(loaded) is Markup
    assert loaded == "<i>hi</i>"


def test_datetimes_are_stored_in_utc_to_the_second() -> None:
    serializer = TaggedJSONSerializer()
    paris = timezone(timedelta(hours=1))
    aware = datetime(2024, 1, 1, 12, 0, 0, 999, tzinfo=paris)
    loaded = serializer.loads(serializer.dumps(aware))
    assert loaded == aware.replace(microsecond=0)
    assert loaded.tzinfo is not None and loaded.utcoffset() == timedelta(0)
    naive = datetime(2024, 1, 1, 12, 0, 0)
    assert serializer.loads(serializer.dumps(naive)) == naive.replace(tzinfo=UTC)


def test_a_date_without_a_zone_loads_as_utc() -> None:
    loaded = TaggedJSONSerializer().loads('{" d":"Mon, 01 Jan 2024 10:00:00 -0000"}')
    assert same(loaded, datetime(2024, 1, 1, 10, tzinfo=UTC))


def test_a_date_that_cannot_be_parsed_loads_as_none_as_in_flask() -> None:
    assert TaggedJSONSerializer().loads('{"when":{" d":"not a date"}}') == {"when": None}


def test_a_custom_tag_can_be_registered_first() -> None:
    class TagOrderedDict(JSONTag):
        __slots__ = ()
        key = " od"

        def check(self, value: Any) -> bool:
            return isinstance(value, OrderedDict)

        def to_json(self, value: Any) -> Any:
            return [[k, self.serializer.tag(v)] for k, v in value.items()]

        def to_python(self, value: Any) -> Any:
            return OrderedDict(value)

    serializer = TaggedJSONSerializer()
    serializer.register(TagOrderedDict, index=0)
    value = OrderedDict([("b", (1,)), ("a", 2)])
    assert same(serializer.loads(serializer.dumps(value)), value)


def test_registering_a_tag_key_twice_needs_force() -> None:
    class Other(JSONTag):
        __slots__ = ()
        key = " t"

        def check(self, value: Any) -> bool:
            return False

    serializer = TaggedJSONSerializer()
    with pytest.raises(KeyError, match="force=True"):
        serializer.register(Other)
    serializer.register(Other, force=True)
    assert isinstance(serializer.tags[" t"], Other)


def test_inside_an_app_the_apps_json_provider_writes_the_payload() -> None:
    """As in Flask: sorted keys, and ``app.json``'s conversions (a date)."""
    serializer = TaggedJSONSerializer()
    value = {"b": 1, "a": datetime(2024, 1, 1, tzinfo=UTC).date()}
    app = make_app()
    with app.app_context():
        assert serializer.dumps(value) == '{"a":"Mon, 01 Jan 2024 00:00:00 GMT","b":1}'

    class Unsorted(DefaultJSONProvider):
        sort_keys = False

    app.json = Unsorted(app)
    with app.app_context():
        assert serializer.dumps({"b": 1, "a": 2}) == '{"b":1,"a":2}'


# -- the session object ---------------------------------------------------------------


def test_a_cookie_session_is_a_dict() -> None:
    sess = SecureCookieSession({"a": 1})
    assert isinstance(sess, dict)
    assert json.dumps(sess) == '{"a": 1}'
    assert sess == {"a": 1}
    assert sess.new is False
    assert repr(sess) == "<SecureCookieSession {'a': 1}>"


READS: list[Callable[[SecureCookieSession], object]] = [
    lambda s: s["a"],
    lambda s: s.get("a"),
    lambda s: "a" in s,
    lambda s: len(s),
    lambda s: list(s),
    lambda s: s.keys(),
    lambda s: s.values(),
    lambda s: s.items(),
    lambda s: s.copy(),
    lambda s: bool(s),
    lambda s: dict(s),
    lambda s: s.permanent,
    lambda s: s.pop("missing", None),
    lambda s: s.setdefault("a", 2),
]
WRITES: list[Callable[[SecureCookieSession], object]] = [
    lambda s: s.__setitem__("b", 2),
    lambda s: s.__delitem__("a"),
    lambda s: s.pop("a"),
    lambda s: s.popitem(),
    lambda s: s.setdefault("b", 2),
    lambda s: s.update(b=2),
    lambda s: s.__ior__({"b": 2}),
    lambda s: s.clear(),
    lambda s: setattr(s, "permanent", True),
]


@pytest.mark.parametrize("read", READS)
def test_reading_marks_the_session_accessed_not_modified(
    read: Callable[[SecureCookieSession], object],
) -> None:
    sess = SecureCookieSession({"a": 1})
    assert (sess.accessed, sess.modified) == (False, False)
    read(sess)
    assert (sess.accessed, sess.modified) == (True, False)


@pytest.mark.parametrize("write", WRITES)
def test_changing_marks_the_session_modified(
    write: Callable[[SecureCookieSession], object],
) -> None:
    sess = SecureCookieSession({"a": 1})
    write(sess)
    assert (sess.accessed, sess.modified) == (True, True)


def test_clearing_an_empty_session_counts_as_a_change_as_in_flask() -> None:
    sess = SecureCookieSession()
    sess.clear()
    assert sess.modified


def test_a_change_inside_a_value_is_not_seen() -> None:
    sess = SecureCookieSession({"cart": [1]})
    sess["cart"].append(2)
    assert not sess.modified


@pytest.mark.parametrize("write", WRITES)
def test_the_null_session_refuses_every_change(
    write: Callable[[SecureCookieSession], object],
) -> None:
    null = NullSession()
    with pytest.raises(RuntimeError, match=r"no secret key was set\. Set the secret_key"):
        write(null)
    assert dict(null) == {}
    assert null.get("a") is None
    assert "a" not in null


# -- when the cookie is set ---------------------------------------------------------


def test_changing_the_session_sets_a_cookie_signed_with_the_secret_key() -> None:
    client = make_app().test_client()
    response = client.post("/set", json={"user": "ada", "n": 1})
    value, _ = session_cookie(response)
    assert signer_for(KEY).loads(value) == {"user": "ada", "n": 1}
    assert vary(response) == ["Cookie"]
    assert client.get("/read").json["session"] == {"user": "ada", "n": 1}


def test_a_request_that_only_reads_the_session_sets_no_cookie_but_varies_on_it() -> None:
    client = make_app().test_client()
    client.post("/set", json={"user": "ada"})
    response = client.get("/read")
    assert response.json["session"] == {"user": "ada"}
    assert set_cookies(response) == []
    assert vary(response) == ["Cookie"]


def test_reading_an_empty_session_sets_no_cookie() -> None:
    response = make_app().test_client().get("/read")
    assert set_cookies(response) == []
    assert vary(response) == ["Cookie"]


def test_a_request_that_never_touches_the_session_sends_no_cookie_and_no_vary() -> None:
    client = make_app().test_client()
    client.post("/set", json={"user": "ada"})
    response = client.get("/nothing")
    assert set_cookies(response) == []
    assert vary(response) == []


def test_clearing_the_session_deletes_the_cookie() -> None:
    client = make_app().test_client()
    client.post("/set", json={"user": "ada"})
    response = client.post("/clear")
    value, attrs = session_cookie(response)
    assert value == ""
    assert attrs["max-age"] == "0"
    assert attrs["expires"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    assert vary(response) == ["Cookie"]
    assert client.get_cookie("session") is None
    assert client.get("/read").json["session"] == {}


def test_clearing_the_session_deletes_an_untrustworthy_cookie() -> None:
    client = make_app().test_client()
    client.set_cookie("session", "forged.cookie.value")
    value, attrs = session_cookie(client.post("/clear"))
    assert (value, attrs["max-age"]) == ("", "0")


def test_cookie_is_added_to_an_existing_vary_header() -> None:
    app = make_app()

    @app.after_request
    def add_vary(response: Response) -> Response:
        response.headers["Vary"] = "Accept-Encoding"
        return response

    response = app.test_client().get("/read")
    assert response.headers.getlist("Vary") == ["Accept-Encoding, Cookie"]


def test_a_change_inside_a_value_is_saved_once_marked_modified() -> None:
    app = make_app()

    @app.post("/append/<int:n>")
    def append(n: int) -> str:
        session.setdefault("cart", []).append(n)
        if n == 2:
            session.modified = True
        return "ok"

    client = app.test_client()
    client.post("/append/1")  # a new key: saved
    client.post("/append/3")  # only mutated inside: not saved
    assert client.get("/read").json["session"] == {"cart": [1]}
    client.post("/append/2")
    assert client.get("/read").json["session"] == {"cart": [1, 2]}


# -- key rotation ---------------------------------------------------------------------


def test_a_cookie_signed_with_a_fallback_key_is_read_and_resigned_with_the_current_key() -> None:
    old_cookie = signer_for(OLD_KEY).dumps({"user": "ada"})
    client = make_app(SECRET_KEY=KEY, SECRET_KEY_FALLBACKS=[OLD_KEY]).test_client()
    client.set_cookie("session", old_cookie)
    assert client.get("/read").json["session"] == {"user": "ada"}

    value, _ = session_cookie(client.post("/set", json={"seen": True}))
    assert signer_for(KEY).loads(value) == {"user": "ada", "seen": True}
    with pytest.raises(BadSignature):
        signer_for(OLD_KEY).loads(value)


def test_a_permanent_session_is_resigned_with_the_current_key_when_read() -> None:
    old_cookie = signer_for(OLD_KEY).dumps({"_permanent": True, "user": "ada"})
    client = make_app(SECRET_KEY=KEY, SECRET_KEY_FALLBACKS=[OLD_KEY]).test_client()
    client.set_cookie("session", old_cookie)
    value, _ = session_cookie(client.get("/read"))
    assert signer_for(KEY).loads(value) == {"_permanent": True, "user": "ada"}


def test_a_cookie_signed_with_a_key_that_is_no_longer_listed_is_ignored() -> None:
    client = make_app(SECRET_KEY=KEY, SECRET_KEY_FALLBACKS=["another"]).test_client()
    client.set_cookie("session", signer_for(OLD_KEY).dumps({"user": "ada"}))
    assert client.get("/read").json["session"] == {}


def test_keys_may_be_bytes_or_str() -> None:
    app = make_app(SECRET_KEY=b"\x01current", SECRET_KEY_FALLBACKS=[b"old", "older"])
    client = app.test_client()
    for key in (b"old", "older", b"\x01current"):
        client.set_cookie("session", signer_for(key).dumps({"key": repr(key)}))
        assert client.get("/read").json["session"] == {"key": repr(key)}
    value, _ = session_cookie(client.post("/set", json={"n": 1}))
    assert signer_for(b"\x01current").loads(value)["n"] == 1


# -- lifetime -------------------------------------------------------------------------


@pytest.mark.parametrize("lifetime", [timedelta(hours=2), 7200])
def test_a_permanent_session_cookie_expires_after_the_lifetime(lifetime: Any) -> None:
    client = make_app(PERMANENT_SESSION_LIFETIME=lifetime).test_client()
    before = datetime.now(UTC)
    client.post("/permanent")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.expires is not None
    expected = before + timedelta(hours=2)
    assert abs((cookie.expires - expected).total_seconds()) < 5


def test_a_session_that_is_not_permanent_lasts_as_long_as_the_browser() -> None:
    response = make_app().test_client().post("/set", json={"a": 1})
    _, attrs = session_cookie(response)
    assert "expires" not in attrs and "max-age" not in attrs


def test_a_cookie_older_than_the_lifetime_gives_an_empty_session(
    frozen_time: Callable[[int], None],
) -> None:
    app = make_app(PERMANENT_SESSION_LIFETIME=60)
    now = int(time.time())
    frozen_time(now - 61)
    old = signer_for(KEY).dumps({"_permanent": True, "user": "ada"})
    frozen_time(now - 59)
    recent = signer_for(KEY).dumps({"_permanent": True, "user": "ada"})
    frozen_time(now)
    client = app.test_client()
    client.set_cookie("session", old)
    assert client.get("/read").json["session"] == {}
    client.set_cookie("session", recent)
    assert client.get("/read").json["session"] == {"_permanent": True, "user": "ada"}


def test_a_permanent_session_is_refreshed_by_every_request_that_uses_it(
    frozen_time: Callable[[int], None],
) -> None:
    client = make_app().test_client()
    frozen_time(int(time.time()) - 100)
    client.post("/permanent")
    first = client.get_cookie("session")
    frozen_time(int(time.time()))
    response = client.get("/read")
    value, attrs = session_cookie(response)
    assert first is not None and value != first.value
    assert "expires" in attrs
    assert set_cookies(client.get("/nothing")) == []  # not opened: not refreshed


def test_without_refresh_each_request_a_permanent_session_is_sent_only_when_changed() -> None:
    client = make_app(SESSION_REFRESH_EACH_REQUEST=False).test_client()
    client.post("/permanent")
    assert set_cookies(client.get("/read")) == []
    assert "expires" in session_cookie(client.post("/set", json={"a": 1}))[1]


def test_a_session_that_is_not_permanent_is_not_refreshed() -> None:
    client = make_app().test_client()
    client.post("/set", json={"a": 1})
    assert set_cookies(client.get("/read")) == []


# -- cookie settings --------------------------------------------------------------------


def test_the_default_cookie_settings_are_flasks() -> None:
    response = make_app().test_client().post("/set", json={"a": 1})
    [header] = set_cookies(response)
    name, _, attrs = parse_set_cookie(header)
    assert name == "session"
    assert attrs == {"httponly": "", "path": "/", "samesite": "Lax"}


@pytest.mark.parametrize(
    ("config", "expected", "absent"),
    [
        ({"SESSION_COOKIE_DOMAIN": "example.com"}, {"domain": "example.com"}, []),
        ({"SESSION_COOKIE_PATH": "/app"}, {"path": "/app"}, []),
        ({"APPLICATION_ROOT": "/root"}, {"path": "/root"}, []),
        ({"APPLICATION_ROOT": "/root", "SESSION_COOKIE_PATH": "/app"}, {"path": "/app"}, []),
        ({"SESSION_COOKIE_HTTPONLY": False}, {}, ["httponly"]),
        ({"SESSION_COOKIE_SECURE": True}, {"secure": ""}, []),
        ({"SESSION_COOKIE_SAMESITE": "Strict"}, {"samesite": "Strict"}, []),
        ({"SESSION_COOKIE_SAMESITE": "None"}, {"samesite": "None"}, []),
        ({"SESSION_COOKIE_SAMESITE": None}, {}, ["samesite"]),
        ({"SESSION_COOKIE_PARTITIONED": True}, {"partitioned": "", "secure": ""}, []),
    ],
    ids=lambda v: repr(v) if isinstance(v, dict) else None,
)
def test_each_cookie_setting_shows_on_the_cookie_and_on_its_deletion(
    config: dict[str, Any], expected: dict[str, str], absent: list[str]
) -> None:
    app = make_app(**config)
    with app.test_request_context():
        set_response = app.response_class()
        sess = SecureCookieSession()
        sess["a"] = 1
        app.session_interface.save_session(app, sess, set_response)
        delete_response = app.response_class()
        sess.clear()
        app.session_interface.save_session(app, sess, delete_response)
    for response in (set_response, delete_response):
        _, attrs = session_cookie(response)
        for key, value in expected.items():
            assert attrs[key] == value
        for key in absent:
            assert key not in attrs
    assert session_cookie(delete_response)[1]["max-age"] == "0"


def test_the_cookie_name_setting_names_the_cookie_that_is_set_and_read() -> None:
    client = make_app(SESSION_COOKIE_NAME="sid").test_client()
    response = client.post("/set", json={"a": 1})
    assert [parse_set_cookie(h)[0] for h in set_cookies(response)] == ["sid"]
    assert client.get("/read").json["session"] == {"a": 1}
    client.delete_cookie("sid")
    client.set_cookie("session", signer_for(KEY).dumps({"b": 2}))
    assert client.get("/read").json["session"] == {}


def test_under_an_application_root_the_test_client_keeps_the_session() -> None:
    client = make_app(APPLICATION_ROOT="/root").test_client()
    client.post("/set", json={"a": 1})
    assert client.get("/read").json["session"] == {"a": 1}


# -- no secret key --------------------------------------------------------------------


def test_without_a_secret_key_the_session_reads_as_empty() -> None:
    client = make_app(SECRET_KEY=None).test_client()
    response = client.get("/read")
    assert response.status_code == 200
    assert response.json == {"session": {}, "permanent": False}
    assert set_cookies(response) == []


def test_without_a_secret_key_changing_the_session_raises_flasks_error() -> None:
    client = make_app(SECRET_KEY=None).test_client()
    with pytest.raises(RuntimeError, match=r"no secret key was set\. Set the secret_key"):
        client.post("/set", json={"a": 1})


def test_without_a_secret_key_changing_the_session_is_a_500_in_production() -> None:
    app = make_app(SECRET_KEY=None, TESTING=False)
    response = app.test_client().post("/set", json={"a": 1})
    assert response.status_code == 500


def test_without_a_secret_key_there_is_no_signer_and_no_session() -> None:
    app = make_app(SECRET_KEY=None)
    interface = SecureCookieSessionInterface()
    with app.test_request_context():
        assert interface.get_signing_serializer(app) is None
        assert interface.open_session(app, request) is None
        assert isinstance(session._get_current_object(), NullSession)
        assert app.session_interface.is_null_session(session._get_current_object())


# -- cookies that cannot be trusted -----------------------------------------------------


def _good() -> str:
    return signer_for(KEY).dumps({"user": "ada"})


def _tampered() -> str:
    _, stamp, sig = _good().split(".")
    forged = base64_encode(json.dumps({"user": "admin"}).encode()).decode()
    return f"{forged}.{stamp}.{sig}"


def _flipped() -> str:
    cookie = _good()  # (not the last character: its low bits are padding)
    return cookie[:-5] + ("A" if cookie[-5] != "A" else "B") + cookie[-4:]


def _compressed_garbage() -> str:
    return "." + base64_encode(zlib.compress(b"{not json")).decode() + ".ZVPxAA.sig"


def _signed(value: Any) -> Callable[[], str]:
    return lambda: signer_for(KEY).dumps(value)


def _signed_raw(payload: bytes) -> Callable[[], str]:
    def make() -> str:
        signer = signer_for(KEY)
        return signer.make_signer(signer.salt).sign(base64_encode(payload)).decode()

    return make


def _expired() -> str:
    signer = signer_for(KEY)
    timestamp_signer = signer.make_signer(signer.salt)
    assert isinstance(timestamp_signer, TimestampSigner)
    old = int(time.time()) - 32 * 24 * 3600
    original = TimestampSigner.get_timestamp
    TimestampSigner.get_timestamp = lambda self: old  # type: ignore[method-assign]
    try:
        return signer.dumps({"user": "ada"})
    finally:
        TimestampSigner.get_timestamp = original  # type: ignore[method-assign]


BAD_COOKIES: dict[str, Callable[[], str]] = {
    "tampered payload": _tampered,
    "flipped signature": _flipped,
    "truncated": lambda: _good()[:-10],
    "signature cut off": lambda: _good().rsplit(".", 1)[0],
    "payload only": lambda: _good().split(".")[0],
    "expired": _expired,
    "signed with another key": lambda: signer_for("another key").dumps({"user": "ada"}),
    "another salt": lambda: URLSafeTimedSerializer(KEY, salt="other").dumps({"user": "ada"}),
    "garbage": lambda: "garbage",
    "dots": lambda: "...",
    "many parts": lambda: "a.b.c.d.e",
    "quoted garbage": lambda: '"not a cookie"',
    "bad base64": lambda: "!!!.ZVPxAA.@@@",
    "compressed garbage": _compressed_garbage,
    "signed list, not a dict": _signed([1, 2]),
    "signed string": _signed("ada"),
    "signed bad UUID tag": _signed_raw(b'{"id":{" u":"zz"}}'),
    "signed bad base64 tag": _signed_raw(b'{"raw":{" b":"abc"}}'),
    "signed invalid JSON": _signed_raw(b"{not json"),
    "signed non-UTF-8": _signed_raw(b'{"a":"\xff"}'),
    "over-long": lambda: "x" * 64_000,
}


@pytest.mark.parametrize("make_cookie", BAD_COOKIES.values(), ids=BAD_COOKIES.keys())
def test_an_untrustworthy_cookie_gives_a_fresh_empty_session(
    make_cookie: Callable[[], str],
) -> None:
    # MAX_HEADER_SIZE off: the session's own reading of an over-long cookie.
    client = make_app(MAX_HEADER_SIZE=None).test_client()
    client.set_cookie("session", make_cookie())
    response = client.get("/read")
    assert (response.status_code, response.json["session"]) == (200, {})
    value, _ = session_cookie(client.post("/set", json={"fresh": True}))
    assert signer_for(KEY).loads(value) == {"fresh": True}


@pytest.mark.parametrize(
    "raw",
    [
        "session=sëssion".encode(),
        b"session=\xff\xfe.\x80.\x00",
        b"session=" + "✓".encode() * 3000,
    ],
    ids=["UTF-8", "bytes that are not UTF-8", "long non-ASCII"],
)
def test_a_non_ascii_cookie_gives_a_fresh_empty_session(raw: bytes) -> None:
    app = make_app(MAX_HEADER_SIZE=None)  # past the 431 guard: the session's own reading
    with TestClient(app) as http:
        response = http.get("/read", headers=[(b"cookie", raw)])
    assert (response.status_code, response.json()["session"]) == (200, {})


def test_untrustworthy_cookies_are_not_a_500_in_production_either() -> None:
    client = make_app(TESTING=False, MAX_HEADER_SIZE=None).test_client()
    for make_cookie in BAD_COOKIES.values():
        client.set_cookie("session", make_cookie())
        assert client.get("/read").status_code == 200


# -- opened lazily ------------------------------------------------------------------------


class CountingInterface(SecureCookieSessionInterface):
    def __init__(self) -> None:
        self.opened = self.serializers = self.saved = 0

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        self.serializers += 1
        return super().get_signing_serializer(app)

    def open_session(self, app: Flask, request: Any) -> SecureCookieSession | None:
        self.opened += 1
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Any) -> None:
        self.saved += 1
        super().save_session(app, session, response)


@pytest.fixture
def verified(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every signature itsdangerous verifies."""
    seen: list[bytes] = []
    original = Signer.verify_signature

    def verify(self: Signer, value: Any, sig: Any) -> bool:
        seen.append(value)
        return original(self, value, sig)

    monkeypatch.setattr(Signer, "verify_signature", verify)
    return seen


def test_a_request_that_never_touches_the_session_never_verifies_a_signature(
    verified: list[bytes],
) -> None:
    app = make_app()
    interface = app.session_interface = CountingInterface()
    client = app.test_client()
    client.post("/permanent")
    assert interface.opened == 1
    interface.opened = interface.serializers = interface.saved = 0
    verified.clear()

    response = client.get("/nothing")
    assert response.text == "no session here"
    assert (interface.opened, interface.serializers, interface.saved) == (0, 0, 0)
    assert verified == []
    assert set_cookies(response) == [] and vary(response) == []


def test_a_request_that_touches_the_session_opens_it_once(verified: list[bytes]) -> None:
    app = make_app()
    interface = app.session_interface = CountingInterface()

    @app.get("/many")
    def many() -> str:
        return str([session.get("a"), "a" in session, len(session), session.get("b")])

    client = app.test_client()
    client.post("/set", json={"a": 1})
    verified.clear()
    interface.opened = 0
    assert client.get("/many").text == "[1, True, 1, None]"
    assert interface.opened == 1
    assert len(verified) == 1


def test_an_async_view_opens_the_session_lazily_too(verified: list[bytes]) -> None:
    app = make_app()
    interface = app.session_interface = CountingInterface()

    @app.get("/async-nothing")
    async def async_nothing() -> str:
        return "nothing"

    @app.get("/async-read")
    async def async_read() -> Any:
        return dict(session)

    client = app.test_client()
    client.post("/set", json={"a": 1})
    interface.opened = 0
    verified.clear()
    client.get("/async-nothing")
    assert (interface.opened, verified) == (0, [])
    assert client.get("/async-read").json == {"a": 1}
    assert interface.opened == 1


# -- custom session interfaces ----------------------------------------------------------


class ServerSession(dict[str, Any], SessionMixin):
    """A session whose data lives on the server, named by a cookie."""

    def __init__(self, sid: str, data: dict[str, Any], new: bool) -> None:
        super().__init__(data)
        self.sid = sid
        self.new = new


class AsyncStore(SessionInterface):
    """A server-side store reached with ``await`` (as a Redis client would be)."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []

    async def open_session(self, app: Flask, request: Any) -> ServerSession:
        await anyio.sleep(0)
        self.calls.append("open")
        sid = request.cookies.get("sid")
        if sid in self.data:
            return ServerSession(sid, dict(self.data[sid]), new=False)
        return ServerSession(uuid4().hex, {}, new=True)

    async def save_session(self, app: Flask, session: Any, response: Any) -> None:
        await anyio.sleep(0)
        self.calls.append("save")
        self.data[session.sid] = dict(session)
        response.set_cookie("sid", session.sid, httponly=True, samesite="Lax")


class SyncStore(SessionInterface):
    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []

    def open_session(self, app: Flask, request: Any) -> ServerSession:
        self.calls.append("open")
        sid = request.cookies.get("sid")
        if sid in self.data:
            return ServerSession(sid, dict(self.data[sid]), new=False)
        return ServerSession(uuid4().hex, {}, new=True)

    def save_session(self, app: Flask, session: Any, response: Any) -> None:
        self.calls.append("save")
        self.data[session.sid] = dict(session)
        response.set_cookie("sid", session.sid, httponly=True, samesite="Lax")


def counter_app(store: SessionInterface) -> Flask:
    app = Flask("flaskish_store")
    app.config.update(TESTING=True)  # no secret key: the store needs none
    app.session_interface = store

    @app.post("/sync")
    def sync_count() -> Any:
        session["count"] = session.get("count", 0) + 1
        return {"count": session["count"], "new": session.new}

    @app.post("/async")
    async def async_count() -> Any:
        session["count"] = session.get("count", 0) + 1
        return {"count": session["count"], "new": session.new}

    return app


@pytest.mark.parametrize("store_class", [AsyncStore, SyncStore])
def test_a_server_side_session_store_works_with_def_and_async_views(
    store_class: type[AsyncStore] | type[SyncStore],
) -> None:
    store = store_class()
    client = counter_app(store).test_client()
    assert client.post("/sync").json == {"count": 1, "new": True}
    assert client.post("/async").json == {"count": 2, "new": False}
    assert client.post("/sync").json == {"count": 3, "new": False}
    cookie = client.get_cookie("sid")
    assert cookie is not None and cookie.http_only
    assert store.data == {cookie.value: {"count": 3}}
    assert store.calls == ["open", "save"] * 3
    assert client.get_cookie("session") is None


def test_an_async_store_keeps_a_session_across_def_and_async_views() -> None:
    store = AsyncStore()
    store.data["known"] = {"count": 5}
    client = counter_app(store).test_client()
    client.set_cookie("sid", "known")
    assert client.post("/sync").json == {"count": 6, "new": False}
    assert client.post("/async").json == {"count": 7, "new": False}
    assert store.data == {"known": {"count": 7}}
    assert store.calls == ["open", "save"] * 2


def test_an_async_store_is_opened_before_the_view_and_saved_after_after_request() -> None:
    store = AsyncStore()
    store.data["known"] = {"count": 1}
    app = counter_app(store)
    order: list[str] = []

    @app.before_request
    def before() -> None:
        order.append(f"before_request after {store.calls[-1]}")

    @app.after_request
    def after(response: Response) -> Response:
        order.append(f"after_request after {store.calls[-1]}")
        return response

    client = app.test_client()
    client.set_cookie("sid", "known")
    client.post("/sync")
    assert order == ["before_request after open", "after_request after open"]
    assert store.calls == ["open", "save"]


def test_a_store_whose_open_session_returns_none_gives_the_null_session() -> None:
    class Unavailable(SessionInterface):
        async def open_session(self, app: Flask, request: Any) -> None:
            return None

        async def save_session(self, app: Flask, session: Any, response: Any) -> None:
            raise AssertionError("a null session is never saved")

    app = counter_app(Unavailable())

    @app.get("/read")
    async def read() -> Any:
        null = isinstance(session._get_current_object(), NullSession)
        return {"session": dict(session), "null": null}

    client = app.test_client()
    assert client.get("/read").json == {"session": {}, "null": True}
    with pytest.raises(RuntimeError, match="no secret key"):
        client.post("/async")


def test_an_async_store_outside_the_pipeline_says_how_to_open_it() -> None:
    app = counter_app(AsyncStore())
    with app.test_request_context(), pytest.raises(RuntimeError, match="open_session is async"):
        session.get("count")


def test_session_transaction_works_with_an_async_store() -> None:
    store = AsyncStore()
    client = counter_app(store).test_client()
    client.post("/sync")
    with client.session_transaction() as sess:
        assert sess["count"] == 1
        sess["count"] = 10
    assert client.post("/async").json == {"count": 11, "new": False}


# -- request cookies ------------------------------------------------------------------------


def cookie_app() -> Flask:
    app = make_app()

    @app.post("/cookie")
    def set_cookie() -> Response:
        response = Response("set")
        response.set_cookie("k", request.get_json()["value"])
        return response

    @app.get("/cookies")
    def cookies() -> Any:
        return {"cookies": dict(request.cookies), "all": list(request.cookies.items(multi=True))}

    return app


@pytest.mark.parametrize(
    "value",
    ["plain", "two words", 'say "hi"', "back\\slash", "a,b", "a=b", "", "Zoë ✓ 日本", "tab\tno"],
)
def test_a_value_written_by_set_cookie_is_read_back_unchanged(value: str) -> None:
    """Werkzeug quotes what a cookie cannot hold (a control character as an
    octal escape) and ``request.cookies`` unquotes it."""
    client = cookie_app().test_client()
    client.post("/cookie", json={"value": value})
    assert client.get("/cookies").json["cookies"] == {"k": value}


def test_a_value_with_a_semicolon_is_read_back_unchanged() -> None:
    client = cookie_app().test_client()
    client.post("/cookie", json={"value": "a;b"})
    assert client.get("/cookies").json["cookies"] == {"k": "a;b"}


def test_request_cookies_reads_every_cookie_of_every_cookie_header() -> None:
    """An ASGI server may pass several ``Cookie`` headers (HTTP/2 does);
    every one is read. (A WSGI environ, and so the test client, has one.)"""
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/cookies",
        "headers": [(b"cookie", b'a=1; b="two words"; a=3'), (b"cookie", b"c=4")],
    }
    with cookie_app().request_context(scope):
        assert dict(request.cookies) == {"a": "1", "b": "two words", "c": "4"}
        assert list(request.cookies.items(multi=True)) == [
            ("a", "1"),
            ("a", "3"),
            ("b", "two words"),
            ("c", "4"),
        ]


def test_request_cookies_unquotes_octal_and_backslash_escapes() -> None:
    client = cookie_app().test_client()
    header = r'k="Zo\303\253 \"q\" \\"'
    assert client.get("/cookies", headers={"Cookie": header}).json["cookies"] == {"k": 'Zoë "q" \\'}


def test_request_cookies_keeps_a_quoted_semicolon() -> None:
    client = cookie_app().test_client()
    response = client.get("/cookies", headers={"Cookie": 'k="a;b"; z=1'})
    assert response.json["cookies"] == {"k": "a;b", "z": "1"}


def test_request_cookies_read_raw_utf8_values_as_latin1_as_werkzeug_does() -> None:
    """Header bytes are latin-1, as in a WSGI environ: unescaped UTF-8 reads
    as it does in Flask (``set_cookie`` escapes it, see above)."""
    app = cookie_app()
    with TestClient(app) as http:
        response = http.get("/cookies", headers=[(b"cookie", "k=Zoë".encode())])
    assert response.json()["cookies"] == {"k": "Zoë".encode().decode("latin-1")}


# -- the test client's session helpers --------------------------------------------------------


def test_session_transaction_writes_what_the_next_request_reads(client: FlaskClient) -> None:
    @client.application.get("/whoami")
    def whoami() -> str:
        return session.get("user", "nobody")

    assert client.get("/whoami").text == "nobody"
    with client.session_transaction() as sess:
        sess["user"] = "ada"
    assert client.get("/whoami").text == "ada"


def test_session_transaction_reads_what_a_request_wrote() -> None:
    client = make_app().test_client()
    client.post("/set", json={"user": "ada", "when": "now"})
    with client.session_transaction() as sess:
        assert dict(sess) == {"user": "ada", "when": "now"}
        del sess["when"]
    assert client.get("/read").json["session"] == {"user": "ada"}


def test_session_transaction_can_clear_the_session() -> None:
    client = make_app().test_client()
    client.post("/set", json={"user": "ada"})
    with client.session_transaction() as sess:
        sess.clear()
    assert client.get_cookie("session") is None


def test_session_transaction_without_a_secret_key_says_so() -> None:
    client = make_app(SECRET_KEY=None).test_client()
    with (
        pytest.raises(RuntimeError, match="Session backend did not open a session"),
        client.session_transaction(),
    ):
        pass


def test_with_client_the_session_is_readable_after_a_request() -> None:
    app = make_app()

    @app.get("/touch-nothing")
    def touch_nothing() -> str:
        return "ok"

    with app.test_client() as client:
        client.post("/set", json={"user": "ada"})
        assert session["user"] == "ada"
        assert session.modified
        client.get("/read")
        assert session["user"] == "ada"
        assert not session.modified
        client.get("/touch-nothing")  # opened from the request's cookie when asked
        assert session["user"] == "ada"
    with pytest.raises(RuntimeError, match="Working outside of request context"):
        session.get("user")
