"""Poll one SNMP target: identify it, fetch what its profile needs, observe.

Everything here happens inside the target's own time budget, so a slow or
dead agent costs only its own time; every failure becomes an ``SnmpError``
whose reason the self-metrics count. Every request of one poll shares the
target's ``RetryBudget``, so datagram loss costs time, not the target.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from wifimon.profiles.evaluate import Observation, PollData, observe
from wifimon.profiles.registry import SYSTEM_SCALARS, ProfileRegistry
from wifimon.profiles.schema import Profile
from wifimon.profiles.tables import Table
from wifimon.snmp.pdus import UNPROVEN_SILENT_ROUNDS, RetryBudget, retry_budget
from wifimon.snmp.types import (
    ErrorReason,
    SnmpError,
    SnmpTarget,
    SnmpValue,
    Transport,
    ValueKind,
    VarBind,
    WalkRows,
)

# Tables of one target are walked a few at a time (each table's columns
# together, one GETBULK chain): real controllers answer concurrent requests,
# but a flood of them only queues inside the agent.
WALKS_IN_FLIGHT_PER_TARGET = 4


@dataclass(frozen=True, slots=True)
class PollOutcome:
    profile: Profile
    observation: Observation
    system: dict[str, SnmpValue]


async def _system(transport: Transport, target: SnmpTarget) -> dict[str, SnmpValue]:
    names = list(SYSTEM_SCALARS)
    varbinds = await transport.get(target, [SYSTEM_SCALARS[name] for name in names])
    system = {name: vb.value for name, vb in zip(names, varbinds, strict=True)}
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
    tables = {name: Table(spec) for name, spec in profile.tables.items()}
    gate = asyncio.Semaphore(WALKS_IN_FLIGHT_PER_TARGET)

    def add(table: Table, column: str, rows: list[VarBind]) -> None:
        if isinstance(rows, WalkRows) and rows.cut:
            table.malformed += 1  # the agent ended this column early: count the gap
        table.add_column(column, rows)

    async def walk_table(table: Table) -> None:
        columns = table.spec.columns
        async with gate:
            walked = await transport.walk_columns(
                target, list(columns.values()), max_rows, unordered=table.spec.unordered
            )
        for column, root in columns.items():
            add(table, column, walked[root])

    async def walk_column(table: Table, column: str) -> None:
        async with gate:
            root = table.spec.columns[column]
            rows = await transport.walk(target, root, max_rows, unordered=table.spec.unordered)
        add(table, column, rows)

    async with asyncio.TaskGroup() as group:
        for table in tables.values():
            if columns_together and table.spec.columns:
                group.create_task(walk_table(table))
            elif not columns_together:
                for column in table.spec.columns:
                    group.create_task(walk_column(table, column))
    for table in tables.values():
        table.apply_where()
    return tables


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
) -> PollOutcome:
    """Fetch and observe one target. Raises ``SnmpError`` on failure.

    ``presumed_alive`` (the target is not known to be down: it answered its
    previous poll, or this is its first) lets even the first request of this
    poll draw on the retry budget (``RetryBudget``); for a target known to be
    down one round of attempts confirms it, so a dead target costs a full
    silence only once, when it dies. On a ``first_poll`` the presumption
    lasts ``UNPROVEN_SILENT_ROUNDS`` rounds until the target first answers.

    ``columns_together`` walks each table's columns in one GETBULK chain:
    fewest requests and decoded values for an AP's tables of a few rows.
    A controller's tables have thousands of rows: there one chain per
    column, several in flight, keeps the poll's wall time short.
    """
    unproven = UNPROVEN_SILENT_ROUNDS if first_poll else None
    with retry_budget(RetryBudget(target.name, presumed_alive, unproven_rounds_allowed=unproven)):
        return await _poll(
            transport, target, registry, wanted_profile, max_rows, columns_together=columns_together
        )


async def _poll(
    transport: Transport,
    target: SnmpTarget,
    registry: ProfileRegistry,
    wanted_profile: str,
    max_rows: int,
    *,
    columns_together: bool,
) -> PollOutcome:
    system = await _system(transport, target)
    profile = choose_profile(registry, wanted_profile, system)
    scalars: dict[str, SnmpValue] = {}
    if profile.scalars:
        names = list(profile.scalars)
        varbinds = await transport.get(target, [profile.scalars[name] for name in names])
        scalars = {name: vb.value for name, vb in zip(names, varbinds, strict=True)}
    try:
        tables = await _fetch_tables(transport, target, profile, max_rows, columns_together)
    except* SnmpError as group:
        raise group.exceptions[0] from None
    data = PollData(scalars=scalars, system=system, tables=tables)
    return PollOutcome(profile, observe(profile, data), system)
