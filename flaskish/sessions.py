"""Sessions: a dict that lives across requests, stored in a signed cookie.

The default :class:`SecureCookieSessionInterface` writes the same cookie
format as Flask 3.1 (itsdangerous, HMAC-SHA1 key derivation, tagged JSON),
so a Flask app can move to flaskish without logging anyone out. A custom
:class:`SessionInterface` may implement ``open_session`` / ``save_session``
as ``async def`` (e.g. a server-side store); the pipeline awaits them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn, Self, cast

from itsdangerous import URLSafeTimedSerializer
from werkzeug.datastructures import Headers

from .concurrency import nonblocking
from .json.tag import TaggedJSONSerializer
from .session_signing import SessionSerializer, sha1

if TYPE_CHECKING:
    from .app import Flask
    from .request import Request
    from .response import Response

__all__ = [
    "NullSession",
    "SecureCookieSession",
    "SecureCookieSessionInterface",
    "SessionInterface",
    "SessionMixin",
    "session_json_serializer",
]


class SessionMixin(MutableMapping[str, Any]):
    """What every session has besides being a mapping: :attr:`permanent`,
    :attr:`new`, :attr:`modified` and :attr:`accessed`. A custom session
    class can be ``class Session(dict, SessionMixin)``.

    Differs from Flask 3.1.3, which marks a session accessed whenever the
    ``session`` proxy is used: flaskish leaves that to the session class
    (:class:`SecureCookieSession` tracks every read), so a class that does
    not track reads keeps :attr:`accessed` ``True`` and always gets
    ``Vary: Cookie``.
    """

    #: Whether the session was read or changed; adds ``Vary: Cookie``.
    accessed = True
    #: Whether the session changed. Set it yourself after changing a mutable
    #: value inside the session (``session["cart"].append(3)``).
    modified = True
    #: Whether the session was just created (always ``False`` for cookies,
    #: which cannot tell a new session from an empty one).
    new = False

    @property
    def permanent(self) -> bool:
        """Whether the session outlives the browser session: its cookie
        expires after ``PERMANENT_SESSION_LIFETIME`` instead of when the
        browser closes. Stored under the ``"_permanent"`` key."""
        return bool(self.get("_permanent", False))

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self["_permanent"] = bool(value)


class SecureCookieSession(dict[str, Any], SessionMixin):
    """The session stored in a signed cookie: a :class:`dict` that tracks
    :attr:`accessed` (any read) and :attr:`modified` (any change to its own
    keys) so the cookie is only written when needed.

    A change inside a mutable value (``session["cart"].append(3)``) is not
    seen: set ``session.modified = True`` after it, or reassign the key.

    :param initial: the starting contents (a mapping or key/value pairs).
    """

    modified = False
    accessed = False

    def __init__(self, initial: Any = None) -> None:
        super().__init__(initial or ())

    # -- reads ------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return super().__getitem__(key)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        self.accessed = True
        return super().get(*args, **kwargs)

    def __contains__(self, key: object) -> bool:
        self.accessed = True
        return super().__contains__(key)

    def __iter__(self) -> Iterator[str]:
        self.accessed = True
        return super().__iter__()

    def __len__(self) -> int:
        self.accessed = True
        return super().__len__()

    def keys(self) -> Any:
        self.accessed = True
        return super().keys()

    def values(self) -> Any:
        self.accessed = True
        return super().values()

    def items(self) -> Any:
        self.accessed = True
        return super().items()

    def copy(self) -> dict[str, Any]:
        self.accessed = True
        return dict(super().items())

    # -- changes ----------------------------------------------------------

    def __setitem__(self, key: str, value: Any) -> None:
        self.accessed = self.modified = True
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.accessed = self.modified = True
        super().__delitem__(key)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        if not super().__contains__(key):
            self.modified = True
        return super().setdefault(key, default)

    def pop(self, key: str, *default: Any) -> Any:
        self.accessed = True
        if super().__contains__(key):
            self.modified = True
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, Any]:
        self.accessed = self.modified = True
        return super().popitem()

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.accessed = self.modified = True
        super().update(*args, **kwargs)

    # typeshed's dict.__or__ overloads cannot be matched by a subclass's __ior__.
    def __ior__(  # type: ignore[override, misc]
        self, other: Mapping[str, Any] | Iterable[tuple[str, Any]], /
    ) -> Self:
        self.update(other)
        return self

    def clear(self) -> None:
        # Always "modified", as in Flask: clearing an empty session (one
        # whose cookie was invalid, say) still tells the browser to drop it.
        self.accessed = self.modified = True
        super().clear()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict(super().items())!r}>"


class NullSession(SecureCookieSession):
    """The session when no ``SECRET_KEY`` is set: reading works (it is
    empty), writing raises an error that says to set the key."""

    def _fail(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError(
            "The session is unavailable because no secret key was set. Set the secret_key on "
            "the application to something unique and secret: app.secret_key = "
            "secrets.token_hex() (or the SECRET_KEY config value)."
        )

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = __ior__ = _fail
    del _fail


class SessionInterface:
    """How an app loads and saves sessions (Flask's
    ``flask.sessions.SessionInterface``). Subclass it, implement
    :meth:`open_session` and :meth:`save_session`, and set
    ``app.session_interface = MyInterface()``.

    Unlike Flask, both methods may be ``async def`` (a session store reached
    over the network): the pipeline awaits them, on the event loop. A sync
    interface is opened lazily, the first time the request touches
    ``session``; an async one is opened before the view runs, because a
    sync attribute access cannot await it.

    Requests with the same session may run concurrently; a server-side store
    must tolerate concurrent reads and writes of one session.
    """

    #: The class :meth:`make_null_session` creates and
    #: :meth:`is_null_session` recognises.
    null_session_class: type[NullSession] = NullSession
    #: Whether the interface pickles session data. Extensions read it; the
    #: default interface uses tagged JSON, never pickle.
    pickle_based = False

    def make_null_session(self, app: Flask) -> NullSession:
        """The session used when :meth:`open_session` returns ``None``: it
        reads as empty and raises a helpful error on any change.

        :param app: the application.
        """
        return self.null_session_class()

    def is_null_session(self, obj: object) -> bool:
        """Whether *obj* is a null session (never saved).

        :param obj: the session to check.
        """
        return isinstance(obj, self.null_session_class)

    def get_cookie_name(self, app: Flask) -> str:
        """The session cookie's name: ``SESSION_COOKIE_NAME``.

        :param app: the application.
        """
        return app.config["SESSION_COOKIE_NAME"]  # type: ignore[no-any-return]

    def get_cookie_domain(self, app: Flask) -> str | None:
        """The cookie's ``Domain``: ``SESSION_COOKIE_DOMAIN`` (``None``, the
        default, means only the host that set it receives it).

        :param app: the application.
        """
        return app.config["SESSION_COOKIE_DOMAIN"]  # type: ignore[no-any-return]

    def get_cookie_path(self, app: Flask) -> str:
        """The cookie's ``Path``: ``SESSION_COOKIE_PATH``, else
        ``APPLICATION_ROOT``.

        :param app: the application.
        """
        return app.config["SESSION_COOKIE_PATH"] or app.config["APPLICATION_ROOT"]  # type: ignore[no-any-return]

    def get_cookie_httponly(self, app: Flask) -> bool:
        """Whether the cookie is ``HttpOnly`` (hidden from JavaScript):
        ``SESSION_COOKIE_HTTPONLY``, default ``True``.

        :param app: the application.
        """
        return bool(app.config["SESSION_COOKIE_HTTPONLY"])

    def get_cookie_secure(self, app: Flask) -> bool:
        """Whether the cookie is ``Secure`` (sent over HTTPS only):
        ``SESSION_COOKIE_SECURE``.

        :param app: the application.
        """
        return bool(app.config["SESSION_COOKIE_SECURE"])

    def get_cookie_samesite(self, app: Flask) -> str | None:
        """The cookie's ``SameSite``: ``SESSION_COOKIE_SAMESITE``, default
        ``"Lax"``; ``None`` leaves the attribute out.

        :param app: the application.
        """
        return app.config["SESSION_COOKIE_SAMESITE"]  # type: ignore[no-any-return]

    def get_cookie_partitioned(self, app: Flask) -> bool:
        """Whether the cookie is ``Partitioned`` (CHIPS):
        ``SESSION_COOKIE_PARTITIONED``.

        :param app: the application.
        """
        return bool(app.config["SESSION_COOKIE_PARTITIONED"])

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> datetime | None:
        """When the cookie expires: now plus ``PERMANENT_SESSION_LIFETIME``
        for a permanent session, ``None`` (when the browser closes) otherwise.

        :param app: the application.
        :param session: the session being saved.
        """
        if session.permanent:
            lifetime: timedelta = app.permanent_session_lifetime
            return datetime.now(UTC) + lifetime
        return None

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        """Whether to send the cookie: when the session changed, or on every
        request for a permanent session when ``SESSION_REFRESH_EACH_REQUEST``
        is true (the default), which pushes its expiry forward.

        :param app: the application.
        :param session: the session being saved.
        """
        return session.modified or (
            session.permanent and bool(app.config["SESSION_REFRESH_EACH_REQUEST"])
        )

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        """Load the session of *request*. Return ``None`` when sessions cannot
        work (the default interface does so without a secret key): the
        request then gets :meth:`make_null_session`. May be ``async def``.

        :param app: the application.
        :param request: the request whose cookies (or headers) name the session.
        """
        raise NotImplementedError

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Store *session* and set whatever cookie *response* needs. Called
        after the ``after_request`` functions, only if the request opened a
        session that is not a null session. May be ``async def``.

        :param app: the application.
        :param session: the session to save.
        :param response: the response about to be sent.
        """
        raise NotImplementedError


#: The serializer of session cookies.
session_json_serializer = TaggedJSONSerializer()


def _add_vary_cookie(response: Response) -> None:
    """Add ``Cookie`` to the response's ``Vary`` header (once)."""
    headers = response.headers
    if type(headers) is Headers:
        # The usual case, a response without Vary, read off the list: the
        # value added is a constant that needs no check.
        items = headers._list
        for name, _ in items:
            if len(name) == 4 and name.lower() == "vary":
                break
        else:
            items.append(("Vary", "Cookie"))
            return
    existing = headers.getlist("vary")
    if not existing:
        headers.add("Vary", "Cookie")
        return
    current = [v.strip() for h in existing for v in h.split(",")]
    current = [v for v in current if v]
    lowered = {v.lower() for v in current}
    if "cookie" in lowered or "*" in lowered:
        return
    headers["Vary"] = ", ".join([*current, "Cookie"])


def _plain_dict(session: SessionMixin) -> dict[str, Any]:
    """``dict(session)``; for a :class:`SecureCookieSession` whose reads are
    its own, a copy of the dict itself (``dict()`` of a dict subclass with
    its own ``keys`` and ``__getitem__`` calls them for every key)."""
    kind = type(session)
    if (
        isinstance(session, SecureCookieSession)
        and kind.keys is SecureCookieSession.keys
        and kind.__getitem__ is SecureCookieSession.__getitem__
    ):
        return dict.copy(session)
    return dict(session)


class SecureCookieSessionInterface(SessionInterface):
    """The default: the session lives in a cookie signed with ``SECRET_KEY``
    (itsdangerous, HMAC-SHA1 with the ``"cookie-session"`` salt, tagged
    JSON), exactly as in Flask 3.1, so cookies pass between the two.

    Cookies signed with a key in ``SECRET_KEY_FALLBACKS`` are read too; new
    cookies are always signed with ``SECRET_KEY``. A cookie that is missing,
    tampered with, truncated, expired or otherwise unreadable gives a fresh,
    empty session, never an error.
    """

    #: The salt mixed into the key; Flask's value.
    salt = "cookie-session"
    #: The hash function of the signature (SHA-1, as in Flask).
    digest_method = staticmethod(sha1)
    #: itsdangerous key derivation (``"hmac"``, as in Flask).
    key_derivation = "hmac"
    #: Turns the session dict into the cookie payload and back.
    serializer = session_json_serializer
    #: The class of opened sessions.
    session_class = SecureCookieSession

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """The itsdangerous serializer that signs and verifies cookies, or
        ``None`` without a secret key. ``SECRET_KEY`` signs; it and every key
        in ``SECRET_KEY_FALLBACKS`` verify.

        :param app: the application.
        """
        secret_key = app.secret_key
        if not secret_key:
            return None
        fallbacks = app.config["SECRET_KEY_FALLBACKS"]
        keys = (*fallbacks, secret_key) if fallbacks else (secret_key,)
        settings = (keys, self.salt, self.serializer, self.key_derivation, self.digest_method)
        # Built once per key set and settings, not twice per request.
        cached = self.__dict__.get("_signing_serializer")
        if cached is not None and cached[0] == settings:
            return cached[1]  # type: ignore[no-any-return]
        signer = SessionSerializer(
            cast(Any, list(keys)),  # the last key signs; all of them verify
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )
        self.__dict__["_signing_serializer"] = (settings, signer)
        return signer

    @nonblocking
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The session in the request's cookie; an empty one if the cookie is
        missing or cannot be trusted; ``None`` without a secret key.

        :param app: the application.
        :param request: the request.
        """
        signer = self.get_signing_serializer(app)
        if signer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data = signer.loads(value, max_age=max_age)
        except Exception:
            # Bad signature, expired, garbage, a payload that is not tagged
            # JSON: all mean "no usable session", never a 500. (Flask catches
            # only BadSignature.)
            return self.session_class()
        if not isinstance(data, dict):
            return self.session_class()
        return self.session_class(data)

    def _cookie_settings(self, app: Flask) -> dict[str, Any]:
        # Asked for only when a cookie is set or deleted, not on every
        # request that reads the session.
        return {
            "domain": self.get_cookie_domain(app),
            "path": self.get_cookie_path(app),
            "secure": self.get_cookie_secure(app),
            "partitioned": self.get_cookie_partitioned(app),
            "samesite": self.get_cookie_samesite(app),
            "httponly": self.get_cookie_httponly(app),
        }

    @nonblocking
    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Set (or delete) the session cookie on *response* when needed, and
        add ``Vary: Cookie`` when the session was accessed.

        :param app: the application.
        :param session: the session to save.
        :param response: the response about to be sent.
        """
        if session.accessed:
            _add_vary_cookie(response)
        # An emptied session deletes the cookie; an empty one sets nothing.
        if not session:
            if session.modified:
                response.delete_cookie(self.get_cookie_name(app), **self._cookie_settings(app))
                _add_vary_cookie(response)
            return
        if not self.should_set_cookie(app, session):
            return
        signer = self.get_signing_serializer(app)
        if signer is None:
            return
        value = signer.dumps(_plain_dict(session))
        response.set_cookie(
            self.get_cookie_name(app),
            value,
            expires=self.get_expiration_time(app, session),
            **self._cookie_settings(app),
        )
        if not session.accessed:  # (an accessed session has its Vary already)
            _add_vary_cookie(response)
