"""The debug error page: what the browser is shown, in Werkzeug's
debugger's place, when a request fails in debug mode (``app.debug``).

It leads with the app's own frames. Frames are of three kinds, by file:

* ``flaskish``: under the flaskish package directory;
* ``library``: the standard library (anyio, asyncio, threading,
  ``concurrent.futures``...), anything in a ``site-packages`` or
  ``dist-packages`` directory (starlette, uvicorn, jinja2, extensions), and
  frozen modules;
* ``app``: everything else (the app, its tests, ``<string>``).

Each run of consecutive ``flaskish`` and ``library`` frames is folded into
one ``<details>`` (a click shows it), unless the exception has no app frame
at all. Each frame shows its source around the line and its local
variables: each value's ``repr`` cut to :data:`REPR_LIMIT` characters, a
``repr`` that raises shown as ``<repr failed: ...>``, and the value of every
name matching :data:`SECRET_NAMES` (locals, dictionary keys, header names)
masked (query parameters too, in URLs and in any ``repr``). The request
(method, URL, headers with their secrets masked, the form's keys if the
view had parsed it; the body is never read here), the endpoint, its view's
kind (``def`` / ``async def``) and the thread that ran the failing step are
shown too, then the plain-text traceback with a copy button. There is no
console: nothing on the page runs code on the server.
"""

from __future__ import annotations

import linecache
import os
import re
import reprlib
import sysconfig
import threading
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from werkzeug.datastructures import Headers, MultiDict

from .concurrency import in_worker_thread, is_async_callable
from .globals import _cv_request

__all__ = ["REPR_LIMIT", "SECRET_NAMES", "debug_page_html", "failing_thread"]

#: A local, dictionary key or header whose name contains one of these
#: (any case) has its value masked. Substrings, so ``api_key``,
#: ``X-Auth-Token`` and ``SECRET_KEY`` are caught, and ``author`` too:
#: masking errs on the side of hiding.
SECRET_NAMES = (
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "key",
    "auth",
    "cookie",
    "session",
    "csrf",
    "credential",
)
#: The longest ``repr`` of a value shown, in characters.
REPR_LIMIT = 200

_SECRET = re.compile("|".join(SECRET_NAMES), re.IGNORECASE)
# A query parameter with such a name, in a URL or in any repr (a request's).
_SECRET_PARAM = re.compile(
    rf"""([?&][^=&#\s'"]*(?:{_SECRET.pattern})[^=&#\s'"]*=)[^&#\s'"]*""", re.IGNORECASE
)
_MASK = "********"
_CONTEXT_LINES = (5, 2)  # source lines shown before and after a frame's line
_MAX_SECTIONS = 30  # exceptions shown, counting chains and groups
_MAX_LOCALS = 60  # locals shown per frame
_TEMPLATE_FILE = Path(__file__).with_name("debug_page.html")


def failing_thread() -> str:
    """Name the current thread for the page, saying whether it is the event
    loop's or a request's worker thread. The pipeline calls it as it starts
    handling an error: it is still on the thread of the step that failed."""
    name = threading.current_thread().name
    if in_worker_thread():
        return f"{name} (a worker thread: the request's def steps run there)"
    return f"{name} (the event loop's thread: async def steps run there)"


# -- which frames are whose ------------------------------------------------

_FLASKISH_DIR = os.path.dirname(os.path.normpath(__file__)) + os.sep
_LIBRARY_DIRS = tuple(
    sorted(
        {
            os.path.normpath(path) + os.sep
            for key, path in sysconfig.get_paths().items()
            if key in ("stdlib", "platstdlib", "purelib", "platlib")
        }
    )
)
_PACKAGE_DIRS = (f"{os.sep}site-packages{os.sep}", f"{os.sep}dist-packages{os.sep}")


def _kind(filename: str) -> str:
    if filename.startswith("<frozen "):
        return "library"
    path = os.path.normpath(filename)
    if path.startswith(_FLASKISH_DIR):
        return "flaskish"
    if path.startswith(_LIBRARY_DIRS) or any(part in path for part in _PACKAGE_DIRS):
        return "library"
    return "app"


# -- values ----------------------------------------------------------------


class _SafeRepr(reprlib.Repr):
    """``reprlib`` with the secrets of mappings, multi-dicts and headers
    masked; an object's own failing ``repr`` is let through to
    :func:`_value`, which shows it as ``<repr failed: ...>`` (``reprlib``
    would hide it behind ``<X instance at ...>``)."""

    def __init__(self) -> None:
        super().__init__()
        self.maxstring = self.maxother = REPR_LIMIT
        self.maxlevel = 3
        self.maxdict = self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = 20
        self.maxdeque = self.maxarray = 20

    def repr1(self, x: Any, level: int) -> str:
        if isinstance(x, (MultiDict, Headers)):
            items = x.items(multi=True) if isinstance(x, MultiDict) else x.items()
            return f"{type(x).__name__}({self._pairs(items, level, '[', ']', True)})"
        if isinstance(x, Mapping):
            body = self._pairs(x.items(), level, "{", "}", False)
            return body if type(x) is dict else f"{type(x).__name__}({body})"
        return super().repr1(x, level)

    def _pairs(
        self, items: Iterable[tuple[Any, Any]], level: int, start: str, end: str, tuples: bool
    ) -> str:
        if level <= 0:
            return f"{start}...{end}"
        shown = []
        for number, (key, value) in enumerate(items):
            if number == self.maxdict:
                shown.append("...")
                break
            text = (
                _MASK
                if isinstance(key, str) and _SECRET.search(key)
                else (self.repr1(value, level - 1))
            )
            pair = self.repr1(key, level - 1), text
            shown.append(f"({pair[0]}, {pair[1]})" if tuples else f"{pair[0]}: {pair[1]}")
        return start + ", ".join(shown) + end

    def repr_instance(self, x: Any, level: int) -> str:
        text = repr(x)  # errors reach _value, which reports them
        if len(text) > self.maxother:
            return text[: self.maxother - 3] + "..."
        return text


_REPR = _SafeRepr()


def _value(name: str, value: Any) -> tuple[str, bool]:
    """The text shown for a local, and whether it is masked."""
    if _SECRET.search(name):
        return _MASK, True
    try:
        text = _REPR.repr(value)
    except Exception as exc:  # a user's __repr__ may raise anything
        text = f"<repr failed: {type(exc).__name__}: {_safe_str(exc)}>"
    text = _mask_query(text)
    if len(text) > REPR_LIMIT:
        text = text[: REPR_LIMIT - 3] + "..."
    return text, False


def _mask_query(text: str) -> str:
    return _SECRET_PARAM.sub(rf"\1{_MASK}", text)


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:
        return f"<str() of the {type(exc).__name__} failed>"


# -- the page's model ------------------------------------------------------


@dataclass
class _Frame:
    kind: str
    filename: str
    lineno: int | None
    function: str
    source: list[tuple[int, str]]
    locals: list[tuple[str, str, bool]]


@dataclass
class _Group:
    folded: bool
    frames: list[_Frame] = field(default_factory=list)

    @property
    def files(self) -> str:
        names = dict.fromkeys(os.path.basename(frame.filename) for frame in self.frames)
        return ", ".join(names)


@dataclass
class _Section:
    type_name: str
    message: str
    notes: list[str]
    relation: str
    depth: int
    groups: list[_Group]


def _source(filename: str, lineno: int | None, module_globals: Any) -> list[tuple[int, str]]:
    """Numbered source lines around *lineno* (linecache: read once per file)."""
    if lineno is None:
        return []
    lines = linecache.getlines(filename, module_globals)
    before, after = _CONTEXT_LINES
    first = max(lineno - before, 1)
    return [
        (number, lines[number - 1].rstrip("\n"))
        for number in range(first, min(lineno + after, len(lines)) + 1)
    ]


def _frames(tb: TracebackType | None) -> list[_Frame]:
    frames = []
    for frame, lineno in traceback.walk_tb(tb):
        code = frame.f_code
        shown = [
            (name, *_value(name, value))
            for name, value in list(frame.f_locals.items())[:_MAX_LOCALS]
            if not (name.startswith("__") and name.endswith("__"))
        ]
        frames.append(
            _Frame(
                _kind(code.co_filename),
                code.co_filename,
                lineno,
                code.co_qualname,
                _source(code.co_filename, lineno, frame.f_globals),
                shown,
            )
        )
    return frames


def _groups(frames: list[_Frame]) -> list[_Group]:
    """Runs of frames: the app's shown, the others folded (all shown when
    none is the app's: the error is flaskish's or a library's own)."""
    fold = any(frame.kind == "app" for frame in frames)
    groups: list[_Group] = []
    for frame in frames:
        folded = fold and frame.kind != "app"
        if not groups or groups[-1].folded != folded or not folded:
            groups.append(_Group(folded))
        groups[-1].frames.append(frame)
    return groups


def _type_name(exc: BaseException) -> str:
    kind = type(exc)
    if kind.__module__ in ("builtins", "__main__"):
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def _sections(exc: BaseException) -> list[_Section]:
    """The exception, then what it was raised from or while handling, and
    each member of an exception group under its group: most recent first."""
    sections: list[_Section] = []
    seen: set[int] = set()
    todo: list[tuple[BaseException, str, int]] = [(exc, "", 0)]
    while todo and len(sections) < _MAX_SECTIONS:
        current, relation, depth = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        notes = getattr(current, "__notes__", None)
        sections.append(
            _Section(
                _type_name(current),
                _safe_str(current),
                [str(note) for note in notes] if isinstance(notes, list) else [],
                relation,
                depth,
                _groups(_frames(current.__traceback__)),
            )
        )
        later: list[tuple[BaseException, str, int]] = []
        if isinstance(current, BaseExceptionGroup):
            count = len(current.exceptions)
            later += [
                (member, f"Exception {number} of {count} in the group above", depth + 1)
                for number, member in enumerate(current.exceptions, 1)
            ]
        if current.__cause__ is not None:
            later.append(
                (
                    current.__cause__,
                    "The direct cause of the exception above (raise ... from)",
                    depth,
                )
            )
        elif current.__context__ is not None and not current.__suppress_context__:
            later.append(
                (
                    current.__context__,
                    "The exception above was raised while handling this one",
                    depth,
                )
            )
        todo += reversed(later)
    return sections


def _request() -> dict[str, Any] | None:
    """What the page says about the request, read without I/O."""
    ctx = _cv_request.get(None)
    if ctx is None:
        return None
    request = ctx.request

    def read(get: Any) -> Any:
        try:
            return get()
        except Exception as exc:  # an untrusted Host, a malformed header
            return f"<unavailable: {_safe_str(exc)}>"

    headers = []
    for name, value in request.headers.items():
        if name.lower() == "cookie":
            cookies = read(lambda: ", ".join(request.cookies))
            value = f"{_MASK} (cookies: {cookies})" if cookies else _MASK
        elif _SECRET.search(name):
            value = _MASK
        headers.append((name, value))
    form = getattr(request, "_form", None)  # only if the view already parsed it
    endpoint = request.endpoint
    view = ctx.app.view_functions.get(endpoint) if endpoint is not None else None
    return {
        "method": request.method,
        "url": _mask_query(str(read(lambda: request.url))),
        "headers": headers,
        "form_keys": None if form is None else list(dict.fromkeys(form.keys())),
        "endpoint": endpoint,
        "view": None if view is None else _view_name(view),
        "view_kind": None if view is None else ("async def" if is_async_callable(view) else "def"),
        "view_args": [
            (name, *_value(name, value)) for name, value in (request.view_args or {}).items()
        ],
    }


def _view_name(view: Any) -> str:
    name = getattr(view, "__qualname__", None) or type(view).__qualname__
    module = getattr(view, "__module__", None)
    return f"{module}.{name}" if module else str(name)


def debug_page_html(exc: BaseException, thread: str | None = None) -> str:
    """The debug page for *exc* as HTML, every value escaped.

    :param thread: the thread that ran the failing step
        (:func:`failing_thread`, called where the error was caught).
    """
    sections = _sections(exc)
    leading = next(
        (
            frame
            for frame in reversed([f for g in sections[0].groups for f in g.frames])
            if frame.kind == "app"
        ),
        None,
    )
    return _template().render(
        sections=sections,
        leading=leading,
        request=_request(),
        thread=thread,
        text="".join(traceback.format_exception(exc)),
        mask=_MASK,
    )


@cache
def _template() -> jinja2.Template:
    """The page's template (``debug_page.html``, package data beside this
    module), read once per process, in a private environment: the app's
    template settings never reach it."""
    source = _TEMPLATE_FILE.read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(source)
