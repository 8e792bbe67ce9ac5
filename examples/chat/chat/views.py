"""The chat blueprint: log in with a name, chat, log out.

The page opens a websocket to one of two handlers that do the same thing
in the two styles flaskish supports, and share one room (a broadcast
channel, :mod:`chat.room`, so every worker process shares it too):

* ``/ws``, an ``async def`` handler: ``await websocket.receive()``, and the
  room's messages relayed by a task;
* ``/ws-sync``, a ``def`` handler: ``websocket.receive()`` blocks its
  worker thread only, and the room's messages are relayed by a thread.

Who you are comes from the cookie session that ``/login`` set: the
handshake carries the cookie, so ``session`` is readable in a handler (a
websocket cannot set cookies, so it is read-only there). A handshake
without a logged-in user is refused with a 401 before it is accepted.
"""

from __future__ import annotations

import threading
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

from .room import CHANNEL, UNAVAILABLE, relay, relay_blocking, say, say_blocking

__all__ = ["MAX_NAME", "MAX_TEXT", "bp"]

bp = Blueprint("chat", __name__)

#: The longest name and message accepted, in characters.
MAX_NAME = 32
MAX_TEXT = 500


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
    """The ``async def`` handler: subscribed to the room, it relays the
    room's messages in one task while it reads its client's lines."""
    user = session["user"]
    me = websocket._get_current_object()  # the connection itself, for the relay
    await websocket.accept()
    async with current_app.broadcast.subscribe(CHANNEL) as messages:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(relay, messages, me)
            try:
                await say({"user": None, "text": f"{user} joined"})
                while True:
                    text = _clean(await websocket.receive())
                    if text and not await say({"user": user, "text": text}):
                        await websocket.send_json(UNAVAILABLE)
            except WebSocketDisconnect:
                pass  # the client left
            finally:
                tasks.cancel_scope.cancel()
                # Once the client is gone, flaskish cancels a handler that
                # lingers; the goodbye is shielded.
                with anyio.CancelScope(shield=True):
                    await say({"user": None, "text": f"{user} left"})


@bp.websocket("/ws-sync")
def socket_sync() -> None:
    """The ``def`` handler: the same, with blocking calls. ``receive()``
    blocks this worker thread only (it gives up its thread-pool slot while
    it waits); the room's messages are relayed from a thread of its own."""
    user = session["user"]
    me = websocket._get_current_object()
    websocket.accept()
    with current_app.broadcast.subscribe(CHANNEL) as messages:
        relaying = threading.Thread(target=relay_blocking, args=(messages, me), daemon=True)
        relaying.start()
        try:
            say_blocking({"user": None, "text": f"{user} joined"})
            while True:
                text = _clean(websocket.receive())
                if text and not say_blocking({"user": user, "text": text}):
                    websocket.send_json(UNAVAILABLE)
        except WebSocketDisconnect:
            pass
        finally:
            say_blocking({"user": None, "text": f"{user} left"})
    relaying.join(5)  # leaving the block ended the subscription, and the relay


def _clean(message: str | bytes) -> str:
    """A chat line: text only, trimmed, at most ``MAX_TEXT`` characters."""
    if not isinstance(message, str):
        return ""  # the page sends text; binary messages are ignored
    return message.strip()[:MAX_TEXT]
