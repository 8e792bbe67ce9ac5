"""Tagged JSON: JSON that round-trips tuples, bytes, ``Markup``, UUIDs
and datetimes, in the exact format Flask's session cookies use (so a cookie
written by Flask is read by flaskish and back).

A tagged value is an object with one key, the tag (``" t"`` for a tuple,
``" b"`` for bytes...). A one-key dict whose key happens to be a tag is
itself tagged (``" di"``) so it is not mistaken for a tagged value. Register
your own :class:`JSONTag` on ``app.session_interface.serializer``::

    class TagOrderedDict(JSONTag):
        __slots__ = ()
        key = " od"

        def check(self, value):
            return isinstance(value, OrderedDict)

        def to_json(self, value):
            return [[k, self.serializer.tag(v)] for k, v in value.items()]

        def to_python(self, value):
            return OrderedDict(value)

    app.session_interface.serializer.register(TagOrderedDict, index=0)

As in Flask, the JSON text is written and read by the current app's JSON
provider (``app.json``) when an app context is pushed, so inside a request
object keys are sorted and values JSON cannot hold (a ``date``, a
``Decimal``) are converted the way ``app.json`` converts them.
"""

from __future__ import annotations

import json
from base64 import b64decode, b64encode
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, cast
from uuid import UUID

from markupsafe import Markup
from werkzeug.http import http_date

from ..globals import _cv_app
from . import dumps as _json_dumps
from . import loads as _json_loads
from .provider import DefaultJSONProvider

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
        """Whether *value* should be tagged with this tag.

        :param value: the value being serialized.
        """
        raise NotImplementedError

    def to_json(self, value: Any) -> Any:
        """Convert *value* to something JSON can hold (the tag is added by
        :meth:`tag`).

        :param value: a value :meth:`check` accepted.
        """
        raise NotImplementedError

    def to_python(self, value: Any) -> Any:
        """Convert the JSON form back (the tag is already removed).

        :param value: what :meth:`to_json` returned, after a JSON round trip.
        """
        raise NotImplementedError

    def tag(self, value: Any) -> Any:
        """The tagged JSON form of *value*: ``{key: to_json(value)}``.

        :param value: a value :meth:`check` accepted.
        """
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
    """Datetimes, as HTTP dates: second precision, in UTC (a naive datetime
    is taken to be UTC). They load back as aware UTC datetimes; a date that
    cannot be parsed loads as ``None``, as in Flask."""

    __slots__ = ()
    key = " d"

    def check(self, value: Any) -> bool:
        return isinstance(value, datetime)

    def to_json(self, value: Any) -> Any:
        return http_date(value)

    def to_python(self, value: Any) -> Any:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed


class TaggedJSONSerializer:
    """Serializes with the tags above; used for session cookies (Flask's
    ``flask.json.tag.TaggedJSONSerializer``, same format).

    Besides JSON's own types it round-trips :class:`dict` (including one-key
    dicts whose key is a tag), :class:`tuple`, :class:`bytes`,
    :class:`~markupsafe.Markup`, :class:`~uuid.UUID` and
    :class:`~datetime.datetime`.
    """

    __slots__ = ("_decoder", "_plain_order", "order", "tags")

    #: The tag classes registered on creation, in order of precedence.
    default_tags: ClassVar[list[type[JSONTag]]] = [
        TagDict,
        PassDict,
        TagTuple,
        PassList,
        TagBytes,
        TagMarkup,
        TagUUID,
        TagDateTime,
    ]

    def __init__(self) -> None:
        self.tags: dict[str, JSONTag] = {}
        self.order: list[JSONTag] = []
        for cls in self.default_tags:
            self.register(cls)
        # The tags the fast paths of dumps/loads stand for: Flask's, in
        # Flask's order. A tag registered (or the order changed) later turns
        # them off, as does a subclass with other default tags.
        self._plain_order = (
            list(self.order) if [type(t) for t in self.order] == _FLASK_TAGS else None
        )
        # Parses and untags in one pass (json's object_hook is called on each
        # object once its values are parsed: what _untag_scan does).
        self._decoder = json.JSONDecoder(object_hook=self.untag)

    def register(
        self, tag_class: type[JSONTag], force: bool = False, index: int | None = None
    ) -> None:
        """Add a tag.

        :param tag_class: the :class:`JSONTag` subclass; it is instantiated
            with this serializer.
        :param force: replace a registered tag with the same key instead of
            raising :class:`KeyError`.
        :param index: where the tag goes in the order tags are tried (``0``:
            first, for a special case of an existing tag); ``None`` appends it.
        :raises KeyError: the key is already registered and *force* is false.
        """
        tag = tag_class(self)
        if tag.key:
            if tag.key in self.tags and not force:
                raise KeyError(
                    f"The tag {tag.key!r} is already registered. Pass force=True to replace "
                    "it, or give your tag another key."
                )
            self.tags[tag.key] = tag
        if index is None:
            self.order.append(tag)
        else:
            self.order.insert(index, tag)

    def tag(self, value: Any) -> Any:
        """The JSON-ready, tagged form of *value*.

        :param value: any value the registered tags (or JSON) can hold.
        """
        for tag in self.order:
            if tag.check(value):
                return tag.tag(value)
        return value

    def untag(self, value: dict[str, Any]) -> Any:
        """Turn one tagged object back into its value; other objects are
        returned unchanged.

        :param value: a JSON object whose values are already untagged.
        """
        if len(value) != 1:
            return value
        key = next(iter(value))
        if key not in self.tags:
            return value
        return self.tags[key].to_python(value[key])

    def _untag_scan(self, value: Any) -> Any:
        if isinstance(value, dict):
            return self.untag({k: self._untag_scan(v) for k, v in value.items()})
        if isinstance(value, list):
            return [self._untag_scan(item) for item in value]
        return value

    def _tag_plain(self, value: Any) -> Any:
        """:meth:`tag` when the tags are Flask's: JSON's own types (exactly
        those types, not subclasses) are told apart by their type, without
        asking each of the eight tags; anything else goes through
        :meth:`tag`. The same result."""
        kind = type(value)
        if kind in _PLAIN:
            return value
        if kind is dict:
            if len(value) == 1 and next(iter(value)) in self.tags:
                return self.tag(value)  # a one-key dict whose key is a tag: " di"
            return {k: self._tag_plain(v) for k, v in value.items()}
        if kind is list:
            return [self._tag_plain(item) for item in value]
        return self.tag(value)

    def dumps(self, value: Any) -> str:
        """Tag *value* and serialize it to compact JSON (with ``app.json``
        inside an app context, as Flask does).

        :param value: the value to serialize, usually the session dict.
        """
        if self.order == self._plain_order and type(self).tag is TaggedJSONSerializer.tag:
            tagged = self._tag_plain(value)
        else:
            tagged = self.tag(value)
        ctx = _cv_app.get(None)
        if ctx is not None:
            provider = ctx.app.json
            if type(provider).dumps is DefaultJSONProvider.dumps:
                # What provider.dumps(tagged, separators=...) gives, with the
                # provider's cached encoder instead of a new one per call.
                return cast(DefaultJSONProvider, provider)._encoder(False).encode(tagged)
        return _json_dumps(tagged, separators=(",", ":"))

    def loads(self, value: str | bytes) -> Any:
        """Parse JSON (with ``app.json`` inside an app context) and untag it.

        :param value: JSON text written by :meth:`dumps` (or by Flask).
        """
        if isinstance(value, str) and type(self)._untag_scan is TaggedJSONSerializer._untag_scan:
            ctx = _cv_app.get(None)
            if ctx is None or type(ctx.app.json).loads is DefaultJSONProvider.loads:
                # json.loads then _untag_scan, in one pass.
                return self._decoder.decode(value)
        return self._untag_scan(_json_loads(value))


#: The default tags, in their order (Flask's).
_FLASK_TAGS: list[type[JSONTag]] = list(TaggedJSONSerializer.default_tags)
#: The types JSON holds as they are, which no default tag changes.
_PLAIN = (str, int, float, bool, type(None))
