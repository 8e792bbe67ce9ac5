"""Blueprints: groups of routes, hooks, error handlers, templates and
static files, registered on an app (possibly several times, possibly
nested) with ``app.register_blueprint(bp, url_prefix="/admin")``.

A blueprint records what it registers; :meth:`Blueprint.register` replays
it on the app: rules get the blueprint's URL prefix and dotted endpoint
names (``"admin.index"``), hooks and error handlers are stored under the
blueprint's name so the pipeline runs them only for its requests.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from functools import cached_property, update_wrapper
from typing import IO, TYPE_CHECKING, Any, TypeVar

from .scaffold import Scaffold, _endpoint_from_view_func, setupmethod

if TYPE_CHECKING:
    from .app import Flask

__all__ = ["Blueprint", "BlueprintSetupState"]

T = TypeVar("T", bound=Callable[..., Any])
DeferredSetupFunction = Callable[["BlueprintSetupState"], None]

_sentinel: Any = object()


class BlueprintSetupState:
    """What a blueprint's recorded functions get when it is registered:
    the app, the options, and :meth:`add_url_rule` with the prefix applied.

    :param blueprint: the blueprint being registered.
    :param app: the app it is registered on.
    :param options: the options given to ``register_blueprint``.
    :param first_registration: whether this is the blueprint's first
        registration on the app.
    """

    def __init__(
        self, blueprint: Blueprint, app: Flask, options: dict[str, Any], first_registration: bool
    ) -> None:
        self.app = app
        self.blueprint = blueprint
        self.options = options
        self.first_registration = first_registration
        subdomain = options.get("subdomain")
        self.subdomain = blueprint.subdomain if subdomain is None else subdomain
        url_prefix = options.get("url_prefix")
        self.url_prefix = blueprint.url_prefix if url_prefix is None else url_prefix
        self.name = options.get("name", blueprint.name)
        self.name_prefix = options.get("name_prefix", "")
        self.url_defaults = dict(blueprint.url_values_defaults)
        self.url_defaults.update(options.get("url_defaults", ()))

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        **options: Any,
    ) -> None:
        """Add a rule to the app with the blueprint's prefix, name and
        default values."""
        if self.url_prefix is not None:
            if rule:
                rule = "/".join((self.url_prefix.rstrip("/"), rule.lstrip("/")))
            else:
                rule = self.url_prefix
        options.setdefault("subdomain", self.subdomain)
        if endpoint is None:
            endpoint = _endpoint_from_view_func(view_func)  # type: ignore[arg-type]
        defaults = self.url_defaults
        if "defaults" in options:
            defaults = dict(defaults, **options.pop("defaults"))
        self.app.add_url_rule(
            rule,
            f"{self.name_prefix}.{self.name}.{endpoint}".lstrip("."),
            view_func,
            defaults=defaults or None,
            **options,
        )


class Blueprint(Scaffold):
    """A group of views and hooks to register on an app::

        bp = Blueprint("auth", __name__, url_prefix="/auth")

        @bp.route("/login")
        def login(): ...

        app.register_blueprint(bp)   # url_for("auth.login") == "/auth/login"

    :param name: the blueprint's name, prefixed to its endpoints (no dots).
    :param import_name: the module defining it (``__name__``).
    :param static_folder: a static folder served under the blueprint's URL
        prefix, relative to the blueprint's root path.
    :param static_url_path: the URL path of that folder.
    :param template_folder: templates searched after the app's.
    :param url_prefix: prepended to every rule.
    :param subdomain: the subdomain of its rules.
    :param url_defaults: default view arguments for its rules.
    :param root_path: the blueprint's folder, if not found from *import_name*.
    :param cli_group: the name of its ``flaskish`` command group (``None``:
        its commands are added to the app's group).
    """

    _got_registered_once = False

    def __init__(
        self,
        name: str,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        url_prefix: str | None = None,
        subdomain: str | None = None,
        url_defaults: dict[str, Any] | None = None,
        root_path: str | None = None,
        cli_group: str | None = _sentinel,
    ) -> None:
        super().__init__(import_name, static_folder, static_url_path, template_folder, root_path)
        if not name:
            raise ValueError(
                "'name' may not be empty. Give the blueprint a name, e.g. "
                "Blueprint('admin', __name__)."
            )
        if "." in name:
            raise ValueError(
                f"'name' may not contain a dot '.' character: {name!r}. Nested blueprints "
                "are registered with bp.register_blueprint(child) and named parent.child."
            )
        self.name = name
        self.url_prefix = url_prefix
        self.subdomain = subdomain
        self.url_values_defaults = dict(url_defaults or {})
        self.cli_group = cli_group
        self.deferred_functions: list[DeferredSetupFunction] = []
        self._blueprints: list[tuple[Blueprint, dict[str, Any]]] = []

    @cached_property
    def cli(self) -> Any:
        """The blueprint's click command group (see ``cli_group``)."""
        from .cli import AppGroup  # click: only once the blueprint's commands are used

        return AppGroup(self.name)

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_registered_once:
            raise AssertionError(
                f"The setup method '{f_name}' can no longer be called on the blueprint "
                f"'{self.name}'. It has already been registered at least once, any changes "
                "will not be applied consistently. Make sure all imports, decorators, "
                "functions, etc. needed to set up the blueprint are done before registering it."
            )

    def open_resource(
        self, resource: str, mode: str = "rb", encoding: str | None = "utf-8"
    ) -> IO[Any]:
        """Open a file relative to the blueprint's :attr:`root_path` for
        reading: ``bp.open_resource("schema.sql")``.

        :param resource: the path, relative to :attr:`root_path`.
        :param mode: ``"rb"`` (the default), ``"r"`` or ``"rt"``.
        :param encoding: the encoding in text mode.
        """
        if mode not in ("r", "rt", "rb"):
            raise ValueError(
                f"Resources can only be opened for reading, not with mode {mode!r}. Use "
                "mode='rb' or mode='r'."
            )
        path = os.path.join(self.root_path, resource)
        if mode == "rb":
            return open(path, mode)
        return open(path, mode, encoding=encoding)

    @setupmethod
    def record(self, func: DeferredSetupFunction) -> None:
        """Call *func(state)* each time the blueprint is registered."""
        self.deferred_functions.append(func)

    @setupmethod
    def record_once(self, func: DeferredSetupFunction) -> None:
        """Call *func(state)* the first time the blueprint is registered on
        an app."""

        def wrapper(state: BlueprintSetupState) -> None:
            if state.first_registration:
                func(state)

        self.record(update_wrapper(wrapper, func))

    def make_setup_state(
        self, app: Flask, options: dict[str, Any], first_registration: bool = False
    ) -> BlueprintSetupState:
        """The :class:`BlueprintSetupState` passed to recorded functions."""
        return BlueprintSetupState(self, app, options, first_registration)

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: Any) -> None:
        """Nest *blueprint* in this one: its endpoints become
        ``parent.child.name`` and its URL prefix follows this one's."""
        if blueprint is self:
            raise ValueError(
                f"Cannot register the blueprint '{self.name}' on itself. Register it on the "
                "app, or nest it in another blueprint."
            )
        self._blueprints.append((blueprint, options))

    def register(self, app: Flask, options: dict[str, Any]) -> None:
        """Register on *app* (called by ``app.register_blueprint``)."""
        name_prefix = options.get("name_prefix", "")
        self_name = options.get("name", self.name)
        name = f"{name_prefix}.{self_name}".lstrip(".")
        if name in app.blueprints:
            which = "this" if app.blueprints[name] is self else "a different"
            where = f" '{name}'" if self_name != name else ""
            raise ValueError(
                f"The name '{self_name}' is already registered for {which} blueprint{where}. "
                "Use 'name=' to provide a unique name, e.g. "
                f"register_blueprint(bp, name='{self_name}_2')."
            )
        first_blueprint = not any(bp is self for bp in app.blueprints.values())
        app.blueprints[name] = self
        self._got_registered_once = True
        state = self.make_setup_state(app, options, first_blueprint)
        if self.has_static_folder:
            state.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                view_func=self.send_static_file,
                endpoint="static",
            )
        self._merge_blueprint_funcs(app, name)
        for deferred in self.deferred_functions:
            deferred(state)
        self._register_cli(app, name, options)
        for child, child_options in self._blueprints:
            child.register(app, self._child_options(state, child, child_options, name))

    @staticmethod
    def _child_options(
        state: BlueprintSetupState, child: Blueprint, child_options: dict[str, Any], name: str
    ) -> dict[str, Any]:
        # An option given as None falls back to the child's own setting.
        result = dict(child_options)
        subdomain = child_options.get("subdomain")
        if subdomain is None:
            subdomain = child.subdomain
        if state.subdomain is not None and subdomain is not None:
            result["subdomain"] = f"{subdomain}.{state.subdomain}"
        elif subdomain is not None or state.subdomain is not None:
            result["subdomain"] = subdomain if subdomain is not None else state.subdomain
        prefix = child_options.get("url_prefix")
        if prefix is None:
            prefix = child.url_prefix
        if state.url_prefix is not None and prefix is not None:
            result["url_prefix"] = state.url_prefix.rstrip("/") + "/" + prefix.lstrip("/")
        elif prefix is not None or state.url_prefix is not None:
            result["url_prefix"] = prefix if prefix is not None else state.url_prefix
        result["name_prefix"] = name
        return result

    def _register_cli(self, app: Flask, name: str, options: dict[str, Any]) -> None:
        if "cli" not in self.__dict__ or not self.cli.commands:
            return  # No command was added: leave the cli module unimported.
        from .cli import register_blueprint_commands  # click: only for blueprint commands

        group = options.get("cli_group", self.cli_group)
        register_blueprint_commands(app.cli, self.cli, name if group is _sentinel else group)

    def _merge_blueprint_funcs(self, app: Flask, name: str) -> None:
        def scoped(key: str | None) -> str:
            return name if key is None else f"{name}.{key}"

        for key, spec in self.error_handler_spec.items():
            app.error_handler_spec[scoped(key)] = defaultdict(
                dict, {code: dict(handlers) for code, handlers in spec.items()}
            )
        # As in Flask, functions registered with @bp.endpoint(name) keep
        # their name unprefixed: @bp.endpoint("bar") serves an app rule "bar".
        app.view_functions.update(self.view_functions)
        for mine, theirs in (
            (self.before_request_funcs, app.before_request_funcs),
            (self.after_request_funcs, app.after_request_funcs),
            (self.teardown_request_funcs, app.teardown_request_funcs),
            (self.before_websocket_funcs, app.before_websocket_funcs),
            (self.after_websocket_funcs, app.after_websocket_funcs),
            (self.teardown_websocket_funcs, app.teardown_websocket_funcs),
            (self.url_default_functions, app.url_default_functions),
            (self.url_value_preprocessors, app.url_value_preprocessors),
            (self.template_context_processors, app.template_context_processors),
        ):
            for key, funcs in mine.items():
                theirs[scoped(key)].extend(funcs)

    # Flask's signature, repeated in scaffold.py, app.py and blueprints.py on
    # purpose: each class documents and does its own kind of registration.
    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: Any,
    ) -> None:
        """Record a rule, added to the app with the blueprint's prefix and
        name when the blueprint is registered."""
        if endpoint and "." in endpoint:
            raise ValueError(
                f"'endpoint' may not contain a dot '.' character: {endpoint!r}. The dot "
                f"separates the blueprint's name from the endpoint ('{self.name}.<endpoint>'); "
                f"use another name, such as {endpoint.replace('.', '_')!r}."
            )
        view_name = getattr(view_func, "__name__", "") if view_func is not None else ""
        if "." in view_name:
            raise ValueError(
                f"'view_func' name may not contain a dot '.' character: {view_name!r}. Pass "
                "endpoint='...' to name the endpoint, or rename the function."
            )
        self.record(
            lambda state: state.add_url_rule(
                rule,
                endpoint,
                view_func,
                provide_automatic_options=provide_automatic_options,
                **options,
            )
        )

    # -- app-wide registrations -----------------------------------------------

    def _on_app(self, register: Callable[[Flask], None]) -> None:
        self.record_once(lambda state: register(state.app))

    @setupmethod
    def before_app_request(self, f: T) -> T:
        """Like the app's ``before_request``: runs for every request."""
        self._on_app(lambda app: app.before_request_funcs[None].append(f))
        return f

    @setupmethod
    def after_app_request(self, f: T) -> T:
        """Like the app's ``after_request``: runs for every request."""
        self._on_app(lambda app: app.after_request_funcs[None].append(f))
        return f

    @setupmethod
    def teardown_app_request(self, f: T) -> T:
        """Like the app's ``teardown_request``: runs for every request."""
        self._on_app(lambda app: app.teardown_request_funcs[None].append(f))
        return f

    @setupmethod
    def before_app_websocket(self, f: T) -> T:
        """Like the app's ``before_websocket``: runs for every websocket."""
        self._on_app(lambda app: app.before_websocket_funcs[None].append(f))
        return f

    @setupmethod
    def after_app_websocket(self, f: T) -> T:
        """Like the app's ``after_websocket``: runs for every websocket."""
        self._on_app(lambda app: app.after_websocket_funcs[None].append(f))
        return f

    @setupmethod
    def teardown_app_websocket(self, f: T) -> T:
        """Like the app's ``teardown_websocket``: runs for every websocket."""
        self._on_app(lambda app: app.teardown_websocket_funcs[None].append(f))
        return f

    @setupmethod
    def app_context_processor(self, f: T) -> T:
        """Like the app's ``context_processor``: for every template."""
        self._on_app(lambda app: app.template_context_processors[None].append(f))
        return f

    @setupmethod
    def app_url_value_preprocessor(self, f: T) -> T:
        """Like the app's ``url_value_preprocessor``: for every request."""
        self._on_app(lambda app: app.url_value_preprocessors[None].append(f))
        return f

    @setupmethod
    def app_url_defaults(self, f: T) -> T:
        """Like the app's ``url_defaults``: for every URL built."""
        self._on_app(lambda app: app.url_default_functions[None].append(f))
        return f

    @setupmethod
    def app_errorhandler(self, code: type[Exception] | int) -> Callable[[T], T]:
        """Like the app's ``errorhandler``: for errors of every request."""

        def decorator(f: T) -> T:
            self._on_app(lambda app: app.register_error_handler(code, f))
            return f

        return decorator

    @setupmethod
    def app_template_filter(self, name: str | None = None) -> Callable[[T], T]:
        """Register an app-wide Jinja filter."""
        return self._template("filter", name)

    @setupmethod
    def add_app_template_filter(self, f: Callable[..., Any], name: str | None = None) -> None:
        """Register an app-wide Jinja filter."""
        self._on_app(lambda app: app.add_template_filter(f, name))

    @setupmethod
    def app_template_test(self, name: str | None = None) -> Callable[[T], T]:
        """Register an app-wide Jinja test."""
        return self._template("test", name)

    @setupmethod
    def add_app_template_test(self, f: Callable[..., bool], name: str | None = None) -> None:
        """Register an app-wide Jinja test."""
        self._on_app(lambda app: app.add_template_test(f, name))

    @setupmethod
    def app_template_global(self, name: str | None = None) -> Callable[[T], T]:
        """Register an app-wide Jinja global."""
        return self._template("global", name)

    @setupmethod
    def add_app_template_global(self, f: Callable[..., Any], name: str | None = None) -> None:
        """Register an app-wide Jinja global."""
        self._on_app(lambda app: app.add_template_global(f, name))

    def _template(self, kind: str, name: str | None) -> Callable[[T], T]:
        def decorator(f: T) -> T:
            getattr(self, f"add_app_template_{kind}")(f, name)
            return f

        return decorator
