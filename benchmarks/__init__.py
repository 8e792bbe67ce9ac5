"""The benchmark harness: the same endpoints in raw ASGI, Starlette, Quart,
Flask and flaskish, timed in-process and over loopback (``make bench``).

See ``benchmarks/README.md`` for what each scenario measures.
"""
