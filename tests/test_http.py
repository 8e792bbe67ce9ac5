"""The HTTP header parsers and types of ``flaskish.http``: Werkzeug's names and
behaviour, and no exception (nor a slow parse) whatever a client sends."""

from __future__ import annotations

import base64
import copy
import pickle
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from flaskish.http import (
    Accept,
    Authorization,
    CharsetAccept,
    ETags,
    IfRange,
    LanguageAccept,
    MIMEAccept,
    Range,
    UserAgent,
    dump_options_header,
    parse_accept_header,
    parse_date,
    parse_dict_header,
    parse_etags,
    parse_if_range_header,
    parse_list_header,
    parse_options_header,
    parse_range_header,
    quote_etag,
    quote_header_value,
    unquote_etag,
)

HOSTILE = [
    "",
    " ",
    ",,,,",
    ";;;;",
    '"',
    '"""',
    '\\"',
    '"\\',
    "=",
    "==",
    "*/*;q=",
    "\x00\x01\x7f",
    "\u00e9\u00ff",
    "a" * 100_000,
    "," * 100_000,
    '"' * 100_001,
    "\\" * 100_001,
    ("a=" * 50_000),
    ('"a\\' * 30_000),
    "text/html;" * 20_000,
    "W/" * 50_000,
]


def basic(credentials: bytes) -> str:
    return "Basic " + base64.b64encode(credentials).decode()


# -- generic syntax ---------------------------------------------------------------


def test_parse_options_header_splits_value_and_lowercases_parameter_names() -> None:
    value, params = parse_options_header('Text/HTML; Charset="utf-8"; a="x;y"; b=1')
    assert value == "Text/HTML"
    assert params == {"charset": "utf-8", "a": "x;y", "b": "1"}


def test_parse_options_header_unquotes_escaped_quotes() -> None:
    assert parse_options_header('a; b="\\"q\\" \\\\"') == ("a", {"b": '"q" \\'})


def test_parse_options_header_decodes_rfc8187_values_and_prefers_them() -> None:
    header = "form-data; filename*=UTF-8''%C3%A9t%C3%A9.txt; filename=\"ete.txt\"; name=f"
    assert parse_options_header(header) == ("form-data", {"filename": "été.txt", "name": "f"})


def test_parse_options_header_extended_values_are_utf8_or_latin1_only() -> None:
    assert parse_options_header("a; n*=nope''%C3%A9")[1] == {"n": "é"}
    assert parse_options_header("a; n*=rot13''%C3%A9")[1] == {"n": "é"}
    assert parse_options_header("a; n*=ISO-8859-1'en'%E9")[1] == {"n": "é"}
    assert parse_options_header("a; n*=''%E9")[1] == {"n": "\ufffd"}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, ("", {})),
        ("", ("", {})),
        ("   ", ("", {})),
        (";a=1", ("", {})),
        ("text/html; charset", ("text/html", {})),
        ("x; =1", ("x", {})),
        ("x; a=1; a=2", ("x", {"a": "2"})),
        ("x; a b=1; c=2", ("x", {"c": "2"})),
    ],
)
def test_parse_options_header_edge_cases(
    header: str | None, expected: tuple[str, dict[str, str]]
) -> None:
    assert parse_options_header(header) == expected


def test_dump_options_header_quotes_only_when_needed() -> None:
    assert dump_options_header("text/html", {"charset": "utf-8"}) == "text/html; charset=utf-8"
    assert dump_options_header("a", {"b": 'x "y"', "c": None}) == 'a; b="x \\"y\\""; c'
    assert dump_options_header(None, {"a": 1}) == "a=1"
    assert quote_header_value("x y") == '"x y"'


def test_parse_list_header_respects_quotes_and_drops_empty_items() -> None:
    assert parse_list_header('a, b ,"c, d", ,e') == ["a", "b", "c, d", "e"]
    assert parse_list_header('a="1,2", b') == ['a="1,2"', "b"]
    assert parse_list_header("") == []


def test_parse_dict_header_keeps_name_case_and_maps_bare_names_to_none() -> None:
    assert parse_dict_header('a=b, c, D="x, y"') == {"a": "b", "c": None, "D": "x, y"}
    assert parse_dict_header("=x, a=1, a=2") == {"a": "2"}


@pytest.mark.parametrize("header", HOSTILE)
def test_generic_parsers_never_raise_and_stay_fast(header: str) -> None:
    started = time.perf_counter()
    parse_options_header(header)
    parse_list_header(header)
    parse_dict_header(header)
    assert time.perf_counter() - started < 1


# -- dates --------------------------------------------------------------------------

SUNDAY = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)


@pytest.mark.parametrize(
    "header",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # RFC 9110 IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  # obsolete RFC 850
        "Sun Nov  6 08:49:37 1994",  # obsolete asctime, no zone: GMT
        "Sun, 06 Nov 1994 10:49:37 +0200",  # an offset, converted to UTC
    ],
)
def test_parse_date_reads_all_http_formats_as_aware_utc(header: str) -> None:
    parsed = parse_date(header)
    assert parsed == SUNDAY
    assert parsed is not None and parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "garbage",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 06 Nov 99999 08:49:37 GMT",
        "Fri, 31 Dec 9999 23:59:59 -2359",  # past year 9999 in UTC
        "1 Jan 1 0:0:0 -9999",
        "\x00" * 1000,
        "x" * 100_000,
    ],
)
def test_parse_date_gives_none_for_invalid_dates(header: str | None) -> None:
    assert parse_date(header) is None


def test_parse_date_result_compares_with_aware_datetimes() -> None:
    parsed = parse_date("Sun, 06 Nov 1994 08:49:37 GMT")
    assert parsed is not None
    assert parsed < datetime(2000, 1, 1, tzinfo=timezone(timedelta(hours=5)))


# -- Accept -------------------------------------------------------------------------


def test_accept_orders_by_specificity_then_quality_keeping_client_order() -> None:
    accept = parse_accept_header("text/html;q=0.5, */*;q=0.1, application/json, a/b", MIMEAccept)
    assert list(accept) == [
        ("application/json", 1),
        ("a/b", 1),
        ("text/html", 0.5),
        ("*/*", 0.1),
    ]
    assert accept.best == "application/json"
    assert list(accept.values()) == ["application/json", "a/b", "text/html", "*/*"]
    assert accept[0] == ("application/json", 1)
    assert accept[1:2] == [("a/b", 1)]
    assert len(accept) == 4


def test_accept_quality_and_contains_follow_the_most_specific_entry() -> None:
    accept = parse_accept_header("text/*, text/plain;q=0, */*;q=0.1", MIMEAccept)
    assert accept.quality("text/plain") == 0
    assert accept["text/html"] == 1
    assert accept.quality("image/png") == 0.1
    # "in" tells whether an entry matches, whatever its quality (as Werkzeug).
    assert "text/plain" in accept
    assert accept.best_match(["text/plain", "text/html"]) == "text/html"


def test_best_match_prefers_quality_then_specificity_then_server_order() -> None:
    accept = parse_accept_header("text/*;q=0.5, */*;q=0.1, application/json", MIMEAccept)
    assert accept.best_match(["text/plain", "application/json"]) == "application/json"
    assert accept.best_match(["image/png", "text/plain"]) == "text/plain"
    assert accept.best_match(["image/png"]) == "image/png"
    same = parse_accept_header("text/html;q=0.8, text/plain;q=0.8", MIMEAccept)
    assert same.best_match(["text/plain", "text/html"]) == "text/plain"
    assert same.best_match(["text/html", "text/plain"]) == "text/html"
    exact = parse_accept_header("text/*, text/html", MIMEAccept)
    assert exact.best_match(["text/plain", "text/html"]) == "text/html"


def test_best_match_returns_default_when_nothing_is_acceptable() -> None:
    accept = parse_accept_header("text/html, image/png;q=0", MIMEAccept)
    assert accept.best_match(["application/json"]) is None
    assert accept.best_match(["application/json"], default="text/plain") == "text/plain"
    assert accept.best_match(["image/png"]) is None
    assert accept.best_match([]) is None


def test_wildcard_accepts_everything() -> None:
    accept = parse_accept_header("*/*", MIMEAccept)
    assert accept.accept_json and accept.accept_html
    assert accept.best_match(["application/json", "text/html"]) == "application/json"
    assert "image/anything" in accept
    # The app may ask about "*/*" too: any media type the client accepts.
    assert "*/*" in parse_accept_header("text/html", MIMEAccept)


def test_mimeaccept_matches_case_insensitively_and_compares_parameters() -> None:
    accept = parse_accept_header("Text/HTML;level=1;q=0.7, text/html", MIMEAccept)
    assert list(accept) == [("Text/HTML; level=1", 0.7), ("text/html", 1)]
    assert accept.quality("text/html;level=1") == 0.7
    assert accept.quality("TEXT/html") == 1
    assert "text/html; charset=utf-8" not in parse_accept_header("text/html", MIMEAccept)


def test_mimeaccept_entries_that_are_not_media_types_match_nothing() -> None:
    accept = parse_accept_header("garbage, */html, text/html", MIMEAccept)
    assert "a/html" not in accept
    assert accept.best_match(["image/png"]) is None


def test_mimeaccept_refuses_invalid_server_values_with_a_clear_message() -> None:
    accept = parse_accept_header("*/*", MIMEAccept)
    with pytest.raises(ValueError, match="Write it as 'type/subtype'"):
        accept.best_match(["json"])
    with pytest.raises(ValueError, match="only '\\*/\\*' may start"):
        accept.quality("*/json")


def test_accept_json_and_html_flags() -> None:
    json_only = parse_accept_header("application/json", MIMEAccept)
    assert json_only.accept_json and not json_only.accept_html
    browser = parse_accept_header(
        "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", MIMEAccept
    )
    assert browser.accept_html and browser.accept_xhtml and browser.accept_json
    assert browser.best_match(["application/json", "text/html"]) == "text/html"
    xml = parse_accept_header("application/xml", MIMEAccept)
    assert xml.accept_html and xml.accept_xhtml and not xml.accept_json


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a;q=abc, b", [("b", 1)]),
        ("a;q=2, b", [("b", 1)]),
        ("a;q=-1, b", [("b", 1)]),
        ("a;q=0., b", [("b", 1)]),
        ("a;q=1e0, b", [("b", 1)]),
        ("a;q=" + "9" * 5000 + ", b", [("b", 1)]),
        ("a;q=1.0000, b;q=0.3", [("a", 1), ("b", 0.3)]),
        ("a;q=0", [("a", 0)]),
        ("a; Q=0.5", [("a", 0.5)]),
    ],
)
def test_invalid_quality_values_drop_the_entry(
    header: str, expected: list[tuple[str, float]]
) -> None:
    assert list(parse_accept_header(header)) == expected


def test_missing_header_is_empty_and_not_provided() -> None:
    for header in (None, ""):
        accept = parse_accept_header(header, MIMEAccept)
        assert isinstance(accept, MIMEAccept)
        assert not accept.provided
        assert list(accept) == [] and accept.best is None
        assert not accept.accept_json
        assert accept.best_match(["text/html"]) is None
        assert accept.best_match(["text/html"], "text/plain") == "text/plain"
    assert parse_accept_header(",,,").provided


def test_accept_index_find_header_and_repr() -> None:
    accept = parse_accept_header("gzip, deflate;q=0.5, *;q=0.1")
    assert type(accept) is Accept
    assert accept.index("deflate") == 1
    assert accept.index("br") == 2  # matched by "*"
    assert accept.index(("gzip", 1)) == 0
    assert accept.find("br") == 2
    assert parse_accept_header("gzip").find("br") == -1
    with pytest.raises(ValueError, match="not in the Accept header"):
        parse_accept_header("gzip").index("br")
    assert accept.to_header() == "gzip,deflate;q=0.5,*;q=0.1"
    assert str(accept) == accept.to_header()
    assert repr(accept) == "Accept([('gzip', 1.0), ('deflate', 0.5), ('*', 0.1)])"
    assert accept == [("gzip", 1), ("deflate", 0.5), ("*", 0.1)]
    assert accept == Accept(accept) and hash(accept) == hash(Accept(accept))
    assert accept != "gzip"
    assert ("gzip", 1) in accept
    assert 3 not in accept  # type: ignore[operator]


def test_accept_encodings_match_case_insensitively() -> None:
    accept = parse_accept_header("gzip, deflate;q=0.5, br;q=0")
    assert "GZIP" in accept
    assert accept["br"] == 0
    assert accept.best_match(["br", "deflate"]) == "deflate"
    assert parse_accept_header("gzip;q=1, *").best_match(["zstd"]) == "zstd"
    assert parse_accept_header("gzip").quality("br") == 0


def test_charset_accept_matches_aliases_without_io() -> None:
    accept = parse_accept_header("utf-8, ISO-8859-1;q=0.5", CharsetAccept)
    assert accept.best_match(["latin1", "utf8"]) == "utf8"
    assert accept.quality("UTF8") == 1
    assert accept.quality("latin-1") == 0.5
    assert "latin1" in accept
    assert "koi8-r" not in accept
    assert "no-such-charset" not in accept
    assert parse_accept_header("*", CharsetAccept).best_match(["x-unknown"]) == "x-unknown"


def test_language_accept_normalizes_tags() -> None:
    accept = parse_accept_header("en-US, fr;q=0.5, *;q=0.1", LanguageAccept)
    assert accept.best_match(["de", "fr"]) == "fr"
    assert accept.best_match(["en_us"]) == "en_us"
    assert accept.best_match(["xx"], "zz") == "xx"  # "*" accepts it, at 0.1
    assert accept.quality("EN_us") == 1


def test_language_accept_falls_back_to_primary_tags() -> None:
    # The client's "en-US" accepts the app's "en"...
    assert parse_accept_header("de-AT, en-US;q=0.9", LanguageAccept).best_match(
        ["en", "de"]
    ) == "de"
    assert parse_accept_header("en-US", LanguageAccept).best_match(["en"]) == "en"
    # ...and the client's "en" accepts the app's "en-GB".
    accept = parse_accept_header("en", LanguageAccept)
    assert accept.best_match(["en-GB", "de"]) == "en-GB"
    assert accept.best_match(["de-DE"]) is None
    assert accept.best_match(["de"], "x") == "x"
    assert parse_accept_header("de-AT, en-US", LanguageAccept).best_match(
        ["en-GB", "de-DE"]
    ) is None


@pytest.mark.parametrize("header", HOSTILE)
@pytest.mark.parametrize("cls", [Accept, MIMEAccept, CharsetAccept, LanguageAccept])
def test_accept_parsing_never_raises(header: str, cls: type[Accept]) -> None:
    started = time.perf_counter()
    accept = parse_accept_header(header, cls)
    offers = ["text/html", "application/json"] if cls is MIMEAccept else ["en", "utf-8"]
    accept.best_match(offers)
    "text/html" in accept  # noqa: B015
    assert time.perf_counter() - started < 2


# -- Authorization ------------------------------------------------------------------


def test_basic_authorization_decodes_username_and_password() -> None:
    auth = Authorization.from_header(basic(b"ada:l:ove"))
    assert auth is not None
    assert auth.type == "basic"
    assert (auth.username, auth.password) == ("ada", "l:ove")  # split at the first ":"
    assert auth["username"] == "ada" and auth.get("password") == "l:ove"
    assert auth.token is None
    assert "username" in auth and "realm" not in auth
    assert auth.parameters == {"username": "ada", "password": "l:ove"}


def test_basic_authorization_is_utf8_and_scheme_case_insensitive() -> None:
    auth = Authorization.from_header("bAsIc " + base64.b64encode("ü:pässwörd".encode()).decode())
    assert auth is not None and (auth.username, auth.password) == ("ü", "pässwörd")


def test_basic_without_colon_has_an_empty_password() -> None:
    auth = Authorization.from_header(basic(b"nocolon"))
    assert auth is not None and (auth.username, auth.password) == ("nocolon", "")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "   ",
        "Basic !!!",
        "Basic YW Rh OnB3",  # spaces inside the base64
        "Basic YWRh=OnB3",  # padding in the middle
        "Basic YQ",  # missing padding
        basic(b"\xff:x"),  # not UTF-8
        "Basic \u00e9\u00e9\u00e9\u00e9",  # not ASCII
        "Basic " + "A" * 100_001,
    ],
)
def test_malformed_authorization_is_none(header: str | None) -> None:
    assert Authorization.from_header(header) is None


def test_bearer_authorization_gives_the_token() -> None:
    auth = Authorization.from_header("Bearer abc.def-ghi_jkl==")
    assert auth is not None
    assert auth.type == "bearer"
    assert auth.token == "abc.def-ghi_jkl=="
    assert auth.username is None and auth.password is None
    assert auth.parameters == {}
    assert auth.to_header() == "Bearer abc.def-ghi_jkl=="


def test_parameter_authorization_parses_parameters() -> None:
    auth = Authorization.from_header('Digest username="ada", realm="r, s", nonce=n1, qop')
    assert auth is not None
    assert auth.type == "digest"
    assert auth.token is None
    assert auth.parameters == {"username": "ada", "realm": "r, s", "nonce": "n1", "qop": None}
    assert auth.username == "ada"
    assert auth.realm == "r, s"  # parameters read as attributes, as in Werkzeug
    assert auth.opaque is None
    assert auth.get("opaque", "x") == "x"


def test_authorization_round_trips_and_compares() -> None:
    auth = Authorization("basic", {"username": "ada", "password": "pw"})
    assert Authorization.from_header(auth.to_header()) == auth
    assert str(auth) == basic(b"ada:pw")
    assert repr(auth).startswith("<Authorization 'Basic ")
    digest = Authorization("digest", {"username": "a b", "nonce": "n", "skip": None})
    assert digest.to_header() == 'Digest username="a b", nonce=n'
    assert auth != digest and auth != "Basic"
    with pytest.raises(AttributeError):
        auth._private  # noqa: B018


def test_authorization_copies_and_pickles() -> None:
    auth = Authorization("basic", {"username": "ada", "password": "pw"})
    assert copy.copy(auth) == auth == copy.deepcopy(auth)
    assert pickle.loads(pickle.dumps(auth)) == auth


def test_authorization_scheme_without_credentials() -> None:
    auth = Authorization.from_header("Bearer")
    assert auth is not None and auth.type == "bearer" and auth.token == ""


@pytest.mark.parametrize("header", HOSTILE)
def test_authorization_never_raises(header: str) -> None:
    for prefix in ("", "Basic ", "Bearer ", "Digest "):
        Authorization.from_header(prefix + header)


# -- Range --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "ranges"),
    [
        ("bytes=0-499", [(0, 500)]),
        ("bytes=0-0", [(0, 1)]),
        ("bytes=500-", [(500, None)]),
        ("bytes=-500", [(-500, None)]),
        ("bytes=0-99,200-299", [(0, 100), (200, 300)]),
        ("bytes=0-99,100-199", [(0, 100), (100, 200)]),
        ("bytes=1-2,-3", [(1, 3), (-3, None)]),
        ("Bytes = 0-1", [(0, 2)]),
        ("bytes= 0 - 1 ", [(0, 2)]),
    ],
)
def test_parse_range_header(header: str, ranges: list[tuple[int, int | None]]) -> None:
    parsed = parse_range_header(header)
    assert parsed is not None
    assert parsed.units == "bytes"
    assert parsed.ranges == ranges


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "bytes",
        "bytes=",
        "bytes=abc",
        "bytes=5",
        "bytes=5-1",  # end before start
        "bytes=-0",  # an empty suffix
        "bytes=--5",
        "bytes=-5-",
        "bytes=- 5",
        "bytes=-1-2",  # negative start
        "bytes=+1-2",
        "bytes=0x1-2",
        "bytes=\u0661-2",  # a non-ASCII digit
        "bytes=0-99,50-150",  # overlapping
        "bytes=200-299,0-99",  # out of order
        "bytes=500-,600-700",  # after an open range
        "bytes=-5,0-1",  # after a suffix range
        "bytes=0-1,",
        "bytes=0-" + "9" * 5000,  # past Python's integer digit limit
        "bytes=" + ",".join(f"{i}-{i}" for i in range(0, 200_000, 2)) + ",5-6",
    ],
)
def test_malformed_range_is_none(header: str | None) -> None:
    assert parse_range_header(header) is None


def test_many_ascending_ranges_parse_quickly() -> None:
    header = "bytes=" + ",".join(f"{i}-{i}" for i in range(0, 200_000, 2))
    started = time.perf_counter()
    parsed = parse_range_header(header)
    assert time.perf_counter() - started < 2
    assert parsed is not None and len(parsed.ranges) == 100_000
    assert parsed.range_for_length(10) is None  # only a single range is served


def test_other_units_parse_but_give_no_byte_range() -> None:
    parsed = parse_range_header("items=0-4")
    assert parsed is not None and parsed.units == "items" and parsed.ranges == [(0, 5)]
    assert parsed.range_for_length(100) is None


@pytest.mark.parametrize(
    ("header", "length", "expected"),
    [
        ("bytes=0-499", 1000, (0, 500)),
        ("bytes=0-499", 100, (0, 100)),  # clamped to the body
        ("bytes=99-500", 100, (99, 100)),
        ("bytes=100-", 100, None),  # starts past the end: a 416
        ("bytes=500-", 1000, (500, 1000)),
        ("bytes=-500", 1000, (500, 1000)),
        ("bytes=-500", 100, (0, 100)),  # a longer suffix means all of it (RFC 9110)
        ("bytes=0-0", 0, None),
        ("bytes=-1", 0, None),
        ("bytes=0-1,5-6", 100, None),
        ("bytes=0-499", None, None),
    ],
)
def test_range_for_length(
    header: str, length: int | None, expected: tuple[int, int] | None
) -> None:
    parsed = parse_range_header(header)
    assert parsed is not None
    assert parsed.range_for_length(length) == expected


def test_range_headers_round_trip() -> None:
    for header in ("bytes=0-499", "bytes=500-", "bytes=-500", "bytes=0-1,5-9"):
        parsed = parse_range_header(header)
        assert parsed is not None
        assert parsed.to_header() == header == str(parsed)
    parsed = parse_range_header("bytes=0-499")
    assert parsed is not None
    assert parsed.to_content_range_header(1000) == "bytes 0-499/1000"
    assert parsed.to_content_range_header(None) is None
    assert repr(parsed) == "<Range 'bytes=0-499'>"


@pytest.mark.parametrize("ranges", [[(5, 5)], [(5, 1)], [(-1, 5)]])
def test_range_constructor_refuses_invalid_ranges(ranges: list[tuple[int, int]]) -> None:
    with pytest.raises(ValueError, match="is not a valid range"):
        Range("bytes", ranges)


# -- ETags --------------------------------------------------------------------------


def test_parse_etags_strong_weak_and_unquoted() -> None:
    etags = parse_etags('"a", W/"b", w/"c", d, "e,f"')
    assert etags.as_set() == {"a", "d", "e,f"}
    assert etags.as_set(include_weak=True) == {"a", "b", "c", "d", "e,f"}
    assert "a" in etags and etags.contains("a") and etags.is_strong("a")
    assert "b" not in etags and etags.is_weak("b") and etags.contains_weak("b")
    assert etags.contains_raw('W/"b"') and etags.contains_raw('"a"')
    assert not etags.contains_raw('"b"') and not etags.contains_raw("")
    assert len(etags) == 3 and set(etags) == {"a", "d", "e,f"}
    assert bool(etags)


def test_star_etag_matches_everything() -> None:
    etags = parse_etags(" * ")
    assert etags.star_tag
    assert "anything" in etags and etags.contains_weak("x")
    assert etags.to_header() == "*" and bool(etags)


def test_empty_etags() -> None:
    for header in (None, "", " , ", '"unterminated', '"a" "b"'):
        etags = parse_etags(header)
        assert not etags and etags.as_set(True) == set() and "a" not in etags


def test_parse_etags_stops_at_garbage_but_keeps_earlier_tags() -> None:
    assert parse_etags('"a", "b" junk, "c"').as_set() == {"a"}


def test_etags_call_and_header() -> None:
    etags = ETags(["a"], ["b"])
    assert etags("a") and not etags("b") and etags("b", include_weak=True)
    data_tag = "a9993e364706816aba3e25717850c26c9cd0d89d"  # sha1(b"abc")
    assert ETags([data_tag])(data=b"abc")
    with pytest.raises(TypeError, match="etag= or data="):
        etags()
    assert etags.to_header() == '"a", W/"b"' == str(etags)
    assert repr(etags) == "<ETags '\"a\", W/\"b\"'>"
    assert 1 not in etags
    assert ETags(["a"], star_tag=True).as_set() == set()


def test_quote_and_unquote_etag() -> None:
    assert quote_etag("x") == '"x"' and quote_etag("x", weak=True) == 'W/"x"'
    assert unquote_etag('W/"x"') == ("x", True)
    assert unquote_etag('"x"') == ("x", False)
    assert unquote_etag("x") == ("x", False)
    assert unquote_etag(None) == (None, False)
    with pytest.raises(ValueError, match="double quote"):
        quote_etag('a"b')


@pytest.mark.parametrize("header", HOSTILE)
def test_parse_etags_never_raises(header: str) -> None:
    started = time.perf_counter()
    parse_etags(header)
    assert time.perf_counter() - started < 2


def test_if_range_is_a_date_or_an_etag() -> None:
    by_date = parse_if_range_header("Sun, 06 Nov 1994 08:49:37 GMT")
    assert by_date.date == SUNDAY and by_date.etag is None
    assert by_date.to_header() == "Sun, 06 Nov 1994 08:49:37 GMT" == str(by_date)
    by_tag = parse_if_range_header('"v1"')
    assert (by_tag.etag, by_tag.date, by_tag.weak) == ("v1", None, False)
    assert repr(by_tag) == "<IfRange '\"v1\"'>"
    weak = parse_if_range_header('W/"v1"')
    assert (weak.etag, weak.weak) == ("v1", True) and weak.to_header() == 'W/"v1"'
    for empty in (None, ""):
        nothing = parse_if_range_header(empty)
        assert nothing.etag is None and nothing.date is None and nothing.to_header() == ""
    assert IfRange().to_header() == ""


# -- User-Agent ---------------------------------------------------------------------


def test_user_agent_is_the_string_with_werkzeugs_attributes() -> None:
    agent = UserAgent("Mozilla/5.0 (X11)")
    assert agent == "Mozilla/5.0 (X11)" and isinstance(agent, str)
    assert agent.string == "Mozilla/5.0 (X11)" == agent.to_header() == str(agent)
    assert agent.browser is None and agent.platform is None
    assert agent.version is None and agent.language is None
