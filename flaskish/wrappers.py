"""``flaskish.wrappers``: the request and response classes, where Flask
code imports them from (``from flask.wrappers import Request, Response``)."""

from __future__ import annotations

from .request import Request
from .response import Response

__all__ = ["Request", "Response"]
