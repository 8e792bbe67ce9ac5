"""``url_for`` built by flaskish and by Flask from the same app, compared
case by case: converters' ``to_url``, defaults and the choice among an
endpoint's rules, ``_method``, ``_anchor``, ``_scheme``, ``_external``, the
query string (order, lists, ``None`` dropped), ``SERVER_NAME`` and
subdomains, a script root, ``url_defaults`` hooks, blueprint-relative
names and build errors. Every fast path of URL building is reached by
some case here, so a fast path that disagrees with Werkzeug fails."""

from __future__ import annotations

import types
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import werkzeug.routing

import flaskish
import flaskish.routing

flask = pytest.importorskip("flask")


def make_app(F: types.ModuleType, **config: Any) -> Any:
    """The same app, written against *F* (``flask`` or ``flaskish``)."""
    app = F.Flask("url_building_app")
    app.config.update(SECRET_KEY="s", **config)

    base = flaskish.routing.BaseConverter if F is flaskish else werkzeug.routing.BaseConverter

    class ListConverter(base):  # type: ignore[valid-type, misc]
        def to_python(self, value: str) -> list[str]:
            return value.split(",")

        def to_url(self, value: Any) -> str:
            return ",".join(super().to_url(item) for item in value)

    app.url_map.converters["list"] = ListConverter

    def view(**kwargs: Any) -> str:
        return ""

    def route(rule: str, endpoint: str, **options: Any) -> None:
        app.add_url_rule(rule, endpoint, view, **options)

    route("/", "index")
    route("/note/<int:id>", "note")
    route("/signed/<int(signed=True):n>", "signed")
    route("/fixed/<int(fixed_digits=4):n>", "fixed")
    route("/price/<float:p>", "price")
    route("/name/<name>", "name")
    route("/files/<path:p>", "files")
    route("/u/<uuid:u>", "uuid")
    route("/kind/<any(a, b):k>", "kind")
    route("/tags/<list:tags>", "tags")
    route("/caf\u00e9/<x>", "cafe")
    route("/sp ace/", "space")
    route("/two/<a>/<int:b>.json", "two")
    route("/page/", "page", defaults={"page": 1})
    route("/page/<int:page>", "page")
    route("/lang/", "lang", defaults={"lang": "en", "x": None})
    route("/lang/<lang>", "lang")
    route("/item/<int:id>", "item", methods=["GET"])
    route("/item/<int:id>/edit", "item", methods=["POST"])
    route("/sub", "sub", subdomain="api")
    route("/user/<int:id>", "user_sub", subdomain="<user>")
    route("/redirect", "redir", redirect_to="/")
    route("/alias", "aliased", alias=True)
    route("/canonical", "aliased")

    bp = F.Blueprint("bp", "url_building_app", url_prefix="/bp")
    bp.add_url_rule("/item/<name>", "item", view)
    bp.add_url_rule("/here", "here", view)
    bp.add_url_rule("/lang/<lang_code>/x", "with_lang", view)

    @bp.url_defaults
    def add_lang(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "bp.with_lang":
            values.setdefault("lang_code", "fr")

    inner = F.Blueprint("inner", "url_building_app", url_prefix="/in")
    inner.add_url_rule("/deep", "deep", view)
    bp.register_blueprint(inner)
    app.register_blueprint(bp)

    @app.url_defaults
    def app_defaults(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "note" and values.get("id") == 999:
            values["id"] = 1000

    return app


CASES = [
    "url_for('index')",
    "url_for('note', id=3)",
    "url_for('note', id='3')",
    "url_for('note', id=999)",
    "url_for('note', id=None)",
    "url_for('note', id=3, page=None)",
    "url_for('note')",
    "url_for('note', id='x')",
    "url_for('signed', n=-4)",
    "url_for('fixed', n=7)",
    "url_for('price', p=1.5)",
    "url_for('name', name='a b/c?d#e%f\u00e9&=+')",
    "url_for('name', name=5)",
    "url_for('files', p='a/b c/d.txt')",
    "url_for('uuid', u=uuid.UUID(int=5))",
    "url_for('kind', k='a')",
    "url_for('kind', k='c')",
    "url_for('tags', tags=['x', 'y z'])",
    "url_for('cafe', x='\u00e9')",
    "url_for('space')",
    "url_for('two', a='A', b=2)",
    "url_for('two', b=2, a='A', extra='1')",
    "url_for('page')",
    "url_for('page', page=1)",
    "url_for('page', page=2)",
    "url_for('page', page=2, q='x')",
    "url_for('lang')",
    "url_for('lang', lang='en')",
    "url_for('lang', lang='de')",
    "url_for('lang', x=None)",
    "url_for('item', id=1)",
    "url_for('item', id=1, _method='POST')",
    "url_for('item', id=1, _method='PUT')",
    "url_for('index', q='a b', page=2, z=['1', None, '2'], n=None, t=(3, 4))",
    "url_for('index', b='2', a='1', c='')",
    "url_for('index', q=[], r=['only'])",
    "url_for('index', k='&=?#/+ \u00e9', **{'s p': 'v'})",
    "url_for('index', flag=True, num=1.5)",
    "url_for('index', _anchor='top')",
    "url_for('index', _anchor='a b#c/d?\u00e9%20')",
    "url_for('note', id=3, _external=True)",
    "url_for('note', id=3, _external=False)",
    "url_for('note', id=3, _scheme='https', _external=True)",
    "url_for('note', id=3, _scheme='https')",
    "url_for('note', id=3, _scheme='https', _external=False)",
    "url_for('static', filename='css/site.css')",
    "url_for('static', filename='a b/\u00e7.css', v=2)",
    "url_for('sub')",
    "url_for('sub', _external=False)",
    "url_for('user_sub', user='ada', id=2)",
    "url_for('redir')",
    "url_for('aliased')",
    "url_for('bp.item', name='x')",
    "url_for('.item', name='x')",
    "url_for('.here')",
    "url_for('.note', id=1)",
    "url_for('bp.with_lang')",
    "url_for('.with_lang', lang_code='de')",
    "url_for('bp.inner.deep')",
    "url_for('.deep')",
    "url_for('missing')",
    "url_for('bp.missing')",
]

#: Where flaskish's message differs from Werkzeug's on purpose (its own
#: sentences): only the exception's type is compared.
MESSAGE_OWN = {"BuildError"}


@contextmanager
def request_or_app(app: Any, path: str | None, **kwargs: Any) -> Iterator[None]:
    if path is None:
        with app.app_context():
            yield
    else:
        with app.test_request_context(path, **kwargs):
            yield


def outcome(F: types.ModuleType, app: Any, expression: str) -> tuple[str, str]:
    try:
        return "url", eval(expression, {"url_for": F.url_for, "uuid": uuid})
    except Exception as exc:
        kind = type(exc).__name__
        if kind in MESSAGE_OWN:
            return "error", kind
        return "error", f"{kind}: {exc}"


SETUPS: dict[str, tuple[dict[str, Any], str | None, dict[str, Any]]] = {
    "request": ({}, "/", {}),
    "POST request": ({}, "/", {"method": "POST"}),
    "blueprint request": ({}, "/bp/here", {}),
    "nested blueprint request": ({}, "/bp/in/deep", {}),
    "https request with a script root": ({}, "/", {"base_url": "https://h.test:8443/app/"}),
    "SERVER_NAME request": ({"SERVER_NAME": "example.test"}, "/", {}),
    "SERVER_NAME request on a subdomain": (
        {"SERVER_NAME": "example.test"},
        "/",
        {"base_url": "http://api.example.test/"},
    ),
    "no request, SERVER_NAME": (
        {"SERVER_NAME": "example.test:8080", "APPLICATION_ROOT": "/root/"},
        None,
        {},
    ),
    "no request, https": ({"SERVER_NAME": "x.test", "PREFERRED_URL_SCHEME": "https"}, None, {}),
    "no request, no SERVER_NAME": ({}, None, {}),
}


@pytest.mark.parametrize("setup", list(SETUPS))
def test_url_for_gives_what_flask_gives(setup: str) -> None:
    """Each case of :data:`CASES`, built in each setup, is Flask's URL (or
    the same exception)."""
    config, path, kwargs = SETUPS[setup]
    apps = {F: make_app(F, **config) for F in (flask, flaskish)}
    differences = []
    for expression in CASES:
        results = []
        for F, app in apps.items():
            with request_or_app(app, path, **kwargs):
                results.append(outcome(F, app, expression))
        if results[0] != results[1]:
            differences.append((expression, *results))
    assert differences == []


def test_url_for_in_a_template_gives_what_flask_gives() -> None:
    """``url_for`` in a Jinja template builds as in a view."""
    source = "{{ url_for('note', id=3) }} {{ url_for('index', q='a b', _anchor='x') }}"
    rendered = []
    for F in (flask, flaskish):
        app = make_app(F)
        with app.test_request_context("/"):
            rendered.append(F.render_template_string(source))
    assert rendered[0] == rendered[1]


def test_build_error_handlers_see_the_values_flask_passes() -> None:
    """``app.url_build_error_handlers`` get the error, the endpoint and the
    values with Flask's ``_anchor``/``_method``/``_scheme``/``_external``."""
    seen: list[Any] = []
    for F in (flask, flaskish):
        app = make_app(F)

        def handler(error: Exception, endpoint: str, values: dict[str, Any]) -> str:
            seen.append((endpoint, sorted(values.items())))
            return "/handled"

        app.url_build_error_handlers.append(handler)
        with app.test_request_context("/"):
            assert F.url_for("missing", a=1, _anchor="x") == "/handled"
            assert F.url_for(".missing") == "/handled"
    assert seen[:2] == seen[2:]


def test_url_map_sort_parameters_orders_the_query_string() -> None:
    """``url_map.sort_parameters`` (and ``sort_key``) sort a built query
    string as in Werkzeug."""
    for sort_key in (None, lambda item: item[1]):
        urls = []
        for F in (flask, flaskish):
            app = make_app(F)
            app.url_map.sort_parameters = True
            app.url_map.sort_key = sort_key
            with app.test_request_context("/"):
                urls.append(F.url_for("index", b="1", a="3", c="2", z=["9", "0"]))
        assert urls[0] == urls[1]


def test_url_for_after_a_rule_is_added_uses_it() -> None:
    """A rule added after URLs were built (a compiled builder exists) is
    considered by the next build, as in Werkzeug."""
    outcomes: list[list[tuple[str, str]]] = []
    for F in (flask, flaskish):
        app = make_app(F)
        got = []
        with app.test_request_context("/"):
            got.append(outcome(F, app, "url_for('late', id=1)"))
            got.append(outcome(F, app, "url_for('page', page=3)"))
        app.add_url_rule("/late/<int:id>", "late", lambda id: "")
        app.add_url_rule("/p/<int:page>/<int:extra>", "page", app.view_functions["page"])
        with app.test_request_context("/"):
            got.append(outcome(F, app, "url_for('late', id=1)"))
            got.append(outcome(F, app, "url_for('page', page=3, extra=4)"))
            got.append(outcome(F, app, "url_for('page', page=3)"))
        outcomes.append(got)
    assert outcomes[0] == outcomes[1]


TEXTS = [
    "",
    "plain",
    "".join(chr(code) for code in range(32, 127)),
    *(chr(code) for code in range(0, 128)),
    "caf\u00e9",
    "a b",
    "100%",
    "\U0001f600/x",
]


@pytest.mark.parametrize("value", [*TEXTS, 42, 1.5, uuid.UUID(int=7)])
def test_string_converter_fast_quote_is_base_converter_to_url(value: Any) -> None:
    """The rule's shortcut for ``<name>`` and ``<path:p>`` (no ``quote``
    call for text that needs none) gives ``BaseConverter.to_url``'s text."""
    from flaskish.rules import _quoted_text

    converter = flaskish.routing.BaseConverter(flaskish.routing.Map())
    assert _quoted_text(value) == converter.to_url(value)


def test_a_converter_overriding_to_url_is_not_shortcut() -> None:
    """A string converter subclass with its own ``to_url`` is called."""

    class Upper(flaskish.routing.UnicodeConverter):
        def to_url(self, value: Any) -> str:
            return super().to_url(value).upper()

    app = flaskish.Flask(__name__)
    app.url_map.converters["upper"] = Upper
    app.add_url_rule("/<upper:name>/<plain>", "v", lambda **kw: "")
    with app.test_request_context("/"):
        assert flaskish.url_for("v", name="ab", plain="cd") == "/AB/cd"


@pytest.mark.parametrize("value", [*TEXTS, b"by tes\xff", 42, 1.5, True, uuid.UUID(int=7)])
def test_query_string_shortcut_is_urlencode(value: Any) -> None:
    """The query string a rule builds (no ``quote_plus`` call for text
    that needs none) is ``urlencode``'s with Werkzeug's safe characters."""
    from urllib.parse import urlencode

    from flaskish.rules import _QUERY_SAFE, _encode_query

    pairs = [("k", value), (value, "v"), ("a b", value)]
    assert _encode_query(pairs) == urlencode(pairs, safe=_QUERY_SAFE)


@pytest.mark.parametrize("anchor", TEXTS)
def test_anchor_shortcut_is_flasks_quote(anchor: str) -> None:
    """An anchor that needs no quoting is added as it is; any other is
    quoted as Flask quotes it."""
    from urllib.parse import quote

    app = flaskish.Flask(__name__)
    app.add_url_rule("/", "index", lambda: "")
    with app.test_request_context("/"):
        url = flaskish.url_for("index", _anchor=anchor)
    assert url == "/#" + quote(anchor, safe="%!#$&'()*+,/:;=?@")
