"""``flaskish.ProxyFix``: Werkzeug's ``ProxyFix`` for ``app.asgi_app``. The
trusted ``X-Forwarded-*`` values reach ``request.remote_addr``, ``scheme``,
``host``, ``root_path``, ``url`` and ``url_for(_external=True)``; the
untrusted ones, the ones an unconfigured knob covers and the bad ones never
do. Werkzeug's own ``ProxyFix`` on ``app.wsgi_app`` still works (through the
WSGI adapter), and the line to write instead is logged."""

from __future__ import annotations

import logging
import re
import warnings
from typing import Any

import anyio
import httpx2 as httpx
import pytest
from kinds import as_kind, both_kinds
from werkzeug.middleware.proxy_fix import ProxyFix as WerkzeugProxyFix

import flaskish
from flaskish import Flask, ProxyFix, redirect, request, url_for
from flaskish.proxy_fix import ORIG_KEY
from flaskish.testing import FlaskClient

PROXY = {  # what one nginx in front sets
    "X-Forwarded-For": "203.0.113.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "shop.example",
    "X-Forwarded-Port": "8443",
    "X-Forwarded-Prefix": "/store",
}


def where(app: Flask, kind: str = "def") -> None:
    def view() -> dict[str, Any]:
        return {
            "remote": request.remote_addr,
            "scheme": request.scheme,
            "host": request.host,
            "root": request.root_path,
            "url": request.url,
            "external": url_for("view", _external=True),
        }

    app.route("/where")(as_kind(kind, view))


UNTOUCHED = {
    "remote": "127.0.0.1",
    "scheme": "http",
    "host": "localhost",
    "root": "",
    "url": "http://localhost/where",
    "external": "http://localhost/where",
}


# -- what each knob trusts ------------------------------------------------------------


@both_kinds
def test_every_knob_on_rewrites_client_scheme_host_port_and_prefix(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    where(app, kind)
    app.asgi_app = ProxyFix(app.asgi_app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)
    assert client.get("/where", headers=PROXY).json == {
        "remote": "203.0.113.7",
        "scheme": "https",
        "host": "shop.example:8443",
        "root": "/store",
        "url": "https://shop.example:8443/store/where",
        "external": "https://shop.example:8443/store/where",
    }


def test_without_proxy_fix_no_forwarded_header_is_believed(app: Flask, client: FlaskClient) -> None:
    where(app)
    assert client.get("/where", headers=PROXY).json == UNTOUCHED


def test_the_defaults_trust_for_and_proto_only_as_in_werkzeug(
    app: Flask, client: FlaskClient
) -> None:
    """``ProxyFix(app)`` is ``x_for=1, x_proto=1``: the forwarded host and
    prefix stay out of ``url_for`` until configured."""
    where(app)
    app.asgi_app = ProxyFix(app.asgi_app)
    assert client.get("/where", headers=PROXY).json == {
        **UNTOUCHED,
        "remote": "203.0.113.7",
        "scheme": "https",
        "url": "https://localhost/where",
        "external": "https://localhost/where",
    }


def test_forwarded_host_and_prefix_appear_in_external_urls_only_when_configured(
    app: Flask, client: FlaskClient
) -> None:
    where(app)
    app.asgi_app = ProxyFix(app.asgi_app, x_for=0, x_proto=0, x_host=1)
    assert client.get("/where", headers=PROXY).json["external"] == "http://shop.example/where"
    app.asgi_app = ProxyFix(app.asgi_app.app, x_for=0, x_proto=0, x_prefix=1)
    assert client.get("/where", headers=PROXY).json["external"] == "http://localhost/store/where"


def test_only_the_last_n_values_count_so_a_client_cannot_spoof_its_address(
    app: Flask, client: FlaskClient
) -> None:
    """The client wrote ``6.6.6.6``; the one proxy appended the address it
    saw. ``x_for=2`` behind two proxies takes the second value from the
    right; a header with fewer values than that is ignored."""
    where(app)
    spoofed = {"X-Forwarded-For": "6.6.6.6, 203.0.113.7"}
    app.asgi_app = ProxyFix(app.asgi_app, x_for=1)
    assert client.get("/where", headers=spoofed).json["remote"] == "203.0.113.7"
    app.asgi_app = ProxyFix(app.asgi_app.app, x_for=2)
    assert (
        client.get("/where", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.7, 10.0.0.2"}).json[
            "remote"
        ]
        == "203.0.113.7"
    )
    assert client.get("/where", headers={"X-Forwarded-For": "203.0.113.7"}).json["remote"] == (
        "127.0.0.1"
    )


def test_repeated_header_lines_count_as_one_list(app: Flask, client: FlaskClient) -> None:
    where(app)
    app.asgi_app = ProxyFix(app.asgi_app, x_for=2)
    headers = [("X-Forwarded-For", "203.0.113.7"), ("X-Forwarded-For", "10.0.0.2")]
    assert client.get("/where", headers=headers).json["remote"] == "203.0.113.7"


def test_forwarded_port_replaces_the_port_and_a_default_port_is_left_out(
    app: Flask, client: FlaskClient
) -> None:
    where(app)
    app.asgi_app = ProxyFix(app.asgi_app, x_proto=1, x_host=1, x_port=1)
    body = client.get(
        "/where", headers={"X-Forwarded-Host": "shop.example:8000", "X-Forwarded-Port": "9000"}
    ).json
    assert (body["host"], body["external"]) == (
        "shop.example:9000",
        "http://shop.example:9000/where",
    )
    body = client.get(
        "/where",
        headers={
            "X-Forwarded-Host": "shop.example",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Port": "0443",
        },
    ).json
    assert (body["host"], body["external"]) == ("shop.example", "https://shop.example/where")


@both_kinds
def test_the_prefix_is_the_root_path_and_routing_still_matches(
    app: Flask, client: FlaskClient, kind: str
) -> None:
    def items() -> Any:
        return redirect(url_for("listing"))

    def listing() -> str:
        return request.root_path

    app.route("/items")(as_kind(kind, items))
    app.route("/listing/")(as_kind(kind, listing))
    app.asgi_app = ProxyFix(app.asgi_app, x_prefix=1)
    prefix = {"X-Forwarded-Prefix": "/store/"}
    assert client.get("/items", headers=prefix).headers["Location"] == "/store/listing/"
    assert client.get("/listing/", headers=prefix).text == "/store"
    slash = client.get("/listing", headers=prefix)
    assert (slash.status_code, slash.headers["Location"]) == (308, "/store/listing/")


# -- bad values are ignored, never a 500 ----------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-Port": "eighty"},
        {"X-Forwarded-Port": "99999"},
        {"X-Forwarded-Port": "\u00b2".encode("latin-1")},
        {"X-Forwarded-Host": "shop.example:abc"},
        {"X-Forwarded-Host": "shop example/../x"},
        {"X-Forwarded-For": "", "X-Forwarded-Proto": "", "X-Forwarded-Host": ""},
        {"X-Forwarded-For": " , ", "X-Forwarded-Prefix": ","},
        {"X-Forwarded-Proto": "javascript"},
        {"X-Forwarded-Prefix": "store"},
        {"X-Forwarded-For": '"' + ',"' * 200},
    ],
    ids=[
        "port-word",
        "port-too-big",
        "port-not-ascii",
        "host-port-word",
        "host-characters",
        "empty",
        "only-commas",
        "scheme",
        "prefix-without-slash",
        "unclosed-quotes",
    ],
)
def test_a_bad_value_leaves_the_request_as_the_server_saw_it(
    app: Flask, client: FlaskClient, headers: dict[str, Any]
) -> None:
    where(app)
    app.asgi_app = ProxyFix(app.asgi_app, x_for=1, x_proto=1, x_host=1, x_port=1, x_prefix=1)
    response = client.get("/where", headers=headers)
    assert (response.status_code, response.json) == (200, UNTOUCHED)


def test_the_scheme_is_normalised_to_http_or_https(app: Flask, client: FlaskClient) -> None:
    where(app)
    app.asgi_app = ProxyFix(app.asgi_app, x_proto=1)
    assert client.get("/where", headers={"X-Forwarded-Proto": "HTTPS"}).json["scheme"] == "https"
    assert client.get("/where", headers={"X-Forwarded-Proto": "wss"}).json["scheme"] == "https"


def test_counts_that_are_not_whole_numbers_are_refused(app: Flask) -> None:
    with pytest.raises(ValueError, match=r"ProxyFix\(x_host=-1\)"):
        ProxyFix(app.asgi_app, x_host=-1)
    with pytest.raises(ValueError, match=r"ProxyFix\(x_for='1'\)"):
        ProxyFix(app.asgi_app, x_for="1")  # type: ignore[arg-type]


# -- the scope: copied, with the originals kept ---------------------------------------


def _scope(**changes: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/api/where",
        "raw_path": b"/api/where",
        "root_path": "/api",
        "query_string": b"",
        "server": ("10.0.0.5", 8000),
        "client": ("10.0.0.1", 4321),
        "headers": [
            (b"host", b"10.0.0.5:8000"),
            (b"x-forwarded-for", b"203.0.113.7"),
            (b"x-forwarded-proto", b"https"),
            (b"x-forwarded-host", b"shop.example"),
            (b"x-forwarded-prefix", b"/store"),
        ],
    }
    scope.update(changes)
    return scope


def _seen_by_app(middleware: Any, scope: dict[str, Any]) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.update(scope)

    async def nothing() -> Any:
        raise NotImplementedError  # pragma: no cover - never called

    async def main() -> None:
        await middleware(inner)(scope, nothing, nothing)

    anyio.run(main)
    return seen


def test_the_server_scope_is_copied_never_changed() -> None:
    scope = _scope()
    before = {**scope, "headers": list(scope["headers"])}
    seen = _seen_by_app(lambda app: ProxyFix(app, x_host=1, x_prefix=1), scope)
    assert scope == before
    assert (seen["client"], seen["scheme"], seen["server"]) == (
        ("203.0.113.7", 0),
        "https",
        ("shop.example", 8000),
    )
    assert (b"host", b"shop.example") in seen["headers"]
    assert (seen["root_path"], seen["path"], seen["raw_path"]) == (
        "/store",
        "/store/where",
        b"/store/where",
    )
    assert seen[ORIG_KEY] == {
        "client": ("10.0.0.1", 4321),
        "scheme": "http",
        "host": "10.0.0.5:8000",
        "server": ("10.0.0.5", 8000),
        "root_path": "/api",
        "path": "/api/where",
    }


def test_a_websocket_gets_ws_or_wss() -> None:
    seen = _seen_by_app(ProxyFix, _scope(type="websocket", scheme="ws"))
    assert seen["scheme"] == "wss"
    http = [(b"x-forwarded-proto", b"http")]
    assert (
        _seen_by_app(ProxyFix, _scope(type="websocket", scheme="ws", headers=http))["scheme"]
        == "ws"
    )


def test_lifespan_messages_pass_through_untouched(app: Flask) -> None:
    ran: list[str] = []
    app.before_serving(lambda: ran.append("before_serving"))
    app.after_serving(lambda: ran.append("after_serving"))
    app.route("/")(lambda: "ok")
    app.asgi_app = ProxyFix(app.asgi_app)
    with app.test_client() as client:
        assert client.get("/").text == "ok"
    assert ran == ["before_serving", "after_serving"]
    lifespan = {"type": "lifespan", "asgi": {"version": "3.0"}}
    assert _seen_by_app(ProxyFix, lifespan) == lifespan


def test_request_environ_has_werkzeugs_orig_dict(app: Flask, client: FlaskClient) -> None:
    @app.route("/")
    def view() -> dict[str, Any]:
        return {
            "orig": request.environ["werkzeug.proxy_fix.orig"],
            "remote": request.environ["REMOTE_ADDR"],
        }

    app.asgi_app = ProxyFix(app.asgi_app, x_host=1)
    assert client.get("/", headers=PROXY).json == {
        "orig": {
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "HTTP_HOST": "localhost",
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "SCRIPT_NAME": "",
        },
        "remote": "203.0.113.7",
    }


# -- forwarded_allow_ips: which peers may send the headers ----------------------------


@pytest.mark.parametrize(
    ("allowed", "believed"),
    [
        (None, True),
        ("*", True),
        ("127.0.0.1", True),
        ("10.0.0.0/8, 127.0.0.0/8", True),
        (["::1", "127.0.0.1"], True),
        ("10.0.0.1", False),
        ("", False),
    ],
)
def test_forwarded_allow_ips_limits_which_peers_are_believed(
    app: Flask, client: FlaskClient, allowed: Any, believed: bool
) -> None:
    """The test client connects from 127.0.0.1."""
    where(app)
    app.asgi_app = ProxyFix(app.asgi_app, forwarded_allow_ips=allowed)
    remote = client.get("/where", headers=PROXY).json["remote"]
    assert remote == ("203.0.113.7" if believed else "127.0.0.1")


def test_a_peer_without_an_ip_address_is_believed_only_with_a_star() -> None:
    unix = _scope(client=None)
    assert _seen_by_app(lambda a: ProxyFix(a, forwarded_allow_ips="127.0.0.1"), unix) == unix
    assert _seen_by_app(lambda a: ProxyFix(a, forwarded_allow_ips="*"), unix)["scheme"] == "https"
    named = _scope(client=("proxy.local", 1))
    assert _seen_by_app(lambda a: ProxyFix(a, forwarded_allow_ips="10.0.0.0/8"), named) == named


def test_an_entry_that_is_not_an_address_is_refused(app: Flask) -> None:
    with pytest.raises(ValueError, match="'nginx' is not an IP address or network"):
        ProxyFix(app.asgi_app, forwarded_allow_ips="127.0.0.1,nginx")


# -- Werkzeug's ProxyFix on app.wsgi_app ----------------------------------------------


def test_werkzeugs_proxy_fix_on_wsgi_app_works_and_logs_the_line_to_write(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Flask-Login's own test suite assigns Werkzeug's ProxyFix to
    ``app.wsgi_app``, with warnings as errors: it must keep working,
    unchanged, so the advice is logged (INFO: shown in debug mode)."""
    where(app)
    with caplog.at_level(logging.INFO, logger=app.logger.name), warnings.catch_warnings():
        warnings.simplefilter("error")
        app.wsgi_app = WerkzeugProxyFix(app.wsgi_app, x_for=1, x_host=1, x_prefix=1)  # type: ignore[method-assign]
    message = caplog.records[-1].getMessage()
    line = (
        "app.asgi_app = flaskish.ProxyFix(app.asgi_app, x_for=1, x_proto=1, x_host=1, "
        "x_port=0, x_prefix=1)"
    )
    assert f"`{line}`" in message and "wraps app.wsgi_app" not in message
    through_wsgi = client.get("/where", headers=PROXY).json
    assert through_wsgi["external"] == "https://shop.example/store/where"
    app.wsgi_app = app._default_wsgi_app  # type: ignore[method-assign]
    assert client.get("/where", headers=PROXY).json == UNTOUCHED
    exec(re.search(r"`(.+?)`", message)[1], {"app": app, "flaskish": flaskish})  # type: ignore[index]
    assert client.get("/where", headers=PROXY).json == through_wsgi


def test_the_advice_says_to_keep_the_middleware_werkzeugs_proxy_fix_wrapped(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    inner = app.wsgi_app

    def other(environ: Any, start_response: Any) -> Any:
        return inner(environ, start_response)  # pragma: no cover - never called

    with caplog.at_level(logging.INFO, logger=app.logger.name):
        app.wsgi_app = WerkzeugProxyFix(other, x_for=2)  # type: ignore[method-assign]
    assert re.search(
        r"keep the WSGI middleware it wrapped .* on app.wsgi_app", caplog.records[-1].getMessage()
    )


# -- url_for with SERVER_NAME ---------------------------------------------------------


def test_a_spoofed_host_never_changes_external_urls_when_server_name_is_set(
    app: Flask, client: FlaskClient
) -> None:
    """Flask 3.1 builds external URLs with ``SERVER_NAME`` whatever the
    ``Host`` header says; a forwarded host does not change that either."""
    where(app)
    app.config["SERVER_NAME"] = "example.com"
    app.asgi_app = ProxyFix(app.asgi_app, x_host=1)
    spoofed = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
    assert client.get("/where", headers=spoofed).json["external"] == "http://example.com/where"


# -- over a real uvicorn --------------------------------------------------------------


def test_proxy_fix_over_a_real_uvicorn(app: Flask, live_server: Any) -> None:
    """uvicorn's own proxy headers are off: what changes is ProxyFix's doing,
    and lifespan (``before_serving``) still runs through it."""
    where(app, "async def")
    started: list[bool] = []
    app.before_serving(lambda: started.append(True))
    app.asgi_app = ProxyFix(app.asgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)
    with live_server(app, proxy_headers=False) as server:
        body = httpx.get(f"{server.url}/where", headers=PROXY).json()
        plain = httpx.get(f"{server.url}/where").json()
    assert started == [True]
    assert body == {
        "remote": "203.0.113.7",
        "scheme": "https",
        "host": "shop.example",
        "root": "/store",
        "url": "https://shop.example/store/where",
        "external": "https://shop.example/store/where",
    }
    assert (plain["remote"], plain["host"], plain["root"]) == (
        "127.0.0.1",
        f"127.0.0.1:{server.port}",
        "",
    )
