"""URL converters: how a rule variable such as ``<int:id>`` is matched,
converted for the view, and written back into a URL.

Converters belong to an app's :class:`~flaskish.routing.Map`
(``app.url_map.converters``), never to a process-wide table.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from starlette.convertors import Convertor

if TYPE_CHECKING:
    from .url_map import Map

__all__ = [
    "DEFAULT_CONVERTERS",
    "AnyConverter",
    "BaseConverter",
    "FloatConverter",
    "IntegerConverter",
    "NumberConverter",
    "PathConverter",
    "UUIDConverter",
    "UnicodeConverter",
    "ValidationError",
    "parse_converter_args",
]


class ValidationError(ValueError):
    """Raised by a converter's ``to_python`` to say "this rule does not
    match"; matching goes on with the next rule."""


class BaseConverter:
    """Base class of URL converters. A converter has a :attr:`regex` for one
    variable, turns the matched text into a value (:meth:`to_python`) and a
    value back into URL text (:meth:`to_url`).

    Register your own per app::

        class ListConverter(BaseConverter):
            def to_python(self, value):
                return value.split(",")
            def to_url(self, values):
                return ",".join(super().to_url(v) for v in values)

        app.url_map.converters["list"] = ListConverter

    :param map: the :class:`Map` the rule belongs to.
    """

    regex: ClassVar[str] = "[^/]+"
    #: Lower weights are tried first among variable segments.
    weight: ClassVar[int] = 100
    #: False if the regex can match a ``/``.
    part_isolating: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "regex" in cls.__dict__ and "part_isolating" not in cls.__dict__:
            cls.part_isolating = "/" not in cls.regex

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        self.map = map

    def to_python(self, value: str) -> Any:
        """The view argument for the matched *value*; raise
        :class:`ValidationError` to reject the match."""
        return value

    def to_url(self, value: Any) -> str:
        """The URL text for *value*."""
        return quote(str(value), safe="!$&'()*+,/:;=@")


class UnicodeConverter(BaseConverter):
    """``<name>``, ``<string:name>``: one path segment (no ``/``).

    :param minlength: the least number of characters (default 1).
    :param maxlength: the most number of characters.
    :param length: exactly this many characters.
    """

    def __init__(
        self,
        map: Map,
        minlength: int = 1,
        maxlength: int | None = None,
        length: int | None = None,
    ) -> None:
        super().__init__(map)
        if length is not None:
            self.regex = f"[^/]{{{int(length)}}}"  # type: ignore[misc]
        else:
            upper = "" if maxlength is None else int(maxlength)
            self.regex = f"[^/]{{{int(minlength)},{upper}}}"  # type: ignore[misc]


class AnyConverter(BaseConverter):
    """``<any(about, help):page>``: one of the given words."""

    def __init__(self, map: Map, *items: str) -> None:
        super().__init__(map)
        if not items:
            raise ValueError("The any() converter needs at least one choice: any(a, b).")
        self.items = set(items)
        self.regex = "(?:{})".format("|".join(re.escape(x) for x in items))  # type: ignore[misc]

    def to_url(self, value: Any) -> str:
        if value in self.items:
            return str(value)
        choices = ", ".join(repr(item) for item in sorted(self.items))
        raise ValueError(f"{value!r} is not one of {choices}")


class PathConverter(BaseConverter):
    """``<path:name>``: the rest of the path, slashes included."""

    regex = "[^/].*?"
    weight = 200
    part_isolating = False


class NumberConverter(BaseConverter):
    """Base of :class:`IntegerConverter` and :class:`FloatConverter`."""

    weight = 50
    num_convert: Any = int

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: float | None = None,
        max: float | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map)
        if signed:
            self.regex = f"-?{self.regex}"  # type: ignore[misc]
        self.fixed_digits = fixed_digits
        self.min = min
        self.max = max
        self.signed = signed

    def to_python(self, value: str) -> Any:
        if self.fixed_digits and len(value) != self.fixed_digits:
            raise ValidationError()
        number = self.num_convert(value)
        if (self.min is not None and number < self.min) or (
            self.max is not None and number > self.max
        ):
            raise ValidationError()
        return number

    def to_url(self, value: Any) -> str:
        text = str(self.num_convert(value))
        return text.zfill(self.fixed_digits) if self.fixed_digits else text


class IntegerConverter(NumberConverter):
    """``<int:id>``: a whole number. ``int(min=1, max=99, fixed_digits=4,
    signed=True)``."""

    regex = r"\d+"


class FloatConverter(NumberConverter):
    """``<float:x>``: a number with a decimal point; ``signed=True`` allows
    a minus sign."""

    regex = r"\d+\.\d+"
    num_convert = float

    def __init__(
        self,
        map: Map,
        min: float | None = None,
        max: float | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(map, min=min, max=max, signed=signed)


class UUIDConverter(BaseConverter):
    """``<uuid:id>``: a UUID, given to the view as :class:`uuid.UUID`."""

    regex = r"[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}"

    def to_python(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_url(self, value: Any) -> str:
        return str(value)


DEFAULT_CONVERTERS: Mapping[str, type[BaseConverter]] = {
    "default": UnicodeConverter,
    "string": UnicodeConverter,
    "any": AnyConverter,
    "path": PathConverter,
    "int": IntegerConverter,
    "float": FloatConverter,
    "uuid": UUIDConverter,
}


class _StarletteConvertor(Convertor[Any]):
    """Our converter seen through Starlette's ``Convertor`` interface, so a
    :class:`Rule` is a complete Starlette route (``param_convertors``)."""

    def __init__(self, converter: BaseConverter) -> None:
        self.converter = converter
        self.regex = converter.regex  # type: ignore[misc]

    def convert(self, value: str) -> Any:
        return self.converter.to_python(value)

    def to_string(self, value: Any) -> str:
        return self.converter.to_url(value)


# -- converter arguments --------------------------------------------------------

_arg_re = re.compile(
    r"""
    \s*
    (?:(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*)?  # optional keyword
    (?P<value>
        "(?:[^"\\]|\\.)*"                         # double-quoted string
      | '(?:[^'\\]|\\.)*'                         # single-quoted string
      | [^\s,"'=]+                                # bare word or number
    )
    \s*(?:,|$)                                    # separator or the end
    """,
    re.VERBOSE,
)


def _arg_value(text: str) -> Any:
    if text[:1] in "\"'":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    literal = {"True": True, "False": False, "None": None}
    if text in literal:
        return literal[text]
    for number in (int, float):
        try:
            return number(text)
        except ValueError:
            pass
    return text


def parse_converter_args(text: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Parse ``"2, length=3, name='x'"`` into positional and keyword arguments."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    position = 0
    text = text.strip()
    while position < len(text):
        match = _arg_re.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"Cannot parse converter arguments {text!r} at {text[position:]!r}.")
        value = _arg_value(match["value"])
        if match["name"]:
            kwargs[match["name"]] = value
        elif kwargs:
            raise ValueError(f"Positional converter argument after a keyword one in {text!r}.")
        else:
            args.append(value)
        position = match.end()
    return tuple(args), kwargs
