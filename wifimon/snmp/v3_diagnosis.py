"""Tell a wrong SNMPv3 privacy password from a silent agent.

An agent that cannot decrypt a request (wrong ``priv_password`` or
``priv_protocol``) cannot parse it either, and net-snmp, like most agents,
then drops it without a Report: on the wire this looks exactly like a dead
agent, and a transport can only say ``timeout``. ``DiagnosingTransport``
wraps any transport and, when an authPriv request times out, asks the agent
for its engine id (``v3_probe``; no keys involved). An agent that answers
that at once, while dropping every encrypted request of a target that has
never been polled successfully with these credentials, is refusing our
privacy key: the error becomes ``auth`` with a message saying so.

A target that once worked keeps plain ``timeout``: a slow or overloaded
agent must not be reported as a credentials problem.
"""

from __future__ import annotations

from collections.abc import Sequence

from wifimon.snmp.pdus import where
from wifimon.snmp.types import (
    ErrorReason,
    Oid,
    SnmpCredentials,
    SnmpError,
    SnmpTarget,
    Transport,
    VarBind,
    WalkRows,
)
from wifimon.snmp.v3_probe import discover_engine_id

PRIV_HINT = (
    "the agent answers SNMPv3 discovery but drops our encrypted requests: "
    "priv_password or priv_protocol is probably wrong"
)


class DiagnosingTransport:
    """``inner`` with wrong v3 privacy keys reported as ``auth``, not ``timeout``."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        self.stats = inner.stats
        # (host, port, credentials) that answered once: their keys are right.
        self._worked: set[tuple[str, int, SnmpCredentials]] = set()

    async def get(self, target: SnmpTarget, oids: Sequence[Oid]) -> list[VarBind]:
        try:
            values = await self.inner.get(target, oids)
        except SnmpError as error:
            raise await self._diagnose(target, error) from None
        self._worked.add(_key(target))
        return values

    async def walk(
        self, target: SnmpTarget, root: Oid, max_rows: int = 100_000, *, unordered: bool = False
    ) -> list[VarBind]:
        try:
            rows = await self.inner.walk(target, root, max_rows, unordered=unordered)
        except SnmpError as error:
            raise await self._diagnose(target, error) from None
        self._worked.add(_key(target))
        return rows

    async def walk_columns(
        self, target: SnmpTarget, roots: Sequence[Oid], max_rows: int, *, unordered: bool = False
    ) -> dict[Oid, WalkRows]:
        try:
            columns = await self.inner.walk_columns(target, roots, max_rows, unordered=unordered)
        except SnmpError as error:
            raise await self._diagnose(target, error) from None
        self._worked.add(_key(target))
        return columns

    async def get_and_walk_columns(
        self, target: SnmpTarget, oids: Sequence[Oid], roots: Sequence[Oid], max_rows: int
    ) -> tuple[list[VarBind], dict[Oid, WalkRows]]:
        try:
            found = await self.inner.get_and_walk_columns(target, oids, roots, max_rows)
        except SnmpError as error:
            raise await self._diagnose(target, error) from None
        self._worked.add(_key(target))
        return found

    async def close(self) -> None:
        await self.inner.close()

    async def _diagnose(self, target: SnmpTarget, error: SnmpError) -> SnmpError:
        credentials = target.credentials
        if (
            error.reason is not ErrorReason.TIMEOUT
            or credentials.version != "3"
            or credentials.priv_protocol is None
            or _key(target) in self._worked
        ):
            return error
        self.stats.requests += 1
        engine_id = await discover_engine_id((target.host, target.port), target.timeout)
        if engine_id is None:
            return error  # the agent is silent: a timeout it is
        return SnmpError(ErrorReason.AUTH, f"{where(target)}: {PRIV_HINT}")


def _key(target: SnmpTarget) -> tuple[str, int, SnmpCredentials]:
    return (target.host, target.port, target.credentials)
