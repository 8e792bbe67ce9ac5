"""The public surface: ``flaskish.__all__`` names exactly what is exported."""

from __future__ import annotations

import flaskish


def test_all_lists_every_public_name_and_only_existing_ones() -> None:
    exported = {
        name
        for name, value in vars(flaskish).items()
        if not name.startswith("_") and name != "annotations" and type(value).__name__ != "module"
    }
    assert set(flaskish.__all__) == exported | {"json"}
    for name in flaskish.__all__:
        assert hasattr(flaskish, name), name


def test_every_exported_object_has_a_docstring() -> None:
    for name in flaskish.__all__:
        obj = getattr(flaskish, name)
        if callable(obj) or type(obj).__name__ == "module":
            assert (obj.__doc__ or "").strip(), f"flaskish.{name} has no docstring"
