"""The test client's cookies: httpx's cookie jar, kept to Werkzeug's test
client's rules.

Werkzeug's client keys a cookie by (domain, path, name): a cookie a response
sets replaces the one of that name, domain and path, whether either was set
with an explicit ``Domain`` or not, and ``client.set_cookie(...,
domain="localhost")`` replaces the cookie the server set for ``localhost``.
httpx's jar (the standard library's) keeps both and would send the old one
first; :class:`ClientCookies` drops the replaced ones. The jar stores a host
without a dot (``localhost``) as ``localhost.local``; the methods here take
and give the host as the test wrote it.
"""

from __future__ import annotations

import http.cookiejar
from dataclasses import dataclass
from datetime import UTC, datetime
from http.cookies import CookieError, Morsel, SimpleCookie

import httpx2 as httpx
from werkzeug.http import parse_date

__all__ = ["ClientCookies", "Cookie"]


@dataclass(frozen=True)
class Cookie:
    """A cookie held by the test client, as Werkzeug's test client gives
    it: ``client.get_cookie("session").value``."""

    key: str
    value: str
    domain: str
    path: str
    expires: datetime | None
    secure: bool
    http_only: bool
    same_site: str | None

    @classmethod
    def _from_jar(cls, cookie: http.cookiejar.Cookie, domain: str) -> Cookie:
        rest = {name.lower(): value for name, value in cookie._rest.items()}  # type: ignore[attr-defined]
        expires = datetime.fromtimestamp(cookie.expires, UTC) if cookie.expires else None
        return cls(
            key=cookie.name,
            value=cookie.value or "",
            domain=domain,
            path=cookie.path,
            expires=expires,
            secure=cookie.secure,
            http_only="httponly" in rest,
            same_site=rest.get("samesite"),
        )


def _expired(morsel: Morsel[str]) -> bool:
    max_age = morsel["max-age"]
    if max_age:
        return str(max_age).strip().lstrip("-").isdigit() and int(max_age) <= 0
    expires = morsel["expires"]
    if not expires:
        return False
    moment = parse_date(expires)
    return moment is not None and moment <= datetime.now(UTC)


def _cookie_domain(domain: str) -> str:
    """A cookie domain as Werkzeug's test client compares them: without a
    leading dot, and without the ``.local`` that the cookie jar adds to a
    host name that has no dot (``localhost``)."""
    domain = domain.lstrip(".").lower()
    name, dot, rest = domain.rpartition(".")
    return name if dot and rest == "local" and "." not in name else domain


def _jar_host(host: str) -> str:
    """A host as the jar stores it (``localhost`` becomes ``localhost.local``)."""
    return host if "." in host else f"{host}.local"


class ClientCookies:
    """The client's cookies, over an ``httpx.Cookies`` that the transport
    fills from responses and sends with requests.

    :param cookies: the jar (shared by the client's sync and async sides).
    """

    def __init__(self, cookies: httpx.Cookies) -> None:
        self.cookies = cookies

    def get(self, key: str, domain: str, path: str) -> Cookie | None:
        """The cookie *key* set for *domain* and *path*, ``None`` if none."""
        for cookie in self.cookies.jar:
            if (
                cookie.name == key
                and cookie.path == path
                and cookie.domain in (domain, f"{domain}.local", f".{domain}")
            ):
                return Cookie._from_jar(cookie, domain)
        return None

    def set(self, key: str, value: str, domain: str, path: str) -> None:
        """Store a cookie, replacing the one of that name, domain and path."""
        self._drop(key, domain, path)
        self.cookies.set(key, value, domain=_jar_host(domain), path=path)

    def delete(self, key: str, domain: str, path: str) -> None:
        """Remove the cookie *key* of *path* (whatever its domain)."""
        for cookie in list(self.cookies.jar):
            if cookie.name == key and cookie.path == path:
                self.cookies.jar.clear(cookie.domain, cookie.path, cookie.name)

    def header_for(self, url: str) -> str:
        """The ``Cookie`` header a request to *url* carries."""
        request = httpx.Request("GET", url)
        self.cookies.set_cookie_header(request)
        return request.headers.get("cookie", "")

    def store(self, header: str, url: str) -> None:
        """Store the cookie of a ``Set-Cookie`` *header* received from *url*
        (``session_transaction`` saving the session)."""
        request = httpx.Request("GET", url)
        response = httpx.Response(200, headers=[("set-cookie", header)], request=request)
        self.cookies.extract_cookies(response)
        self.replace_from(response)

    def _drop(self, key: str, domain: str, path: str, keep: str | None = None) -> None:
        """Remove the cookies Werkzeug's client would see as *key* on
        *domain* and *path* (but the one stored under the domain *keep*)."""
        jar = self.cookies.jar
        for cookie in list(jar):
            if (
                (cookie.name, cookie.path) == (key, path)
                and cookie.domain != keep
                and (_cookie_domain(cookie.domain) == _cookie_domain(domain))
            ):
                jar.clear(cookie.domain, cookie.path, cookie.name)

    def replace_from(self, response: httpx.Response) -> None:
        """Once httpx has stored a response's cookies, drop those they
        replace (same name, domain and path)."""
        url = response.request.url
        host = _jar_host(url.host)
        for header in response.headers.get_list("set-cookie"):
            parsed: SimpleCookie = SimpleCookie()
            try:
                parsed.load(header)
            except CookieError:
                continue
            for name, morsel in parsed.items():
                path = morsel["path"] or (url.path.rpartition("/")[0] or "/")
                domain = morsel["domain"].lstrip(".")
                if _expired(morsel):
                    self._drop(name, domain or host, path)
                elif domain and "." not in domain:
                    # The jar refuses an explicit dotless Domain (localhost);
                    # Werkzeug's client keeps it, so keep it as set() does.
                    self._drop(name, domain, path)
                    self.cookies.set(name, morsel.value, domain=_jar_host(domain), path=path)
                else:
                    self._drop(name, domain or host, path, keep=f".{domain}" if domain else host)

    async def replace_from_async(self, response: httpx.Response) -> None:
        """:meth:`replace_from`, as an async client's event hook."""
        self.replace_from(response)
