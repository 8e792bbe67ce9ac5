"""Tagged JSON: JSON that round-trips tuples, bytes, ``Markup``, UUIDs
and datetimes, in the exact format Flask's session cookies use (so a cookie
written by Flask is read by flaskish and back).

A tagged value is an object with one key, the tag (``" t"`` for a tuple,
``" b"`` for bytes...). Register your own :class:`JSONTag` on
``app.session_interface.serializer``.
"""

from __future__ import annotations

import json
from base64 import b64decode, b64encode
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from uuid import UUID

from markupsafe import Markup

from ..response import http_date

__all__ = ["JSONTag", "TaggedJSONSerializer"]


class JSONTag:
    """Base class of a tag: :attr:`key` names it, :meth:`check` says
    whether a value gets it, :meth:`to_json` / :meth:`to_python` convert.

    :param serializer: the :class:`TaggedJSONSerializer` it belongs to.
    """

    __slots__ = ("serializer",)
    #: The tag, e.g. ``" t"``; empty for tags that only recurse.
    key: str = ""

    def __init__(self, serializer: TaggedJSONSerializer) -> None:
        self.serializer = serializer

    def check(self, value: Any) -> bool:
        """Whether *value* should be tagged with this tag."""
        raise NotImplementedError

    def to_json(self, value: Any) -> Any:
        """Convert *value* to something JSON can hold."""
        raise NotImplementedError

    def to_python(self, value: Any) -> Any:
        """Convert the JSON form back."""
        raise NotImplementedError

    def tag(self, value: Any) -> Any:
        """The tagged JSON form of *value*."""
        return {self.key: self.to_json(value)}


class TagDict(JSONTag):
    """A one-key dict whose key is itself a tag: the key gets ``__``
    appended so it is not taken for a tag."""

    __slots__ = ()
    key = " di"

    def check(self, value: Any) -> bool:
        return (
            isinstance(value, dict)
            and len(value) == 1
            and next(iter(value)) in self.serializer.tags
        )

    def to_json(self, value: Any) -> Any:
        key = next(iter(value))
        return {f"{key}__": self.serializer.tag(value[key])}

    def to_python(self, value: Any) -> Any:
        key = next(iter(value))
        return {key[:-2]: value[key]}


class PassDict(JSONTag):
    """Other dicts: their values are tagged."""

    __slots__ = ()

    def check(self, value: Any) -> bool:
        return isinstance(value, dict)

    def to_json(self, value: Any) -> Any:
        return {k: self.serializer.tag(v) for k, v in value.items()}

    tag = to_json


class TagTuple(JSONTag):
    """Tuples (JSON has only lists)."""

    __slots__ = ()
    key = " t"

    def check(self, value: Any) -> bool:
        return isinstance(value, tuple)

    def to_json(self, value: Any) -> Any:
        return [self.serializer.tag(item) for item in value]

    def to_python(self, value: Any) -> Any:
        return tuple(value)


class PassList(JSONTag):
    """Lists: their items are tagged."""

    __slots__ = ()

    def check(self, value: Any) -> bool:
        return isinstance(value, list)

    def to_json(self, value: Any) -> Any:
        return [self.serializer.tag(item) for item in value]

    tag = to_json


class TagBytes(JSONTag):
    """Bytes, as base64."""

    __slots__ = ()
    key = " b"

    def check(self, value: Any) -> bool:
        return isinstance(value, bytes)

    def to_json(self, value: Any) -> Any:
        return b64encode(value).decode("ascii")

    def to_python(self, value: Any) -> Any:
        return b64decode(value)


class TagMarkup(JSONTag):
    """Objects with ``__html__``, loaded back as :class:`~markupsafe.Markup`."""

    __slots__ = ()
    key = " m"

    def check(self, value: Any) -> bool:
        return callable(getattr(value, "__html__", None))

    def to_json(self, value: Any) -> Any:
        return str(value.__html__())

    def to_python(self, value: Any) -> Any:
        return Markup(value)


class TagUUID(JSONTag):
    """UUIDs, as hex."""

    __slots__ = ()
    key = " u"

    def check(self, value: Any) -> bool:
        return isinstance(value, UUID)

    def to_json(self, value: Any) -> Any:
        return value.hex

    def to_python(self, value: Any) -> Any:
        return UUID(value)


class TagDateTime(JSONTag):
    """Datetimes, as HTTP dates (second precision, UTC)."""

    __slots__ = ()
    key = " d"

    def check(self, value: Any) -> bool:
        return isinstance(value, datetime)

    def to_json(self, value: Any) -> Any:
        return http_date(value)

    def to_python(self, value: Any) -> Any:
        return parsedate_to_datetime(value)


class TaggedJSONSerializer:
    """Serializes with the tags above; used for session cookies."""

    #: The tag classes registered on creation, in order of precedence.
    default_tags: ClassVar[list[type[JSONTag]]] = [
        TagDict, PassDict, TagTuple, PassList, TagBytes, TagMarkup, TagUUID, TagDateTime,
    ]

    def __init__(self) -> None:
        self.tags: dict[str, JSONTag] = {}
        self.order: list[JSONTag] = []
        for cls in self.default_tags:
            self.register(cls)

    def register(
        self, tag_class: type[JSONTag], force: bool = False, index: int | None = None
    ) -> None:
        """Add a tag. *index* sets its precedence (``0``: checked first);
        *force* replaces a tag with the same key."""
        tag = tag_class(self)
        if tag.key:
            if tag.key in self.tags and not force:
                raise KeyError(f"Tag {tag.key!r} is already registered; pass force=True.")
            self.tags[tag.key] = tag
        if index is None:
            self.order.append(tag)
        else:
            self.order.insert(index, tag)

    def tag(self, value: Any) -> Any:
        """The JSON-ready, tagged form of *value*."""
        for tag in self.order:
            if tag.check(value):
                return tag.tag(value)
        return value

    def untag(self, value: dict[str, Any]) -> Any:
        """Turn a tagged object back into its value (a ``json`` object hook)."""
        if len(value) != 1:
            return value
        key = next(iter(value))
        if key not in self.tags:
            return value
        return self.tags[key].to_python(value[key])

    def dumps(self, value: Any) -> str:
        """Tag and serialize to compact JSON."""
        return json.dumps(self.tag(value), separators=(",", ":"), ensure_ascii=True)

    def loads(self, value: str | bytes) -> Any:
        """Parse JSON and untag it."""
        return json.loads(value, object_hook=self.untag)
