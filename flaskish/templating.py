"""Jinja templates: ``render_template``, ``render_template_string`` and
their streaming forms, usable from ``def`` and ``async def`` views alike
(rendering is CPU work: it never needs an ``await``).

Templates are found in the app's ``templates/`` folder, then in each
blueprint's template folder. A template is read from disk once and cached
(in debug mode, or with ``TEMPLATES_AUTO_RELOAD``, it is re-read when it
changes).
"""

from __future__ import annotations

import weakref
from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar, cast

import jinja2
from jinja2 import BaseLoader, TemplateNotFound
from jinja2.runtime import Context

from .blueprints import Blueprint
from .concurrency import AwaitableSelf
from .debughelpers import Source, explain_template_loading_attempts
from .globals import _cv_app, _cv_request, g, request, session
from .helpers import get_flashed_messages, stream_with_context
from .helpers import get_template_attribute as get_template_attribute  # its old home
from .scaffold import Scaffold, setupmethod
from .signals import before_render_template, send_sync, template_rendered

if TYPE_CHECKING:
    from .app import Flask
    from .config import Config
    from .json.provider import JSONProvider

T = TypeVar("T", bound=Callable[..., Any])

__all__ = [
    "DispatchingJinjaLoader",
    "Environment",
    "Template",
    "Templating",
    "render_template",
    "render_template_string",
    "stream_template",
    "stream_template_string",
]


class Template(jinja2.Template):
    """The class of the app's templates (``app.jinja_env.template_class``):
    a :class:`jinja2.Template` that builds each render's context faster.

    Jinja copies a template's globals (a :class:`~collections.ChainMap` of
    the template's own over the environment's) into every render's context
    by looking each name up through the chain, twice; here each layer is
    copied whole, lowest first, so the same names get the same values (the
    environment's globals as they are at that render, the template's own
    over them, the render's variables over both) at a fraction of the cost.
    Anything but that plain case (shared contexts, block locals, globals
    that are not a chain map) goes to Jinja's own :meth:`new_context`.
    """

    def new_context(
        self,
        vars: dict[str, Any] | None = None,
        shared: bool = False,
        locals: Mapping[str, Any] | None = None,
    ) -> Context:
        """The context of one render: the globals, then *vars* over them
        (Jinja's :meth:`jinja2.Template.new_context`, same arguments)."""
        chain = self.globals
        if shared or locals or type(chain) is not ChainMap:
            return super().new_context(vars, shared, locals)
        merged: dict[str, Any] = {}
        for layer in reversed(chain.maps):
            merged.update(layer)
        parent = merged.copy()
        if vars:
            parent.update(vars)
        env = self.environment
        return env.context_class(env, parent, self.name, self.blocks, globals=merged)


class Environment(jinja2.Environment):
    """The app's Jinja environment (``app.jinja_env``): the app's loader,
    and ``url_for``, ``get_flashed_messages``, ``config``, ``request``,
    ``session`` and ``g`` available in every template. A subclass of the
    app sets ``jinja_environment`` to use a subclass of this one.

    :param app: the app (held weakly: :attr:`app` is the app itself, but
        the environment does not keep it alive).
    :param options: Jinja environment options (``app.jinja_options``).
    """

    #: Templates are :class:`Template` (a :class:`jinja2.Template`).
    template_class: type[jinja2.Template] = Template

    def __init__(self, app: Flask, **options: Any) -> None:
        if "loader" not in options:
            options["loader"] = app.create_global_jinja_loader()
        super().__init__(**options)
        self._app_ref = ref = weakref.ref(app)

        def url_for(endpoint: str, **values: Any) -> str:
            """``app.url_for``, through a weak reference to the app."""
            app = ref()
            if app is None:
                app = _alive(ref)  # raises, saying why
            return app.url_for(endpoint, **values)

        self.globals.update(
            url_for=url_for,
            get_flashed_messages=get_flashed_messages,
            config=app.config,
            request=request,
            session=session,
            g=g,
        )
        self.policies["json.dumps_function"] = app.json.dumps

    @property
    def app(self) -> Flask:
        """The app this environment belongs to."""
        return _alive(self._app_ref)


class DispatchingJinjaLoader(BaseLoader):
    """Looks for templates in the app's template folder, then in each
    blueprint's, in registration order. A missing template raises
    :class:`jinja2.TemplateNotFound` naming every folder searched. With
    ``EXPLAIN_TEMPLATE_LOADING`` every loader is asked and the search is
    logged (:func:`~flaskish.debughelpers.explain_template_loading_attempts`).

    :param app: the app (held weakly, as by :class:`Environment`).
    """

    def __init__(self, app: Flask) -> None:
        self._app_ref = weakref.ref(app)

    @property
    def app(self) -> Flask:
        """The app whose templates this loader finds."""
        return _alive(self._app_ref)

    def _iter_loaders(self) -> Iterator[tuple[Scaffold, BaseLoader]]:
        app = self.app
        if app.jinja_loader is not None:
            yield app, app.jinja_loader
        for blueprint in app.iter_blueprints():
            loader = getattr(blueprint, "jinja_loader", None)
            if loader is not None:
                yield blueprint, loader

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        explain = self.app.config["EXPLAIN_TEMPLATE_LOADING"]
        attempts: list[tuple[BaseLoader, Any, Source | None]] = []
        found: Source | None = None
        searched: list[str] = []
        for owner, loader in self._iter_loaders():
            try:
                source = loader.get_source(environment, template)
            except TemplateNotFound:
                searched.append(_describe(owner, loader))
                source = None
            if found is None:
                found = source
            if not explain:
                if found is not None:
                    return found
                continue
            attempts.append((loader, owner, source))
        if explain:
            explain_template_loading_attempts(self.app, template, attempts)
        if found is not None:
            return found
        where = "; ".join(searched) or "no template folders (the app has template_folder=None)"
        raise TemplateNotFound(template, f"Template {template!r} was not found. Searched: {where}.")

    def list_templates(self) -> list[str]:
        names: set[str] = set()
        for _, loader in self._iter_loaders():
            names.update(loader.list_templates())
        return sorted(names)


def _alive(ref: weakref.ref[Flask]) -> Flask:
    app = ref()
    if app is None:
        raise RuntimeError("The app this Jinja environment belonged to no longer exists.")
    return app


def _autoescape_by_extension(filename: str | None) -> bool:
    """The default of ``select_jinja_autoescape``: string templates and
    ``.html .htm .xml .xhtml .svg`` files are autoescaped."""
    if filename is None:
        return True
    return filename.endswith((".html", ".htm", ".xml", ".xhtml", ".svg"))


def _describe(owner: Scaffold, loader: BaseLoader) -> str:
    name = f"blueprint {owner.name!r}" if isinstance(owner, Blueprint) else "the app"
    paths = getattr(loader, "searchpath", None)
    return f"{name} ({', '.join(paths)})" if paths else name


class Templating(Scaffold):
    """The template half of :class:`~flaskish.Flask`: its Jinja
    environment, context processors, and template filters, tests and
    globals."""

    # Set or provided by Flask; declared here for the type checker.
    config: Config
    json: JSONProvider

    if TYPE_CHECKING:

        @property
        def debug(self) -> bool: ...
        def url_for(self, endpoint: str, **values: Any) -> str: ...
        def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]: ...

    #: Options for the Jinja environment (set before its first use); each
    #: app gets its own copy of the class's dict.
    jinja_options: dict[str, Any] = {}  # noqa: RUF012
    #: The class of :attr:`jinja_env`: ``class MyFlask(Flask): jinja_environment
    #: = MyEnvironment`` (a subclass of :class:`Environment`), as in Flask.
    jinja_environment: type[Environment] = Environment

    @cached_property
    def jinja_env(self) -> Environment:
        """The app's Jinja environment, created on first use by
        :meth:`create_jinja_environment`."""
        return self.create_jinja_environment()

    def create_jinja_environment(self) -> Environment:
        """Create :attr:`jinja_env`: autoescaping by file extension, the
        app's loader, ``url_for`` / ``get_flashed_messages`` / ``config`` /
        ``request`` / ``session`` / ``g`` available in every template."""
        options = dict(self.jinja_options)
        if "autoescape" not in options:
            # Asked once per render. Unless the app's class or the app itself
            # replaces select_jinja_autoescape (then it is called, through a
            # weak proxy: the environment must not keep the app alive), the
            # default rule is called directly.
            if (
                type(self).select_jinja_autoescape is Templating.select_jinja_autoescape
                and "select_jinja_autoescape" not in vars(self)
            ):
                options["autoescape"] = _autoescape_by_extension
            else:
                this = weakref.proxy(self)
                options["autoescape"] = lambda filename: this.select_jinja_autoescape(filename)
        if "auto_reload" not in options:
            auto_reload = self.config["TEMPLATES_AUTO_RELOAD"]
            options["auto_reload"] = self.debug if auto_reload is None else bool(auto_reload)
        return self.jinja_environment(cast("Flask", self), **options)

    def create_global_jinja_loader(self) -> DispatchingJinjaLoader:
        """The loader of :attr:`jinja_env`: the app's templates, then each
        blueprint's. Override it to change how templates are found (Flask
        advises against replacing the loader with ``jinja_options``)."""
        return DispatchingJinjaLoader(cast("Flask", self))

    def select_jinja_autoescape(self, filename: str | None) -> bool:
        """Whether a template is autoescaped: ``.html .htm .xml .xhtml
        .svg`` files and string templates are."""
        return _autoescape_by_extension(filename)

    def update_template_context(self, context: dict[str, Any]) -> None:
        """Add the context processors' values to *context* (the app's, then
        the blueprints'); values passed to ``render_template`` win."""
        # As Flask's default context processor: g, and request and session
        # in a request (the session as its proxy, so rendering never opens it).
        added: dict[str, Any] = {}
        app_ctx = _cv_app.get(None)
        if app_ctx is not None:
            added["g"] = app_ctx.g
        request_ctx = _cv_request.get(None)
        if request_ctx is not None:
            added["request"] = request_ctx.request
            added["session"] = session
        processors = self.template_context_processors
        if processors:  # else no processor anywhere: no blueprint chain to walk
            names: list[str | None] = [None]
            if request_ctx is not None:
                names.extend(reversed(request_ctx.request.blueprints))
            for name in names:
                for processor in processors.get(name, ()):
                    added.update(self.ensure_sync(processor)())
        added.update(context)
        context.update(added)

    @setupmethod
    def template_filter(self, name: str | None = None) -> Callable[[T], T]:
        """Register the decorated function as a Jinja filter
        (``{{ value|name }}``)."""
        return self._template_decorator("filters", name)

    @setupmethod
    def add_template_filter(self, f: Callable[..., Any], name: str | None = None) -> None:
        """Register a Jinja filter."""
        self._add_template_item("filters", f, name)

    @setupmethod
    def template_test(self, name: str | None = None) -> Callable[[T], T]:
        """Register the decorated function as a Jinja test (``{% if x is name %}``)."""
        return self._template_decorator("tests", name)

    @setupmethod
    def add_template_test(self, f: Callable[..., bool], name: str | None = None) -> None:
        """Register a Jinja test."""
        self._add_template_item("tests", f, name)

    @setupmethod
    def template_global(self, name: str | None = None) -> Callable[[T], T]:
        """Register the decorated function as a Jinja global (``{{ name() }}``)."""
        return self._template_decorator("globals", name)

    @setupmethod
    def add_template_global(self, f: Callable[..., Any], name: str | None = None) -> None:
        """Register a Jinja global."""
        self._add_template_item("globals", f, name)

    def _template_decorator(self, kind: str, name: str | None) -> Callable[[T], T]:
        def decorator(f: T) -> T:
            self._add_template_item(kind, f, name)
            return f

        return decorator

    def _add_template_item(self, kind: str, f: Callable[..., Any], name: str | None) -> None:
        getattr(self.jinja_env, kind)[name or f.__name__] = f


def _app() -> Flask:
    ctx = _cv_app.get(None)
    if ctx is None:
        raise RuntimeError(
            "Rendering a template needs an application context. Call it from a view, or "
            "inside `with app.app_context():`."
        )
    return ctx.app


class Rendered(AwaitableSelf, str):
    """What ``render_template`` returns: the text, which may also be
    awaited (``await render_template(...)``, as Quart code writes)."""

    __slots__ = ()


def _render(app: Flask, template: jinja2.Template, context: dict[str, Any]) -> Rendered:
    app.update_template_context(context)
    # send_sync returns at once without receivers; checked here first to
    # save the calls when nobody listens (a receiver connected later is seen).
    if before_render_template.receivers:
        send_sync(before_render_template, app, template=template, context=context)
    text = Rendered(template.render(context))
    if template_rendered.receivers:
        send_sync(template_rendered, app, template=template, context=context)
    return text


def _stream(app: Flask, template: jinja2.Template, context: dict[str, Any]) -> Iterator[str]:
    app.update_template_context(context)
    send_sync(before_render_template, app, template=template, context=context)

    def generate() -> Iterator[str]:
        yield from template.generate(context)
        send_sync(template_rendered, app, template=template, context=context)

    stream = generate()
    if _cv_request.get(None) is not None:
        stream = stream_with_context(stream)
    return stream


def render_template(
    template_name_or_list: str | jinja2.Template | list[str | jinja2.Template], **context: Any
) -> Rendered:
    """Render a template with the given variables. With a list, the first
    template that exists is used.

    :param template_name_or_list: a template name (``"index.html"``), a
        :class:`~jinja2.Template`, or a list of them.
    :param context: the variables the template sees.
    """
    app = _app()
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return _render(app, template, context)


def render_template_string(source: str, **context: Any) -> Rendered:
    """Render a template given as a string (autoescaped)."""
    app = _app()
    return _render(app, app.jinja_env.from_string(source), context)


def stream_template(
    template_name_or_list: str | jinja2.Template | list[str | jinja2.Template], **context: Any
) -> Iterator[str]:
    """Render a template as an iterator of chunks, to return from a view
    as a streamed response. The request context is kept while it renders."""
    app = _app()
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return _stream(app, template, context)


def stream_template_string(source: str, **context: Any) -> Iterator[str]:
    """:func:`stream_template` for a template given as a string."""
    app = _app()
    return _stream(app, app.jinja_env.from_string(source), context)
