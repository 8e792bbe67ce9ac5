"""Bad input never gets a 500: a seeded, bounded fuzz of whole requests
(methods, raw paths, query strings, headers, cookies, content types and
bodies) sent as raw ASGI messages to a ``def`` and an ``async def`` view
that read every part of the request. Any status is fine but a 5xx.
"""

from __future__ import annotations

import json
import logging
import reprlib
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flaskish import Flask, request

FUZZ = settings(
    max_examples=500,
    derandomize=True,  # seeded: the same examples on every run
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)


def read_everything_sync() -> dict[str, Any]:
    """What a ``def`` view can read of a request."""
    seen: dict[str, Any] = {
        "path": request.path,
        "full_path": request.full_path,
        "url": request.url,
        "args": request.args.to_dict(flat=False),
        "cookies": dict(request.cookies),
        "headers": list(request.headers.items()),
        "host": request.host,
        "remote_addr": request.remote_addr,
        "mimetype": request.mimetype,
        "charset": request.mimetype_params.get("charset"),
        "accept": request.accept_mimetypes.best,
        "languages": list(request.accept_languages),
        "authorization": repr(request.authorization),
        "range": repr(request.range),
        "if_none_match": repr(request.if_none_match),
        "date": repr(request.date),
        "content_length": request.content_length,
    }
    seen["form"] = request.form.to_dict(flat=False)
    seen["files"] = {name: f.filename for name, f in request.files.items()}
    seen["data"] = request.get_data(as_text=True)
    seen["json"] = request.get_json(silent=True)
    return seen


async def read_everything_async() -> dict[str, Any]:
    """The same from an ``async def`` view (the body parts awaited)."""
    seen: dict[str, Any] = {
        "path": request.path,
        "url": request.url,
        "args": request.args.to_dict(flat=False),
        "cookies": dict(request.cookies),
        "headers": list(request.headers.items()),
        "host": request.host,
        "mimetype": request.mimetype,
        "accept": request.accept_mimetypes.best,
        "range": repr(request.range),
    }
    seen["form"] = (await request.form).to_dict(flat=False)
    seen["files"] = {name: f.filename for name, f in (await request.files).items()}
    seen["data"] = await request.get_data(as_text=True)
    seen["json"] = await request.get_json(silent=True)
    return seen


def fuzz_app() -> Flask:
    app = Flask("fuzz", static_folder=None)
    app.config.update(SECRET_KEY="fuzz", PROPAGATE_EXCEPTIONS=False)

    @app.route("/sync/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def sync_view(rest: str) -> str:
        seen = read_everything_sync()
        return json.dumps(seen, default=repr)

    @app.route("/async/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def async_view(rest: str) -> str:
        seen = await read_everything_async()
        return json.dumps(seen, default=repr)

    @app.route("/session", methods=["GET", "POST"])
    def session_view() -> str:
        from flaskish import session

        session["seen"] = session.get("seen", 0) + 1
        return "ok"

    return app


APP = fuzz_app()

# -- strategies -------------------------------------------------------------------

latin1 = st.binary(max_size=40)
token = st.text(
    st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"),
    min_size=1,
    max_size=20,
)
content_types = st.one_of(
    st.sampled_from(
        [
            b"application/x-www-form-urlencoded",
            b"multipart/form-data; boundary=b",
            b"multipart/form-data",
            b"multipart/form-data; boundary=",
            b"application/json",
            b"application/json; charset=latin-1",
            b"text/plain; charset=utf-8",
            b"text/plain; charset=nonsense",
            b"application/octet-stream",
            b"",
        ]
    ),
    latin1,
)


MATCHING_TYPE = {
    "bytes": b"application/octet-stream",
    "form": b"application/x-www-form-urlencoded",
    "multipart": b"multipart/form-data; boundary=b",
    "json": b"application/json",
    "nested": b"application/json",
}


@st.composite
def bodies(draw: st.DrawFn) -> tuple[bytes, bytes]:
    """A body and, usually, the content type that goes with it."""
    kind = draw(st.sampled_from(sorted(MATCHING_TYPE)))
    body = draw(body_of(kind))
    matching = draw(st.integers(0, 3))
    return body, MATCHING_TYPE[kind] if matching else draw(content_types)


@st.composite
def body_of(draw: st.DrawFn, kind: str) -> bytes:
    if kind == "bytes":
        return draw(st.binary(max_size=600))
    if kind == "form":
        pairs = draw(st.lists(st.tuples(latin1, latin1), max_size=6))
        return b"&".join(key + b"=" + value for key, value in pairs)
    if kind == "multipart":
        parts = draw(st.lists(st.tuples(latin1, latin1, st.booleans()), max_size=4))
        out = b""
        for name, value, is_file in parts:
            filename = b'; filename="' + name + b'"' if is_file else b""
            out += (
                b'--b\r\nContent-Disposition: form-data; name="'
                + name
                + b'"'
                + filename
                + b"\r\n\r\n"
                + value
                + b"\r\n"
            )
        return out + draw(st.sampled_from([b"--b--\r\n", b"", b"--b", b"--x--"]))
    if kind == "json":
        value = draw(
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                lambda children: (
                    st.lists(children, max_size=4)
                    | st.dictionaries(st.text(max_size=5), children, max_size=4)
                ),
                max_leaves=10,
            )
        )
        text = json.dumps(value)
        return text.encode() + draw(st.sampled_from([b"", b"}", b"\xff", b" "]))
    depth = draw(st.sampled_from([1, 20, 999, 1001, 5000, 100_000]))
    return b"[" * depth + draw(st.sampled_from([b"", b"]" * depth]))


raw_paths = st.lists(
    st.one_of(
        token,
        st.sampled_from(
            ["..", ".", "", "%2e%2e", "%2f", "%00", "%ff", "%", "%zz", "\u00e9", "\u2603", ";x=1"]
        ),
    ),
    max_size=5,
).map(lambda parts: "/".join(parts))


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    prefix = draw(st.sampled_from(["/sync/x/", "/async/x/", "/session", "/", "/nope"]))
    path = prefix + draw(raw_paths)
    headers: list[tuple[bytes, bytes]] = [
        (
            b"host",
            draw(
                st.sampled_from(
                    [
                        b"localhost",
                        b"",
                        b"exa mple.com",
                        b"\xff\xfe",
                        b"localhost:99999",
                        b"[::1]:80",
                    ]
                )
            ),
        )
    ]
    body, content_type = draw(bodies())
    if draw(st.integers(0, 4)):
        headers.append((b"content-type", content_type))
    length = draw(st.sampled_from(["right", "none", "wrong", "garbage"]))
    if length == "right":
        headers.append((b"content-length", str(len(body)).encode()))
    elif length == "wrong":
        headers.append((b"content-length", str(draw(st.integers(0, 10_000))).encode()))
    elif length == "garbage":
        headers.append((b"content-length", draw(st.sampled_from([b"-1", b"abc", b"1e3", b""]))))
    if draw(st.booleans()):
        headers.append(
            (
                b"cookie",
                draw(
                    st.sampled_from(
                        [
                            b"a=1; b=2",
                            b"session=garbage",
                            b"session=.eJ",
                            b'a="unterminated',
                            b"=v; ;;",
                            b"a=\xff\xfe",
                            b"a=%ff",
                            b"a=1,b=2",
                            b"x" * 5000,
                        ]
                    )
                ),
            )
        )
    for name in draw(
        st.lists(
            st.sampled_from(
                [
                    b"cookie",
                    b"accept",
                    b"accept-language",
                    b"authorization",
                    b"range",
                    b"if-none-match",
                    b"if-modified-since",
                    b"date",
                    b"x-forwarded-for",
                    b"content-encoding",
                    b"transfer-encoding",
                    b"expect",
                ]
            ),
            max_size=6,
        )
    ):
        headers.append((name, draw(latin1)))
    return {
        "method": draw(
            st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "BREW"])
        ),
        "path": path,
        "query": draw(latin1),
        "headers": headers,
        "body": body,
        "chunks": draw(st.integers(1, 4)),
    }


async def send_raw(app: Flask, spec: dict[str, Any]) -> int:
    """Send one request as an ASGI server would (the body in chunks); the
    status of the answer."""
    body: bytes = spec["body"]
    size = max(1, len(body) // spec["chunks"] + 1)
    chunks = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    status = 0

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await anyio.sleep_forever()
        raise AssertionError  # pragma: no cover

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    path = spec["path"]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": spec["method"],
        "scheme": "http",
        "path": path.encode("utf-8", "surrogateescape").decode("latin-1"),
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "query_string": spec["query"],
        "root_path": "",
        "headers": spec["headers"],
        "client": ("127.0.0.1", 5000),
        "server": ("localhost", 80),
    }
    with anyio.fail_after(10):
        await app(scope, receive, send)
    return status


@FUZZ
@given(spec=requests())
def test_no_request_ever_gets_a_500(spec: dict[str, Any]) -> None:
    logged: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = logged.append  # type: ignore[method-assign]
    APP.logger.addHandler(handler)
    try:
        status = anyio.run(send_raw, APP, spec)
    finally:
        APP.logger.removeHandler(handler)
    if not 100 <= status < 500:
        errors = [(record.exc_text or record.getMessage()).splitlines()[-1] for record in logged]
        shown = {key: reprlib.repr(value) for key, value in spec.items()}
        pytest.fail(f"{status} for {shown}: {errors}")


printable = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=30)


@settings(FUZZ, max_examples=100)
@given(
    kind=st.sampled_from(["sync", "async"]),
    data=st.one_of(st.binary(max_size=300), st.dictionaries(printable, printable, max_size=4)),
    content_type=st.sampled_from(
        [
            None,
            "application/json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ]
    ),
    query=st.dictionaries(printable, printable, max_size=4),
    headers=st.dictionaries(
        st.sampled_from(
            ["Accept", "Cookie", "Range", "X-Forwarded-For", "Authorization", "If-None-Match"]
        ),
        printable,
        max_size=4,
    ),
)
def test_no_test_client_request_gets_a_500(
    kind: str,
    data: Any,
    content_type: str | None,
    query: dict[str, str],
    headers: dict[str, str],
) -> None:
    """The same through the test client, as a test suite sends requests."""
    response = APP.test_client().post(
        f"/{kind}/x/",
        data=data,
        content_type=content_type,
        query_string=query,
        headers=headers,
    )
    assert response.status_code < 500, response.text[-300:]
