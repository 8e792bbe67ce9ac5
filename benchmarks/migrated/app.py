"""The migrated app, as a Flask app is written: it imports ``flask`` and
Flask's extensions, and runs unchanged on real Flask (gunicorn) and on
flaskish (uvicorn, ``on_flaskish.py`` calling ``install_as_flask()`` first).

A notes app for logged-in users: ``/login`` (a form), ``/`` (a Jinja page
extending a base, with a query, ``url_for`` links, flashed messages and a
CSRF-protected form), ``POST /notes`` (adds a note, flashes, redirects),
``/api/notes`` and ``/api/notes/<id>`` (JSON). ``/__timing`` answers the
time requests spent between the first ``before_request`` hook and the last
``after_request`` hook (:data:`benchmarks.migrated.TIMINGS`).
"""

from __future__ import annotations

import time
from time import perf_counter, thread_time
from typing import Any

from flask import Flask, Response, flash, g, redirect, render_template, request, url_for
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash
from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from . import PAGE_SIZE, SECRET_KEY, TEMPLATES, TIMINGS, new_database

__all__ = ["create_app"]

db = SQLAlchemy()
login_manager = LoginManager()
csrf = CSRFProtect()


class User(UserMixin, db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    password_hash: Mapped[str]


class Note(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(db.ForeignKey("users.id"))
    title: Mapped[str]
    body: Mapped[str]
    created: Mapped[int]


class LoginForm(FlaskForm):  # type: ignore[misc]
    name = StringField("Name", validators=[DataRequired()])
    password = PasswordField("Password", validators=[DataRequired()])


class NoteForm(FlaskForm):  # type: ignore[misc]
    title = StringField("Title", validators=[DataRequired(), Length(max=120)])
    body = TextAreaField("Body", validators=[Length(max=2000)])


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def latest_notes(user_id: int) -> list[Note]:
    query = db.select(Note).filter_by(user_id=user_id).order_by(Note.id.desc()).limit(PAGE_SIZE)
    return list(db.session.scalars(query))


def note_count(user_id: int) -> int:
    query = db.select(db.func.count()).select_from(Note).filter_by(user_id=user_id)
    return int(db.session.scalar(query) or 0)


def notes_payload() -> dict[str, Any]:
    """What ``/api/notes`` answers."""
    return {
        "user": current_user.name,
        "count": note_count(current_user.id),
        "notes": [
            {
                "id": note.id,
                "title": note.title,
                "created": note.created,
                "url": url_for("api_note", note_id=note.id),
            }
            for note in latest_notes(current_user.id)
        ],
    }


def note_payload(note_id: int) -> dict[str, Any]:
    """What ``/api/notes/<id>`` answers (404 for another user's note)."""
    note = db.first_or_404(db.select(Note).filter_by(id=note_id, user_id=current_user.id))
    return {"id": note.id, "title": note.title, "body": note.body, "created": note.created}


def create_app(database: str | None = None, *, async_api: bool = False) -> Flask:
    """The app, on the sqlite file *database* (a fresh seeded one by
    default). With *async_api*, the JSON API views are ``async def``
    (still under ``@login_required``, whose ``def`` wrapper calls them
    through ``current_app.ensure_sync``)."""
    app = Flask(__name__, template_folder=TEMPLATES)
    app.config.update(
        SECRET_KEY=SECRET_KEY,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{database or new_database()}",
        # As many pooled connections as requests in flight (40 worker threads).
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 20, "max_overflow": 20},
    )

    # The clock's hooks come first: the first before_request to run, the
    # last after_request (they run in reverse), so the extensions' hooks
    # (Flask-WTF's CSRF check, Flask-Login's cookie update) are inside.
    @app.before_request
    def start_clock() -> None:
        g.clock = (perf_counter(), thread_time())

    @app.after_request
    def stop_clock(response: Response) -> Response:
        started = g.pop("clock", None)
        if started is not None and request.endpoint != "timing":
            TIMINGS.record(perf_counter() - started[0], thread_time() - started[1])
        return response

    db.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "login"
    csrf.init_app(app)

    @app.before_request
    def remember_theme() -> None:
        g.theme = request.cookies.get("theme", "light")

    @app.after_request
    def security_headers(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        form = LoginForm()
        if form.validate_on_submit():
            user = db.session.scalar(db.select(User).filter_by(name=form.name.data))
            if user is not None and check_password_hash(user.password_hash, form.password.data):
                login_user(user)
                flash(f"Welcome, {user.name}.", "info")
                return redirect(url_for("notes"))
            flash("Wrong name or password.", "error")
        return render_template("login.html", form=form)

    @app.route("/")
    @login_required
    def notes() -> str:
        return render_template(
            "notes.html",
            user=current_user,
            form=NoteForm(),
            notes=latest_notes(current_user.id),
            count=note_count(current_user.id),
        )

    @app.post("/notes")
    @login_required
    def add_note() -> Response:
        form = NoteForm()
        if form.validate_on_submit():
            db.session.add(
                Note(
                    user_id=current_user.id,
                    title=form.title.data,
                    body=form.body.data or "",
                    created=int(time.time()),
                )
            )
            db.session.commit()
            flash("Note saved.", "success")
        else:
            flash("A note needs a title.", "error")
        return redirect(url_for("notes"))

    if async_api:

        @app.get("/api/notes")
        @login_required
        async def api_notes() -> dict[str, Any]:
            return notes_payload()

        @app.get("/api/notes/<int:note_id>")
        @login_required
        async def api_note(note_id: int) -> dict[str, Any]:
            return note_payload(note_id)
    else:

        @app.get("/api/notes")
        @login_required
        def api_notes() -> dict[str, Any]:
            return notes_payload()

        @app.get("/api/notes/<int:note_id>")
        @login_required
        def api_note(note_id: int) -> dict[str, Any]:
            return note_payload(note_id)

    @app.get("/__timing")
    def timing() -> dict[str, Any]:
        return TIMINGS.snapshot(reset="reset" in request.args)

    return app
