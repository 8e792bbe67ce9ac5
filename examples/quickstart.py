"""Flask's quickstart on flaskish: only the import line changed.

Serve it with ``make run`` (or ``uvicorn --app-dir examples quickstart:app``).
Each sync view has an ``async def`` twin under ``/async/...`` to show that
both kinds of view live side by side.
"""

from __future__ import annotations

import asyncio
import time

from markupsafe import escape

from flaskish import Flask, abort, redirect, request, session, url_for

app = Flask(__name__)
app.secret_key = b"quickstart-only-secret-change-me"


# -- a minimal application -----------------------------------------------------


@app.route("/")
def index():
    if "username" in session:
        return f"Logged in as {escape(session['username'])}"
    return "Hello, World!"


@app.route("/async/")
async def async_index():
    await asyncio.sleep(0)
    return "Hello, async World!"


@app.route("/hello/<name>")
def hello_name(name):
    return f"Hello, {escape(name)}!"


# -- variable rules ------------------------------------------------------------


@app.route("/user/<username>")
def show_user_profile(username):
    return f"User {escape(username)}"


@app.route("/post/<int:post_id>")
def show_post(post_id):
    return f"Post {post_id}"


@app.route("/async/post/<int:post_id>")
async def async_show_post(post_id):
    return f"Post {post_id} (async)"


@app.route("/path/<path:subpath>")
def show_subpath(subpath):
    return f"Subpath {escape(subpath)}"


# -- unique URLs / redirection behaviour ---------------------------------------


@app.route("/projects/")
def projects():
    return "The project page"


@app.route("/about")
def about():
    return "The about page"


# -- HTTP methods --------------------------------------------------------------


@app.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        session["username"] = request.form["username"]
        return redirect(url_for("index"))
    return """
        <form method="post">
            <p><input type=text name=username>
            <p><input type=submit value=Login>
        </form>
    """


@app.post("/async/login")
async def async_login():
    form = await request.form
    session["username"] = form["username"]
    return redirect(url_for("index"))


@app.route("/logout")
def logout():
    session.pop("username", None)
    return redirect(url_for("index"))


@app.get("/search")
def search():
    return f"Searching for {escape(request.args.get('q', ''))}"


# -- redirects and errors ------------------------------------------------------


@app.route("/go-to-login")
def go_to_login():
    return redirect(url_for("login"))


@app.route("/secret")
def secret():
    abort(401)


@app.errorhandler(404)
def page_not_found(error):
    return "This page does not exist", 404


# -- about responses -----------------------------------------------------------


@app.route("/me")
def me_api():
    return {"username": session.get("username", "guest"), "theme": "dark"}


@app.route("/async/users")
async def users_api():
    return [{"name": "ada"}, {"name": "grace"}]


# -- sync and async side by side -----------------------------------------------


@app.route("/slow")
def slow():
    # A blocking call runs on a worker thread and never stalls async views.
    time.sleep(1)
    return "done"


if __name__ == "__main__":
    app.run(debug=True)
