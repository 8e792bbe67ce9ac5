"""Two people chatting in a real browser: headless Chromium, driven by
Selenium, against the app on a real uvicorn on loopback.

Two driver instances (two browsers, so two cookie jars) log in as ada and
bob; ada's page talks to the ``async def`` handler and bob's to the
``def`` one; each sends a line and sees the other's.

It needs Debian's ``chromium`` and ``chromium-driver`` packages (``.ci/run``
installs them) and ``selenium`` (the dev extra). Without them it fails,
saying how to install them: it is never skipped.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
INSTALL = "sudo apt-get install -y chromium chromium-driver"

#: Seconds any one thing a user would wait for may take.
WAIT = 15


def _chromium() -> str:
    """The Chromium binary; fails (never skips) if it or its driver is missing."""
    binary = shutil.which(CHROMIUM)
    missing = [
        what
        for what, found in (
            (f"the `{CHROMIUM}` binary (package chromium)", binary is not None),
            (f"{CHROMEDRIVER} (package chromium-driver)", Path(CHROMEDRIVER).exists()),
        )
        if not found
    ]
    if missing or binary is None:
        pytest.fail(
            f"The chat example's browser test needs headless Chromium; missing: "
            f"{' and '.join(missing)}. Install them with `{INSTALL}` "
            "(.ci/run does this itself when run as root).",
            pytrace=False,
        )
    return binary


@pytest.fixture
def browser() -> Iterator[Callable[[], Any]]:
    """``browser()``: a new headless Chromium of its own (a fresh profile,
    so its own cookies); all of them quit when the test ends."""
    binary = _chromium()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail(
            "The browser test needs selenium: `pip install -e '.[dev]'` "
            "(or `make install`) installs it.",
            pytrace=False,
        )

    drivers: list[Any] = []
    profiles: list[tempfile.TemporaryDirectory[str]] = []

    def launch() -> Any:
        profile = tempfile.TemporaryDirectory(prefix="chat-chromium-")
        profiles.append(profile)
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for argument in (
            "--headless=new",
            "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
            "--disable-dev-shm-usage",  # containers have a small /dev/shm
            "--no-proxy-server",  # everything is on 127.0.0.1
            f"--user-data-dir={profile.name}",
        ):
            options.add_argument(argument)
        # The Debian driver, named: Selenium Manager never downloads one.
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        driver.set_page_load_timeout(WAIT)
        drivers.append(driver)
        return driver

    try:
        yield launch
    finally:
        for driver in drivers:
            driver.quit()
        for profile in profiles:
            profile.cleanup()


def test_two_people_in_two_browsers_see_each_others_messages(
    server_url: str,
    browser: Callable[[], Any],
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    def log_in(driver: Any, name: str, page: str) -> WebDriverWait[Any]:
        wait = WebDriverWait(driver, WAIT)
        driver.get(server_url + page)  # redirected to the login form
        wait.until(shown.visibility_of_element_located((By.ID, "name"))).send_keys(name)
        driver.find_element(By.ID, "join").click()
        wait.until(shown.text_to_be_present_in_element((By.ID, "me"), name))
        wait.until(shown.text_to_be_present_in_element((By.ID, "status"), "connected"))
        return wait

    def say(driver: Any, text: str) -> None:
        box = driver.find_element(By.ID, "text")
        box.send_keys(text)
        driver.find_element(By.ID, "send").click()

    def sees(line: str) -> Callable[[Any], bool]:
        def check(driver: Any) -> bool:
            return line in [item.text for item in driver.find_elements(By.CSS_SELECTOR, "#log li")]

        return check

    ada, bob = browser(), browser()
    ada_wait = log_in(ada, "ada", "/")  # the async def handler
    bob_wait = log_in(bob, "bob", "/sync")  # the def handler
    # Both are in the room once ada's page shows bob arriving.
    ada_wait.until(sees("bob joined"))
    bob_wait.until(sees("bob joined"))

    say(ada, "hello from ada")
    say(bob, "hello from bob")

    ada_wait.until(sees("bob: hello from bob"))
    bob_wait.until(sees("ada: hello from ada"))
    # Each also sees their own line, echoed by the room.
    ada_wait.until(sees("ada: hello from ada"))
    bob_wait.until(sees("bob: hello from bob"))

    # Two browsers, two sessions: bob logging out leaves ada logged in.
    bob.find_element(By.ID, "logout").click()
    bob_wait.until(shown.visibility_of_element_located((By.ID, "name")))
    ada_wait.until(sees("bob left"))
    assert ada.find_element(By.ID, "me").text == "ada"
