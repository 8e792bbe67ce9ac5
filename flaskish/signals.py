"""Flask's signals, on blinker. Receivers may be ``def`` or ``async def``;
the pipeline calls each through :mod:`flaskish.concurrency`, so sync
receivers run on the request's worker thread like every other sync callable.
"""

from __future__ import annotations

from typing import Any

from blinker import Namespace, Signal

from .concurrency import call, is_async_callable, run_in_loop

__all__ = [
    "appcontext_popped",
    "appcontext_pushed",
    "appcontext_tearing_down",
    "before_render_template",
    "got_request_exception",
    "message_flashed",
    "request_finished",
    "request_started",
    "request_tearing_down",
    "template_rendered",
]

_signals = Namespace()

#: Sent after a template rendered: ``(app, template=, context=)``.
template_rendered = _signals.signal("template-rendered")
#: Sent before a template renders: ``(app, template=, context=)``.
before_render_template = _signals.signal("before-render-template")
#: Sent when a request starts, before ``before_request`` functions: ``(app)``.
request_started = _signals.signal("request-started")
#: Sent when the response is ready, before it is sent: ``(app, response=)``.
request_finished = _signals.signal("request-finished")
#: Sent during request teardown: ``(app, exc=)``.
request_tearing_down = _signals.signal("request-tearing-down")
#: Sent when an exception reaches ``handle_exception``: ``(app, exception=)``.
got_request_exception = _signals.signal("got-request-exception")
#: Sent during app context teardown: ``(app, exc=)``.
appcontext_tearing_down = _signals.signal("appcontext-tearing-down")
#: Sent when an app context is pushed: ``(app)``.
appcontext_pushed = _signals.signal("appcontext-pushed")
#: Sent when an app context is popped: ``(app)``.
appcontext_popped = _signals.signal("appcontext-popped")
#: Sent when :func:`~flaskish.flash` stores a message: ``(app, message=, category=)``.
message_flashed = _signals.signal("message-flashed")


def send_sync(signal: Signal, sender: Any, **kwargs: Any) -> None:
    """Send *signal* from sync code (rendering a template, flashing).
    ``async def`` receivers run on the event loop when called from a worker
    thread; on the event loop itself they cannot be awaited from sync code,
    and raise an error that says so. Costs nothing without receivers."""
    if not signal.receivers:
        return
    for receiver in signal.receivers_for(sender):
        if is_async_callable(receiver):
            run_in_loop(receiver, sender, **kwargs)
        else:
            receiver(sender, **kwargs)


async def send(signal: Signal, sender: Any, **kwargs: Any) -> None:
    """Send *signal* from the pipeline: each receiver, ``def`` or
    ``async def``, runs through the driver. Costs nothing without receivers."""
    if not signal.receivers:
        return
    for receiver in signal.receivers_for(sender):
        await call(receiver, sender, **kwargs)
