"""The ``after_request`` path kept cheap (issue 18): a chain of hooks called
in place on the request's thread (``concurrency.call_each``), and a
response's headers encoded through a fast path for its usual shape. Each
fast path gives exactly what the general one gives."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flaskish import Blueprint, Flask, Response, after_this_request
from flaskish.concurrency import ThreadPool, call, call_each, drive
from flaskish.response_sending import UnsendableHeader, _encoded
from flaskish.testing import FlaskClient

_TYPE = ("Content-Type", "text/html; charset=utf-8")


def _response(items: list[tuple[str, str]]) -> Response:
    Response("")  # fills the content type caches the fast path reads
    response = Response(b"body")
    response.headers._list = list(items)
    return response


def _general(items: list[tuple[str, str]]) -> Any:
    """What the general path answers: the encoded headers, or the error."""
    try:
        return _encoded(items)
    except UnsendableHeader as exc:
        return ("refused", str(exc))


def _fast(items: list[tuple[str, str]]) -> Any:
    try:
        return _response(items)._encode_headers()
    except UnsendableHeader as exc:
        return ("refused", str(exc))


@pytest.mark.parametrize(
    "items",
    [
        [_TYPE, ("Content-Length", "12")],
        [_TYPE, ("Content-Length", "12"), ("X-After-Hook", "1")],
        [_TYPE, ("Content-Length", "12"), ("X-A", "1"), ("Set-Cookie", "a=b; Path=/")],
        [_TYPE, ("Content-Length", "12"), ("X-Tab", "a\tb")],
        [_TYPE, ("Content-Length", "12"), ("X-Latin", "caf\xe9")],
        [_TYPE, ("Content-Length", "12"), ("X-Wide", "\u20ac")],
        [_TYPE, ("Content-Length", "12"), ("X-Nul", "a\x00b")],
        [_TYPE, ("Content-Length", "12"), ("X-Wide", "\u20ac"), ("X-Nul", "\x01")],
        [_TYPE, ("Content-Length", "12"), ("Content-Length", "13")],
        [_TYPE, ("Content-Length", "0"), ("", ""), ("", "\u0100")],  # an empty header first
        [_TYPE, ("Content-Length", "\xb2")],  # a digit to str.isdigit, latin-1
        [_TYPE, ("Content-Length", "\u0663")],  # an Arabic-Indic digit, not latin-1
        [("Content-Length", "12"), _TYPE],
        [("Content-Type", "text/x-never-cached"), ("Content-Length", "12"), ("X-A", "1")],
        [("content-type", _TYPE[1]), ("Content-Length", "12")],
        [_TYPE],
        [],
    ],
)
def test_the_fast_header_encoding_answers_as_the_general_one(items: list[tuple[str, str]]) -> None:
    assert _fast(items) == _general(items)


_header_text = st.text(st.characters(max_codepoint=0x2FF), max_size=8)


@given(
    length=st.one_of(st.integers(0, 10**6).map(str), _header_text),
    extra=st.lists(st.tuples(_header_text, _header_text), max_size=4),
)
def test_any_headers_after_the_usual_two_encode_as_the_general_path_does(
    length: str, extra: list[tuple[str, str]]
) -> None:
    items = [_TYPE, ("Content-Length", length), *extra]
    assert _fast(items) == _general(items)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("status", [200, 204, 304, 404])
@pytest.mark.parametrize("automatic_length", [True, False])
@pytest.mark.parametrize(
    "items",
    [
        [_TYPE, ("Content-Length", "4")],
        [_TYPE, ("Content-Length", "4"), ("X-After-Hook", "1")],
        [_TYPE, ("X-After-Hook", "1")],
        [_TYPE, ("X-After-Hook", "1"), ("content-length", "4")],
    ],
)
def test_the_messages_of_fast_encoded_headers_are_those_of_the_general_path(
    method: str, status: int, automatic_length: bool, items: list[tuple[str, str]]
) -> None:
    """Content-Length added or not, the body sent or not (HEAD, 204, 304):
    the same with the headers from the fast path as from the general one."""
    response = _response(items)
    response.status_code = status
    response.automatically_set_content_length = automatic_length
    scope = {"method": method}
    fast = response._buffered_messages(scope, response._encode_headers())
    general = response._buffered_messages(scope, _encoded(items))
    assert (fast.start, fast.body) == (general.start, general.body)


# -- the chain of hooks --------------------------------------------------------


def test_call_each_gives_what_calls_in_turn_give_on_the_same_threads() -> None:
    """``def`` hooks on the request's thread, an ``async def`` one between
    them on the loop, a ``def`` one returning a coroutine awaited on the
    loop: the same values and threads as one ``call`` per hook."""
    seen: list[tuple[str, str, int]] = []

    def first(value: str) -> str:
        seen.append(("first", value, threading.get_ident()))
        return value + "1"

    async def second(value: str) -> str:
        seen.append(("second", value, threading.get_ident()))
        return value + "2"

    async def later(value: str) -> str:
        return value + "3"

    def third(value: str) -> Any:
        seen.append(("third", value, threading.get_ident()))
        return later(value)  # a coroutine: awaited on the loop

    def fourth(value: str) -> str:
        seen.append(("fourth", value, threading.get_ident()))
        return value + "4"

    hooks = [first, second, third, fourth]

    def on_thread() -> int:
        return threading.get_ident()

    async def each() -> tuple[str, int]:
        thread = await call(on_thread)  # the request's first def step: now on its thread
        return await call_each(hooks, "v"), thread

    async def in_turn() -> tuple[str, int]:
        thread = await call(on_thread)
        value = "v"
        for hook in hooks:
            value = await call(hook, value)
        return value, thread

    def run(pipeline: Any) -> tuple[Any, list[tuple[str, str, bool]]]:
        seen.clear()

        async def main() -> tuple[Any, int]:
            return await drive(pipeline(), ThreadPool(lambda: 2)), threading.get_ident()

        (value, thread), loop = anyio.run(main)
        where = [(name, arg, ident == thread) for name, arg, ident in seen]
        assert all(ident == loop for name, _, ident in seen if name == "second")
        return value, where

    assert (
        run(each)
        == run(in_turn)
        == (
            "v1234",
            [
                ("first", "v", True),
                ("second", "v1", False),
                ("third", "v12", True),
                ("fourth", "v123", True),
            ],
        )
    )


def test_call_each_on_the_loop_calls_each_hook_as_call_does() -> None:
    async def add(value: str) -> str:
        return value + "a"

    def sync_add(value: str) -> str:
        return value + "s"

    async def pipeline() -> str:
        return await call_each([add, sync_add, add], "")

    async def main() -> str:
        return await drive(pipeline(), ThreadPool(lambda: 1))

    assert anyio.run(main) == "asa"


def test_app_hooks_run_for_a_blueprint_view_without_hooks_of_its_own(
    app: Flask, client: FlaskClient
) -> None:
    bp = Blueprint("bp", __name__)

    @bp.route("/bp")
    def in_blueprint() -> str:
        return "bp"

    @app.route("/")
    def index() -> str:
        return "app"

    @app.after_request
    def mark(response: Response) -> Response:
        response.headers["X-App"] = "1"
        return response

    app.register_blueprint(bp)
    for path in ("/", "/bp"):
        assert client.get(path).headers["X-App"] == "1"


def test_blueprint_hooks_then_app_hooks_each_in_reverse_order(
    app: Flask, client: FlaskClient
) -> None:
    calls: list[str] = []
    bp = Blueprint("bp", __name__)

    def hook(name: str) -> Any:
        def record(response: Response) -> Response:
            calls.append(name)
            return response

        return record

    @bp.route("/bp")
    def in_blueprint() -> str:
        after_this_request(hook("this request"))
        return "bp"

    bp.after_request(hook("bp 1"))
    bp.after_request(hook("bp 2"))
    app.after_request(hook("app 1"))
    app.after_request(hook("app 2"))
    app.register_blueprint(bp)
    assert client.get("/bp").text == "bp"
    assert calls == ["this request", "bp 2", "bp 1", "app 2", "app 1"]


def test_the_hooked_hello_sends_the_headers_of_the_plain_one_plus_its_own(app: Flask) -> None:
    """The benchmark's two hooks (issue 18): the plain view's headers, the
    hook's after them; HEAD sends the same headers without the body."""
    plain = Flask("plain")

    for each in (app, plain):

        @each.route("/")
        def hello() -> str:
            return "Hello, World"

    @app.after_request
    def mark(response: Response) -> Response:
        response.headers["X-After-Hook"] = "1"
        return response

    @app.after_request
    def unchanged(response: Response) -> Response:
        return response

    for method in ("GET", "HEAD"):
        expected = plain.test_client().open("/", method=method)
        hooked = app.test_client().open("/", method=method)
        assert list(hooked.headers.items()) == [*expected.headers.items(), ("X-After-Hook", "1")]
        assert hooked.data == expected.data == (b"" if method == "HEAD" else b"Hello, World")
