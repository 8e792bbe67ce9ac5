"""``flaskish.datastructures``: Werkzeug's data structures, the very
classes (``MultiDict``, ``Headers``, ``Accept``, ``ETags``, ``Range``...).

``request.args`` and ``request.form`` are Werkzeug ``ImmutableMultiDict``\\ s
and ``response.headers`` is a Werkzeug ``Headers``, so extensions that check
``isinstance(..., werkzeug.datastructures.Headers)`` work unchanged. The one
class of flaskish's own is :class:`~flaskish.files.FileStorage`, a Werkzeug
``FileStorage`` whose ``save()`` and ``read()`` also work in ``async def``
views.
"""

from __future__ import annotations

from werkzeug.datastructures import (
    Accept,
    Authorization,
    CallbackDict,
    CharsetAccept,
    CombinedMultiDict,
    ContentRange,
    ContentSecurityPolicy,
    ETags,
    FileMultiDict,
    Headers,
    HeaderSet,
    IfRange,
    ImmutableDict,
    ImmutableList,
    ImmutableMultiDict,
    ImmutableTypeConversionDict,
    LanguageAccept,
    MIMEAccept,
    MultiDict,
    Range,
    RequestCacheControl,
    ResponseCacheControl,
    TypeConversionDict,
    WWWAuthenticate,
)
from werkzeug.user_agent import UserAgent

from .files import FileStorage

__all__ = [
    "Accept",
    "Authorization",
    "CallbackDict",
    "CharsetAccept",
    "CombinedMultiDict",
    "ContentRange",
    "ContentSecurityPolicy",
    "ETags",
    "FileMultiDict",
    "FileStorage",
    "HeaderSet",
    "Headers",
    "IfRange",
    "ImmutableDict",
    "ImmutableList",
    "ImmutableMultiDict",
    "ImmutableTypeConversionDict",
    "LanguageAccept",
    "MIMEAccept",
    "MultiDict",
    "Range",
    "RequestCacheControl",
    "ResponseCacheControl",
    "TypeConversionDict",
    "UserAgent",
    "WWWAuthenticate",
]
