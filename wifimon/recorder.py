"""Record an agent as an snmpsim ``.snmprec`` file (``wifimon record``).

The recorder reads the system group, chooses the profile the way the poller
does, and walks only the columns that profile reads (or the subtrees asked
for), so a recording holds what wifimon needs and little else. Lines are
``OID|TAG|VALUE`` sorted by OID, as ``wifimon.snmp.snmprec`` and snmpsim
read them; anonymisation (``wifimon.anonymise``) happens in between.

Secrets reach this module only from environment variables, files or the
config file, never from the command line, and never go into a message.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

from wifimon.config.secret import SecretFileError, read_secret_file
from wifimon.poller import WALKS_IN_FLIGHT_PER_TARGET, choose_profile
from wifimon.profiles.registry import SYSTEM_SCALARS, ProfileRegistry
from wifimon.profiles.schema import Profile
from wifimon.snmp.types import (
    AuthProtocol,
    ErrorReason,
    Oid,
    PrivProtocol,
    SnmpCredentials,
    SnmpError,
    SnmpTarget,
    SnmpValue,
    Transport,
    ValueKind,
    VarBind,
    format_oid,
)

# The SNMPv2-MIB system group as the recording keeps it: what the poller
# reads plus sysContact, which a recording of a real device should show.
SYSTEM_GROUP: dict[str, Oid] = {**SYSTEM_SCALARS, "contact": (1, 3, 6, 1, 2, 1, 1, 4, 0)}
# A recording may be far larger than one poll needs (a subtree of a big
# controller), but must still end if an agent never ends a walk.
RECORD_MAX_ROWS = 2_000_000
_TAGS = {
    ValueKind.INTEGER: "2",
    ValueKind.OCTET_STRING: "4",
    ValueKind.NULL: "5",
    ValueKind.OBJECT_ID: "6",
    ValueKind.IP_ADDRESS: "64",
    ValueKind.COUNTER32: "65",
    ValueKind.GAUGE32: "66",
    ValueKind.TIMETICKS: "67",
    ValueKind.OPAQUE: "68",
    ValueKind.COUNTER64: "70",
}


class RecordUsageError(Exception):
    """Options that cannot work (exit code 2); the message holds no secret."""


# --- credentials from options --------------------------------------------------


@dataclass(frozen=True)
class CredentialOptions:
    """How ``wifimon record`` was told to authenticate, secrets by reference:
    ``*_env`` names an environment variable, ``*_file`` a file holding it."""

    community_env: str | None = None
    snmp_version: Literal["1", "2c"] = "2c"
    v3_user: str | None = None
    auth_protocol: AuthProtocol | None = None
    auth_password_env: str | None = None
    auth_password_file: Path | None = None
    priv_protocol: PrivProtocol | None = None
    priv_password_env: str | None = None
    priv_password_file: Path | None = None
    context: str = ""

    @property
    def v3_given(self) -> bool:
        """Whether any SNMPv3 option was given."""
        v3_options = (
            self.v3_user,
            self.auth_protocol,
            self.auth_password_env,
            self.auth_password_file,
            self.priv_protocol,
            self.priv_password_env,
            self.priv_password_file,
            self.context,
        )
        return any(v3_options)

    @property
    def any_given(self) -> bool:
        return bool(self.community_env) or self.v3_given


def _secret(what: str, variable: str | None, path: Path | None, env: Mapping[str, str]) -> str:
    """The secret from the variable or the file; "" when neither is given."""
    if variable and path:
        raise RecordUsageError(f"give the {what} by environment variable or by file, not both")
    if path is not None:
        try:
            return read_secret_file(path)
        except SecretFileError as error:
            raise RecordUsageError(str(error)) from None
    if variable is None:
        return ""
    value = env.get(variable, "")
    if not value:
        raise RecordUsageError(f"environment variable {variable} (the {what}) is unset or empty")
    return value


def _v3_credentials(options: CredentialOptions, env: Mapping[str, str]) -> SnmpCredentials:
    auth = _secret("auth password", options.auth_password_env, options.auth_password_file, env)
    priv = _secret("privacy password", options.priv_password_env, options.priv_password_file, env)
    if bool(auth) != (options.auth_protocol is not None):
        raise RecordUsageError("--auth-protocol and an auth password go together")
    if bool(priv) != (options.priv_protocol is not None):
        raise RecordUsageError("--priv-protocol and a privacy password go together")
    if priv and not auth:
        raise RecordUsageError("SNMPv3 privacy needs authentication too")
    return SnmpCredentials(
        version="3",
        user=options.v3_user or "",
        auth_protocol=options.auth_protocol,
        auth_password=auth,
        priv_protocol=options.priv_protocol,
        priv_password=priv,
        context=options.context,
    )


def credentials_from_options(options: CredentialOptions, env: Mapping[str, str]) -> SnmpCredentials:
    """v1/v2c from ``community_env`` or v3 from ``v3_user`` and its secrets."""
    if options.community_env and options.v3_given:
        raise RecordUsageError("give either --community-env or SNMPv3 options, not both")
    if options.community_env:
        community = _secret("community", options.community_env, None, env)
        return SnmpCredentials(version=options.snmp_version, community=community)
    if options.v3_user:
        return _v3_credentials(options, env)
    if options.v3_given:
        raise RecordUsageError("SNMPv3 options need --v3-user")
    raise RecordUsageError(
        "say how to authenticate: --credentials NAME -c CONFIG, --community-env VAR "
        "or --v3-user USER"
    )


# --- progress ------------------------------------------------------------------


class Progress:
    """Tables done, varbinds read and seconds elapsed, on ``stream``: redrawn
    in place on a terminal, one line per finished table otherwise (so logs
    and CI output stay readable)."""

    REDRAW_SECONDS = 0.1

    def __init__(
        self, stream: TextIO, tables: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stream = stream
        self.tables = tables
        self.done = 0
        self.varbinds = 0
        self.clock = clock
        self.started = clock()
        self.live = stream.isatty()
        self._drawn = 0.0

    def line(self) -> str:
        elapsed = self.clock() - self.started
        return (
            f"recording: {self.done}/{self.tables} tables, "
            f"{self.varbinds:,} varbinds, {elapsed:.1f} s"
        )

    def add(self, varbinds: int) -> None:
        self.varbinds += varbinds
        if self.live and self.clock() - self._drawn >= self.REDRAW_SECONDS:
            self._draw()

    def table_done(self, name: str) -> None:
        self.done += 1
        if self.live:
            self._draw()
        else:
            self.stream.write(f"{self.line()} ({name} done)\n")
            self.stream.flush()

    def finish(self) -> None:
        if self.live:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()

    def _draw(self) -> None:
        self._drawn = self.clock()
        self.stream.write(f"\r{self.line()}\x1b[K")  # \x1b[K clears what a longer line left
        self.stream.flush()


# --- walking ---------------------------------------------------------------------


@dataclass(frozen=True)
class Recording:
    """What was read: the chosen profile and every varbind, sorted by OID."""

    profile: Profile
    varbinds: list[VarBind]
    tables: int


def _outermost(roots: Iterable[Oid]) -> list[Oid]:
    """``roots`` without those inside another one (walked once is enough)."""
    kept: list[Oid] = []
    for root in sorted(set(roots)):
        if not kept or root[: len(kept[-1])] != kept[-1]:
            kept.append(root)
    return kept


def walk_roots(profile: Profile, subtrees: Sequence[Oid] = ()) -> dict[str, list[Oid]]:
    """What to walk, by table name: the profile's columns (each once), or
    each of ``subtrees`` as a table of its own."""
    if subtrees:
        return {format_oid(root): [root] for root in _outermost(subtrees)}
    roots: dict[str, list[Oid]] = {}
    seen: set[Oid] = set()
    for name, table in profile.tables.items():
        fresh = [column for column in table.columns.values() if column not in seen]
        seen.update(fresh)
        if fresh:
            roots[name] = fresh
    return roots


async def _read_system(transport: Transport, target: SnmpTarget) -> list[VarBind]:
    varbinds = await transport.get(target, list(SYSTEM_GROUP.values()))
    if all(varbind.value.kind.is_exception for varbind in varbinds):
        raise SnmpError(ErrorReason.NO_SUCH_OBJECT, "the agent has no SNMPv2-MIB system group")
    return varbinds


def _system_by_name(varbinds: Sequence[VarBind]) -> dict[str, SnmpValue]:
    by_oid = {varbind.oid: varbind.value for varbind in varbinds}
    return {name: by_oid[oid] for name, oid in SYSTEM_SCALARS.items()}


async def _walk_tables(
    transport: Transport,
    target: SnmpTarget,
    roots: dict[str, list[Oid]],
    progress: Progress,
    max_rows: int,
) -> list[VarBind]:
    gate = asyncio.Semaphore(WALKS_IN_FLIGHT_PER_TARGET)
    pending = {name: len(table_roots) for name, table_roots in roots.items()}
    found: list[VarBind] = []

    async def walk(name: str, root: Oid) -> None:
        async with gate:
            # A recording should hold every row the agent has, even of a
            # table it lists out of OID order; the output is sorted anyway.
            rows = await transport.walk(target, root, max_rows, unordered=True)
        found.extend(rows)
        progress.add(len(rows))
        pending[name] -= 1
        if not pending[name]:
            progress.table_done(name)

    try:
        async with asyncio.TaskGroup() as group:
            for name, table_roots in roots.items():
                for root in table_roots:
                    group.create_task(walk(name, root))
    except* SnmpError as failures:
        raise failures.exceptions[0] from None
    return found


def _recordable(varbinds: Iterable[VarBind]) -> list[VarBind]:
    """Sorted by OID, one per OID, without noSuchObject and friends."""
    by_oid = {vb.oid: vb for vb in varbinds if not vb.value.kind.is_exception}
    return [by_oid[oid] for oid in sorted(by_oid)]


async def record(
    transport: Transport,
    target: SnmpTarget,
    registry: ProfileRegistry,
    progress_stream: TextIO,
    *,
    wanted_profile: str = "auto",
    subtrees: Sequence[Oid] = (),
    max_rows: int = RECORD_MAX_ROWS,
) -> Recording:
    """Read ``target`` as the poller would see it. Raises ``SnmpError``."""
    system = await _read_system(transport, target)
    profile = choose_profile(registry, wanted_profile, _system_by_name(system))
    scalars: list[VarBind] = []
    if profile.scalars and not subtrees:
        scalars = await transport.get(target, list(profile.scalars.values()))
    roots = walk_roots(profile, subtrees)
    progress = Progress(progress_stream, len(roots))
    walked = await _walk_tables(transport, target, roots, progress, max_rows)
    progress.finish()
    return Recording(profile, _recordable([*system, *scalars, *walked]), len(roots))


# --- writing ---------------------------------------------------------------------


def _plain_text(raw: bytes) -> bool:
    """Whether snmpsim and our parser read ``raw`` back unchanged as text:
    printable ASCII, no "|" (the field separator), nothing that the line
    strip would eat."""
    return all(0x20 <= byte < 0x7F for byte in raw) and b"|" not in raw and raw == raw.strip()


def snmprec_line(varbind: VarBind) -> str:
    """One record, e.g. ``1.3.6.1.2.1.1.5.0|4|wlc-1`` or ``...|4x|00005e005301``."""
    value = varbind.value
    tag = _TAGS.get(value.kind)
    if tag is None:
        raise ValueError(f"{format_oid(varbind.oid)}: {value.kind.value} is not recordable")
    raw = value.value
    if isinstance(raw, bytes):
        if value.kind is ValueKind.OCTET_STRING and _plain_text(raw):
            return f"{format_oid(varbind.oid)}|{tag}|{raw.decode('ascii')}"
        return f"{format_oid(varbind.oid)}|{tag}x|{raw.hex()}"  # as snmpsim records IpAddress
    if isinstance(raw, tuple):
        return f"{format_oid(varbind.oid)}|{tag}|{format_oid(raw)}"
    return f"{format_oid(varbind.oid)}|{tag}|{'' if raw is None else raw}"


def snmprec_text(varbinds: Iterable[VarBind]) -> str:
    """The whole file, records sorted by OID."""
    ordered = sorted(varbinds, key=lambda varbind: varbind.oid)
    return "".join(snmprec_line(varbind) + "\n" for varbind in ordered)


def write_snmprec(path: Path, varbinds: Iterable[VarBind]) -> None:
    """Write atomically: a reader (or snmpsim indexing the folder) never sees
    half a file, and a failed run leaves an earlier recording intact."""
    text = snmprec_text(varbinds)
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(handle, "w", encoding="ascii", newline="\n") as stream:
            stream.write(text)
        Path(partial).replace(path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
