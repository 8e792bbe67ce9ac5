"""``secure_filename``: the name a client sent, made safe to save, exactly as
``werkzeug.utils.secure_filename`` makes it, on POSIX and on Windows."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest

import flaskish.utils
from flaskish.utils import secure_filename


@pytest.fixture
def windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run secure_filename as on Windows: os.name "nt", "\\" as separator."""
    fake_os = SimpleNamespace(name="nt", sep="\\", path=SimpleNamespace(altsep="/"))
    monkeypatch.setattr(flaskish.utils, "os", fake_os)


@pytest.fixture
def posix(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run secure_filename as on Linux and macOS, whatever the test machine."""
    fake_os = SimpleNamespace(name="posix", sep="/", path=SimpleNamespace(altsep=None))
    monkeypatch.setattr(flaskish.utils, "os", fake_os)


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("My cool movie.mov", "My_cool_movie.mov"),
        ("../../../etc/passwd", "etc_passwd"),
        ("../../etc/evil name.txt", "etc_evil_name.txt"),
        ("i contain cool \xfcml\xe4uts.txt", "i_contain_cool_umlauts.txt"),
        ("__filename__", "filename"),
        ("foo$&^*)bar", "foobar"),
        ("  leading and trailing  ", "leading_and_trailing"),
        ("tab\tand\nnewline.txt", "tab_and_newline.txt"),
        ("a  b", "a_b"),
        (".hidden", "hidden"),
        ("name.", "name"),
        ("._-.name-._", "-.name-"),
        ("caf\u00e9.txt", "cafe.txt"),  # composed é
        ("cafe\u0301.txt", "cafe.txt"),  # e + combining accent
        ("\uff21\uff22.txt", "AB.txt"),  # full-width letters (NFKD)
        ("\ufb01le.txt", "file.txt"),  # the "fi" ligature
        ("\u6587\u4ef6.txt", "txt"),  # no ASCII base: dropped
        ("\u6587\u4ef6", ""),
        ("../..", ""),
        ("", ""),
        ("a\x00b.txt", "ab.txt"),
        ("file:name?.txt", "filename.txt"),
        ("non\u00a0breaking space.txt", "non_breaking_space.txt"),
    ],
)
def test_secure_filename(filename: str, expected: str) -> None:
    assert secure_filename(filename) == expected


def test_result_never_leaves_the_folder(posix: None) -> None:
    for name in ("../x", "/etc/passwd", "..", "...", "./.", "a/../../b", "~/x"):
        result = secure_filename(name)
        assert "/" not in result and not result.startswith(".")
        assert os.path.basename(result) == result


def test_backslash_is_not_a_separator_on_posix(posix: None) -> None:
    # Werkzeug only splits on os.sep / os.path.altsep: on POSIX "\\" is dropped.
    assert secure_filename("..\\..\\windows\\win.ini") == "windowswin.ini"


def test_backslash_is_a_separator_on_windows(windows: None) -> None:
    assert secure_filename("..\\..\\windows\\win.ini") == "windows_win.ini"
    assert secure_filename("../../etc/evil name.txt") == "etc_evil_name.txt"


@pytest.mark.parametrize(
    "name",
    ["CON", "con", "PRN", "aux", "NUL", "nul.txt", "COM1", "com9.tar.gz", "LPT1", "lpt0",
     "COM0", "Con.TXT"],
)
def test_windows_device_names_get_a_leading_underscore_on_windows(
    windows: None, name: str
) -> None:
    assert secure_filename(name) == f"_{name}"


@pytest.mark.parametrize("name", ["CON", "nul.txt", "com1.log", "LPT9"])
def test_windows_device_names_are_left_alone_elsewhere(posix: None, name: str) -> None:
    assert secure_filename(name) == name


@pytest.mark.parametrize("name", ["CONSOLE.txt", "COM10", "LPT", "my_con.txt", "xnul"])
def test_names_that_only_resemble_devices_are_kept_on_windows(
    windows: None, name: str
) -> None:
    assert secure_filename(name) == name


def test_device_name_check_runs_after_cleaning(windows: None) -> None:
    # "../con.txt" is cleaned to "con.txt", which Windows would still open as
    # the console: it must be renamed too.
    assert secure_filename("../con.txt") == "_con.txt"
    assert secure_filename(" nul ") == "_nul"


def test_secure_filename_is_exported_from_flaskish_utils() -> None:
    assert flaskish.utils.__all__ == ["secure_filename"]
