"""Poll one SNMP target: identify it, fetch what its profile needs, observe.

Everything here happens inside the target's own time budget, so a slow or
dead agent costs only its own time; every failure becomes an ``SnmpError``
whose reason the self-metrics count. Every request of one poll shares the
target's ``RetryBudget``, so datagram loss costs time, not the target.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from wifimon.profiles.evaluate import Observation, PollData, observe
from wifimon.profiles.registry import SYSTEM_SCALARS, ProfileRegistry
from wifimon.profiles.schema import Profile
from wifimon.profiles.tables import Table
from wifimon.snmp.pdus import UNPROVEN_SILENT_ROUNDS, RetryBudget, retry_budget
from wifimon.snmp.types import (
    ErrorReason,
    Oid,
    SnmpError,
    SnmpTarget,
    SnmpValue,
    Transport,
    ValueKind,
    VarBind,
    WalkRows,
)

# A controller's columns are walked a few at a time: real controllers answer
# concurrent requests, but a flood of them only queues inside the agent.
WALKS_IN_FLIGHT_PER_TARGET = 4


@dataclass(frozen=True, slots=True)
class PollOutcome:
    profile: Profile
    observation: Observation
    system: dict[str, SnmpValue]


async def _system(transport: Transport, target: SnmpTarget) -> dict[str, SnmpValue]:
    return _system_of(await transport.get(target, list(SYSTEM_SCALARS.values())))


def _system_of(varbinds: list[VarBind]) -> dict[str, SnmpValue]:
    system = {name: vb.value for name, vb in zip(SYSTEM_SCALARS, varbinds, strict=True)}
    if all(value.kind.is_exception for value in system.values()):
        raise SnmpError(ErrorReason.NO_SUCH_OBJECT, "the agent has no SNMPv2-MIB system group")
    return system


def choose_profile(registry: ProfileRegistry, wanted: str, system: dict[str, SnmpValue]) -> Profile:
    if wanted != "auto":
        return registry.get(wanted)
    object_id = system["object_id"]
    descr = system["descr"]
    oid = object_id.value if object_id.kind is ValueKind.OBJECT_ID else None
    text = descr.value.decode("utf-8", "replace") if isinstance(descr.value, bytes) else ""
    profile = registry.select(oid if isinstance(oid, tuple) else None, text)
    if profile is None:
        raise SnmpError(ErrorReason.OTHER, "no profile matches this agent's sysObjectID")
    return profile


async def _fetch_tables(
    transport: Transport,
    target: SnmpTarget,
    profile: Profile,
    max_rows: int,
    columns_together: bool,
) -> dict[str, Table]:
    tables = _new_tables(profile)
    if columns_together:
        await _walk_together(transport, target, tables, max_rows)
    else:
        await _walk_apart(transport, target, tables, max_rows)
    return _filtered(tables)


def _new_tables(profile: Profile) -> dict[str, Table]:
    return {name: Table(spec) for name, spec in profile.tables.items()}


def _filtered(tables: dict[str, Table]) -> dict[str, Table]:
    """``tables`` once every column is in: each keeps the rows its ``where`` allows."""
    for table in tables.values():
        table.apply_where()
    return tables


def _named(names: Sequence[str], varbinds: Sequence[VarBind]) -> dict[str, SnmpValue]:
    """The values of a GET of ``names``' OIDs, by name."""
    return {name: varbind.value for name, varbind in zip(names, varbinds, strict=True)}


def _add(table: Table, column: str, rows: list[VarBind]) -> None:
    if isinstance(rows, WalkRows) and rows.cut:
        table.malformed += 1  # the agent ended this column early: count the gap
    table.add_column(column, rows)


async def _walk_together(
    transport: Transport, target: SnmpTarget, tables: dict[str, Table], max_rows: int
) -> None:
    """Every column of every (ordered) table in one GETBULK chain: an AP's
    tables have a few rows each, so this is one or two requests for the
    whole profile."""
    roots = _ordered_roots(tables)
    if roots:
        _fill_ordered(tables, await transport.walk_columns(target, roots, max_rows))
    await _walk_unordered(transport, target, tables, max_rows)


def _ordered_roots(tables: dict[str, Table]) -> list[Oid]:
    """Each distinct column of the ordered tables once: a column two tables
    share (the generic profile reads ifTable counters for the uplink and for
    the radios) is fetched once."""
    columns = (
        root
        for table in tables.values()
        if not table.spec.unordered
        for root in table.spec.columns.values()
    )
    return list(dict.fromkeys(columns))


def _fill_ordered(tables: dict[str, Table], walked: dict[Oid, WalkRows]) -> None:
    for table in tables.values():
        if not table.spec.unordered:
            for column, root in table.spec.columns.items():
                _add(table, column, walked[root])


async def _walk_unordered(
    transport: Transport, target: SnmpTarget, tables: dict[str, Table], max_rows: int
) -> None:
    # An agent that returns a table out of OID order needs a walk's own seen-set.
    for table in tables.values():
        if table.spec.unordered and table.spec.columns:
            columns = table.spec.columns
            own = await transport.walk_columns(
                target, list(columns.values()), max_rows, unordered=True
            )
            for column, root in columns.items():
                _add(table, column, own[root])


async def _fetch_in_one(
    transport: Transport, target: SnmpTarget, profile: Profile, max_rows: int
) -> tuple[dict[str, SnmpValue], dict[str, SnmpValue], dict[str, Table]]:
    """System group, scalars and tables of an AP whose profile is known
    (from its last poll): the GET rides in the first GETBULK of the walk, so
    the whole poll is usually one request."""
    tables = _new_tables(profile)
    names = list(profile.scalars)
    oids = [*SYSTEM_SCALARS.values(), *(profile.scalars[name] for name in names)]
    roots = _ordered_roots(tables)
    values, walked = await transport.get_and_walk_columns(target, oids, roots, max_rows)
    system = _system_of(values[: len(SYSTEM_SCALARS)])
    scalars = _named(names, values[len(SYSTEM_SCALARS) :])
    _fill_ordered(tables, walked)
    await _walk_unordered(transport, target, tables, max_rows)
    return system, scalars, _filtered(tables)


async def _walk_apart(
    transport: Transport, target: SnmpTarget, tables: dict[str, Table], max_rows: int
) -> None:
    """One chain per column, a few in flight: a controller's tables have
    thousands of rows, and parallel chains keep the poll's wall time short."""
    gate = asyncio.Semaphore(WALKS_IN_FLIGHT_PER_TARGET)

    async def walk_column(table: Table, column: str) -> None:
        async with gate:
            root = table.spec.columns[column]
            rows = await transport.walk(target, root, max_rows, unordered=table.spec.unordered)
        _add(table, column, rows)

    async with asyncio.TaskGroup() as group:
        for table in tables.values():
            for column in table.spec.columns:
                group.create_task(walk_column(table, column))


async def poll_target(
    transport: Transport,
    target: SnmpTarget,
    registry: ProfileRegistry,
    wanted_profile: str,
    max_rows: int = 100_000,
    *,
    presumed_alive: bool = False,
    first_poll: bool = False,
    columns_together: bool = True,
    expected_profile: Profile | None = None,
) -> PollOutcome:
    """Fetch and observe one target. Raises ``SnmpError`` on failure.

    ``presumed_alive`` (the target is not known to be down: it answered its
    previous poll, or this is its first) lets even the first request of this
    poll draw on the retry budget (``RetryBudget``); for a target known to be
    down one round of attempts confirms it, so a dead target costs a full
    silence only once, when it dies. On a ``first_poll`` the presumption
    lasts ``UNPROVEN_SILENT_ROUNDS`` rounds until the target first answers.

    ``columns_together`` walks every column of the profile in one GETBULK
    chain: fewest requests and decoded values for an AP's tables of a few
    rows. A controller's tables have thousands of rows: there one chain per
    column, several in flight, keeps the poll's wall time short. With
    ``columns_together`` and a known profile (``wanted_profile``, or
    ``expected_profile``: the one its last poll chose) the system group
    and scalars ride in the walk's first request; should the agent now
    choose another profile, that one's data is fetched after it.
    """
    unproven = UNPROVEN_SILENT_ROUNDS if first_poll else None
    with retry_budget(RetryBudget(target.name, presumed_alive, unproven_rounds_allowed=unproven)):
        return await _poll(
            transport,
            target,
            registry,
            wanted_profile,
            max_rows,
            columns_together=columns_together,
            expected_profile=expected_profile,
        )


async def _poll(
    transport: Transport,
    target: SnmpTarget,
    registry: ProfileRegistry,
    wanted_profile: str,
    max_rows: int,
    *,
    columns_together: bool,
    expected_profile: Profile | None,
) -> PollOutcome:
    guess = expected_profile if wanted_profile == "auto" else registry.get(wanted_profile)
    if columns_together and guess is not None:
        system, scalars, tables = await _fetch_in_one(transport, target, guess, max_rows)
        profile = choose_profile(registry, wanted_profile, system)
        if profile is guess:
            return _outcome(profile, system, scalars, tables)
        # Another profile claims the agent now (e.g. new firmware): fetch its needs.
    else:
        system = await _system(transport, target)
        profile = choose_profile(registry, wanted_profile, system)
    scalars = {}
    if profile.scalars:
        names = list(profile.scalars)
        scalars = _named(names, await transport.get(target, [profile.scalars[n] for n in names]))
    try:
        tables = await _fetch_tables(transport, target, profile, max_rows, columns_together)
    except* SnmpError as group:
        raise group.exceptions[0] from None
    return _outcome(profile, system, scalars, tables)


def _outcome(
    profile: Profile,
    system: dict[str, SnmpValue],
    scalars: dict[str, SnmpValue],
    tables: dict[str, Table],
) -> PollOutcome:
    data = PollData(scalars=scalars, system=system, tables=tables)
    return PollOutcome(profile, observe(profile, data), system)
