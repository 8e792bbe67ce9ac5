"""The blog and the debug page in a real browser: headless Chromium, driven
by Selenium, against apps on a real uvicorn on loopback.

* A failing view in debug mode: the page's first visible frame is the
  view's own file and line, a click unfolds flaskish's frames, the copy
  button puts the plain-text traceback on the clipboard; screenshots go to
  ``build/debug-page.png`` (as loaded) and ``build/debug-page-expanded.png``.
* The blog: register, log in, create, edit and delete a post, log out, and a
  wrong password's flash message.

It needs Debian's ``chromium`` and ``chromium-driver`` packages (``.ci/run``
installs them) and ``selenium`` (the dev extra). Without them it fails,
saying how to install them: it is never skipped.
"""

import contextlib
import functools
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from flask import Flask

from flaskr import create_app

CHROMIUM = "chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL = "sudo apt-get install -y chromium chromium-driver"
BUILD = Path(__file__).resolve().parents[3] / "build"

#: Seconds any one thing a user would wait for may take.
WAIT = 15


# -- serving and the browser ---------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(app, **options):
    """Serve *app* (or a factory, with ``factory=True``) on 127.0.0.1 in a
    background thread; yield its URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="critical", lifespan="on", **options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start within 10 s")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
    assert not thread.is_alive(), "uvicorn did not stop within 10 s"


@pytest.fixture
def browser():
    """A headless Chromium with a fresh profile; fails (never skips) when
    Chromium, its driver or selenium is missing."""
    binary = shutil.which(CHROMIUM)
    missing = [
        what
        for what, found in (
            (f"the `{CHROMIUM}` binary (package chromium)", binary is not None),
            (f"{CHROMEDRIVER} (package chromium-driver)", Path(CHROMEDRIVER).exists()),
        )
        if not found
    ]
    if missing:
        pytest.fail(
            f"The blog's browser test needs headless Chromium; missing: "
            f"{' and '.join(missing)}. Install them with `{INSTALL}` "
            "(.ci/run does this itself when run as root).",
            pytrace=False,
        )
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail(
            "The browser test needs selenium: `pip install -e '.[dev]'` "
            "(or `make install`) installs it.",
            pytrace=False,
        )
    with tempfile.TemporaryDirectory(prefix="blog-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for argument in (
            "--headless=new",
            "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
            "--disable-dev-shm-usage",  # containers have a small /dev/shm
            "--no-proxy-server",  # everything is on 127.0.0.1
            "--window-size=1280,1600",
            f"--user-data-dir={profile}",
        ):
            options.add_argument(argument)
        # The Debian driver, named: Selenium Manager never downloads one.
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        driver.set_page_load_timeout(WAIT)
        try:
            yield driver
        finally:
            driver.quit()


# -- the debug page ------------------------------------------------------------


def lookup(orders, number):
    api_token = "never " + "shown"  # noqa: F841 - a local the page masks
    return orders[number]  # <- the failing line


def failing_app():
    app = Flask("blog_debug_page")
    app.debug = True  # what `flaskish run --debug` sets

    @app.route("/orders/<int:number>")
    def order(number):
        return lookup({1: "tea"}, number)  # <- the view's line

    return app


def line_of(marker):
    lines = Path(__file__).read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if line.endswith(marker))


def test_the_debug_page_leads_with_the_failing_line_and_unfolds_flaskishs_frames(browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, WAIT)
    with serve(failing_app()) as url:
        browser.get(url + "/orders/2")
        assert "KeyError: 2" in browser.title
        frames = browser.find_elements(By.CSS_SELECTOR, ".frame")
        visible = [frame for frame in frames if frame.is_displayed()]
        hidden = [frame for frame in frames if not frame.is_displayed()]

        # The first thing a reader sees: the app's own outermost frame, the
        # view, then the line that raised, with its source and locals.
        first = visible[0]
        assert first.find_element(By.CSS_SELECTOR, ".file").text == __file__
        assert first.find_element(By.CSS_SELECTOR, ".function").text.endswith("order")
        assert int(first.find_element(By.CSS_SELECTOR, ".line").text) == line_of(
            "# <- the view's line"
        )
        innermost = visible[-1]
        assert innermost.find_element(By.CSS_SELECTOR, ".file").text == __file__
        assert int(innermost.find_element(By.CSS_SELECTOR, ".line").text) == line_of(
            "# <- the failing line"
        )
        current = innermost.find_element(By.CSS_SELECTOR, ".source .current").text
        assert "return orders[number]" in current
        masked = innermost.find_element(By.XPATH, ".//tr[th='api_token']/td")
        assert masked.text == "********"
        assert "never shown" not in browser.page_source
        assert hidden, "flaskish's frames are folded"
        BUILD.mkdir(exist_ok=True)
        browser.save_screenshot(str(BUILD / "debug-page.png"))

        # One click unfolds them.
        fold = browser.find_element(By.CSS_SELECTOR, "details.fold")
        inside = fold.find_elements(By.CSS_SELECTOR, ".frame")
        assert inside and not any(frame.is_displayed() for frame in inside)
        fold.find_element(By.TAG_NAME, "summary").click()
        wait.until(lambda _: all(frame.is_displayed() for frame in inside))
        files = [frame.find_element(By.CSS_SELECTOR, ".file").text for frame in inside]
        assert any(file.endswith("/flaskish/pipeline.py") for file in files)
        browser.save_screenshot(str(BUILD / "debug-page-expanded.png"))

        # "Show all frames" opens every fold at once.
        browser.refresh()
        assert not all(
            frame.is_displayed() for frame in browser.find_elements(By.CSS_SELECTOR, ".frame")
        )
        browser.find_element(By.ID, "expand-all").click()
        wait.until(
            lambda _: all(
                frame.is_displayed() for frame in browser.find_elements(By.CSS_SELECTOR, ".frame")
            )
        )

        # The copy button puts the plain-text traceback on the clipboard.
        browser.execute_cdp_cmd(
            "Browser.grantPermissions",
            {
                "origin": url,
                "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"],
            },
        )
        browser.find_element(By.ID, "copy").click()
        wait.until(lambda _: browser.find_element(By.ID, "copied").text == "copied")
        copied = browser.execute_async_script(
            "navigator.clipboard.readText().then(arguments[0], e => arguments[0](String(e)))"
        )
        assert copied.startswith("Traceback (most recent call last):")
        assert copied.rstrip().endswith("KeyError: 2")
        assert copied == browser.find_element(By.ID, "plain-traceback").get_attribute("textContent")


# -- the blog ------------------------------------------------------------------


def test_the_blog_in_a_browser(app, browser):
    """Register, log in, write, edit and delete a post, log out; a wrong
    password is refused with a flash message."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(browser, WAIT)

    def fill(**fields):
        for name, value in fields.items():
            box = wait.until(shown.visibility_of_element_located((By.NAME, name)))
            box.clear()
            box.send_keys(value)
        browser.find_element(By.CSS_SELECTOR, "form input[type=submit]").click()

    def titles():
        return [title.text for title in browser.find_elements(By.CSS_SELECTOR, ".post h1")]

    factory = functools.partial(create_app, {"DATABASE": app.config["DATABASE"]})
    with serve(factory, factory=True) as url:
        browser.get(url + "/")
        browser.find_element(By.LINK_TEXT, "Register").click()
        fill(username="ada", password="lovelace")
        wait.until(shown.title_contains("Log In"))

        fill(username="ada", password="lovelace")
        wait.until(shown.text_to_be_present_in_element((By.CSS_SELECTOR, "nav span"), "ada"))
        assert titles() == ["test title"]  # the other user's post from data.sql

        browser.find_element(By.LINK_TEXT, "New").click()
        fill(title="Served to Chromium", body="written in a real browser")
        wait.until(lambda _: titles() == ["Served to Chromium", "test title"])
        assert (
            "written in a real browser" in browser.find_element(By.CSS_SELECTOR, ".post .body").text
        )

        browser.find_element(By.LINK_TEXT, "Edit").click()  # only ada's post has one
        wait.until(shown.title_contains('Edit "Served to Chromium"'))
        fill(title="Edited in Chromium")
        wait.until(lambda _: titles() == ["Edited in Chromium", "test title"])

        browser.find_element(By.LINK_TEXT, "Edit").click()
        wait.until(shown.element_to_be_clickable((By.CSS_SELECTOR, "input.danger"))).click()
        wait.until(shown.alert_is_present()).accept()  # "Are you sure?"
        wait.until(lambda _: titles() == ["test title"])

        browser.find_element(By.LINK_TEXT, "Log Out").click()
        wait.until(shown.presence_of_element_located((By.LINK_TEXT, "Log In"))).click()
        fill(username="ada", password="wrong")
        flash = wait.until(shown.visibility_of_element_located((By.CSS_SELECTOR, ".flash")))
        assert flash.text == "Incorrect password."
        assert not browser.find_elements(By.CSS_SELECTOR, "nav span")  # not logged in
