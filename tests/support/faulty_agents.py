"""Broken SNMP agents for the resilience tests, built from one healthy controller.

``tests/e2e/agents/healthy.snmprec`` is a tiny hand-made Cisco AireOS
controller: three APs (MACs ``00:00:5e:00:53:01``-``03``, the RFC 7042
documentation range), two radios each, two WLANs, and every column the
``cisco-aireos`` profile reads. Its siblings there are broken variants served
by snmpsim in the end-to-end tests. For unit tests this module loads them as
varbinds and offers small pure edits (drop a column or some rows, replace a
value, move the APs to other MACs) that turn the healthy controller into
each fault. It also offers a UDP "black hole" (a port that takes requests and
never answers, and tells whether any arrived) and one snmpsim process serving
several recordings at once. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tests.support.agents import HOST, run_snmpsim
from wifimon.profiles.registry import default_registry
from wifimon.profiles.schema import Profile
from wifimon.snmp.snmprec import load_snmprec
from wifimon.snmp.types import Oid, SnmpValue, VarBind

AGENTS_DIR = Path(__file__).resolve().parents[1] / "e2e" / "agents"
PROFILE = "cisco-aireos"
# An AP's MAC as the index sub-ids of the Cisco tables: 00:00:5e:00:53:<n>.
MAC_PREFIX: Oid = (0, 0, 94, 0, 83)
SYSTEM_GROUP: Oid = (1, 3, 6, 1, 2, 1, 1)


def load_agent(name: str) -> list[VarBind]:
    """The varbinds of ``tests/e2e/agents/<name>.snmprec``, e.g. ``"healthy"``."""
    return load_snmprec(AGENTS_DIR / f"{name}.snmprec")


def mac_index(last: int) -> Oid:
    """The index sub-ids of AP ``00:00:5e:00:53:<last>``, e.g. ``(0, 0, 94, 0, 83, 1)``."""
    return (*MAC_PREFIX, last)


def ap_id(last: int) -> str:
    """The ``ap`` label wifimon derives from that AP's MAC, e.g. ``"00005e005301"``."""
    return f"00005e0053{last:02x}"


@cache
def _profile() -> Profile:
    return default_registry().get(PROFILE)


def column(table: str, name: str) -> Oid:
    """The OID of a column of the cisco-aireos profile, e.g. ``column("ap", "serial")``.

    Read from the profile itself, so the faults follow the profile if it changes.
    """
    return _profile().tables[table].columns[name]


def _under(oid: Oid, prefix: Oid) -> bool:
    return oid[: len(prefix)] == prefix


def without(varbinds: Iterable[VarBind], *prefixes: Oid) -> list[VarBind]:
    """``varbinds`` minus every one at or under any of ``prefixes``."""
    return [vb for vb in varbinds if not any(_under(vb.oid, prefix) for prefix in prefixes)]


def without_ap(varbinds: Iterable[VarBind], last: int) -> list[VarBind]:
    """``varbinds`` minus every row of AP ``last`` in any table (the AP left)."""
    index = mac_index(last)
    width = len(index)

    def mentions(oid: Oid) -> bool:
        return any(oid[start : start + width] == index for start in range(len(oid) - width + 1))

    return [vb for vb in varbinds if not mentions(vb.oid)]


def replaced(varbinds: Sequence[VarBind], oid: Oid, value: SnmpValue) -> list[VarBind]:
    """``varbinds`` with the value at ``oid`` (which must exist) replaced."""
    if all(vb.oid != oid for vb in varbinds):
        raise ValueError(f"no varbind at {oid}")
    return [VarBind(vb.oid, value) if vb.oid == oid else vb for vb in varbinds]


def added(varbinds: Iterable[VarBind], extra: Iterable[VarBind]) -> list[VarBind]:
    """``varbinds`` plus ``extra``, in OID order (duplicates are kept)."""
    return sorted([*varbinds, *extra], key=lambda vb: vb.oid)


def with_macs_moved(varbinds: Iterable[VarBind], offset: int) -> list[VarBind]:
    """The same agent with AP ``00:00:5e:00:53:<n>`` moved to ``<n + offset>``."""
    width = len(MAC_PREFIX)

    def moved(oid: Oid) -> Oid:
        for start in range(len(oid) - width):
            if oid[start : start + width] == MAC_PREFIX:
                at = start + width
                return (*oid[:at], oid[at] + offset, *oid[at + 1 :])
        return oid

    return sorted((VarBind(moved(vb.oid), vb.value) for vb in varbinds), key=lambda vb: vb.oid)


@dataclass(frozen=True)
class BlackHole:
    """A UDP port on 127.0.0.1 that receives requests and never answers.

    Unlike a closed port it sends no ICMP "port unreachable", so a poll of
    it can only end by timing out, deterministically.
    """

    host: str
    port: int
    sock: socket.socket

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def received(self) -> bool:
        """Whether anything was sent here since the last call (reads it all)."""
        got = False
        while True:
            try:
                self.sock.recv(65535)
            except BlockingIOError:
                return got
            got = True


@contextmanager
def black_hole() -> Iterator[BlackHole]:
    """A ``BlackHole`` for the duration of the block; its socket is closed after."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((HOST, 0))
        sock.setblocking(False)
        yield BlackHole(HOST, sock.getsockname()[1], sock)
    finally:
        sock.close()


@contextmanager
def serve_recordings(
    workdir: Path, recordings: Mapping[str, str], extra_args: Sequence[str] = ()
) -> Iterator[tuple[str, int]]:
    """One snmpsim process serving ``recordings`` (community → recording name).

    E.g. ``{"c0mmunity-1": "healthy"}`` serves ``tests/e2e/agents/healthy.snmprec``
    to requests with community ``c0mmunity-1``; any other community gets no
    answer at all. ``workdir`` holds the data dir, snmpsim's index and its log;
    the process is stopped by its PID on exit. Yields (host, port).
    """
    if not recordings:
        raise ValueError("serve at least one recording")
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True)
    for community, name in recordings.items():
        if "/" in community or not community:
            raise ValueError(f"a community must be a plain file name, got {community!r}")
        shutil.copyfile(AGENTS_DIR / f"{name}.snmprec", data_dir / f"{community}.snmprec")
    first = next(iter(recordings))
    with run_snmpsim(
        data_dir, workdir, first, extra_args, cache_dir=workdir / "index", deadline_s=60
    ) as address:
        yield address
