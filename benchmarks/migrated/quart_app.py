"""The migrated app written for Quart, as a Quart user writes it: the same
routes, templates (``templates/``), database and answers as ``app.py``, with
``async def`` views and hooks.

Flask-Login, Flask-SQLAlchemy and Flask-WTF import ``flask`` and do not run
on Quart (quart-flask-patch, which fakes ``flask`` for them, is not what is
measured here), so this version uses what Quart apps use instead:

* **login:** the user id in the signed cookie session (``session["_user_id"]``,
  the key Flask-Login uses) and a ``login_required`` decorator that loads the
  user from the database (Flask-Login also checks a session identifier
  hashed from the client's address and user agent; this does not);
* **database:** SQLAlchemy's asyncio ORM on aiosqlite (the same models and
  queries as Flask-SQLAlchemy's, awaited), one ``AsyncSession`` per request,
  closed at teardown;
* **forms and CSRF:** WTForms itself with its ``SessionCSRF`` (an HMAC token
  tied to a secret kept in the session, what Flask-WTF's token is too);
  a POST whose token is missing or wrong gets a 400, as with
  Flask-WTF's ``CSRFProtect``;
* ``flash`` is awaited, and ``render_template`` too.

The in-app clock records wall time only: Quart's hooks run on the event
loop, interleaved with other requests, so a thread's CPU time says nothing
about one request.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import wraps
from time import perf_counter
from types import SimpleNamespace
from typing import Any

from quart import Quart, Response, abort, flash, g, redirect, render_template, request, session
from quart import url_for as quart_url_for
from sqlalchemy import ForeignKey, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from werkzeug.security import check_password_hash
from wtforms import Form, PasswordField, StringField, TextAreaField
from wtforms.csrf.session import SessionCSRF
from wtforms.validators import DataRequired, Length

from . import PAGE_SIZE, SECRET_KEY, TEMPLATES, TIMINGS, new_database

__all__ = ["create_app"]


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    password_hash: Mapped[str]
    is_authenticated = True


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str]
    body: Mapped[str]
    created: Mapped[int]


class CsrfForm(Form):
    class Meta:
        csrf = True
        csrf_class = SessionCSRF
        csrf_secret = SECRET_KEY.encode()
        csrf_time_limit = timedelta(hours=1)


class LoginForm(CsrfForm):
    name = StringField("Name", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


class NoteForm(CsrfForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=120)])
    body = TextAreaField("Body", validators=[Length(max=2000)])


ANONYMOUS = SimpleNamespace(is_authenticated=False)


async def form_of(kind: type[CsrfForm]) -> CsrfForm:
    """The form, from the request's body when it has one; a POST with a
    bad CSRF token is refused (400)."""
    if request.method != "POST":
        return kind(meta={"csrf_context": session})
    form = kind(await request.form, meta={"csrf_context": session})
    form.validate()
    if form.csrf_token.errors:
        abort(400)
    return form


def login_required(view: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    @wraps(view)
    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        user_id = session.get("_user_id")
        user = await g.db.get(User, int(user_id)) if user_id is not None else None
        if user is None:
            return redirect(quart_url_for("login"))
        g.user = user
        return await view(*args, **kwargs)

    return wrapped


async def latest_notes(db: AsyncSession, user_id: int) -> list[Note]:
    query = select(Note).filter_by(user_id=user_id).order_by(Note.id.desc()).limit(PAGE_SIZE)
    return list(await db.scalars(query))


async def note_count(db: AsyncSession, user_id: int) -> int:
    query = select(func.count()).select_from(Note).filter_by(user_id=user_id)
    return int(await db.scalar(query) or 0)


def create_app(database: str | None = None) -> Quart:
    """The Quart app, on the sqlite file *database* (a fresh seeded one by
    default)."""
    app = Quart(__name__, template_folder=TEMPLATES)
    app.config["SECRET_KEY"] = SECRET_KEY
    engine = create_async_engine(
        f"sqlite+aiosqlite:///{database or new_database()}", pool_size=20, max_overflow=20
    )
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    @app.before_request
    async def start_clock() -> None:
        g.clock = perf_counter()
        g.db = sessions()

    @app.after_request
    async def stop_clock(response: Response) -> Response:
        started = g.pop("clock", None)
        if started is not None and request.endpoint != "timing":
            TIMINGS.record(perf_counter() - started, None)
        return response

    @app.teardown_appcontext
    async def close_db(error: BaseException | None) -> None:
        db = g.pop("db", None)
        if db is not None:
            await db.close()

    @app.after_serving
    async def dispose() -> None:
        await engine.dispose()

    @app.context_processor
    async def user_context() -> dict[str, Any]:
        return {"current_user": g.get("user", ANONYMOUS)}

    @app.before_request
    async def remember_theme() -> None:
        g.theme = request.cookies.get("theme", "light")

    @app.after_request
    async def security_headers(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    @app.route("/login", methods=["GET", "POST"])
    async def login() -> Any:
        form = await form_of(LoginForm)
        if request.method == "POST" and not form.errors:
            user = await g.db.scalar(select(User).filter_by(name=form.name.data))
            if user is not None and check_password_hash(user.password_hash, form.password.data):
                session["_user_id"] = str(user.id)
                await flash(f"Welcome, {user.name}.", "info")
                return redirect(quart_url_for("notes"))
            await flash("Wrong name or password.", "error")
        return await render_template("login.html", form=form)

    @app.route("/")
    @login_required
    async def notes() -> str:
        return await render_template(
            "notes.html",
            user=g.user,
            form=await form_of(NoteForm),
            notes=await latest_notes(g.db, g.user.id),
            count=await note_count(g.db, g.user.id),
        )

    @app.post("/notes")
    @login_required
    async def add_note() -> Response:
        form = await form_of(NoteForm)
        if not form.errors:
            g.db.add(
                Note(
                    user_id=g.user.id,
                    title=form.title.data,
                    body=form.body.data or "",
                    created=int(time.time()),
                )
            )
            await g.db.commit()
            await flash("Note saved.", "success")
        else:
            await flash("A note needs a title.", "error")
        return redirect(quart_url_for("notes"))

    @app.get("/api/notes")
    @login_required
    async def api_notes() -> dict[str, Any]:
        return {
            "user": g.user.name,
            "count": await note_count(g.db, g.user.id),
            "notes": [
                {
                    "id": note.id,
                    "title": note.title,
                    "created": note.created,
                    "url": quart_url_for("api_note", note_id=note.id),
                }
                for note in await latest_notes(g.db, g.user.id)
            ],
        }

    @app.get("/api/notes/<int:note_id>")
    @login_required
    async def api_note(note_id: int) -> dict[str, Any]:
        note = await g.db.scalar(select(Note).filter_by(id=note_id, user_id=g.user.id))
        if note is None:
            abort(404)
        return {"id": note.id, "title": note.title, "body": note.body, "created": note.created}

    @app.get("/__timing")
    async def timing() -> dict[str, Any]:
        return TIMINGS.snapshot(reset="reset" in request.args)

    return app
