"""Flask's signals, on blinker.

The signals are Flask's (same names, same blinker signal names, same
arguments, sent at the same points), so receivers written for Flask work
unchanged. Receivers may be ``def`` or ``async def``:

* Signals of the request pipeline (``request_started``, ``request_finished``,
  ``got_request_exception``, ``request_tearing_down``,
  ``appcontext_tearing_down``, ``appcontext_pushed``, ``appcontext_popped``)
  are sent with :func:`send`: every receiver goes through
  :mod:`flaskish.concurrency`, so ``async def`` receivers are awaited on the
  event loop and ``def`` receivers run on the request's worker thread, like
  every other sync callable of the request.
* Signals sent from sync code (``before_render_template`` and
  ``template_rendered`` from :func:`~flaskish.render_template`) use
  :func:`send_sync`. In a ``def`` view (on a worker thread) an ``async def``
  receiver runs on the event loop while the view's thread waits. In an
  ``async def`` view, ``render_template`` runs on the event loop itself,
  where sync code cannot wait for a coroutine: an ``async def`` receiver
  there raises :class:`AsyncReceiverError` *before any receiver runs* (see
  :func:`send_sync` for why it is not scheduled instead).
* ``message_flashed`` is sent by :func:`~flaskish.flash`, which can hand
  ``async def`` receivers back to the view: ``await flash(...)``.
"""

from __future__ import annotations

from typing import Any

from blinker import Namespace, Signal

from .concurrency import call, is_async_callable, on_loop_thread, run_in_loop

__all__ = [
    "AsyncReceiverError",
    "appcontext_popped",
    "appcontext_pushed",
    "appcontext_tearing_down",
    "before_render_template",
    "got_request_exception",
    "message_flashed",
    "request_finished",
    "request_started",
    "request_tearing_down",
    "send",
    "send_sync",
    "template_rendered",
]

# This namespace is only for the signals of flaskish itself (Flask's, by name).
_signals = Namespace()

#: Sent after a template rendered: ``(app, template=, context=)``.
template_rendered = _signals.signal("template-rendered")
#: Sent before a template renders: ``(app, template=, context=)``; receivers
#: may still change ``context``.
before_render_template = _signals.signal("before-render-template")
#: Sent when a request starts, before the ``before_request`` functions: ``(app)``.
request_started = _signals.signal("request-started")
#: Sent when the response is ready (after the ``after_request`` functions
#: and the session save), before it is sent: ``(app, response=)``.
request_finished = _signals.signal("request-finished")
#: Sent after the ``teardown_request`` functions: ``(app, exc=)``.
request_tearing_down = _signals.signal("request-tearing-down")
#: Sent when an unhandled exception reaches ``handle_exception``, before the
#: 500 handler: ``(app, exception=)``.
got_request_exception = _signals.signal("got-request-exception")
#: Sent after the ``teardown_appcontext`` functions: ``(app, exc=)``.
appcontext_tearing_down = _signals.signal("appcontext-tearing-down")
#: Sent when an app context is pushed: ``(app)``.
appcontext_pushed = _signals.signal("appcontext-pushed")
#: Sent when an app context is popped: ``(app)``.
appcontext_popped = _signals.signal("appcontext-popped")
#: Sent when :func:`~flaskish.flash` stores a message: ``(app, message=, category=)``.
message_flashed = _signals.signal("message-flashed")


class AsyncReceiverError(RuntimeError):
    """An ``async def`` receiver of a signal sent from sync code running on
    the event loop (``render_template`` in an ``async def`` view), where it
    cannot be awaited."""


def _name(signal: Signal) -> str:
    # "template-rendered" -> "template_rendered", the name users import.
    name = getattr(signal, "name", None)  # a NamedSignal has one
    return name.replace("-", "_") if isinstance(name, str) else repr(signal)


def send_sync(signal: Signal, sender: Any, **kwargs: Any) -> None:
    """Send *signal* from sync code (rendering a template).

    ``def`` receivers are called in place. ``async def`` receivers are run
    to completion before this returns: on the event loop from a worker
    thread (a ``def`` view), on a short-lived loop outside any event loop (a
    script). On the event loop's own thread (an ``async def`` view) sync code
    cannot wait for a coroutine, so an ``async def`` receiver raises
    :class:`AsyncReceiverError` before any receiver runs.

    Why not schedule it as a task instead: it would run after the caller
    went on (and possibly after the request ended), so what it records is
    not there when the view or a test looks, and its exceptions are lost.
    Flask behaves the same way (its ``async_to_sync`` refuses to run on a
    thread that runs an event loop). Costs nothing without receivers, and
    sends nothing while the signal is muted.
    """
    if not signal.receivers or signal.is_muted:
        return
    receivers = list(signal.receivers_for(sender))
    if on_loop_thread():
        blocked = [r for r in receivers if is_async_callable(r)]
        if blocked:
            names = ", ".join(getattr(r, "__qualname__", repr(r)) for r in blocked)
            raise AsyncReceiverError(
                f"The {_name(signal)} signal has an async def receiver ({names}), and it "
                "was sent from sync code running on the event loop (render_template in an "
                "async def view, for instance), which cannot await it. Make the receiver a "
                "plain def function, or send the signal from a def view."
            )
    for receiver in receivers:
        if is_async_callable(receiver):
            run_in_loop(receiver, sender, **kwargs)
        else:
            receiver(sender, **kwargs)


async def send(signal: Signal, sender: Any, **kwargs: Any) -> None:
    """Send *signal* from the request pipeline (or a context's push and
    pop): each receiver, ``def`` or ``async def``, is called through the
    pipeline's driver (``await call(...)``), so only a coroutine run by
    :func:`~flaskish.concurrency.drive` or
    :func:`~flaskish.concurrency.drive_blocking` may await this. Costs
    nothing without receivers, and sends nothing while the signal is muted."""
    if not signal.receivers or signal.is_muted:
        return
    for receiver in list(signal.receivers_for(sender)):
        await call(receiver, sender, **kwargs)
