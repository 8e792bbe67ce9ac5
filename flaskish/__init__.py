"""flaskish: the Flask API on ASGI.

Change ``from flask import ...`` to ``from flaskish import ...`` and serve
the app with ``uvicorn module:app``. ``def`` views keep working (on worker
threads); any view may become ``async def``.
"""

from __future__ import annotations

from markupsafe import Markup as Markup
from markupsafe import escape as escape
from werkzeug.utils import secure_filename as secure_filename

from . import json as json
from .app import Flask as Flask
from .as_flask import install_as_flask as install_as_flask
from .blueprints import Blueprint as Blueprint
from .config import Config as Config
from .ctx import after_this_request as after_this_request
from .ctx import copy_current_request_context as copy_current_request_context
from .ctx import has_app_context as has_app_context
from .ctx import has_request_context as has_request_context
from .exceptions import BroadcastUnavailable as BroadcastUnavailable
from .exceptions import WebSocketDisconnect as WebSocketDisconnect
from .exceptions import abort as abort
from .globals import current_app as current_app
from .globals import g as g
from .globals import request as request
from .globals import session as session
from .globals import websocket as websocket
from .helpers import flash as flash
from .helpers import get_flashed_messages as get_flashed_messages
from .helpers import get_template_attribute as get_template_attribute
from .helpers import make_response as make_response
from .helpers import redirect as redirect
from .helpers import stream_with_context as stream_with_context
from .helpers import url_for as url_for
from .json import jsonify as jsonify
from .proxy_fix import ProxyFix as ProxyFix
from .request import Request as Request
from .response import Response as Response
from .sending import send_file as send_file
from .sending import send_from_directory as send_from_directory
from .signals import appcontext_popped as appcontext_popped
from .signals import appcontext_pushed as appcontext_pushed
from .signals import appcontext_tearing_down as appcontext_tearing_down
from .signals import before_render_template as before_render_template
from .signals import got_request_exception as got_request_exception
from .signals import message_flashed as message_flashed
from .signals import request_finished as request_finished
from .signals import request_started as request_started
from .signals import request_tearing_down as request_tearing_down
from .signals import template_rendered as template_rendered
from .sse import EventStream as EventStream
from .sse import ServerSentEvent as ServerSentEvent
from .sse import last_event_id as last_event_id
from .templating import render_template as render_template
from .templating import render_template_string as render_template_string
from .templating import stream_template as stream_template
from .templating import stream_template_string as stream_template_string

__version__ = "0.1.0"

__all__ = [
    "Blueprint",
    "BroadcastUnavailable",
    "Config",
    "EventStream",
    "Flask",
    "Markup",
    "ProxyFix",
    "Request",
    "Response",
    "ServerSentEvent",
    "WebSocketDisconnect",
    "abort",
    "after_this_request",
    "appcontext_popped",
    "appcontext_pushed",
    "appcontext_tearing_down",
    "before_render_template",
    "copy_current_request_context",
    "current_app",
    "escape",
    "flash",
    "g",
    "get_flashed_messages",
    "get_template_attribute",
    "got_request_exception",
    "has_app_context",
    "has_request_context",
    "install_as_flask",
    "json",
    "jsonify",
    "last_event_id",
    "make_response",
    "message_flashed",
    "redirect",
    "render_template",
    "render_template_string",
    "request",
    "request_finished",
    "request_started",
    "request_tearing_down",
    "secure_filename",
    "send_file",
    "send_from_directory",
    "session",
    "stream_template",
    "stream_template_string",
    "stream_with_context",
    "template_rendered",
    "url_for",
    "websocket",
]
