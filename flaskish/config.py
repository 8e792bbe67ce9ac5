"""``app.config``: a dict with Flask's loaders (``from_object``,
``from_pyfile``, ``from_prefixed_env``...)."""

from __future__ import annotations

import errno
import importlib
import json
import os
import types
from collections.abc import Callable, Mapping
from typing import IO, Any, Generic, TypeVar, overload

__all__ = ["Config", "ConfigAttribute", "import_string"]

T = TypeVar("T")


def import_string(name: str) -> Any:
    """Import ``"package.module"``, ``"package.module:attr"`` or
    ``"package.module.attr"`` and return it."""
    name = name.replace(":", ".")
    try:
        return importlib.import_module(name)
    except ImportError:
        if "." not in name:
            raise
    module_name, _, attr = name.rpartition(".")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ImportError(f"Module {module_name!r} has no attribute {attr!r}.") from None


class ConfigAttribute(Generic[T]):
    """An app attribute that reads and writes a config key (``app.debug``
    is ``app.config["DEBUG"]``)."""

    def __init__(self, name: str, get_converter: Callable[[Any], T] | None = None) -> None:
        self.__name__ = name
        self.get_converter = get_converter

    @overload
    def __get__(self, obj: None, owner: None) -> ConfigAttribute[T]: ...
    @overload
    def __get__(self, obj: Any, owner: Any) -> T: ...

    def __get__(self, obj: Any, owner: Any = None) -> T | ConfigAttribute[T]:
        if obj is None:
            return self
        value = obj.config[self.__name__]
        if self.get_converter is not None:
            value = self.get_converter(value)
        return value  # type: ignore[no-any-return]

    def __set__(self, obj: Any, value: Any) -> None:
        obj.config[self.__name__] = value


class Config(dict[str, Any]):
    """The app's configuration: a dict whose upper-case keys are settings.

    :param root_path: relative file names given to the loaders are relative
        to this (the app's root path, or its instance path with
        ``instance_relative_config=True``).
    :param defaults: initial values.
    """

    def __init__(
        self, root_path: str | os.PathLike[str], defaults: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(defaults or {})
        self.root_path = root_path

    def from_envvar(self, variable_name: str, silent: bool = False) -> bool:
        """Load the Python file named by an environment variable
        (:meth:`from_pyfile`). With *silent*, a missing variable or file
        returns ``False`` instead of raising."""
        filename = os.environ.get(variable_name)
        if not filename:
            if silent:
                return False
            raise RuntimeError(
                f"The environment variable {variable_name!r} is not set and as such "
                "configuration could not be loaded. Set this variable and make it point to a "
                "configuration file."
            )
        return self.from_pyfile(filename, silent=silent)

    def from_prefixed_env(
        self, prefix: str = "FLASK", *, loads: Callable[[str], Any] = json.loads
    ) -> bool:
        """Load every environment variable starting with ``{prefix}_``, the
        prefix removed. Values are parsed with *loads* (JSON by default) and
        kept as strings if that fails. ``__`` in a name sets a nested key:
        ``FLASK_DB__HOST`` sets ``config["DB"]["HOST"]``.

        The default prefix is ``FLASK``, so a Flask app's environment keeps
        working unchanged.
        """
        prefix = f"{prefix}_"
        for key in sorted(os.environ):
            if not key.startswith(prefix):
                continue
            value: Any = os.environ[key]
            try:
                value = loads(value)
            except Exception:
                pass
            key = key.removeprefix(prefix)
            if "__" not in key:
                self[key] = value
                continue
            current: dict[str, Any] = self
            *parents, tail = key.split("__")
            for parent in parents:
                current = current.setdefault(parent, {})
            current[tail] = value
        return True

    def from_pyfile(self, filename: str | os.PathLike[str], silent: bool = False) -> bool:
        """Execute a Python file and load its upper-case names."""
        filename = os.path.join(self.root_path, filename)
        module = types.ModuleType("config")
        module.__file__ = str(filename)
        try:
            with open(filename, mode="rb") as config_file:
                exec(compile(config_file.read(), filename, "exec"), module.__dict__)
        except OSError as exc:
            if silent and exc.errno in (errno.ENOENT, errno.EISDIR, errno.ENOTDIR):
                return False
            exc.strerror = f"Unable to load configuration file ({exc.strerror})"
            raise
        self.from_object(module)
        return True

    def from_object(self, obj: object | str) -> None:
        """Load the upper-case attributes of an object, class or module (or
        an import string naming one)."""
        if isinstance(obj, str):
            obj = import_string(obj)
        for key in dir(obj):
            if key.isupper():
                self[key] = getattr(obj, key)

    def from_file(
        self,
        filename: str | os.PathLike[str],
        load: Callable[[IO[Any]], Mapping[str, Any]],
        silent: bool = False,
        text: bool = True,
    ) -> bool:
        """Load a file with *load* (``json.load``, ``tomllib.load`` with
        ``text=False``) and merge its upper-case keys."""
        filename = os.path.join(self.root_path, filename)
        try:
            with open(filename, "r" if text else "rb") as f:
                data = load(f)
        except OSError as exc:
            if silent and exc.errno in (errno.ENOENT, errno.EISDIR):
                return False
            exc.strerror = f"Unable to load configuration file ({exc.strerror})"
            raise
        return self.from_mapping(data)

    def from_mapping(self, mapping: Mapping[str, Any] | None = None, **kwargs: Any) -> bool:
        """Load the upper-case keys of a mapping and keyword arguments."""
        mappings: dict[str, Any] = {}
        if mapping is not None:
            mappings.update(mapping)
        mappings.update(kwargs)
        for key, value in mappings.items():
            if key.isupper():
                self[key] = value
        return True

    def get_namespace(
        self, namespace: str, lowercase: bool = True, trim_namespace: bool = True
    ) -> dict[str, Any]:
        """The keys starting with *namespace* (``"IMAGE_STORE_"``), with the
        prefix removed and lower-cased by default."""
        result = {}
        for key, value in self.items():
            if not key.startswith(namespace):
                continue
            name = key[len(namespace) :] if trim_namespace else key
            result[name.lower() if lowercase else name] = value
        return result

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"
