"""One pass through every request type of the migrated app with the
framework's own test client: ``python -m benchmarks.migrated.check Flask
migrated``. The smoke run uses it where the framework's server is not
installed (gunicorn, for Flask, outside benchmarks/.venv); a process of its
own, because flaskish's row calls ``install_as_flask()``, which is for the
whole process."""

from __future__ import annotations

import sys

from . import PASSWORD, USERS, csrf_token_in

__all__ = ["check"]


def check(app: object) -> None:
    """Log in, read the page and the API, post a note (refused without the
    CSRF token), and see its flashed message; raise ``SystemExit`` at the
    first wrong answer."""
    client = app.test_client()  # type: ignore[attr-defined]
    user = USERS[0]

    def expect(ok: bool, what: str, response: object) -> None:
        if not ok:
            data = getattr(response, "data", b"")[:300]
            sys.exit(f"{what}: {getattr(response, 'status_code', '?')} {data!r}")

    login = client.get("/login")
    token = csrf_token_in(login.data)
    expect(login.status_code == 200 and token is not None, "GET /login", login)
    done = client.post("/login", data={"csrf_token": token, "name": user, "password": PASSWORD})
    expect(done.status_code == 302 and done.headers["Location"].endswith("/"), "POST /login", done)
    page = client.get("/")
    expect(
        page.status_code == 200
        and f"notes of {user} (40)".encode() in page.data
        and b"Welcome, " in page.data,
        "GET /",
        page,
    )
    api = client.get("/api/notes")
    expect(api.status_code == 200 and api.get_json()["user"] == user, "GET /api/notes", api)
    forged = client.post("/notes", data={"title": "forged"})
    expect(forged.status_code == 400, "POST /notes without the CSRF token", forged)
    posted = client.post(
        "/notes",
        data={"csrf_token": csrf_token_in(page.data), "title": "A note", "body": "Checked."},
    )
    expect(posted.status_code == 302, "POST /notes", posted)
    page = client.get("/")
    expect(
        b"Note saved." in page.data and f"notes of {user} (41)".encode() in page.data,
        "GET / after the POST",
        page,
    )


def main() -> None:
    from ..apps import FRAMEWORKS

    name, app_name = sys.argv[1:3]
    framework = next(f for f in FRAMEWORKS if f.name == name)
    check(framework.build(app_name))
    print(f"{name} {app_name}: every request type answered")


if __name__ == "__main__":
    main()
