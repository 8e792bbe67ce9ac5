"""The chat blueprint: log in with a name, chat, log out.

The page opens a websocket to one of two handlers that do the same thing
in the two styles flaskish supports, and share one room:

* ``/ws``, an ``async def`` handler: ``await websocket.receive()``, and a
  fan-out on the event loop;
* ``/ws-sync``, a ``def`` handler: ``websocket.receive()`` blocks its
  worker thread only, and the fan-out calls the other connections'
  ``send`` from threads.

Who you are comes from the cookie session that ``/login`` set: the
handshake carries the cookie, so ``session`` is readable in a handler (a
websocket cannot set cookies, so it is read-only there). A handshake
without a logged-in user is refused with a 401 before it is accepted.
"""

from __future__ import annotations

from typing import Any

import anyio

from flaskish import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
    websocket,
)
from flaskish.exceptions import WebSocketDisconnect

from .room import Room

__all__ = ["MAX_NAME", "MAX_TEXT", "bp"]

bp = Blueprint("chat", __name__)

#: The longest name and message accepted, in characters.
MAX_NAME = 32
MAX_TEXT = 500


def get_room() -> Room:
    """The app's room (made by ``create_app``)."""
    room: Room = current_app.extensions["chat.room"]
    return room


# -- pages ------------------------------------------------------------------


@bp.get("/")
def index() -> Any:
    """The chat page, talking to the ``async def`` handler."""
    return _chat_page("chat.socket")


@bp.get("/sync")
def index_sync() -> Any:
    """The same page, talking to the ``def`` handler."""
    return _chat_page("chat.socket_sync")


def _chat_page(endpoint: str) -> Any:
    if "user" not in session:
        return redirect(url_for("chat.login", next=request.path))
    # Only the path: the page's script builds ws:// or wss:// from location.
    return render_template(
        "chat.html", user=session["user"], socket_path=url_for(endpoint), endpoint=endpoint
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """A name is all it takes; it is kept in the signed cookie session."""
    error = None
    if request.method == "POST":
        name = request.form.get("name", "").strip()
        if not name:
            error = "Please enter a name."
        elif len(name) > MAX_NAME:
            error = f"A name has at most {MAX_NAME} characters."
        else:
            session.clear()
            session["user"] = name
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error), 400 if error else 200


def _safe_next(target: str | None) -> str:
    """Back to the page that sent us here, but only to one of ours."""
    if target in (url_for("chat.index"), url_for("chat.index_sync")):
        return target
    return url_for("chat.index")


@bp.post("/logout")
def logout() -> Any:
    session.clear()
    return redirect(url_for("chat.login"))


# -- websockets ---------------------------------------------------------------


@bp.before_websocket
def require_login() -> None:
    """Refuse the handshake (401, before accepting) without a logged-in user."""
    if "user" not in session:
        abort(401, "Log in first: POST your name to /login.")


@bp.websocket("/ws")
async def socket() -> None:
    """The ``async def`` handler: receive on the event loop, fan out with
    ``await room.broadcast(...)``."""
    room, user = get_room(), session["user"]
    me = websocket._get_current_object()  # the connection itself, to share
    await websocket.accept()
    room.join(me)
    try:
        await room.broadcast({"user": None, "text": f"{user} joined"})
        while True:
            text = _clean(await websocket.receive())
            if text:
                await room.broadcast({"user": user, "text": text})
    except WebSocketDisconnect:
        pass  # the client left
    finally:
        room.leave(me)
        # Once the client is gone, flaskish cancels a handler that lingers;
        # the goodbye is shielded (the room's send timeout bounds it).
        with anyio.CancelScope(shield=True):
            await room.broadcast({"user": None, "text": f"{user} left"})


@bp.websocket("/ws-sync")
def socket_sync() -> None:
    """The ``def`` handler: the same, with blocking calls. ``receive()``
    blocks this worker thread only (it gives up its thread-pool slot while
    it waits); ``room.broadcast_blocking`` sends from threads."""
    room, user = get_room(), session["user"]
    me = websocket._get_current_object()
    websocket.accept()
    room.join(me)
    try:
        room.broadcast_blocking({"user": None, "text": f"{user} joined"})
        while True:
            text = _clean(websocket.receive())
            if text:
                room.broadcast_blocking({"user": user, "text": text})
    except WebSocketDisconnect:
        pass
    finally:
        room.leave(me)
        room.broadcast_blocking({"user": None, "text": f"{user} left"})


def _clean(message: str | bytes) -> str:
    """A chat line: text only, trimmed, at most ``MAX_TEXT`` characters."""
    if not isinstance(message, str):
        return ""  # the page sends text; binary messages are ignored
    return message.strip()[:MAX_TEXT]
