"""The Werkzeug-style data structures: ``MultiDict`` (query strings and
forms), ``ImmutableMultiDict``, ``CombinedMultiDict`` and ``Headers``."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from flaskish.datastructures import CombinedMultiDict, Headers, ImmutableMultiDict, MultiDict
from flaskish.exceptions import BadRequest, BadRequestKeyError

PAIRS = [("a", "1"), ("b", "2"), ("a", "3")]


@pytest.fixture
def md() -> MultiDict[str]:
    return MultiDict(PAIRS)


# -- MultiDict: construction and reading -------------------------------------------------


def test_multidict_from_pairs_keeps_every_value_in_order(md: MultiDict[str]) -> None:
    assert md["a"] == "1"
    assert md["b"] == "2"
    assert md.getlist("a") == ["1", "3"]
    assert list(md) == ["a", "b"]
    assert len(md) == 2


def test_multidict_from_a_dict_with_list_values() -> None:
    d = MultiDict({"a": ["1", "2"], "b": "3", "c": ("4",)})
    assert d.getlist("a") == ["1", "2"]
    assert d.getlist("b") == ["3"]
    assert d.getlist("c") == ["4"]


def test_multidict_from_another_multidict_is_a_copy(md: MultiDict[str]) -> None:
    other = MultiDict(md)
    assert other == md
    other.add("a", "5")
    assert md.getlist("a") == ["1", "3"]


def test_empty_multidict() -> None:
    d: MultiDict[str] = MultiDict()
    assert len(d) == 0
    assert not d
    assert d.to_dict() == {}


def test_missing_key_raises_bad_request_key_error(md: MultiDict[str]) -> None:
    with pytest.raises(BadRequestKeyError) as info:
        md["missing"]
    error = info.value
    assert isinstance(error, KeyError)
    assert isinstance(error, BadRequest)
    assert error.code == 400


def test_missing_key_can_be_caught_as_key_error(md: MultiDict[str]) -> None:
    with pytest.raises(KeyError):
        md["missing"]


def test_get_returns_the_first_value_or_the_default(md: MultiDict[str]) -> None:
    assert md.get("a") == "1"
    assert md.get("missing") is None
    assert md.get("missing", "default") == "default"


def test_get_with_type_converts(md: MultiDict[str]) -> None:
    assert md.get("a", type=int) == 1
    assert md.get("missing", 7, type=int) == 7


def test_get_with_failing_conversion_returns_the_default() -> None:
    d = MultiDict({"page": "abc", "none": ""})
    assert d.get("page", type=int) is None
    assert d.get("page", 1, type=int) == 1
    assert d.get("none", -1, type=int) == -1


def test_get_with_a_type_raising_type_error_returns_the_default() -> None:
    def strict(value: Any) -> Any:
        raise TypeError("nope")

    assert MultiDict({"a": "1"}).get("a", "fallback", type=strict) == "fallback"


def test_getlist_missing_key_is_empty(md: MultiDict[str]) -> None:
    assert md.getlist("missing") == []


def test_getlist_with_type_skips_values_that_do_not_convert() -> None:
    d = MultiDict([("n", "1"), ("n", "x"), ("n", "3")])
    assert d.getlist("n", type=int) == [1, 3]


def test_getlist_returns_a_copy(md: MultiDict[str]) -> None:
    values = md.getlist("a")
    values.append("changed")
    assert md.getlist("a") == ["1", "3"]


def test_contains(md: MultiDict[str]) -> None:
    assert "a" in md
    assert "missing" not in md


def test_to_dict(md: MultiDict[str]) -> None:
    assert md.to_dict() == {"a": "1", "b": "2"}
    assert md.to_dict(flat=True) == {"a": "1", "b": "2"}
    assert md.to_dict(flat=False) == {"a": ["1", "3"], "b": ["2"]}


def test_items_keys_values_and_lists(md: MultiDict[str]) -> None:
    assert list(md.items()) == [("a", "1"), ("b", "2")]
    assert list(md.items(multi=True)) == [("a", "1"), ("a", "3"), ("b", "2")]
    assert list(md.keys()) == ["a", "b"]
    assert list(md.values()) == ["1", "2"]
    assert list(md.lists()) == [("a", ["1", "3"]), ("b", ["2"])]
    assert list(md.listvalues()) == [["1", "3"], ["2"]]


def test_repr_shows_every_pair(md: MultiDict[str]) -> None:
    assert repr(md) == "MultiDict([('a', '1'), ('a', '3'), ('b', '2')])"


# -- MultiDict: writing ------------------------------------------------------------------------


def test_setitem_replaces_every_value(md: MultiDict[str]) -> None:
    md["a"] = "new"
    assert md.getlist("a") == ["new"]


def test_delitem(md: MultiDict[str]) -> None:
    del md["a"]
    assert "a" not in md
    with pytest.raises(KeyError):
        del md["a"]


def test_add_keeps_existing_values(md: MultiDict[str]) -> None:
    md.add("a", "4")
    md.add("c", "5")
    assert md.getlist("a") == ["1", "3", "4"]
    assert md["c"] == "5"


def test_setlist_replaces_every_value(md: MultiDict[str]) -> None:
    md.setlist("a", ["x", "y"])
    assert md.getlist("a") == ["x", "y"]
    md.setlist("new", iter(["z"]))
    assert md.getlist("new") == ["z"]


def test_setdefault(md: MultiDict[str]) -> None:
    assert md.setdefault("a", "ignored") == "1"
    assert md.getlist("a") == ["1", "3"]
    assert md.setdefault("c", "default") == "default"
    assert md.getlist("c") == ["default"]


def test_setlistdefault(md: MultiDict[str]) -> None:
    assert md.setlistdefault("a", ["ignored"]) == ["1", "3"]
    values = md.setlistdefault("c", ["x"])
    assert values == ["x"]
    values.append("y")
    assert md.getlist("c") == ["x", "y"]


def test_update_adds_values_instead_of_replacing(md: MultiDict[str]) -> None:
    md.update({"a": "4", "c": ["5", "6"]})
    assert md.getlist("a") == ["1", "3", "4"]
    assert md.getlist("c") == ["5", "6"]
    md.update(MultiDict([("b", "7"), ("b", "8")]))
    assert md.getlist("b") == ["2", "7", "8"]
    md.update([("d", "9")])
    assert md["d"] == "9"


def test_pop_returns_the_first_value_and_removes_the_key(md: MultiDict[str]) -> None:
    assert md.pop("a") == "1"
    assert "a" not in md


def test_pop_missing_key(md: MultiDict[str]) -> None:
    assert md.pop("missing", "default") == "default"
    assert md.pop("missing", None) is None
    with pytest.raises(BadRequestKeyError):
        md.pop("missing")


def test_poplist(md: MultiDict[str]) -> None:
    assert md.poplist("a") == ["1", "3"]
    assert "a" not in md
    assert md.poplist("a") == []


def test_popitem(md: MultiDict[str]) -> None:
    key, value = md.popitem()
    assert (key, value) in [("a", "1"), ("b", "2")]
    assert key not in md
    assert len(md) == 1


def test_clear(md: MultiDict[str]) -> None:
    md.clear()
    assert len(md) == 0


def test_copy_is_independent(md: MultiDict[str]) -> None:
    for duplicate in (md.copy(), copy.copy(md)):
        assert duplicate == md
        assert type(duplicate) is MultiDict
        duplicate.add("a", "changed")
        duplicate["b"] = "changed"
        assert md.getlist("a") == ["1", "3"]
        assert md["b"] == "2"


def test_equality() -> None:
    assert MultiDict(PAIRS) == MultiDict(PAIRS)
    assert MultiDict([("a", "1"), ("a", "2")]) != MultiDict([("a", "1")])
    assert MultiDict([("a", "1"), ("a", "2")]) != MultiDict([("a", "2"), ("a", "1")])
    assert MultiDict([("a", "1")]) != MultiDict([("b", "1")])
    assert MultiDict(PAIRS) == ImmutableMultiDict(PAIRS)


def test_multidict_is_not_hashable(md: MultiDict[str]) -> None:
    with pytest.raises(TypeError):
        hash(md)


# -- ImmutableMultiDict ------------------------------------------------------------------------


MUTATIONS: list[tuple[str, Callable[[Any], Any]]] = [
    ("setitem", lambda d: d.__setitem__("a", "x")),
    ("delitem", lambda d: d.__delitem__("a")),
    ("add", lambda d: d.add("a", "x")),
    ("setlist", lambda d: d.setlist("a", ["x"])),
    ("setdefault", lambda d: d.setdefault("c", "x")),
    ("setdefault existing", lambda d: d.setdefault("a", "x")),
    ("setlistdefault", lambda d: d.setlistdefault("c", ["x"])),
    ("update", lambda d: d.update({"c": "x"})),
    ("pop", lambda d: d.pop("a")),
    ("pop default", lambda d: d.pop("missing", None)),
    ("poplist", lambda d: d.poplist("a")),
    ("popitem", lambda d: d.popitem()),
    ("clear", lambda d: d.clear()),
]


@pytest.mark.parametrize(("name", "mutate"), MUTATIONS, ids=[name for name, _ in MUTATIONS])
def test_immutable_multidict_refuses_mutation(name: str, mutate: Callable[[Any], Any]) -> None:
    d = ImmutableMultiDict(PAIRS)
    with pytest.raises(TypeError):
        mutate(d)
    assert list(d.items(multi=True)) == [("a", "1"), ("a", "3"), ("b", "2")]


def test_immutable_multidict_reads_like_a_multidict() -> None:
    d = ImmutableMultiDict(PAIRS)
    assert d["a"] == "1"
    assert d.getlist("a") == ["1", "3"]
    assert d.get("b", type=int) == 2
    assert d.to_dict(flat=False) == {"a": ["1", "3"], "b": ["2"]}
    with pytest.raises(BadRequestKeyError):
        d["missing"]


def test_immutable_multidict_is_hashable() -> None:
    d = ImmutableMultiDict(PAIRS)
    assert hash(d) == hash(ImmutableMultiDict(PAIRS))
    assert {d: "value"}[ImmutableMultiDict(PAIRS)] == "value"


def test_immutable_multidict_copy_is_mutable() -> None:
    d = ImmutableMultiDict(PAIRS)
    mutable = d.copy()
    assert type(mutable) is MultiDict
    mutable.add("a", "x")
    assert d.getlist("a") == ["1", "3"]


# -- CombinedMultiDict ---------------------------------------------------------------------------


def test_combined_multidict_searches_the_dicts_in_order() -> None:
    args = MultiDict([("q", "from args"), ("page", "1")])
    form = MultiDict([("q", "from form"), ("name", "ada")])
    combined = CombinedMultiDict([args, form])
    assert combined["q"] == "from args"
    assert combined["name"] == "ada"
    assert combined.get("page", type=int) == 1
    assert combined.getlist("q") == ["from args", "from form"]
    assert "name" in combined
    assert "missing" not in combined
    assert combined.get("missing") is None
    assert sorted(combined) == ["name", "page", "q"]
    assert len(combined) == 3
    assert combined.to_dict() == {"q": "from args", "page": "1", "name": "ada"}
    assert combined.dicts == [args, form]
    with pytest.raises(BadRequestKeyError):
        combined["missing"]


def test_combined_multidict_is_read_only() -> None:
    combined = CombinedMultiDict([MultiDict({"a": "1"})])
    with pytest.raises(TypeError):
        combined["a"] = "2"
    with pytest.raises(TypeError):
        combined.add("a", "2")
    with pytest.raises(TypeError):
        combined.pop("a")


def test_combined_multidict_copy_is_a_mutable_multidict() -> None:
    combined = CombinedMultiDict([MultiDict({"a": "1"}), MultiDict({"a": "2"})])
    mutable = combined.copy()
    assert type(mutable) is MultiDict
    assert mutable.getlist("a") == ["1", "2"]
    mutable.add("b", "3")
    assert "b" not in combined


def test_combined_multidict_is_a_view_of_the_wrapped_dicts() -> None:
    first: MultiDict[str] = MultiDict()
    combined = CombinedMultiDict([first])
    first.add("late", "value")
    assert combined["late"] == "value"


# -- Headers --------------------------------------------------------------------------------------


def test_headers_are_case_insensitive() -> None:
    h = Headers()
    h["Content-Type"] = "text/plain"
    assert h["content-type"] == "text/plain"
    assert h["CONTENT-TYPE"] == "text/plain"
    assert h.get("Content-type") == "text/plain"
    assert "content-TYPE" in h
    assert "X-Missing" not in h
    h["CONTENT-type"] = "text/html"
    assert h.getlist("Content-Type") == ["text/html"]


def test_headers_from_a_mapping_and_from_pairs() -> None:
    assert Headers({"X-One": "1"})["x-one"] == "1"
    h = Headers([("X-Multi", "a"), ("X-Multi", "b")])
    assert h.getlist("x-multi") == ["a", "b"]
    assert Headers(h).getlist("X-Multi") == ["a", "b"]


def test_headers_missing_key() -> None:
    h = Headers()
    with pytest.raises(KeyError):
        h["X-Missing"]
    assert h.get("X-Missing") is None
    assert h.get("X-Missing", "default") == "default"
    assert h.getlist("X-Missing") == []


def test_headers_add_keeps_existing_values() -> None:
    h = Headers()
    h.add("Set-Cookie", "a=1")
    h.add("Set-Cookie", "b=2")
    assert h.getlist("set-cookie") == ["a=1", "b=2"]
    assert h["Set-Cookie"] == "a=1"


def test_headers_add_with_parameters() -> None:
    h = Headers()
    h.add("Content-Disposition", "attachment", filename="foo.png")
    assert h["Content-Disposition"] == "attachment; filename=foo.png"


def test_headers_add_parameter_names_use_dashes_and_none_is_a_flag() -> None:
    h = Headers()
    h.add("X-Options", "value", max_age=10, secure=None)
    assert h["X-Options"] == "value; max-age=10; secure"


@pytest.mark.parametrize(
    ("param", "expected"),
    [
        ("my file.txt", 'attachment; filename="my file.txt"'),
        pytest.param(
            'say "hi".txt',
            'attachment; filename="say \\"hi\\".txt"',
        ),
        pytest.param(
            "a/b=c.txt",
            'attachment; filename="a/b=c.txt"',
        ),
        pytest.param(
            "",
            'attachment; filename=""',
        ),
    ],
)
def test_headers_add_quotes_parameters_when_needed(param: str, expected: str) -> None:
    h = Headers()
    h.add("Content-Disposition", "attachment", filename=param)
    assert h["Content-Disposition"] == expected


def test_headers_set_replaces_every_value() -> None:
    h = Headers([("X-Value", "1"), ("Other", "o"), ("X-Value", "2")])
    h.set("x-value", "3")
    assert h.getlist("X-Value") == ["3"]
    assert h["Other"] == "o"
    h.set("Content-Type", "text/html", charset="utf-8")
    assert h["Content-Type"] == "text/html; charset=utf-8"


def test_headers_setitem_keeps_the_position_of_the_first_value() -> None:
    h = Headers([("A", "1"), ("B", "2"), ("A", "3")])
    h["A"] = "new"
    assert [(k.lower(), v) for k, v in h.items()] == [("a", "new"), ("b", "2")]


def test_headers_setdefault() -> None:
    h = Headers({"X-Set": "original"})
    assert h.setdefault("X-Set", "ignored") == "original"
    assert h.setdefault("X-New", "default") == "default"
    assert h["X-New"] == "default"


def test_headers_extend_keeps_existing_values() -> None:
    h = Headers({"X-Value": "1"})
    h.extend({"X-Value": "2", "X-List": ["a", "b"]})
    h.extend([("X-Value", "3")])
    h.extend(Headers({"X-Other": "o"}))
    assert h.getlist("X-Value") == ["1", "2", "3"]
    assert h.getlist("X-List") == ["a", "b"]
    assert h["X-Other"] == "o"


def test_headers_update_replaces_values() -> None:
    h = Headers([("X-Value", "1"), ("X-Value", "2"), ("X-Keep", "k")])
    h.update({"X-Value": "3"})
    assert h.getlist("X-Value") == ["3"]
    assert h["X-Keep"] == "k"
    h.update({"X-Value": ["4", "5"]})
    assert h.getlist("X-Value") == ["4", "5"]
    h.update([("X-Pair", "p")])
    assert h["X-Pair"] == "p"


def test_headers_get_with_type() -> None:
    h = Headers({"Content-Length": "42", "X-Bad": "not a number"})
    assert h.get("Content-Length", type=int) == 42
    assert h.get("X-Bad", type=int) is None
    assert h.get("X-Bad", -1, type=int) == -1
    assert h.get("X-Missing", 0, type=int) == 0


def test_headers_getlist_with_type() -> None:
    h = Headers([("X-N", "1"), ("X-N", "two"), ("X-N", "3")])
    assert h.getlist("x-n") == ["1", "two", "3"]
    assert h.getlist("x-n", type=int) == [1, 3]


def test_headers_remove() -> None:
    h = Headers([("X-Value", "1"), ("X-Keep", "k"), ("x-value", "2")])
    h.remove("X-VALUE")
    assert "X-Value" not in h
    assert h["X-Keep"] == "k"
    h.remove("X-Missing")  # no error
    del h["X-Keep"]
    assert len(h) == 0


def test_headers_copy_is_independent() -> None:
    h = Headers({"X-Value": "1"})
    duplicate = h.copy()
    assert isinstance(duplicate, Headers)
    duplicate["X-Value"] = "2"
    duplicate.add("X-New", "n")
    assert h["X-Value"] == "1"
    assert "X-New" not in h
    assert duplicate["X-Value"] == "2"


def test_headers_convert_numbers_to_strings() -> None:
    h = Headers({"X-Int": 1})
    h["Content-Length"] = 42
    h.add("X-Float", 1.5)
    h.set("X-Set", 7)
    assert h["X-Int"] == "1"
    assert h["Content-Length"] == "42"
    assert h["X-Float"] == "1.5"
    assert h["X-Set"] == "7"


NEWLINE_WRITES: list[tuple[str, Callable[[Headers], Any]]] = [
    ("setitem", lambda h: h.__setitem__("X-Bad", "a\nb")),
    ("setitem cr", lambda h: h.__setitem__("X-Bad", "a\rb")),
    ("add", lambda h: h.add("X-Bad", "a\r\nSet-Cookie: evil=1")),
    ("set", lambda h: h.set("X-Bad", "a\nb")),
    ("extend", lambda h: h.extend({"X-Bad": "a\nb"})),
    ("update", lambda h: h.update({"X-Bad": "a\nb"})),
    ("constructor", lambda h: Headers({"X-Bad": "a\nb"})),
]


@pytest.mark.parametrize(
    ("name", "write"), NEWLINE_WRITES, ids=[name for name, _ in NEWLINE_WRITES]
)
def test_headers_refuse_newlines_in_values(name: str, write: Callable[[Headers], Any]) -> None:
    h = Headers()
    with pytest.raises(ValueError):
        write(h)
    assert "X-Bad" not in h
    assert "Set-Cookie" not in h


def test_headers_items_are_name_value_pairs() -> None:
    h = Headers()
    h["Content-Type"] = "text/plain"
    h.add("Set-Cookie", "a=1")
    h.add("Set-Cookie", "b=2")
    pairs = list(h.items())
    assert all(isinstance(pair, tuple) and len(pair) == 2 for pair in pairs)
    assert [(name.lower(), value) for name, value in pairs] == [
        ("content-type", "text/plain"),
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
    ]
    assert len(h) == 3
    assert [(name.lower(), value) for name, value in h.to_wsgi_list()] == [
        (name.lower(), value) for name, value in pairs
    ]


def test_headers_pop() -> None:
    h = Headers([("X-Value", "1"), ("X-Keep", "k"), ("X-Value", "2")])
    assert h.pop("x-value") == "1"
    assert "X-Value" not in h
    assert h.pop("X-Missing", None) is None
    with pytest.raises(KeyError):
        h.pop("X-Missing")


def test_headers_clear() -> None:
    h = Headers({"X-Value": "1", "X-Other": "2"})
    h.clear()
    assert len(h) == 0
