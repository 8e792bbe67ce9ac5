"""pytest plugin (``-p compat_harness``): the harness's bookkeeping and guard.

It is loaded in both modes (flaskish and real Flask) and changes nothing
about which ``flask`` a suite sees; ``flaskish_compat`` does that.

* Loopback only: a connection or name lookup for anything but 127.0.0.0/8,
  ``::1`` or ``localhost`` raises :class:`PermissionError`, so a test that
  would reach the network fails loudly instead of sending traffic.
* ``--compat-deselect ENTRY``: deselects exactly the tests an entry names
  (pytest's own ``--deselect`` takes any node id *prefix*, so
  ``test_cache_unlink`` would also drop ``test_cache_unlink_if_not``). An
  entry is a test's node id (with all its parametrizations), a class
  (``file.py::Class::``) or a whole file (``file.py``).
* Every deselected node id (by this option or the suite's own config) is
  appended to the file named by ``COMPAT_DESELECTED_FILE`` (JUnit XML leaves
  them out), so that ``compat/run.py`` can count them and give their reasons.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the runner imports deselects() from here, without pytest
    import pytest

_LOCAL_NAMES = frozenset({"", "localhost", "localhost.localdomain", "ip6-localhost"})


def _is_loopback(host: object) -> bool:
    """Whether ``host`` (an IP literal or a name) is this machine's loopback."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _check_address(sock: socket.socket, address: Any) -> None:
    """Refuse an IPv4/IPv6 ``address`` that is not on the loopback."""
    if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple):
        if not _is_loopback(address[0]):
            raise PermissionError(f"compat harness: no network but loopback ({address!r})")


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _connect(self: socket.socket, address: Any) -> None:
    _check_address(self, address)
    _real_connect(self, address)


def _connect_ex(self: socket.socket, address: Any) -> int:
    _check_address(self, address)
    return _real_connect_ex(self, address)


def _getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _is_loopback(host):
        raise PermissionError(f"compat harness: no network but loopback (lookup of {host!r})")
    return _real_getaddrinfo(host, *args, **kwargs)


def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Put the loopback-only guard in place before any conftest is imported."""
    socket.socket.connect = _connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = _getaddrinfo


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register ``--compat-deselect``."""
    parser.addoption(
        "--compat-deselect",
        action="append",
        default=[],
        metavar="ENTRY",
        help="deselect a test (every parametrization), a class (file::Class::) or a file",
    )


def deselects(node_id: str, entry: str) -> bool:
    """Whether the ``--compat-deselect`` ``entry`` names the test ``node_id``."""
    if entry.endswith("::"):
        return node_id.startswith(entry)
    if entry.endswith(".py"):
        return node_id.startswith(f"{entry}::")
    return node_id == entry or node_id.startswith(f"{entry}[")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop the tests that ``--compat-deselect`` names."""
    entries: list[str] = config.getoption("compat_deselect")
    if not entries:
        return
    dropped = [item for item in items if any(deselects(item.nodeid, e) for e in entries)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


def pytest_deselected(items: list[pytest.Item]) -> None:
    """Record the node ids of deselected tests for ``compat/run.py``."""
    path = os.environ.get("COMPAT_DESELECTED_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.writelines(f"{item.nodeid}\n" for item in items)
