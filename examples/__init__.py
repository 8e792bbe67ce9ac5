"""Example applications written against flaskish.

This file makes ``examples`` a package so that ``examples.blog`` has one
import name everywhere: ``uvicorn --factory examples.blog:create_app``,
``flaskish --app examples.blog:create_app`` and its tests.
"""
