"""A first end-to-end check."""

from flaskish import Flask


def test_hello(app: Flask) -> None:
    @app.route("/")
    def index() -> str:
        return "hi"

    assert app.test_client().get("/").data == b"hi"
