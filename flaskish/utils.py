"""Helpers Flask users import from ``werkzeug.utils``: :func:`secure_filename`."""

from __future__ import annotations

import os
import re
import unicodedata

__all__ = ["secure_filename"]

# Everything but ASCII letters, digits, "_", "." and "-" is dropped.
_unsafe_re = re.compile(r"[^A-Za-z0-9_.-]")
# Names Windows reserves for devices in every folder, with any extension:
# opening "con.txt" there opens the console, not a file.
_windows_device_names = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{digit}" for digit in range(10)}
    | {f"LPT{digit}" for digit in range(10)}
)


def secure_filename(filename: str) -> str:
    """A version of *filename* that is safe to join to a folder and save,
    as ``werkzeug.utils.secure_filename`` makes it::

        >>> secure_filename("../../etc/evil name.txt")
        'etc_evil_name.txt'
        >>> secure_filename("i contain cool \\xfcml\\xe4uts.txt")
        'i_contain_cool_umlauts.txt'

    Accents are removed and other non-ASCII characters dropped, path
    separators and whitespace become ``_``, only ``A-Z a-z 0-9 _ . -`` are
    kept, and leading or trailing dots and underscores are stripped, so the
    result never climbs out of the folder. On Windows, a device name
    (``CON``, ``NUL``, ``COM1``, ``LPT1``..., also with an extension) gets a
    leading ``_``.

    The result may be empty (e.g. for ``"../.."`` or a name written only in
    non-Latin script): choose a name of your own then.

    :param filename: the name the client sent, e.g. ``request.files["f"].filename``.
    """
    # NFKD splits "ü" into "u" plus a combining mark, which the ASCII
    # encoding then drops; characters with no ASCII base vanish entirely.
    filename = unicodedata.normalize("NFKD", filename)
    filename = filename.encode("ascii", "ignore").decode("ascii")
    for separator in (os.sep, os.path.altsep):
        if separator:
            filename = filename.replace(separator, " ")
    filename = _unsafe_re.sub("", "_".join(filename.split())).strip("._")
    if (
        os.name == "nt"
        and filename
        and filename.split(".")[0].upper() in _windows_device_names
    ):
        filename = f"_{filename}"
    return filename
