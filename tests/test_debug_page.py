"""The debug page (``flaskish/debug_page.py``): what a developer's browser
shows when a view raises in debug mode. Read through the test client with
``PROPAGATE_EXCEPTIONS = False`` (the page is then the 500 answer), and
over a real uvicorn, where debug mode's error propagates to the server
after the page is sent."""

from __future__ import annotations

import importlib
import threading
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

import flaskish
from flaskish import Flask, request
from flaskish.debug_page import REPR_LIMIT, debug_page_html
from flaskish.debughelpers import _traceback_page
from flaskish.exceptions import InternalServerError
from flaskish.testing import FlaskClient

HERE = __file__
#: What no page may show (built so that no source line on a page holds it).
SECRET = "hunter" + "2"
FLASKISH_DIR = str(Path(flaskish.__file__).parent)


def line_of(marker: str) -> int:
    """The line of this file holding *marker* (a comment on a raise)."""
    lines = Path(HERE).read_text().splitlines()
    found = [number for number, line in enumerate(lines, 1) if line.endswith(marker)]
    assert len(found) == 1, marker
    return found[0]


class Page(HTMLParser):
    """The debug page as a reader sees it: its frames (file, line, kind,
    whether folded, locals), the request's rows and headers, its text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.frames: list[dict[str, Any]] = []
        self.request: dict[str, str] = {}
        self.headers: dict[str, tuple[str, bool]] = {}
        self.exceptions: list[str] = []
        self.relations: list[str] = []
        self.notes: list[str] = []
        self.plain = ""
        self._folds = 0
        self._rows: dict[str, Any] | None = None
        self._cell: list[str] | None = None
        self._name = ""
        self._masked = False
        self._into: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "details" and "fold" in classes:
            self._folds += 1
        elif tag == "div" and "frame" in classes:
            self.frames.append(
                {
                    "file": attributes["data-file"],
                    "line": int(attributes["data-line"] or 0),
                    "kind": classes[1],
                    "folded": self._folds > 0,
                    "locals": {},
                }
            )
        elif tag == "table":
            if "locals" in classes:
                self._rows = self.frames[-1]["locals"]
            elif "headers" in classes:
                self._rows = self.headers
            else:
                self._rows = self.request
        elif tag in ("th", "td"):
            self._cell = []
            self._masked = "masked" in classes
        elif tag == "pre" and attributes.get("id") == "plain-traceback":
            self._into = "plain"
        elif tag == "pre" and "note" in classes:
            self._into = "note"
        elif tag == "h1":
            self._into = "h1"
            self.exceptions.append("")
        elif tag == "p" and "relation" in classes:
            self._into = "relation"
            self.relations.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "details" and self._folds:
            self._folds -= 1
        elif tag == "th" and self._cell is not None:
            self._name, self._cell = "".join(self._cell), None
        elif tag == "td" and self._cell is not None and self._rows is not None:
            text = "".join(self._cell)
            is_request = self._rows is self.request
            self._rows[self._name] = text if is_request else (text, self._masked)
            self._cell = None
        elif tag in ("pre", "h1", "p"):
            self._into = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._into == "plain":
            self.plain += data
        elif self._into == "note":
            self.notes.append(data)
        elif self._into == "h1":
            self.exceptions[-1] += data
        elif self._into == "relation":
            self.relations[-1] += data

    @property
    def visible(self) -> list[dict[str, Any]]:
        return [frame for frame in self.frames if not frame["folded"]]


@pytest.fixture
def debug_app(app: Flask) -> Flask:
    """The test app in debug mode, the page as its 500 answer."""
    app.config.update(DEBUG=True, PROPAGATE_EXCEPTIONS=False)
    return app


def page_of(client: FlaskClient, path: str = "/", **kwargs: Any) -> Page:
    response = client.open(path, **kwargs)
    assert response.status_code == 500
    assert response.headers["Cache-Control"] == "no-store"
    return Page(response.text)


# -- frames ----------------------------------------------------------------------------


def test_a_def_views_page_leads_with_the_views_line_and_folds_flaskishs_frames(
    debug_app: Flask, client: FlaskClient
) -> None:
    @debug_app.route("/")
    def index() -> str:
        raise ValueError("from a def view")  # <- def view raises

    page = page_of(client)
    first = page.visible[0]
    assert (first["file"], first["line"], first["kind"]) == (
        HERE,
        line_of("# <- def view raises"),
        "app",
    )
    folded = [frame for frame in page.frames if frame["folded"]]
    assert folded and all(frame["kind"] in ("flaskish", "library") for frame in folded)
    assert any(frame["file"].endswith("pipeline.py") for frame in folded)
    assert all(
        frame["file"].startswith(FLASKISH_DIR) for frame in folded if frame["kind"] == "flaskish"
    )
    assert page.exceptions == ["ValueError: from a def view"]


def test_an_async_views_page_leads_with_the_views_line(
    debug_app: Flask, client: FlaskClient
) -> None:
    @debug_app.route("/")
    async def index() -> str:
        raise ValueError("from an async view")  # <- async view raises

    page = page_of(client)
    assert [(frame["file"], frame["line"]) for frame in page.visible] == [
        (HERE, line_of("# <- async view raises"))
    ]
    assert len(page.frames) > 1  # the pipeline's, folded


def test_library_frames_between_app_frames_are_folded_and_each_frame_shows_its_source(
    debug_app: Flask, client: FlaskClient
) -> None:
    """A template raising: the view, Jinja's frames (folded), the template."""

    def explode() -> None:
        raise LookupError("raised inside the template")  # <- called by the template

    @debug_app.route("/")
    def index() -> str:
        return flaskish.render_template_string("{{ explode() }}", explode=explode)

    response = client.get("/")
    page = Page(response.text)
    kinds = [(frame["kind"], frame["folded"]) for frame in page.frames]
    assert ("library", True) in kinds  # Jinja's own frames
    assert page.visible[-1]["line"] == line_of("# <- called by the template")
    assert page.visible[0]["file"] == HERE
    assert "raise LookupError(&#34;raised inside the template&#34;)" in response.text


def test_an_error_with_no_app_frame_shows_every_frame_unfolded(
    debug_app: Flask, client: FlaskClient
) -> None:
    """A view returning None fails in flaskish's own code: nothing to fold it
    behind."""

    @debug_app.route("/")
    def index() -> None:
        return None

    page = page_of(client)
    assert page.frames and not any(frame["folded"] for frame in page.frames)
    assert "did not return a valid response" in page.exceptions[0]


# -- locals ----------------------------------------------------------------------------


class FailingRepr:
    def __repr__(self) -> str:
        raise RuntimeError("repr is broken")


class Wordy:
    def __repr__(self) -> str:
        return "<" + "w" * 1000 + ">"


def test_locals_are_shown_truncated_with_secret_names_masked(
    debug_app: Flask, client: FlaskClient
) -> None:
    @debug_app.route("/")
    def index() -> str:
        # Locals the page shows (hence noqa: F841).
        username = "ada"  # noqa: F841
        password = SECRET + "-password"  # noqa: F841
        api_key = SECRET + "-api-key"  # noqa: F841
        SessionToken = SECRET + "-token"  # noqa: F841 - the mask ignores case
        blob = "y" * 5000  # noqa: F841
        settings = {"SECRET_KEY": SECRET, "DEBUG": True}  # noqa: F841
        broken = FailingRepr()  # noqa: F841
        numbers = tuple(range(1000))  # noqa: F841
        nested = [[[["deep"]]]]  # noqa: F841
        tree = {"a": {"b": {"c": {"d": 1}}}}  # noqa: F841
        wordy = Wordy()  # noqa: F841
        raise ValueError("with locals")

    response = client.get("/")
    page = Page(response.text)
    shown = page.visible[0]["locals"]
    assert shown["username"] == ("'ada'", False)
    for name in ("password", "api_key", "SessionToken"):
        assert shown[name] == ("********", True)
    assert SECRET not in response.text
    assert shown["settings"] == ("{'SECRET_KEY': ********, 'DEBUG': True}", False)
    text, masked = shown["blob"]
    assert len(text) <= REPR_LIMIT and text.startswith("'yyy") and not masked
    assert "y" * 300 not in response.text
    assert shown["broken"] == ("<repr failed: RuntimeError: repr is broken>", False)
    assert shown["numbers"][0] == "(" + ", ".join(map(str, range(20))) + ", ...)"
    assert shown["nested"][0] == "[[[[...]]]]"
    assert shown["tree"][0] == "{'a': {'b': {'c': {...}}}}"
    assert shown["wordy"][0] == "<" + "w" * (REPR_LIMIT - 4) + "..."


def test_an_exception_message_and_a_local_holding_markup_are_escaped(
    debug_app: Flask, client: FlaskClient
) -> None:
    debug_app.jinja_env.autoescape = False  # the app's environment never renders the page

    @debug_app.route("/")
    def index() -> str:
        markup = "<script>alert('local')</script>"  # noqa: F841 - shown on the page
        raise ValueError(f"<script>alert('{request.args['name']}')</script>")

    response = client.get("/", query_string={"name": "<b>x</b>"})
    assert "<script>alert" not in response.text
    assert "<b>x</b>" not in response.text
    assert "&lt;script&gt;alert(&#39;local&#39;)&lt;/script&gt;" in response.text
    page = Page(response.text)
    assert page.exceptions == ["ValueError: <script>alert('<b>x</b>')</script>"]
    assert page.visible[0]["locals"]["markup"][0] == "\"<script>alert('local')</script>\""


# -- exceptions ------------------------------------------------------------------------


def test_a_chain_of_exceptions_is_shown_most_recent_first_with_notes(
    debug_app: Flask, client: FlaskClient
) -> None:
    @debug_app.route("/")
    def index() -> str:
        try:
            try:
                {}["missing"]
            except KeyError:
                raise TypeError("while handling")  # noqa: B904 - an implicit context
        except TypeError as exc:
            error = RuntimeError("the last one")
            error.add_note("a note for the reader")
            raise error from exc

    page = page_of(client)
    assert page.exceptions == [
        "RuntimeError: the last one",
        "TypeError: while handling",
        "KeyError: 'missing'",
    ]
    assert page.relations == [
        "The direct cause of the exception above (raise ... from):",
        "The exception above was raised while handling this one:",
    ]
    assert page.notes == ["a note for the reader"]
    assert "The above exception was the direct cause" in page.plain


def test_raise_from_none_hides_the_context(debug_app: Flask, client: FlaskClient) -> None:
    @debug_app.route("/")
    def index() -> str:
        try:
            {}["missing"]
        except KeyError:
            raise ValueError("clean") from None
        return ""

    assert page_of(client).exceptions == ["ValueError: clean"]


def test_an_exception_groups_members_are_shown_under_it(
    debug_app: Flask, client: FlaskClient
) -> None:
    @debug_app.route("/")
    def index() -> str:
        raise ExceptionGroup("two failed", [ValueError("first"), KeyError("second")])

    page = page_of(client)
    assert page.exceptions == [
        "ExceptionGroup: two failed (2 sub-exceptions)",
        "ValueError: first",
        "KeyError: 'second'",
    ]
    assert page.relations == [
        "Exception 1 of 2 in the group above:",
        "Exception 2 of 2 in the group above:",
    ]


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str")


def test_an_exception_whose_str_fails_and_a_cycle_of_contexts_are_shown_once(
    debug_app: Flask, client: FlaskClient
) -> None:
    @debug_app.route("/")
    def index() -> str:
        first, second = Unprintable(), KeyError("second")
        first.__context__, second.__context__ = second, first
        raise first

    page = page_of(client)
    assert page.exceptions == [
        "test_debug_page.Unprintable: <str() of the Unprintable failed>",
        "KeyError: 'second'",
    ]


def test_an_imports_frozen_importlib_frames_are_folded(
    debug_app: Flask, client: FlaskClient
) -> None:
    @debug_app.route("/")
    def index() -> str:
        importlib.import_module("flaskish_no_such_module.sub")  # <- the failing import
        return ""

    page = page_of(client)
    assert page.visible[-1]["line"] == line_of("# <- the failing import")
    assert any(
        frame["file"].startswith("<frozen importlib") and frame["folded"] for frame in page.frames
    )


def test_outside_a_request_the_page_has_no_request_section() -> None:
    try:
        raise ValueError("in a script")
    except ValueError as exc:
        html = debug_page_html(exc)
    page = Page(html)
    assert page.exceptions == ["ValueError: in a script"]
    assert page.visible[0]["file"] == HERE
    assert page.request == {} and page.headers == {}
    assert "id=request" not in html


def test_a_500_error_without_an_original_exception_gets_a_plain_debug_500() -> None:
    response = _traceback_page(InternalServerError("<no original>"))
    assert response.status_code == 500
    text = response.get_data(as_text=True)
    assert "&lt;no original&gt;" in text and "<no original>" not in text


# -- the request -----------------------------------------------------------------------


def test_the_request_is_shown_with_its_cookies_and_credentials_masked(
    debug_app: Flask, client: FlaskClient
) -> None:
    @debug_app.route("/orders/<int:number>", methods=["POST"])
    def order(number: int) -> str:
        request.form  # noqa: B018 - the view parsed the form
        raise ValueError("order failed")

    client.set_cookie("session_id", SECRET)
    response = client.post(
        "/orders/7?page=2",
        data={"item": "tea", "password": SECRET},
        headers={
            "Authorization": "Bearer " + SECRET,
            "X-Api-Key": SECRET,
            "X-Request-Id": "abc-123",
        },
    )
    assert SECRET not in response.text
    page = Page(response.text)
    assert page.request["method"] == "POST"
    assert page.request["URL"] == "http://localhost/orders/7?page=2"
    assert page.request["endpoint"] == "order"
    assert page.request["view argument number"] == "7"
    assert page.request["form keys"] == "item, password"
    assert page.headers["X-Request-Id"] == ("abc-123", False)
    assert page.headers["Authorization"] == ("********", True)
    assert page.headers["X-Api-Key"] == ("********", True)
    assert page.headers["Cookie"] == ("******** (cookies: session_id)", True)


def test_the_page_never_reads_a_body_the_view_left_unread(
    debug_app: Flask, client: FlaskClient
) -> None:
    @debug_app.route("/", methods=["POST"])
    def index() -> str:
        raise ValueError("before reading the form")

    field = "never_" + "parsed"
    response = client.post("/", data={field: SECRET})
    assert SECRET not in response.text and field not in response.text
    assert Page(response.text).request["form keys"].startswith("(the form was not parsed")


def test_secret_query_parameters_are_masked_in_the_url_and_in_reprs(
    debug_app: Flask, client: FlaskClient
) -> None:
    @debug_app.route("/reset")
    def reset() -> str:
        current = request._get_current_object()  # type: ignore[attr-defined]  # noqa: F841
        raise ValueError("reset failed")

    response = client.get("/reset", query_string={"reset_token": SECRET, "page": "2"})
    assert SECRET not in response.text
    page = Page(response.text)
    assert page.request["URL"] == "http://localhost/reset?reset_token=********&page=2"
    assert page.visible[0]["locals"]["current"] == (
        "<Request 'http://localhost/reset?reset_token=********&page=2' [GET]>",
        False,
    )


@pytest.mark.parametrize("kind", ["def", "async def"])
def test_the_page_names_the_views_kind_and_the_thread_that_ran_it(
    debug_app: Flask, client: FlaskClient, kind: str
) -> None:
    ran_on: list[str] = []

    def fail() -> str:
        ran_on.append(threading.current_thread().name)
        raise ValueError("which thread?")

    async def async_view() -> str:
        return fail()

    def view() -> str:
        return fail()

    debug_app.add_url_rule("/", "index", async_view if kind == "async def" else view)
    page = page_of(client)
    name = "async_view" if kind == "async def" else "view"
    test_name = test_the_page_names_the_views_kind_and_the_thread_that_ran_it.__name__
    assert page.request["view"] == f"{kind} {__name__}.{test_name}.<locals>.{name}"
    where = "the event loop's thread" if kind == "async def" else "a worker thread"
    assert page.request["thread"].startswith(f"{ran_on[0]} ({where}")
    assert ran_on[0] != threading.current_thread().name or kind == "async def"


def test_the_plain_text_traceback_is_on_the_page_with_a_copy_button(
    debug_app: Flask, client: FlaskClient
) -> None:
    @debug_app.route("/")
    def index() -> str:
        raise ValueError("copy me")  # <- for the plain text

    response = client.get("/")
    page = Page(response.text)
    assert page.plain.startswith("Traceback (most recent call last):")
    assert f'File "{HERE}", line {line_of("# <- for the plain text")}, in index' in page.plain
    assert page.plain.rstrip().endswith("ValueError: copy me")
    assert "id=copy" in response.text and "navigator.clipboard" in response.text
    assert 'document.execCommand("copy")' in response.text  # the fallback
    assert "never turn debug\nmode on in production" in response.text


# -- never without debug ---------------------------------------------------------------


def _failing(app: Flask) -> None:
    @app.route("/")
    def index() -> str:
        password = SECRET  # noqa: F841 - a local the page would show
        raise ValueError("internal detail")


def test_without_debug_the_500_page_shows_no_traceback(app: Flask, client: FlaskClient) -> None:
    app.config.update(DEBUG=False, TESTING=False, PROPAGATE_EXCEPTIONS=None)
    _failing(app)
    response = client.get("/")
    assert response.status_code == 500
    assert "Internal Server Error" in response.text
    for leak in ("internal detail", "Traceback", "test_debug_page.py", "Debug mode"):
        assert leak not in response.text


def test_testing_without_debug_propagates_the_error(app: Flask, client: FlaskClient) -> None:
    app.config.update(DEBUG=False, TESTING=True)
    _failing(app)
    with pytest.raises(ValueError, match="internal detail"):
        client.get("/")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert "internal detail" not in client.get("/").text


def test_debug_with_propagate_exceptions_raises_in_the_test(
    app: Flask, client: FlaskClient
) -> None:
    app.config.update(DEBUG=True, PROPAGATE_EXCEPTIONS=True)
    _failing(app)
    with pytest.raises(ValueError, match="internal detail"):
        client.get("/")


def test_in_debug_mode_a_500_handler_answers_instead_of_the_page(
    debug_app: Flask, client: FlaskClient
) -> None:
    _failing(debug_app)
    debug_app.register_error_handler(500, lambda error: ("handled", 500))
    assert client.get("/").text == "handled"


def test_over_a_server_the_page_is_sent_in_debug_mode_only(live_server: Any) -> None:
    app = Flask("debug_page_served")
    app.config["BLOCKING_WARN_MS"] = 0
    _failing(app)
    app.debug = True
    with live_server(app) as server:
        response = httpx.get(server.url)
    page = Page(response.text)
    assert response.status_code == 500
    assert (page.visible[0]["file"], page.visible[0]["kind"]) == (HERE, "app")
    assert page.visible[0]["locals"]["password"] == ("********", True)
    assert page.request["thread"].startswith("AnyIO worker thread (a worker thread")

    app = Flask("debug_page_not_served")
    _failing(app)
    with live_server(app) as server:
        response = httpx.get(server.url)
    assert response.status_code == 500
    assert "internal detail" not in response.text and "Traceback" not in response.text
