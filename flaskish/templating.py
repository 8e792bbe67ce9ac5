"""Jinja templates: ``render_template``, ``render_template_string`` and
their streaming forms, usable from ``def`` and ``async def`` views alike
(rendering is CPU work: it never needs an ``await``).

Templates are found in the app's ``templates/`` folder, then in each
blueprint's template folder. A template is read from disk once and cached
(in debug mode, or with ``TEMPLATES_AUTO_RELOAD``, it is re-read when it
changes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2 import BaseLoader, Template, TemplateNotFound

from .globals import _cv_app, _cv_request, current_app, g, request, session
from .helpers import get_flashed_messages, stream_with_context
from .signals import before_render_template, send_sync, template_rendered

if TYPE_CHECKING:
    from .app import Flask

__all__ = [
    "DispatchingJinjaLoader",
    "Environment",
    "render_template",
    "render_template_string",
    "stream_template",
    "stream_template_string",
]


class Environment(jinja2.Environment):
    """The app's Jinja environment (``app.jinja_env``): the app's loader,
    and ``url_for``, ``get_flashed_messages``, ``config``, ``request``,
    ``session`` and ``g`` available in every template.

    :param app: the app.
    :param options: Jinja environment options (``app.jinja_options``).
    """

    def __init__(self, app: Flask, **options: Any) -> None:
        if "loader" not in options:
            options["loader"] = DispatchingJinjaLoader(app)
        super().__init__(**options)
        self.app = app
        self.globals.update(
            url_for=app.url_for,
            get_flashed_messages=get_flashed_messages,
            config=app.config,
            request=request,
            session=session,
            g=g,
        )
        self.policies["json.dumps_function"] = app.json.dumps


class DispatchingJinjaLoader(BaseLoader):
    """Looks for templates in the app's template folder, then in each
    blueprint's, in registration order. A missing template raises
    :class:`jinja2.TemplateNotFound` naming every folder searched; with
    ``EXPLAIN_TEMPLATE_LOADING`` the search is logged.

    :param app: the app.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app

    def _loaders(self) -> Iterator[tuple[str, BaseLoader]]:
        if self.app.jinja_loader is not None:
            yield "the app", self.app.jinja_loader
        for name, blueprint in self.app.blueprints.items():
            loader = getattr(blueprint, "jinja_loader", None)
            if loader is not None:
                yield f"blueprint {name!r}", loader

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        searched: list[str] = []
        for owner, loader in self._loaders():
            try:
                source = loader.get_source(environment, template)
            except TemplateNotFound:
                searched.append(_describe(owner, loader))
                continue
            if self.app.config["EXPLAIN_TEMPLATE_LOADING"]:
                self.app.logger.info(
                    "Found template %r in %s; searched before it: %s", template,
                    _describe(owner, loader), ", ".join(searched) or "nothing",
                )
            return source
        where = "; ".join(searched) or "no template folders (the app has template_folder=None)"
        if self.app.config["EXPLAIN_TEMPLATE_LOADING"]:
            self.app.logger.info("Template %r not found. Searched: %s", template, where)
        raise TemplateNotFound(template, f"Template {template!r} was not found. Searched: {where}.")

    def list_templates(self) -> list[str]:
        names: set[str] = set()
        for _, loader in self._loaders():
            names.update(loader.list_templates())
        return sorted(names)


def _describe(owner: str, loader: BaseLoader) -> str:
    paths = getattr(loader, "searchpath", None)
    return f"{owner} ({', '.join(paths)})" if paths else owner


def _app() -> Flask:
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError(
            "Rendering a template needs an application context. Call it from a view, or "
            "inside `with app.app_context():`."
        )
    return ctx.app


def _render(app: Flask, template: Template, context: dict[str, Any]) -> str:
    app.update_template_context(context)
    send_sync(before_render_template, app, template=template, context=context)
    text = template.render(context)
    send_sync(template_rendered, app, template=template, context=context)
    return text


def _stream(app: Flask, template: Template, context: dict[str, Any]) -> Iterator[str]:
    app.update_template_context(context)
    send_sync(before_render_template, app, template=template, context=context)

    def generate() -> Iterator[str]:
        yield from template.generate(context)
        send_sync(template_rendered, app, template=template, context=context)

    stream = generate()
    if _cv_request.get(None) is not None:
        stream = stream_with_context(stream)
    return stream


def render_template(template_name_or_list: str | Template | list[str | Template],
                    **context: Any) -> str:
    """Render a template with the given variables. With a list, the first
    template that exists is used.

    :param template_name_or_list: a template name (``"index.html"``), a
        :class:`~jinja2.Template`, or a list of them.
    :param context: the variables the template sees.
    """
    app = _app()
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return _render(app, template, context)


def render_template_string(source: str, **context: Any) -> str:
    """Render a template given as a string (autoescaped)."""
    app = _app()
    return _render(app, app.jinja_env.from_string(source), context)


def stream_template(template_name_or_list: str | Template | list[str | Template],
                    **context: Any) -> Iterator[str]:
    """Render a template as an iterator of chunks, to return from a view
    as a streamed response. The request context is kept while it renders."""
    app = _app()
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return _stream(app, template, context)


def stream_template_string(source: str, **context: Any) -> Iterator[str]:
    """:func:`stream_template` for a template given as a string."""
    app = _app()
    return _stream(app, app.jinja_env.from_string(source), context)


def get_template_attribute(template_name: str, attribute: str) -> Any:
    """A macro or variable exported by a template, e.g. to call a macro
    from Python: ``hello = get_template_attribute("_macros.html", "hello")``."""
    return getattr(current_app.jinja_env.get_template(template_name).module, attribute)
