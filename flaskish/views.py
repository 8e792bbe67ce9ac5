"""Class-based views: :class:`View` and :class:`MethodView`, as in Flask.

Handlers may be ``def`` or ``async def``. The view function that
:meth:`View.as_view` makes has the colour of the class:

* a class whose handlers are all ``async def`` gives an ``async def`` view,
  awaited on the event loop; it never uses a worker thread;
* a class with any ``def`` handler gives a ``def`` view, run on the
  request's worker thread; its ``async def`` handlers are run on the event
  loop through :meth:`~flaskish.Flask.ensure_sync` (as Flask does), so the
  view function and its ``decorators`` always see the handler's result,
  never a coroutine.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection
from typing import Any, ClassVar, cast

from .concurrency import is_async_callable
from .globals import current_app, request

__all__ = ["MethodView", "View", "http_method_funcs"]

#: The HTTP methods a :class:`MethodView` looks for as methods.
http_method_funcs = frozenset(["get", "post", "head", "options", "delete", "put", "trace", "patch"])


class View:
    """Subclass and implement :meth:`dispatch_request`; register with
    :meth:`as_view`::

        class Hello(View):
            def dispatch_request(self, name):
                return f"Hello {name}"

        app.add_url_rule("/hello/<name>", view_func=Hello.as_view("hello"))

    ``dispatch_request`` may be ``async def``; the view is then an
    ``async def`` view. Decorators applied to the class itself do not
    decorate the view function: list them in :attr:`decorators`.
    """

    #: The methods the view accepts (``GET`` if not set).
    methods: ClassVar[Collection[str] | None] = None
    #: Answer ``OPTIONS`` automatically (the app's default if ``None``).
    provide_automatic_options: ClassVar[bool | None] = None
    #: Decorators applied, in order, to the generated view function: the
    #: first one is the innermost, as if written last with ``@`` syntax.
    decorators: ClassVar[list[Callable[..., Any]]] = []
    #: Make a new instance for each request (``False``: one instance, made
    #: by :meth:`as_view`, serves every request; keep per-request data in
    #: :data:`~flaskish.g` then, not on ``self``).
    init_every_request: ClassVar[bool] = True

    def dispatch_request(self) -> Any:
        """Handle the request and return what a view returns. The URL
        rule's variables are passed as keyword arguments: override it as
        ``def dispatch_request(self, name)`` for a rule ``/<name>``."""
        raise NotImplementedError(
            f"{type(self).__name__} must define dispatch_request(self, **kwargs), "
            "returning the response."
        )

    @classmethod
    def _is_async(cls) -> bool:
        """Whether the view function is ``async def``."""
        return is_async_callable(cls.dispatch_request)

    @classmethod
    def as_view(cls, name: str, *class_args: Any, **class_kwargs: Any) -> Callable[..., Any]:
        """Make the view function to register for a URL rule.

        :param name: the view function's name, the default endpoint.
        :param class_args: passed to the class each time it is instantiated.
        :param class_kwargs: passed to the class each time it is instantiated.
        :return: the view function; its ``view_class`` attribute is the
            class, and replacing it changes the class instantiated per
            request.
        """
        view: Callable[..., Any]
        if cls.init_every_request:

            def make() -> View:
                return view.view_class(*class_args, **class_kwargs)  # type: ignore[attr-defined, no-any-return]

        else:
            shared = cls(*class_args, **class_kwargs)

            def make() -> View:
                return shared

        async def async_view(**kwargs: Any) -> Any:
            rv = make().dispatch_request(**kwargs)
            return await rv if inspect.isawaitable(rv) else rv

        def sync_view(**kwargs: Any) -> Any:
            return current_app.ensure_sync(make().dispatch_request)(**kwargs)

        view = cast("Callable[..., Any]", async_view if cls._is_async() else sync_view)
        # Named before decorating too, so that decorators using
        # functools.wraps copy a meaningful name.
        view.__name__ = name
        view.__module__ = cls.__module__
        for decorator in cls.decorators:
            view = decorator(view)
        view.view_class = cls  # type: ignore[attr-defined]
        view.__name__ = name
        view.__doc__ = cls.__doc__
        view.__module__ = cls.__module__
        view.methods = cls.methods  # type: ignore[attr-defined]
        view.provide_automatic_options = cls.provide_automatic_options  # type: ignore[attr-defined]
        return view


class MethodView(View):
    """Dispatches each request to the method named after its HTTP method::

        class UserAPI(MethodView):
            def get(self, id): ...
            async def post(self): ...

    ``methods`` is set from the methods the class and its bases define
    (unless the class sets it); a ``HEAD`` request uses ``get`` when there
    is no ``head``. Methods the class does not accept answer
    ``405 Method Not Allowed``.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "methods" in cls.__dict__:
            return
        methods: set[str] = set()
        for base in cls.__bases__:
            methods.update(getattr(base, "methods", None) or ())
        methods.update(key.upper() for key in http_method_funcs if hasattr(cls, key))
        if methods:
            cls.methods = methods

    @classmethod
    def _is_async(cls) -> bool:
        if cls.dispatch_request is not MethodView.dispatch_request:
            # An overridden dispatch_request decides the view's colour.
            return is_async_callable(cls.dispatch_request)
        names = set(http_method_funcs)
        names.update(method.lower() for method in cls.methods or ())
        handlers = [getattr(cls, name) for name in names if hasattr(cls, name)]
        return bool(handlers) and all(is_async_callable(handler) for handler in handlers)

    def dispatch_request(self, **kwargs: Any) -> Any:
        """Call the method named after the request's HTTP method. For a
        class whose handlers are all ``async def`` the result is a
        coroutine; otherwise it is the handler's return value."""
        method = request.method
        handler = getattr(self, method.lower(), None)
        if handler is None and method == "HEAD":
            handler = getattr(self, "get", None)
        if handler is None:
            raise AssertionError(
                f"{type(self).__name__} accepts {method} requests but has no "
                f"{method.lower()!r} method to handle them. Define `def {method.lower()}(self)` "
                f"or remove {method!r} from its methods."
            )
        if not is_async_callable(handler) or type(self)._is_async():
            # A def handler's value, or an async view's coroutine to await.
            return handler(**kwargs)
        # An async handler of a def view: run it on the event loop and wait.
        return current_app.ensure_sync(handler)(**kwargs)
