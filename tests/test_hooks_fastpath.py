"""The ``after_request`` path kept cheap (issue 18): a chain of hooks called
in place on the request's thread (``concurrency.call_each``), and a
response's headers encoded through a fast path for its usual shape. Each
fast path gives exactly what the general one gives."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flaskish import Response
from flaskish.response_sending import UnsendableHeader, _encoded

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
