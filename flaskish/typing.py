"""Type aliases for views and callbacks, with the names of ``flask.typing``,
for annotating apps and extensions. Every callback may be ``def`` or
``async def``."""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from .datastructures import Headers
from .response import Response

__all__ = [
    "AfterRequestCallable",
    "AppOrBlueprintKey",
    "BeforeRequestCallable",
    "ErrorHandlerCallable",
    "HeaderValue",
    "HeadersValue",
    "ResponseClass",
    "ResponseReturnValue",
    "ResponseValue",
    "RouteCallable",
    "ShellContextProcessorCallable",
    "TeardownCallable",
    "TemplateContextProcessorCallable",
    "TemplateFilterCallable",
    "TemplateGlobalCallable",
    "TemplateTestCallable",
    "URLDefaultCallable",
    "URLValuePreprocessorCallable",
]

#: A body a view may return.
ResponseValue = (
    Response
    | str
    | bytes
    | list[Any]
    | Mapping[str, Any]
    | Iterator[str]
    | Iterator[bytes]
    | AsyncIterable[str]
    | AsyncIterable[bytes]
)
#: One header value.
HeaderValue = str | list[str] | tuple[str, ...]
#: Headers a view may return.
HeadersValue = Headers | Mapping[str, HeaderValue] | Sequence[tuple[str, HeaderValue]]
#: Everything a view may return.
ResponseReturnValue = (
    ResponseValue
    | tuple[ResponseValue, HeadersValue]
    | tuple[ResponseValue, int]
    | tuple[ResponseValue, int, HeadersValue]
)
#: A response class.
ResponseClass = TypeVar("ResponseClass", bound=Response)
#: ``None`` for the app, a blueprint's name otherwise.
AppOrBlueprintKey = str | None

#: ``@app.after_request``
AfterRequestCallable = (
    Callable[[ResponseClass], ResponseClass] | Callable[[ResponseClass], Awaitable[ResponseClass]]
)
#: ``@app.before_request``
BeforeRequestCallable = (
    Callable[[], ResponseReturnValue | None] | Callable[[], Awaitable[ResponseReturnValue | None]]
)
#: ``@app.shell_context_processor``
ShellContextProcessorCallable = Callable[[], dict[str, Any]]
#: ``@app.teardown_request`` / ``@app.teardown_appcontext``
TeardownCallable = (
    Callable[[BaseException | None], None] | Callable[[BaseException | None], Awaitable[None]]
)
#: ``@app.context_processor``
TemplateContextProcessorCallable = Callable[[], dict[str, Any]]
#: ``@app.template_filter``
TemplateFilterCallable = Callable[..., Any]
#: ``@app.template_global``
TemplateGlobalCallable = Callable[..., Any]
#: ``@app.template_test``
TemplateTestCallable = Callable[..., bool]
#: ``@app.url_defaults``
URLDefaultCallable = Callable[[str, dict[str, Any]], None]
#: ``@app.url_value_preprocessor``
URLValuePreprocessorCallable = Callable[[str | None, dict[str, Any] | None], None]
#: ``@app.errorhandler``
ErrorHandlerCallable = (
    Callable[[Any], ResponseReturnValue] | Callable[[Any], Awaitable[ResponseReturnValue]]
)
#: A view function.
RouteCallable = Callable[..., ResponseReturnValue] | Callable[..., Awaitable[ResponseReturnValue]]
