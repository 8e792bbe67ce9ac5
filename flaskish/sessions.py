"""Sessions: a dict that lives across requests, stored in a signed cookie.

The default :class:`SecureCookieSessionInterface` writes the same cookie
format as Flask 3.1 (itsdangerous, HMAC-SHA1 key derivation, tagged JSON),
so a Flask app can move to flaskish without logging anyone out. A custom
:class:`SessionInterface` may implement ``open_session`` / ``save_session``
as ``async def`` (e.g. a server-side store); the pipeline awaits them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn, cast

from itsdangerous import URLSafeTimedSerializer

from .json.tag import TaggedJSONSerializer

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
    """What every session has besides being a dict."""

    #: ``False`` until the session is read or changed.
    accessed = True
    #: Whether the session changed (set it after mutating a nested value).
    modified = True
    #: Whether the session was just created (always ``False`` for cookies).
    new = False

    @property
    def permanent(self) -> bool:
        """Whether the session outlives the browser session (lives
        ``PERMANENT_SESSION_LIFETIME``)."""
        return bool(self.get("_permanent", False))

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self["_permanent"] = bool(value)


class SecureCookieSession(SessionMixin):
    """The session stored in a signed cookie. Tracks :attr:`accessed` and
    :attr:`modified` so the cookie is only written when needed."""

    modified = False
    accessed = False

    def __init__(self, initial: Any = None) -> None:
        self._data: dict[str, Any] = dict(initial or {})

    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.accessed = self.modified = True
        self._data[key] = value

    def __delitem__(self, key: str) -> None:
        self.accessed = self.modified = True
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        self.accessed = True
        return iter(self._data)

    def __len__(self) -> int:
        self.accessed = True
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        self.accessed = True
        return key in self._data

    def get(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        return self._data.get(key, default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.accessed = True
        if key not in self._data:
            self.modified = True
        return self._data.setdefault(key, default)

    def clear(self) -> None:
        self.accessed = True
        if self._data:
            self.modified = True
        self._data.clear()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SecureCookieSession):
            return self._data == other._data
        return self._data == other

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._data!r}>"


class NullSession(SecureCookieSession):
    """The session when no ``SECRET_KEY`` is set: reading works (it is
    empty), writing raises an error that says to set the key."""

    def _fail(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise RuntimeError(
            "The session is unavailable because no secret key was set. Set the secret_key on "
            "the application to something unique and secret: app.secret_key = "
            "secrets.token_hex() (or the SECRET_KEY config value)."
        )

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _fail


class SessionInterface:
    """How an app loads and saves sessions. Subclass it and set
    ``app.session_interface``. ``open_session`` and ``save_session`` may
    be ``async def``."""

    null_session_class: type[NullSession] = NullSession
    #: Tell the test client's session_transaction not to...; kept for Flask parity.
    pickle_based = False

    def make_null_session(self, app: Flask) -> NullSession:
        """The session used when :meth:`open_session` returns ``None``."""
        return self.null_session_class()

    def is_null_session(self, obj: object) -> bool:
        """Whether *obj* is the null session (never saved)."""
        return isinstance(obj, self.null_session_class)

    def get_cookie_name(self, app: Flask) -> str:
        """``SESSION_COOKIE_NAME``."""
        return app.config["SESSION_COOKIE_NAME"]  # type: ignore[no-any-return]

    def get_cookie_domain(self, app: Flask) -> str | None:
        """``SESSION_COOKIE_DOMAIN``."""
        return app.config["SESSION_COOKIE_DOMAIN"]  # type: ignore[no-any-return]

    def get_cookie_path(self, app: Flask) -> str:
        """``SESSION_COOKIE_PATH``, else ``APPLICATION_ROOT``."""
        return app.config["SESSION_COOKIE_PATH"] or app.config["APPLICATION_ROOT"]  # type: ignore[no-any-return]

    def get_cookie_httponly(self, app: Flask) -> bool:
        """``SESSION_COOKIE_HTTPONLY``."""
        return bool(app.config["SESSION_COOKIE_HTTPONLY"])

    def get_cookie_secure(self, app: Flask) -> bool:
        """``SESSION_COOKIE_SECURE``."""
        return bool(app.config["SESSION_COOKIE_SECURE"])

    def get_cookie_samesite(self, app: Flask) -> str | None:
        """``SESSION_COOKIE_SAMESITE``."""
        return app.config["SESSION_COOKIE_SAMESITE"]  # type: ignore[no-any-return]

    def get_cookie_partitioned(self, app: Flask) -> bool:
        """``SESSION_COOKIE_PARTITIONED``."""
        return bool(app.config["SESSION_COOKIE_PARTITIONED"])

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> datetime | None:
        """When a permanent session's cookie expires; ``None`` (browser
        session) otherwise."""
        if session.permanent:
            lifetime: timedelta = app.permanent_session_lifetime
            return datetime.now(UTC) + lifetime
        return None

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        """Whether to send the cookie: when the session changed, or on every
        request for a permanent session with ``SESSION_REFRESH_EACH_REQUEST``."""
        return session.modified or (
            session.permanent and bool(app.config["SESSION_REFRESH_EACH_REQUEST"])
        )

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        """Load the session for *request* (``None``: use a null session)."""
        raise NotImplementedError

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Save the session on *response*."""
        raise NotImplementedError


#: The serializer of session cookies.
session_json_serializer = TaggedJSONSerializer()


def _sha1(string: bytes = b"") -> Any:
    return hashlib.sha1(string)


def _add_vary_cookie(response: Response) -> None:
    values = [v.strip().lower() for h in response.headers.getlist("vary") for v in h.split(",")]
    if "cookie" not in values and "*" not in values:
        response.headers.append("Vary", "Cookie")


class SecureCookieSessionInterface(SessionInterface):
    """Sessions in cookies signed with ``SECRET_KEY`` (and verified with
    ``SECRET_KEY_FALLBACKS`` too, for key rotation)."""

    salt = "cookie-session"
    digest_method = staticmethod(_sha1)
    key_derivation = "hmac"
    serializer = session_json_serializer
    session_class = SecureCookieSession

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """The itsdangerous serializer, ``None`` without a secret key."""
        if not app.secret_key:
            return None
        keys: list[str | bytes] = list(app.config["SECRET_KEY_FALLBACKS"] or ())
        keys.append(app.secret_key)  # the last key signs; all of them verify
        return URLSafeTimedSerializer(
            cast(Any, keys),  # itsdangerous accepts a mixed list of str/bytes keys
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={"key_derivation": self.key_derivation,
                           "digest_method": self.digest_method},
        )

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
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
            return self.session_class()
        if not isinstance(data, dict):
            return self.session_class()
        return self.session_class(data)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        secure = self.get_cookie_secure(app)
        partitioned = self.get_cookie_partitioned(app)
        samesite = self.get_cookie_samesite(app)
        httponly = self.get_cookie_httponly(app)
        if session.accessed:
            _add_vary_cookie(response)
        if not session:
            if session.modified:
                response.delete_cookie(name, domain=domain, path=path, secure=secure,
                                       partitioned=partitioned, samesite=samesite,
                                       httponly=httponly)
                _add_vary_cookie(response)
            return
        if not self.should_set_cookie(app, session):
            return
        signer = self.get_signing_serializer(app)
        if signer is None:
            return
        value = signer.dumps(dict(session))
        response.set_cookie(name, value, expires=self.get_expiration_time(app, session),
                            httponly=httponly, domain=domain, path=path, secure=secure,
                            partitioned=partitioned, samesite=samesite)
        _add_vary_cookie(response)
