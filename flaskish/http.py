"""HTTP header parsing, and the header types ``request.*`` attributes return.

Names and behaviour follow ``werkzeug.http`` and ``werkzeug.datastructures``
so Flask code keeps working: :class:`MIMEAccept` (``request.accept_mimetypes``),
:class:`Authorization`, :class:`Range`, :class:`ETags`, :func:`parse_date`...

Every parser takes what a client sent, so none of them raises on bad input:
a malformed header gives ``None`` (or an empty value), never an exception.
They run in linear time, so a huge or hostile header costs only its length.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from encodings import normalize_encoding
from encodings.aliases import aliases as _encoding_aliases
from typing import Any
from urllib.parse import unquote

__all__ = [
    "Authorization",
    "UserAgent",
    "dump_options_header",
    "parse_date",
    "parse_dict_header",
    "parse_list_header",
    "parse_options_header",
    "quote_header_value",
]


# RFC 9110 token characters: a value made only of these needs no quotes.
_token_re = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# A quoted-pair inside a quoted string: backslash and any one character.
_quoted_pair_re = re.compile(r"\\(.)", re.DOTALL)


# -- generic header syntax -----------------------------------------------------


def _split(value: str, separator: str) -> list[str]:
    """*value* split at *separator*, except inside double-quoted strings.
    An unterminated quote runs to the end of the value."""
    if '"' not in value:
        return value.split(separator)  # the common case, without a loop
    parts: list[str] = []
    start = 0
    quoted = escaped = False
    for index, char in enumerate(value):
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append(value[start:index])
            start = index + 1
    parts.append(value[start:])
    return parts


def _unquote(value: str) -> str:
    """A quoted string's content (quoted-pairs resolved); other values as they are."""
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return _quoted_pair_re.sub(r"\1", value[1:-1])
    return value


def _decode_extended(value: str) -> str:
    """An RFC 8187 extended value (``UTF-8''%C3%A9.txt``), decoded. RFC 8187
    needs only UTF-8 and ISO-8859-1; any other charset is read as UTF-8, so a
    client cannot make the server look up (and import) codecs."""
    charset, _, rest = value.partition("'")
    _language, _, encoded = rest.partition("'")
    latin = _charset_key(charset) == "latin_1"
    return unquote(encoded, encoding="latin-1" if latin else "utf-8", errors="replace")


def _parameters(items: Iterable[str], options: bool) -> dict[str, str | None]:
    """``name=value`` items as a dict: values unquoted, ``name*=`` extended
    values decoded (they win over the plain ones), bare names mapped to ``None``.
    For an options header (*options*), names are lower-cased and must be tokens."""
    result: dict[str, str | None] = {}
    extended: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        star = bool(sep) and name.endswith("*")
        name = name[:-1] if star else name
        if options:
            name = name.lower()
        if not name or (options and not _token_re.fullmatch(name)):
            continue  # not a parameter name: garbage, skipped
        value = _unquote(value.strip())
        if not sep:
            result[name] = None
        elif star and value.count("'") >= 2:
            extended[name] = _decode_extended(value)
        else:
            result[name] = value
    result.update(extended)
    return result


def quote_header_value(value: Any) -> str:
    """*value* as a header token, or as a quoted string if it needs one.

    :param value: the value; turned into a string first.
    """
    text = str(value)
    if _token_re.fullmatch(text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def dump_options_header(header: str | None, options: Mapping[str, Any]) -> str:
    """The reverse of :func:`parse_options_header`: ``text/html; charset=utf-8``.

    :param header: the value before the parameters.
    :param options: the parameters; a ``None`` value writes the bare name.
    """
    parts = [header] if header else []
    for name, value in options.items():
        parts.append(name if value is None else f"{name}={quote_header_value(value)}")
    return "; ".join(parts)


def parse_list_header(value: str) -> list[str]:
    """A comma-separated header as a list: ``'a, "b, c"'`` gives ``["a", "b, c"]``.

    :param value: the header value. Empty items are left out; quoted items
        are unquoted.
    """
    return [_unquote(item) for part in _split(value, ",") if (item := part.strip())]


def parse_dict_header(value: str) -> dict[str, str | None]:
    """A comma-separated ``name=value`` header as a dict, e.g. the parameters
    of ``Authorization: Digest``. Names without ``=`` map to ``None``.

    :param value: the header value.
    """
    return _parameters(_split(value, ","), options=False)


def parse_options_header(value: str | None) -> tuple[str, dict[str, str]]:
    """A header with ``;`` parameters: ``'text/html; charset="utf-8"'`` gives
    ``("text/html", {"charset": "utf-8"})``.

    :param value: the header value. Parameter names are lower-cased, values
        unquoted, RFC 8187 ``name*=UTF-8''...`` values decoded; parameters
        without a value are left out.
    """
    if not value:
        return "", {}
    first, *rest = _split(value, ";")
    first = first.strip()
    if not first:
        return "", {}
    params = _parameters(rest, options=True)
    return first, {name: param for name, param in params.items() if param is not None}


def _charset_key(name: str) -> str:
    # Dictionary lookups only: codecs.lookup() may import modules, which is
    # file I/O, and would block the event loop in an async view.
    key = normalize_encoding(name.lower())
    return _encoding_aliases.get(key, key)


# -- dates ----------------------------------------------------------------------


def parse_date(value: str | None) -> datetime | None:
    """An HTTP date (all three RFC 9110 formats) as an aware UTC datetime.

    :param value: the header value; ``None`` or anything unparseable gives ``None``.
    """
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:  # asctime dates carry no zone: they are GMT
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # an offset that moves the date past year 1 or 9999
        return None


# -- Authorization --------------------------------------------------------------


class Authorization:
    """The credentials of an ``Authorization`` header (``request.authorization``).

    ``Basic`` gives :attr:`username` and :attr:`password`; a single token
    (``Bearer ...``) gives :attr:`token`; ``name=value`` credentials
    (``Digest ...``) give :attr:`parameters`, also readable as attributes
    (``auth.realm``), with :meth:`get` or ``auth["realm"]``.

    :param auth_type: the scheme, lower case (``"basic"``, ``"bearer"``).
    :param data: the parameters.
    :param token: the token, for token schemes.
    """

    def __init__(
        self,
        auth_type: str,
        data: Mapping[str, str | None] | None = None,
        token: str | None = None,
    ) -> None:
        self.type = auth_type
        self.parameters: dict[str, str | None] = dict(data or {})
        self.token = token

    def __getattr__(self, name: str) -> str | None:
        # Only called for names not found normally: parameters as attributes.
        if name.startswith("_") or name == "parameters":
            raise AttributeError(name)
        return self.parameters.get(name)

    @property
    def username(self) -> str | None:
        """The user name (``Basic`` and ``Digest``)."""
        return self.parameters.get("username")

    @property
    def password(self) -> str | None:
        """The password (``Basic``)."""
        return self.parameters.get("password")

    def __getitem__(self, name: str) -> str | None:
        return self.parameters.get(name)

    def get(self, key: str, default: str | None = None) -> str | None:
        """The parameter *key*, or *default*.

        :param key: a parameter name, e.g. ``"username"`` or ``"realm"``.
        :param default: returned if the parameter is absent.
        """
        return self.parameters.get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.parameters

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Authorization):
            return NotImplemented
        return (self.type, self.parameters, self.token) == (
            other.type,
            other.parameters,
            other.token,
        )

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def from_header(cls, value: str | None) -> Authorization | None:
        """Parse an ``Authorization`` header; ``None`` if absent or malformed.

        :param value: the header value.
        """
        if not value:
            return None
        scheme, _, credentials = value.strip().partition(" ")
        scheme, credentials = scheme.lower(), credentials.strip()
        if not scheme:
            return None
        if scheme == "basic":
            try:
                decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
            except ValueError:  # binascii.Error, UnicodeDecodeError, non-ASCII text
                return None
            username, _, password = decoded.partition(":")
            return cls(scheme, {"username": username, "password": password})
        if "=" in credentials.rstrip("="):  # "=" not only as base64 padding
            return cls(scheme, parse_dict_header(credentials))
        return cls(scheme, None, credentials)

    def to_header(self) -> str:
        """The header value."""
        if self.type == "basic":
            raw = f"{self.username or ''}:{self.password or ''}".encode()
            return f"Basic {base64.b64encode(raw).decode('ascii')}"
        if self.token is not None:
            return f"{self.type.title()} {self.token}"
        params = ", ".join(
            f"{name}={quote_header_value(value)}"
            for name, value in self.parameters.items()
            if value is not None
        )
        return f"{self.type.title()} {params}"

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()!r}>"


# -- User-Agent -----------------------------------------------------------------


class UserAgent(str):
    """``request.user_agent``: the ``User-Agent`` string, with Werkzeug's
    ``.string``. Like Werkzeug's default, it does not guess the browser:
    :attr:`platform`, :attr:`browser`, :attr:`version` and :attr:`language`
    are ``None``. Unlike Werkzeug, it is true when the header is not empty.
    """

    __slots__ = ()
    platform: str | None = None
    browser: str | None = None
    version: str | None = None
    language: str | None = None

    @property
    def string(self) -> str:
        """The header value."""
        return str(self)

    def to_header(self) -> str:
        """The header value."""
        return str(self)


# The header types of the other modules, importable from here too (as from
# werkzeug.http); looked up on use, since those modules import this one.
_ELSEWHERE = {
    "Accept": "accept", "CharsetAccept": "accept", "LanguageAccept": "accept",
    "MIMEAccept": "accept", "parse_accept_header": "accept",
    "ETags": "conditional", "IfRange": "conditional", "Range": "conditional",
    "parse_etags": "conditional", "parse_if_range_header": "conditional",
    "parse_range_header": "conditional", "quote_etag": "conditional",
    "unquote_etag": "conditional",
}


def __getattr__(name: str) -> Any:
    module = _ELSEWHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"flaskish.{module}"), name)
