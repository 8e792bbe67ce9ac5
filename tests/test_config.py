"""``app.config`` and the ``Config`` loaders (``from_object``, ``from_pyfile``,
``from_envvar``, ``from_file``, ``from_mapping``, ``from_prefixed_env``,
``get_namespace``), the config-backed app attributes, and the app's paths,
resources and logger."""

from __future__ import annotations

import json
import logging
import os
import sys
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from flaskish import Config, Flask


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(tmp_path)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No ``FLASK_*`` / ``FLASKISH_*`` variables from the outside environment."""
    for name in list(os.environ):
        if name.startswith(("FLASK_", "FLASKISH_", "MYAPP_")):
            monkeypatch.delenv(name)
    return monkeypatch


class SettingsClass:
    SECRET_KEY = "from class"
    DEBUG = True
    lower_case = "ignored"
    _PRIVATE_lower = "ignored"


# -- from_object -------------------------------------------------------------------


def test_from_object_with_a_class(config: Config) -> None:
    config.from_object(SettingsClass)
    assert config["SECRET_KEY"] == "from class"
    assert config["DEBUG"] is True
    assert "lower_case" not in config
    assert "_PRIVATE_lower" not in config


def test_from_object_with_an_instance(config: Config) -> None:
    class Settings:
        def __init__(self) -> None:
            self.DATABASE_URI = "sqlite://"
            self.not_config = "ignored"

    config.from_object(Settings())
    assert config["DATABASE_URI"] == "sqlite://"
    assert "not_config" not in config


def test_from_object_with_an_import_string(
    config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "cfgpkg_for_tests"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(
        "SECRET_KEY = 'module secret'\n"
        "lower = 'ignored'\n"
        "class Production:\n"
        "    DATABASE = 'prod'\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("cfgpkg_for_tests", "cfgpkg_for_tests.settings"):
        # Forget the modules imported here once the test ends.
        monkeypatch.setitem(sys.modules, name, None)  # type: ignore[arg-type]
        del sys.modules[name]

    config.from_object("cfgpkg_for_tests.settings")
    assert config["SECRET_KEY"] == "module secret"
    assert "lower" not in config

    config.from_object("cfgpkg_for_tests.settings.Production")
    assert config["DATABASE"] == "prod"

    other = Config(tmp_path)
    other.from_object("cfgpkg_for_tests.settings:Production")
    assert other["DATABASE"] == "prod"


def test_from_object_with_a_bad_import_string(config: Config) -> None:
    with pytest.raises(ImportError):
        config.from_object("no_such_module_for_flaskish_tests.Config")


# -- from_pyfile ---------------------------------------------------------------------


def test_from_pyfile_relative_to_the_root_path(config: Config, tmp_path: Path) -> None:
    (tmp_path / "settings.cfg").write_text(
        "import os\nSECRET_KEY = 'py secret'\nTIMEOUT = 10 * 3\nhelper = 'ignored'\n"
    )
    assert config.from_pyfile("settings.cfg") is True
    assert config["SECRET_KEY"] == "py secret"
    assert config["TIMEOUT"] == 30
    assert "helper" not in config
    assert "os" not in config


def test_from_pyfile_with_an_absolute_path(tmp_path: Path) -> None:
    path = tmp_path / "absolute.py"
    path.write_text("VALUE = 'absolute'\n")
    config = Config("/somewhere/else")
    assert config.from_pyfile(str(path))
    assert config["VALUE"] == "absolute"


def test_from_pyfile_sees_its_own_file_name(config: Config, tmp_path: Path) -> None:
    path = tmp_path / "named.py"
    path.write_text("WHERE = __file__\n")
    config.from_pyfile("named.py")
    assert config["WHERE"] == str(path)


def test_from_pyfile_missing_file_silent_returns_false(config: Config) -> None:
    assert config.from_pyfile("missing.cfg", silent=True) is False
    assert config == {}


def test_from_pyfile_missing_file_raises(config: Config) -> None:
    with pytest.raises(OSError, match="Unable to load configuration file") as info:
        config.from_pyfile("missing.cfg")
    assert isinstance(info.value, FileNotFoundError)
    assert "missing.cfg" in str(info.value)


def test_from_pyfile_directory_silent_returns_false(config: Config, tmp_path: Path) -> None:
    (tmp_path / "a_directory").mkdir()
    assert config.from_pyfile("a_directory", silent=True) is False
    with pytest.raises(OSError, match="Unable to load configuration file"):
        config.from_pyfile("a_directory")


def test_from_pyfile_errors_in_the_file_propagate(config: Config, tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("SECRET_KEY = undefined_name\n")
    with pytest.raises(NameError):
        config.from_pyfile("broken.py")


# -- from_envvar -------------------------------------------------------------------------


def test_from_envvar_loads_the_named_file(
    config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "env_settings.py"
    path.write_text("SECRET_KEY = 'from env file'\n")
    monkeypatch.setenv("FLASKISH_TEST_SETTINGS", str(path))
    assert config.from_envvar("FLASKISH_TEST_SETTINGS") is True
    assert config["SECRET_KEY"] == "from env file"


def test_from_envvar_unset_variable_raises_a_clear_error(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FLASKISH_TEST_SETTINGS", raising=False)
    with pytest.raises(RuntimeError, match="'FLASKISH_TEST_SETTINGS' is not set"):
        config.from_envvar("FLASKISH_TEST_SETTINGS")


def test_from_envvar_silent(config: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLASKISH_TEST_SETTINGS", raising=False)
    assert config.from_envvar("FLASKISH_TEST_SETTINGS", silent=True) is False
    monkeypatch.setenv("FLASKISH_TEST_SETTINGS", "does-not-exist.py")
    assert config.from_envvar("FLASKISH_TEST_SETTINGS", silent=True) is False
    assert config == {}


def test_from_envvar_pointing_to_a_missing_file_raises(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLASKISH_TEST_SETTINGS", "does-not-exist.py")
    with pytest.raises(OSError, match="Unable to load configuration file"):
        config.from_envvar("FLASKISH_TEST_SETTINGS")


# -- from_file ---------------------------------------------------------------------------


def test_from_file_with_json(config: Config, tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"SECRET_KEY": "json secret", "ITEMS": [1, 2], "lower": "ignored"})
    )
    assert config.from_file("config.json", load=json.load) is True
    assert config["SECRET_KEY"] == "json secret"
    assert config["ITEMS"] == [1, 2]
    assert "lower" not in config


def test_from_file_with_toml_in_binary_mode(config: Config, tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        'SECRET_KEY = "toml secret"\nPORT = 8000\n\n[DATABASE]\nHOST = "db"\n'
    )
    assert config.from_file("config.toml", load=tomllib.load, text=False) is True
    assert config["SECRET_KEY"] == "toml secret"
    assert config["PORT"] == 8000
    assert config["DATABASE"] == {"HOST": "db"}


def test_from_file_missing_file(config: Config) -> None:
    assert config.from_file("missing.json", load=json.load, silent=True) is False
    with pytest.raises(OSError, match="Unable to load configuration file"):
        config.from_file("missing.json", load=json.load)


# -- from_mapping ------------------------------------------------------------------------


def test_from_mapping_loads_only_upper_case_keys(config: Config) -> None:
    assert config.from_mapping({"SECRET_KEY": "mapped", "lower": 1, "Mixed": 2}) is True
    assert config == {"SECRET_KEY": "mapped"}


def test_from_mapping_with_keyword_arguments(config: Config) -> None:
    config.from_mapping({"A_KEY": 1}, B_KEY=2, c_key=3)
    assert config == {"A_KEY": 1, "B_KEY": 2}
    config.from_mapping(A_KEY="replaced")
    assert config["A_KEY"] == "replaced"


def test_from_mapping_with_nothing(config: Config) -> None:
    assert config.from_mapping() is True
    assert config == {}


# -- from_prefixed_env -------------------------------------------------------------------


def test_from_prefixed_env_parses_json_and_keeps_strings(
    config: Config, clean_env: pytest.MonkeyPatch
) -> None:
    clean_env.setenv("FLASK_STRING", "plain text")
    clean_env.setenv("FLASK_INT", "42")
    clean_env.setenv("FLASK_FLOAT", "1.5")
    clean_env.setenv("FLASK_BOOL", "true")
    clean_env.setenv("FLASK_NULL", "null")
    clean_env.setenv("FLASK_LIST", "[1, 2, 3]")
    clean_env.setenv("FLASK_DICT", '{"k": "v"}')
    clean_env.setenv("FLASK_QUOTED", '"42"')
    clean_env.setenv("OTHER_VALUE", "not loaded")
    assert config.from_prefixed_env() is True
    assert config == {
        "STRING": "plain text",
        "INT": 42,
        "FLOAT": 1.5,
        "BOOL": True,
        "NULL": None,
        "LIST": [1, 2, 3],
        "DICT": {"k": "v"},
        "QUOTED": "42",
    }


def test_from_prefixed_env_nested_keys(config: Config, clean_env: pytest.MonkeyPatch) -> None:
    config["EXISTING"] = {"KEEP": "me"}
    clean_env.setenv("FLASK_EXISTING__NEW", "1")
    clean_env.setenv("FLASK_DB__HOST", "localhost")
    clean_env.setenv("FLASK_DB__OPTIONS__TIMEOUT", "30")
    config.from_prefixed_env()
    assert config["EXISTING"] == {"KEEP": "me", "NEW": 1}
    assert config["DB"] == {"HOST": "localhost", "OPTIONS": {"TIMEOUT": 30}}


def test_from_prefixed_env_custom_prefix(config: Config, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("MYAPP_SECRET_KEY", "custom")
    clean_env.setenv("FLASK_NOT_MINE", "1")
    config.from_prefixed_env("MYAPP")
    assert config == {"SECRET_KEY": "custom"}


def test_from_prefixed_env_custom_loads(config: Config, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("FLASK_NUMBER", "42")
    config.from_prefixed_env(loads=str.upper)
    assert config["NUMBER"] == "42"


def test_from_prefixed_env_on_the_app_config(app: Flask, clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("FLASK_SECRET_KEY", "env secret")
    clean_env.setenv("FLASK_THREAD_POOL_SIZE", "8")
    app.config.from_prefixed_env()
    assert app.secret_key == "env secret"
    assert app.config["THREAD_POOL_SIZE"] == 8


# -- get_namespace -------------------------------------------------------------------------


@pytest.fixture
def image_config(config: Config) -> Config:
    config.update(
        IMAGE_STORE_TYPE="fs",
        IMAGE_STORE_PATH="/var/app/images",
        IMAGE_STORE_BASE_URL="http://img.website.com",
        OTHER="x",
    )
    return config


def test_get_namespace_trims_and_lowercases(image_config: Config) -> None:
    assert image_config.get_namespace("IMAGE_STORE_") == {
        "type": "fs",
        "path": "/var/app/images",
        "base_url": "http://img.website.com",
    }


def test_get_namespace_keeps_case(image_config: Config) -> None:
    assert image_config.get_namespace("IMAGE_STORE_", lowercase=False) == {
        "TYPE": "fs",
        "PATH": "/var/app/images",
        "BASE_URL": "http://img.website.com",
    }


def test_get_namespace_keeps_the_prefix(image_config: Config) -> None:
    assert image_config.get_namespace("IMAGE_STORE_", trim_namespace=False) == {
        "image_store_type": "fs",
        "image_store_path": "/var/app/images",
        "image_store_base_url": "http://img.website.com",
    }
    assert image_config.get_namespace("IMAGE_STORE_", lowercase=False, trim_namespace=False) == {
        "IMAGE_STORE_TYPE": "fs",
        "IMAGE_STORE_PATH": "/var/app/images",
        "IMAGE_STORE_BASE_URL": "http://img.website.com",
    }


def test_config_is_a_dict_with_a_repr(config: Config) -> None:
    config["KEY"] = "value"
    assert isinstance(config, dict)
    assert repr(config) == "<Config {'KEY': 'value'}>"


# -- app.config ----------------------------------------------------------------------------


def test_app_config_has_flasks_default_keys(clean_env: pytest.MonkeyPatch) -> None:
    app = Flask("defaults_app")
    config = app.config
    assert isinstance(config, Config)
    assert config["TESTING"] is False
    assert config["SECRET_KEY"] is None
    assert config["SECRET_KEY_FALLBACKS"] is None
    assert config["PROPAGATE_EXCEPTIONS"] is None
    assert config["PERMANENT_SESSION_LIFETIME"] == timedelta(days=31)
    assert config["SESSION_COOKIE_NAME"] == "session"
    assert config["SESSION_COOKIE_DOMAIN"] is None
    assert config["SESSION_COOKIE_PATH"] is None
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["SESSION_REFRESH_EACH_REQUEST"] is True
    assert config["MAX_CONTENT_LENGTH"] is None
    assert config["MAX_FORM_MEMORY_SIZE"] == 500_000
    assert config["MAX_FORM_PARTS"] == 1_000
    assert config["SERVER_NAME"] is None
    assert config["APPLICATION_ROOT"] == "/"
    assert config["PREFERRED_URL_SCHEME"] == "http"
    assert config["TRAP_HTTP_EXCEPTIONS"] is False
    assert config["TRAP_BAD_REQUEST_ERRORS"] is None
    assert config["SEND_FILE_MAX_AGE_DEFAULT"] is None
    assert config["MAX_COOKIE_SIZE"] == 4093
    assert config["PROVIDE_AUTOMATIC_OPTIONS"] is True
    assert "TRUSTED_HOSTS" in config
    assert "TEMPLATES_AUTO_RELOAD" in config
    assert "EXPLAIN_TEMPLATE_LOADING" in config
    assert "DEBUG" in config


FLASK_DEFAULT_KEYS = [
    "DEBUG",
    "TESTING",
    "PROPAGATE_EXCEPTIONS",
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
    "PERMANENT_SESSION_LIFETIME",
    pytest.param(
        "USE_X_SENDFILE",
    ),
    "TRUSTED_HOSTS",
    "SERVER_NAME",
    "APPLICATION_ROOT",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_DOMAIN",
    "SESSION_COOKIE_PATH",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_PARTITIONED",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_REFRESH_EACH_REQUEST",
    "MAX_CONTENT_LENGTH",
    "MAX_FORM_MEMORY_SIZE",
    "MAX_FORM_PARTS",
    "SEND_FILE_MAX_AGE_DEFAULT",
    "TRAP_BAD_REQUEST_ERRORS",
    "TRAP_HTTP_EXCEPTIONS",
    "EXPLAIN_TEMPLATE_LOADING",
    "PREFERRED_URL_SCHEME",
    "TEMPLATES_AUTO_RELOAD",
    "MAX_COOKIE_SIZE",
    "PROVIDE_AUTOMATIC_OPTIONS",
]


@pytest.mark.parametrize("key", FLASK_DEFAULT_KEYS)
def test_app_config_has_every_flask_3_1_default_key(app: Flask, key: str) -> None:
    assert key in app.config


def test_app_config_has_a_thread_pool_size_of_40(app: Flask) -> None:
    assert app.config["THREAD_POOL_SIZE"] == 40


def test_app_config_debug_is_false_without_flask_debug(clean_env: pytest.MonkeyPatch) -> None:
    app = Flask("debug_default_app")
    assert app.config["DEBUG"] is False


def test_debug_follows_the_flask_debug_environment_variable(
    clean_env: pytest.MonkeyPatch,
) -> None:
    assert Flask("env_app").debug is False
    clean_env.setenv("FLASK_DEBUG", "1")
    assert Flask("env_app").debug is True
    clean_env.setenv("FLASK_DEBUG", "0")
    assert Flask("env_app").debug is False


def test_app_debug_mirrors_the_debug_config_key(app: Flask) -> None:
    app.debug = True
    assert app.config["DEBUG"] is True
    app.config["DEBUG"] = False
    assert app.debug is False


def test_app_testing_mirrors_the_testing_config_key(app: Flask) -> None:
    assert app.testing is True
    app.testing = False
    assert app.config["TESTING"] is False
    app.config["TESTING"] = True
    assert app.testing is True


def test_app_secret_key_mirrors_the_secret_key_config_key(app: Flask) -> None:
    assert app.secret_key == "test secret"
    app.secret_key = "new secret"
    assert app.config["SECRET_KEY"] == "new secret"
    app.config["SECRET_KEY"] = b"bytes secret"
    assert app.secret_key == b"bytes secret"


def test_permanent_session_lifetime_accepts_seconds(app: Flask) -> None:
    assert app.permanent_session_lifetime == timedelta(days=31)
    app.config["PERMANENT_SESSION_LIFETIME"] = 60
    assert app.permanent_session_lifetime == timedelta(seconds=60)


def test_config_root_path_is_the_app_root_path(tmp_path: Path) -> None:
    app = Flask("rooted_app", root_path=str(tmp_path))
    assert app.config.root_path == str(tmp_path)
    (tmp_path / "settings.py").write_text("FROM_ROOT = True\n")
    assert app.config.from_pyfile("settings.py")
    assert app.config["FROM_ROOT"] is True


def test_instance_relative_config_loads_files_from_the_instance_folder(
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    instance = tmp_path / "instance"
    root.mkdir()
    instance.mkdir()
    (root / "settings.py").write_text("WHERE = 'root'\n")
    (instance / "settings.py").write_text("WHERE = 'instance'\n")
    (instance / "settings.json").write_text('{"JSON_WHERE": "instance"}')

    app = Flask(
        "instance_app",
        root_path=str(root),
        instance_path=str(instance),
        instance_relative_config=True,
    )
    assert app.instance_path == str(instance)
    assert app.config.root_path == str(instance)
    app.config.from_pyfile("settings.py")
    app.config.from_file("settings.json", load=json.load)
    assert app.config["WHERE"] == "instance"
    assert app.config["JSON_WHERE"] == "instance"


def test_default_instance_path_is_beside_the_package_or_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As in Flask: ``instance/`` in the folder the app is imported from,
    beside a package (not inside it), and beside a module."""
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "single.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert Flask("shop").instance_path == os.path.join(str(tmp_path), "instance")
    assert Flask("shop.views").instance_path == os.path.join(str(tmp_path), "instance")
    assert Flask("single").instance_path == os.path.join(str(tmp_path), "instance")


def test_default_instance_path_of_an_unimportable_name_is_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = Flask("no_such_module_here", root_path=str(tmp_path / "elsewhere"))
    assert app.instance_path == os.path.join(str(tmp_path), "instance")


def test_default_instance_path_of_an_installed_app_is_under_the_prefix() -> None:
    """An app installed in site-packages gets ``<prefix>/var/<name>-instance``."""
    app = Flask("blinker")  # any module installed in this environment
    assert app.instance_path == os.path.join(sys.prefix, "var", "blinker-instance")


def test_relative_instance_path_raises(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must be absolute"):
        Flask("bad_instance_app", instance_path="relative/instance")


# -- name, root_path, resources, logger ---------------------------------------------------------


def test_app_name_is_the_import_name(app: Flask) -> None:
    assert app.name == "flaskish_test_app"
    assert app.import_name == "flaskish_test_app"


def test_root_path_is_the_folder_of_the_import_module() -> None:
    app = Flask(__name__)
    assert app.name == __name__
    assert app.root_path == os.path.dirname(os.path.abspath(__file__))


def test_root_path_can_be_given(tmp_path: Path) -> None:
    app = Flask("given_root_app", root_path=str(tmp_path))
    assert app.root_path == str(tmp_path)


def test_open_resource_reads_relative_to_the_root_path(tmp_path: Path) -> None:
    (tmp_path / "schema.sql").write_text("CREATE TABLE t (x);\n", encoding="utf-8")
    app = Flask("resource_app", root_path=str(tmp_path))
    with app.open_resource("schema.sql") as f:
        assert f.read() == b"CREATE TABLE t (x);\n"
    with app.open_resource("schema.sql", "r", encoding="utf-8") as f:
        assert f.read() == "CREATE TABLE t (x);\n"
    with app.open_resource("schema.sql", "rt") as f:
        assert f.read() == "CREATE TABLE t (x);\n"


@pytest.mark.parametrize("mode", ["w", "wb", "a", "r+", "x"])
def test_open_resource_refuses_to_write(tmp_path: Path, mode: str) -> None:
    (tmp_path / "schema.sql").write_text("original")
    app = Flask("resource_app", root_path=str(tmp_path))
    with pytest.raises(ValueError, match="only be opened for reading"):
        app.open_resource("schema.sql", mode)
    assert (tmp_path / "schema.sql").read_text() == "original"


def test_open_instance_resource_reads_and_writes(tmp_path: Path) -> None:
    app = Flask("instance_resource_app", instance_path=str(tmp_path))
    with app.open_instance_resource("notes.txt", "w") as f:
        f.write("héllo")
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "héllo"
    with app.open_instance_resource("notes.txt") as f:
        assert f.read() == "héllo".encode()
    with app.open_instance_resource("notes.txt", "r") as f:
        assert f.read() == "héllo"


def test_logger_is_named_after_the_app_and_logs(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    logger = app.logger
    assert isinstance(logger, logging.Logger)
    assert logger.name == app.name
    assert app.logger is logger
    with caplog.at_level(logging.INFO, logger=app.name):
        app.logger.warning("disk %s full", "/tmp")
        app.logger.info("informational")
    records = [r for r in caplog.records if r.name == app.name]
    assert [(r.levelname, r.getMessage()) for r in records] == [
        ("WARNING", "disk /tmp full"),
        ("INFO", "informational"),
    ]


def test_logger_level_is_debug_in_debug_mode(clean_env: pytest.MonkeyPatch) -> None:
    app = Flask("flaskish_debug_logger_app")
    app.debug = True
    try:
        assert app.logger.level == logging.DEBUG
    finally:
        app.logger.setLevel(logging.NOTSET)
