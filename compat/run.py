"""Run Flask extensions' own test suites with ``flask`` resolved to flaskish.

For each extension (pinned below), this downloads its source distribution
from PyPI into ``compat/.work/sdist/`` (checked against a pinned sha256),
unpacks it afresh into ``compat/.work/src/``, and runs its test suite there,
unmodified, with this interpreter (``compat/.venv/bin/python``, made by
``make compat``)::

    python -m pytest -p flaskish_compat -p compat_harness ... tests

``flaskish_compat`` calls ``flaskish.install_as_flask()`` before any
``conftest.py`` imports ``flask``; with ``--real-flask`` (or
``COMPAT_REAL_FLASK=1``) it does nothing, so the same run checks the suites on
the real Flask that is installed beside flaskish. Counts come from pytest's
JUnit XML; pytest's output goes to ``compat/.work/logs/<extension>.log``.

A suite that needs servers (Flask-Caching: Redis and memcached) gets them
from here: they are installed with apt-get when missing (as root on Debian;
anything else is a harness error, never a silent skip), started on
127.0.0.1 for that suite alone, on the ports its tests use, and stopped
after it.

Usage: ``python compat/run.py [--real-flask] [--list] [EXTENSION ...]``.
Exit status: 0 when every test passed, 1 when any failed or errored, 2 when
the harness itself could not run a suite.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from compat_harness import deselects

COMPAT_DIR = Path(__file__).resolve().parent
WORK_DIR = COMPAT_DIR / ".work"
SHOWN_FAILURES = 30
SUITE_TIMEOUT = 600.0

DOCKER = "its fixture starts with Docker (lovely-pytest-docker); there is no Docker here"
DOCKER_REDIS = f"needs the Redis server {DOCKER}"
DOCKER_MEMCACHED = f"needs the memcached server {DOCKER}"
DOCKER_ALL = f"needs the Redis, memcached and MongoDB servers {DOCKER}"


@dataclass(frozen=True)
class Deselect:
    """A ``--compat-deselect`` entry and why its tests cannot run here.

    ``node_id`` is a test's node id (all its parametrizations), a class
    (``file.py::Class::``) or a whole file (``file.py``); see compat_harness.
    """

    node_id: str
    reason: str


def tests_in(file: str, reason: str, *names: str) -> tuple[Deselect, ...]:
    """Deselect entries for tests (or a ``Class::``) in ``file``; "" is the whole file."""
    return tuple(Deselect(f"{file}::{name}" if name else file, reason) for name in names)


@dataclass(frozen=True)
class Server:
    """A server that a suite's tests connect to on ``127.0.0.1:port``.

    run.py starts it for the suite, on the loopback only, and stops it after.
    Flask-Caching's conftest would start its servers itself with
    pytest-xprocess when none listens on the port, but not when ``CI=true``
    (it fails instead), and memcached refuses to run as root without ``-u``
    (its xprocess start then times out after 20 s and the memcached tests are
    skipped). So the harness starts them, as the suite's own CI does with
    service containers, and the conftest finds them running.
    """

    name: str
    #: The Debian package that installs ``name`` (apt-get install).
    package: str
    port: int
    #: Arguments after the executable; ``{port}`` and ``{dir}`` (a scratch
    #: folder of its own) are filled in.
    args: tuple[str, ...]
    #: Extra arguments when run as root (memcached refuses root without -u).
    root_args: tuple[str, ...] = ()

    def command(self, scratch: Path) -> list[str]:
        """The command line that starts it in the foreground."""
        args = [a.format(port=self.port, dir=scratch) for a in self.args]
        if os.geteuid() == 0:
            args += self.root_args
        return [self.name, *args]


#: Bound to 127.0.0.1 only, nothing written to disk, in the foreground.
REDIS = Server(
    "redis-server",
    "redis-server",
    6360,
    ("--bind", "127.0.0.1", "--port", "{port}", "--save", "", "--appendonly", "no",
     "--dir", "{dir}", "--daemonize", "no", "--logfile", ""),
)  # fmt: skip
MEMCACHED = Server(
    "memcached",
    "memcached",
    11212,
    ("-l", "127.0.0.1", "-p", "{port}", "-U", "0"),
    root_args=("-u", "nobody"),
)


@dataclass(frozen=True)
class Suite:
    """One extension: which sdist to fetch and how its own suite is run."""

    name: str
    version: str
    sha256: str
    #: The suite's own pytest options (from its tox.ini / pyproject), minus
    #: those that only add coverage or verbosity.
    options: tuple[str, ...] = ("--tb=short",)
    #: Plugins to load with ``-p``: plugin autoloading is off, so that the
    #: plugins one suite needs (pytest-mock) cannot change another's run.
    plugins: tuple[str, ...] = ()
    #: Why the suite's ``addopts`` are replaced, or "" to keep them.
    drop_addopts: str = ""
    tests: tuple[str, ...] = ("tests",)
    deselect: tuple[Deselect, ...] = ()
    #: Servers started on the loopback for this suite's run (see Server).
    servers: tuple[Server, ...] = ()
    #: Keep pytest's cache provider (in a fresh ``compat/.work/cache/<slug>``):
    #: pytest-xprocess keeps its state there. Off for the other suites.
    cache_provider: bool = False

    @property
    def slug(self) -> str:
        """The name used on the command line and for log files."""
        return self.name.lower()

    @property
    def requirement(self) -> str:
        """The pinned requirement that ``pip download`` is given."""
        return f"{self.name}=={self.version}"


SUITES: tuple[Suite, ...] = (
    Suite(
        "Flask-Login",
        "0.6.3",
        "5e23d14a607ef12806c699590b89d0f0e0d67baeec599d75947bf9c147330333",
    ),
    Suite(
        "Flask-WTF",
        "1.3.0",
        "61d5dabc50c3df885c297dcbd80810443a5d632106c8a69cab8ce740f0cdd7cc",
    ),
    Suite(
        "Flask-SQLAlchemy",
        "3.1.1",
        "e4b68bb881802dda1a7d878b2fc84c06d1ee57fb40b874d3dc97dabfa36b8312",
    ),
    Suite(
        "Flask-Cors",
        "6.0.5",
        "30c5031552cd59f620ac0c8211dac45b345d3b2df310e7721879e4f46ef9c601",
        options=("--tb=short", "--doctest-modules"),
    ),
    Suite(
        "Flask-Caching",
        "2.5.1",
        "f75b451fde3faac0e278da72263818134deca8c4ba6bb07b9b3b238991368dae",
        options=("--tb=short", "--capture=tee-sys"),
        # Its conftest's redis_server / memcache_server fixtures take the
        # xprocess fixture even when the server is already running.
        plugins=("xprocess.pytest_xprocess",),
        cache_provider=True,
        servers=(REDIS, MEMCACHED),
    ),
    Suite(
        "Flask-Limiter",
        "4.1.1",
        "ca11608fc7eec43dcea606964ca07c3bd4ec1ae89043a0f67f717899a4f48106",
        # Its pytest.ini addopts are --verbose --tb=short --capture=no -rfEsxX
        # --cov=flask_limiter: keep the first reporting ones, drop the rest.
        options=("--tb=short", "-rfEsxX"),
        plugins=("pytest_mock", "pytest_check.plugin"),
        drop_addopts="its pytest.ini adds --cov (pytest-cov), --verbose and --capture=no",
        deselect=(
            *tests_in("tests/test_storage.py", DOCKER_ALL, ""),
            *tests_in("tests/test_commands.py", DOCKER_REDIS, "test_clear_limits"),
            *tests_in(
                "tests/test_configuration.py",
                DOCKER_REDIS,
                "test_constructor_arguments_over_config",
            ),
            *tests_in(
                "tests/test_error_handling.py",
                DOCKER_REDIS,
                "test_fallback_to_memory_config",
                "test_fallback_to_memory_backoff_check",
                "test_fallback_to_memory_with_global_override",
            ),
            *tests_in(
                "tests/test_error_handling.py",
                "uses the Docker Redis (localhost:46379) without the fixture; no Redis here",
                "test_fallback_to_memory",
            ),
            *tests_in("tests/test_flask_ext.py", DOCKER_MEMCACHED, "test_reset_unsupported"),
            *tests_in("tests/test_flask_ext.py", DOCKER_REDIS, "test_custom_key_prefix"),
            *tests_in(
                "tests/test_regressions.py",
                DOCKER_REDIS,
                "test_redis_request_slower_than_fixed_window",
                "test_redis_request_slower_than_moving_window",
                "test_custom_key_prefix_with_headers",
            ),
        ),
    ),
    Suite(
        "Flask-Migrate",
        "4.1.0",
        "1a336b06eb2c3ace005f5f2ded8641d534c18798d64061f6ff11f79e1434126d",
        # tox.ini: pytest -p no:logging. Its tests run `flask db ...` in
        # subprocesses, which get the `flask` shim from run.py.
        options=("--tb=short", "-p", "no:logging"),
    ),
)


class HarnessError(Exception):
    """The harness could not download, unpack or run a suite."""


@dataclass
class Result:
    """What one suite's run gave."""

    suite: Suite
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0
    deselected: dict[str, int] = field(default_factory=dict)
    failing: list[str] = field(default_factory=list)
    seconds: float = 0.0
    problem: str = ""

    @property
    def bad(self) -> int:
        """Tests that failed or errored."""
        return self.failed + self.errors

    @property
    def not_run(self) -> int:
        """Tests skipped by the suite itself plus those deselected here."""
        return self.skipped + sum(self.deselected.values())

    def line(self) -> str:
        """The one summary line for this suite."""
        head = f"{self.suite.name} {self.suite.version}:"
        if self.problem and not (self.passed or self.bad):
            return f"{head} HARNESS ERROR: {self.problem}"
        failed = f"{self.bad} failed" + (f" (incl. {self.errors} errors)" if self.errors else "")
        text = f"{head} {self.passed} passed / {failed} / {self.not_run} skipped"
        if self.deselected:
            text += f" ({sum(self.deselected.values())} deselected: need a server)"
        text += f"  [{self.seconds:.1f} s]"
        if self.problem:
            text += f"  HARNESS ERROR: {self.problem}"
        return text


def sha256_of(path: Path) -> str:
    """The hex sha256 digest of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def find_sdist(suite: Suite, sdist_dir: Path) -> Path | None:
    """The already downloaded sdist of ``suite`` with the pinned hash, if any."""
    for path in sorted(sdist_dir.glob("*.tar.gz")):
        if sha256_of(path) == suite.sha256:
            return path
    return None


def download(suite: Suite, sdist_dir: Path) -> Path:
    """Fetch the suite's sdist with pip (once) and check its sha256."""
    sdist_dir.mkdir(parents=True, exist_ok=True)
    found = find_sdist(suite, sdist_dir)
    if found is not None:
        return found
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
    command += ["--no-binary", ":all:", "--dest", str(sdist_dir), suite.requirement]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise HarnessError(f"pip download {suite.requirement} failed:\n{done.stderr[-2000:]}")
    found = find_sdist(suite, sdist_dir)
    if found is None:
        raise HarnessError(f"no sdist of {suite.requirement} in {sdist_dir} has the pinned sha256")
    return found


def unpack(sdist: Path, src_dir: Path) -> Path:
    """Extract ``sdist`` into a fresh folder under ``src_dir``; return its root."""
    with tarfile.open(sdist) as archive:
        tops = {Path(member.name).parts[0] for member in archive.getmembers()}
        if len(tops) != 1:
            raise HarnessError(f"{sdist.name} does not have one top-level folder")
        root = src_dir / tops.pop()
        if root.exists():
            shutil.rmtree(root)
        src_dir.mkdir(parents=True, exist_ok=True)
        archive.extractall(src_dir, filter="data")
    return root


def node_id(case: ET.Element) -> str:
    """A pytest node id for a JUnit ``<testcase>`` (written as junit_family=xunit1)."""
    file, classname, name = (case.get(key, "") for key in ("file", "classname", "name"))
    if not file:
        return f"{classname}::{name}" if classname else name
    module = file.removesuffix(".py").replace("/", ".")
    if not classname and name == module:
        return f"{file} (collecting it failed)"
    classes = classname[len(module) :].strip(".") if classname.startswith(module) else ""
    return "::".join([file, *(part for part in classes.split(".") if part), name])


def read_junit(path: Path, result: Result) -> None:
    """Add the outcome of every ``<testcase>`` in the JUnit file to ``result``."""
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        kinds = {child.tag for child in case}
        if "failure" in kinds:
            result.failed += 1
        elif "error" in kinds:
            result.errors += 1
        elif "skipped" in kinds:
            result.skipped += 1
            continue
        else:
            result.passed += 1
            continue
        result.failing.append(node_id(case))


def count_deselected(suite: Suite, path: Path, result: Result) -> list[str]:
    """Group the recorded deselected node ids by reason; return warnings."""
    ids = path.read_text(encoding="utf-8").split() if path.exists() else []
    reasons: Counter[str] = Counter()
    used: set[Deselect] = set()
    for test in ids:
        entry = next((d for d in suite.deselect if deselects(test, d.node_id)), None)
        if entry is None:
            reasons["deselected by the suite's own options"] += 1
        else:
            used.add(entry)
            reasons[entry.reason] += 1
    result.deselected = dict(reasons)
    return [f"deselect entry {d.node_id} matched no test" for d in suite.deselect if d not in used]


def child_env(real_flask: bool, shim_dir: Path) -> dict[str, str]:
    """The environment for pytest and for the suites' own subprocesses."""
    dropped = ("FLASK_", "PYTEST_", "COMPAT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    for name in ("PYTHONPATH", "PYTHONWARNINGS", "PYTHONSTARTUP"):
        env.pop(name, None)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([str(shim_dir), bin_dir, env.get("PATH", "")])
    env["PYTHONPATH"] = str(COMPAT_DIR)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    if real_flask:
        env["COMPAT_REAL_FLASK"] = "1"
    return env


APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")


@contextlib.contextmanager
def no_service_starts() -> Iterator[None]:
    """Stop Debian's maintainer scripts from starting the daemons they install.

    invoke-rc.d and deb-systemd-invoke do not start a service when
    ``policy-rc.d`` exits 101 (Docker images ship one that does). If there is
    none, one is put in place for the install and removed after it.
    """
    if POLICY_RC_D.exists():
        yield
        return
    POLICY_RC_D.write_text("#!/bin/sh\n# compat/run.py: no service starts\nexit 101\n")
    POLICY_RC_D.chmod(0o755)
    try:
        yield
    finally:
        POLICY_RC_D.unlink(missing_ok=True)


def stop_services(names: list[str]) -> None:
    """Stop and disable the system services of just-installed packages, if any runs.

    A belt to no_service_starts()'s braces (an existing ``policy-rc.d`` may
    allow starts). The system daemons would listen on the default ports
    (6379, 11211), not the suites' ones, but none should be left running.
    """
    if Path("/run/systemd/system").is_dir() and shutil.which("systemctl"):
        commands = [["systemctl", "disable", "--now", "--quiet", name] for name in names]
    elif shutil.which("service"):
        commands = [["service", name, "stop"] for name in names]
    else:
        return
    for command in commands:
        subprocess.run(command, capture_output=True, check=False)


def install_servers(servers: list[Server]) -> None:
    """apt-get install the servers that are not on PATH; HarnessError if impossible."""
    missing = sorted({s.package for s in servers if shutil.which(s.name) is None})
    if not missing:
        return
    names = " ".join(missing)
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        why = "not root" if os.geteuid() != 0 else "no apt-get"
        raise HarnessError(
            f"Flask-Caching's Redis and memcached tests need {' and '.join(missing)}: "
            f"not installed, and the harness cannot install it ({why}); install it "
            f"yourself: sudo apt-get install -y {names}"
        )
    steps = [
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
    ]
    print(f"compat: installing {names} (apt-get update; apt-get install -y {names})", end="")
    print("...", end="", flush=True)
    started = time.monotonic()
    env = {**os.environ, **APT_ENV}
    with no_service_starts():
        for command in steps:
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(" failed", flush=True)
                output = (done.stdout + done.stderr).strip()[-2000:]
                raise HarnessError(f"{' '.join(command)} failed ({done.returncode}):\n{output}")
    print(f" [{time.monotonic() - started:.1f} s]", flush=True)
    stop_services(missing)
    still = [s.name for s in servers if shutil.which(s.name) is None]
    if still:
        raise HarnessError(f"apt-get installed {names}, but {', '.join(still)} is not on PATH")


def listening(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:port."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def servers_running(servers: tuple[Server, ...], timeout: float = 15.0) -> Iterator[None]:
    """Start each server on 127.0.0.1, wait until it listens, stop them all after."""
    with contextlib.ExitStack() as stack:
        for server in servers:
            stack.enter_context(server_running(server, timeout))
        yield


@contextlib.contextmanager
def server_running(server: Server, timeout: float) -> Iterator[None]:
    """One server, in the foreground in a session of its own; its log in .work/logs."""
    if listening(server.port):
        raise HarnessError(
            f"something already listens on 127.0.0.1:{server.port}, where the harness "
            f"starts {server.name} (a leftover from an interrupted run?); stop it"
        )
    scratch = WORK_DIR / "tmp" / server.name
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    log = WORK_DIR / "logs" / f"{server.name}.log"
    command = server.command(scratch)
    with log.open("w", encoding="utf-8") as out:
        out.write(f"$ {shlex.join(command)}\n")
        out.flush()
        process = subprocess.Popen(
            command, cwd=scratch, stdin=subprocess.DEVNULL, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        while not listening(server.port):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(encoding="utf-8", errors="replace").strip()[-1000:]
                raise HarnessError(f"{server.name} did not start on port {server.port}:\n{tail}")
            time.sleep(0.05)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def write_flask_shim(shim_dir: Path) -> None:
    """A ``flask`` command that resolves ``flask`` the way the plugin does."""
    shim_dir.mkdir(parents=True, exist_ok=True)
    shim = shim_dir / "flask"
    shim.write_text(
        f"#!{sys.executable}\n"
        '"""`flask` for the suites\' subprocesses: flaskish\'s CLI unless COMPAT_REAL_FLASK=1."""\n'
        "import sys\n\n"
        "import flaskish_compat  # noqa: F401\n"
        "from flask.cli import main\n\n"
        "sys.exit(main())\n",
        encoding="utf-8",
    )
    shim.chmod(0o755)


def preflight(env: dict[str, str]) -> str:
    """Check that the plugin loads in this interpreter; say what ``flask`` is."""
    probe = (
        "import flaskish_compat, flask, pytest, importlib.metadata as m;"
        "print(flask.Flask.__module__, m.version('flask'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise HarnessError(
            "the flaskish_compat plugin does not load (run with compat/.venv/bin/python, "
            f"as `make compat` does):\n{done.stderr.strip()[-3000:]}"
        )
    module, version = done.stdout.split()
    return f"flask.Flask is {module}.Flask, importlib.metadata says Flask {version}"


#: The files pytest takes its configuration from, and the section it reads.
_PYTEST_CONFIGS = {
    "pytest.ini": "",
    ".pytest.ini": "",
    "pyproject.toml": "[tool.pytest.ini_options]",
    "tox.ini": "[pytest]",
    "setup.cfg": "[tool:pytest]",
}


def _has_pytest_config(root: Path) -> bool:
    """Whether a suite's root holds a pytest configuration of its own."""
    for name, section in _PYTEST_CONFIGS.items():
        path = root / name
        if path.is_file() and section in path.read_text(errors="replace"):
            return True
    return False


def pytest_command(suite: Suite, junit: Path, basetemp: Path) -> list[str]:
    """The pytest command line for one suite, run from its unpacked root."""
    command = [sys.executable, "-m", "pytest", "-p", "flaskish_compat", "-p", "compat_harness"]
    for plugin in suite.plugins:
        command += ["-p", plugin]
    if suite.cache_provider:
        command += ["-o", f"cache_dir={WORK_DIR / 'cache' / suite.slug}"]
    else:
        command += ["-p", "no:cacheprovider"]
    command += ["-q", "--continue-on-collection-errors"]
    if suite.drop_addopts:
        command += ["-o", "addopts="]
    command += ["-o", "junit_family=xunit1", f"--junitxml={junit}", f"--basetemp={basetemp}"]
    command += suite.options
    for entry in suite.deselect:
        command += ["--compat-deselect", entry.node_id]
    return [*command, *suite.tests]


def run_pytest(
    command: list[str], root: Path, env: dict[str, str], log: Path, timeout: float
) -> int | None:
    """Run pytest in ``root`` with its output in ``log``; None if it timed out."""
    with log.open("w", encoding="utf-8") as out:
        out.write(f"$ cd {root}\n$ {' '.join(command)}\n")
        if env.get("COMPAT_REAL_FLASK") == "1":
            out.write("(COMPAT_REAL_FLASK=1: real Flask)\n")
        out.flush()
        process = subprocess.Popen(
            command, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return None


def run_suite(suite: Suite, env: dict[str, str], timeout: float) -> Result:
    """Download, unpack and run one suite; never raises for a suite's own failure."""
    result = Result(suite)
    started = time.monotonic()
    logs, junit_dir = WORK_DIR / "logs", WORK_DIR / "junit"
    for folder in (logs, junit_dir):
        folder.mkdir(parents=True, exist_ok=True)
    junit = junit_dir / f"{suite.slug}.xml"
    deselected = junit_dir / f"{suite.slug}.deselected"
    log = logs / f"{suite.slug}.log"
    for stale in (junit, deselected, log):
        stale.unlink(missing_ok=True)
    try:
        root = unpack(download(suite, WORK_DIR / "sdist"), WORK_DIR / "src")
    except (HarnessError, OSError, tarfile.TarError) as error:
        result.problem = str(error)
        return result
    basetemp = WORK_DIR / "tmp" / suite.slug
    basetemp.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(WORK_DIR / "cache" / suite.slug, ignore_errors=True)
    command = pytest_command(suite, junit, basetemp)
    if not _has_pytest_config(root):
        # Without a config of its own, pytest would walk up to flaskish's
        # pyproject.toml and run the suite with flaskish's settings.
        command[3:3] = ["-c", os.devnull, "--rootdir", str(root)]
    env = {**env, "COMPAT_DESELECTED_FILE": str(deselected)}
    try:
        with servers_running(suite.servers):
            code = run_pytest(command, root, env, log, timeout)
    except (HarnessError, OSError) as error:
        result.problem = str(error)
        result.seconds = time.monotonic() - started
        return result
    result.seconds = time.monotonic() - started
    if code is None:
        result.problem = f"timed out after {timeout:.0f} s (see {log})"
    elif code not in (0, 1):
        result.problem = f"pytest exited with status {code} (see {log})"
    if junit.exists():
        read_junit(junit, result)
    elif not result.problem:
        result.problem = f"pytest wrote no JUnit XML (see {log})"
    for warning in count_deselected(suite, deselected, result):
        print(f"  warning: {suite.name}: {warning}")
    return result


def report(result: Result) -> None:
    """Print a suite's line and, when it failed, its first failing test ids."""
    print(result.line(), flush=True)
    if result.failing:
        shown = result.failing[:SHOWN_FAILURES]
        which = "all" if len(shown) == len(result.failing) else f"first {len(shown)}"
        print(f"  failing ({which}; log: {WORK_DIR / 'logs' / result.suite.slug}.log):")
        for test in shown:
            print(f"    {test}")
    elif result.problem and result.passed + result.bad == 0:
        log = WORK_DIR / "logs" / f"{result.suite.slug}.log"
        if log.exists():
            print(f"  log: {log}")


def select(names: list[str]) -> list[Suite]:
    """The suites named on the command line (all of them for none)."""
    if not names:
        return list(SUITES)
    by_name = {suite.slug: suite for suite in SUITES}
    chosen = []
    for name in names:
        key = name.lower().replace("_", "-")
        key = key if key.startswith("flask-") else f"flask-{key}"
        if key not in by_name:
            raise HarnessError(f"unknown extension {name!r}; known: {', '.join(by_name)}")
        chosen.append(by_name[key])
    return chosen


def list_suites() -> None:
    """Print the pinned extensions and what is deselected in each, with why."""
    for suite in SUITES:
        print(f"{suite.name} {suite.version}  ({suite.slug})")
        for server in suite.servers:
            print(
                f"    server: {server.name} on 127.0.0.1:{server.port} (Debian: {server.package})"
            )
        for entry in suite.deselect:
            print(f"    {entry.node_id}\n        {entry.reason}")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("extensions", nargs="*", help="e.g. flask-cors (default: all)")
    parser.add_argument(
        "--real-flask",
        action="store_true",
        default=os.environ.get("COMPAT_REAL_FLASK") == "1",
        help="run on the installed real Flask (also COMPAT_REAL_FLASK=1)",
    )
    parser.add_argument("--list", action="store_true", help="list the suites and skips")
    parser.add_argument(
        "--timeout", type=float, default=SUITE_TIMEOUT, help="seconds per suite (600)"
    )
    args = parser.parse_args(argv)
    if args.list:
        list_suites()
        return 0
    shim_dir = WORK_DIR / "bin"
    env = child_env(args.real_flask, shim_dir)
    try:
        suites = select(args.extensions)
        write_flask_shim(shim_dir)
        flask_is = preflight(env)
        mode = "real Flask (COMPAT_REAL_FLASK=1)" if args.real_flask else "flask -> flaskish"
        print(f"compat: {mode}; {flask_is}", flush=True)
        install_servers([server for suite in suites for server in suite.servers])
    except HarnessError as error:
        print(f"compat: {error}", file=sys.stderr)
        return 2
    started = time.monotonic()
    results = []
    for suite in suites:
        result = run_suite(suite, env, args.timeout)
        report(result)
        results.append(result)
    passed = sum(r.passed for r in results)
    bad = sum(r.bad for r in results)
    skipped = sum(r.not_run for r in results)
    elapsed = time.monotonic() - started
    print(f"total: {passed} passed / {bad} failed / {skipped} skipped  [{elapsed:.1f} s]")
    if any(r.problem for r in results):
        return 2
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
