"""Bad SNMP answers never break a poll: each gap is counted, the rest exported.

Every test drives the real ``PollRound`` (poller, profile evaluator,
normaliser, self-metrics) over ``RecordedTransport``: the transport is fake,
everything above it is real. Each round polls two controllers: ``wlc-broken``
(the healthy fixture controller, APs ``:01``-``:03``, with one fault) and
``wlc-healthy`` (the same recording with its APs moved to ``:41``-``:43``),
which must come out exactly as when it is polled alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pytest

from tests.support.faulty_agents import (
    SYSTEM_GROUP,
    added,
    ap_id,
    column,
    load_agent,
    mac_index,
    replaced,
    with_macs_moved,
    without,
    without_ap,
)
from wifimon.counters import CounterReconciler
from wifimon.logsetup import JsonFormatter, TextFormatter
from wifimon.normalise import UNASSIGNED, TargetRole
from wifimon.profiles.registry import default_registry
from wifimon.scheduler import PollRound, PollTarget
from wifimon.snapshot import TargetSnapshot
from wifimon.snmp.recorded import RecordedTransport
from wifimon.snmp.types import (
    ErrorReason,
    Oid,
    SnmpCredentials,
    SnmpTarget,
    SnmpValue,
    ValueKind,
    VarBind,
    WalkRows,
)

BROKEN, HEALTHY = "wlc-broken", "wlc-healthy"
NOW = 1_750_000_000.0
INTERVAL = 60.0
COMMUNITY = "s3cret-community-9d1e"
AUTH_PASSWORD = "auth-pass-7c2b1f"
PRIV_PASSWORD = "priv-pass-e84d0a"
SECRETS = (COMMUNITY, AUTH_PASSWORD, PRIV_PASSWORD)

REGISTRY = default_registry()
HEALTHY_WALK = load_agent("healthy")
OTHER_WALK = with_macs_moved(HEALTHY_WALK, 0x40)
BROKEN_APS = (1, 2, 3)
DURATION = "wifimon_target_poll_duration_seconds"

Series = tuple[str, tuple[str, ...]]
Values = dict[Series, float]


def octets(text: str) -> SnmpValue:
    return SnmpValue(ValueKind.OCTET_STRING, text.encode())


NULL = SnmpValue(ValueKind.NULL, None)
NO_SUCH_INSTANCE = SnmpValue(ValueKind.NO_SUCH_INSTANCE, None)
END_OF_MIB_VIEW = SnmpValue(ValueKind.END_OF_MIB_VIEW, None)


def cell(table: str, name: str, *index: int) -> Oid:
    """The OID of one cell, e.g. ``cell("ap", "serial", *mac_index(1))``."""
    return (*column(table, name), *index)


def target(name: str, *, budget: float = 5.0, v3: bool = False) -> PollTarget:
    credentials = (
        SnmpCredentials(
            "3",
            user="monitor",
            auth_protocol="sha256",
            auth_password=AUTH_PASSWORD,
            priv_protocol="aes128",
            priv_password=PRIV_PASSWORD,
        )
        if v3
        else SnmpCredentials("2c", community=COMMUNITY)
    )
    snmp = SnmpTarget(name, "127.0.0.1", 161, credentials, timeout=1.0, retries=1)
    return PollTarget(snmp, "auto", TargetRole(name, controller=True, inventory=()), budget)


def ap_labels(ap: str) -> tuple[str, str, str]:
    return (ap, UNASSIGNED, UNASSIGNED)


def values_of(snapshot: TargetSnapshot) -> Values:
    series: Values = {}
    for sample in snapshot.samples:
        key = (sample.metric.name, sample.labels)
        assert key not in series, f"{snapshot.target} exports {key} twice"
        series[key] = sample.value
    return series


def of(values: Values, name: str) -> dict[tuple[str, ...], float]:
    """The series of one metric: label values → value."""
    return {labels: value for (metric, labels), value in values.items() if metric == name}


def ap_value(values: Values, name: str, last: int) -> float | None:
    return values.get((name, ap_labels(ap_id(last))))


def info(values: Values, last: int) -> dict[str, str]:
    """The ``wifimon_ap_info`` labels of AP ``last`` by name."""
    names = (
        *("ap", "site", "district", "name", "vendor", "model", "serial", "mac", "ip"),
        *("firmware", "controller", "latitude", "longitude"),
    )
    (labels,) = [lab for lab in of(values, "wifimon_ap_info") if lab[0] == ap_id(last)]
    return dict(zip(names, labels, strict=True))


@dataclass
class Poller:
    """A ``PollRound`` on a fake clock: ``poll()`` runs one round of ``targets``."""

    transport: RecordedTransport
    now: float = NOW
    rounds: PollRound = field(init=False)

    def __post_init__(self) -> None:
        self.rounds = PollRound(
            self.transport, REGISTRY, CounterReconciler(), INTERVAL, clock=lambda: self.now
        )

    def poll(self, *targets: PollTarget) -> dict[str, Values]:
        result = asyncio.run(self.rounds.run(list(targets)))
        self.now += INTERVAL
        names = [snap.target for snap in result.snapshots]
        assert names == [t.snmp.name for t in targets]
        _assert_no_series_twice(result.snapshots)
        return {snap.target: values_of(snap) for snap in result.snapshots}


def _assert_no_series_twice(snapshots: Sequence[TargetSnapshot]) -> None:
    """Two targets must not both export one series (Prometheus would drop it)."""
    owners: dict[Series, str] = {}
    for snap in snapshots:
        for sample in snap.samples:
            key = (sample.metric.name, sample.labels)
            assert owners.setdefault(key, snap.target) == snap.target, f"{key} exported twice"


def comparable(values: Values) -> Values:
    return {key: value for key, value in values.items() if key[0] != DURATION}


def healthy_alone() -> Values:
    polled = Poller(RecordedTransport({HEALTHY: OTHER_WALK})).poll(target(HEALTHY))
    return comparable(polled[HEALTHY])


def poll_with_healthy(transport: RecordedTransport, broken: PollTarget | None = None) -> Values:
    """One round of ``wlc-broken`` next to ``wlc-healthy``; checks the healthy one."""
    transport.add_agent(HEALTHY, OTHER_WALK)
    polled = Poller(transport).poll(broken or target(BROKEN), target(HEALTHY))
    assert comparable(polled[HEALTHY]) == healthy_alone()
    return polled[BROKEN]


def assert_answered(values: Values, missing: int, up_aps: Sequence[int] = BROKEN_APS) -> None:
    assert values[("wifimon_target_up", (BROKEN,))] == 1
    assert values[("wifimon_target_missing_values_total", (BROKEN,))] == missing
    assert values[("wifimon_target_last_success_timestamp_seconds", (BROKEN,))] == NOW
    assert not of(values, "wifimon_target_poll_errors_total")
    exported = {labels[0] for labels in of(values, "wifimon_ap_info")}
    assert exported == {ap_id(n) for n in BROKEN_APS}
    up = {labels[0] for labels, value in of(values, "wifimon_ap_up").items() if value == 1}
    assert up == {ap_id(n) for n in up_aps}


# --- the fixture itself -------------------------------------------------------


def test_the_healthy_controller_is_complete() -> None:
    """The baseline: three APs up, every value present, nothing counted missing."""
    values = poll_with_healthy(RecordedTransport({BROKEN: HEALTHY_WALK}))
    assert_answered(values, missing=0)
    assert of(values, "wifimon_controller_aps") == {(BROKEN, "up"): 3, (BROKEN, "down"): 0}
    assert len(of(values, "wifimon_radio_channel")) == 6
    assert len(of(values, "wifimon_radio_noise_floor_dbm")) == 6
    assert len(of(values, "wifimon_ssid_clients")) == 6
    assert ap_value(values, "wifimon_ap_uptime_seconds", 2) == 172_800
    assert info(values, 1)["serial"] == "FCW0000T001"


# --- answers with gaps: the target is up, APs are kept, gaps are counted -------


@dataclass(frozen=True)
class Gap:
    """A fault in the controller's answers and what the poll must make of it."""

    walk: list[VarBind]
    missing: int
    check: Callable[[Values], None] = lambda values: None
    up_aps: tuple[int, ...] = BROKEN_APS


def _serial_everywhere_empty(values: Values) -> None:
    assert [info(values, n)["serial"] for n in BROKEN_APS] == ["", "", ""]
    assert [info(values, n)["model"] for n in BROKEN_APS] == ["AIR-AP2802I-E-K9"] * 3


def _uptime_and_clients_only_for_ap1(values: Values) -> None:
    assert ap_value(values, "wifimon_ap_uptime_seconds", 1) == 86_400
    assert ap_value(values, "wifimon_ap_uptime_seconds", 2) is None
    assert ap_value(values, "wifimon_ap_uptime_seconds", 3) is None
    # Without the controller's per-AP count, the radios' counts add up (2+3).
    assert ap_value(values, "wifimon_ap_clients", 2) == 5


def _firmware_unknown_for_ap1(values: Values) -> None:
    assert info(values, 1)["firmware"] == ""
    assert info(values, 2)["firmware"] == "8.10.185.0"


def _ap2_kept_with_its_values(values: Values) -> None:
    assert ap_value(values, "wifimon_ap_uptime_seconds", 2) == 172_800
    assert info(values, 2)["name"] == "AP-Museum-2"


def _no_uptime_for_ap1(values: Values) -> None:
    assert ap_value(values, "wifimon_ap_uptime_seconds", 1) is None
    assert ap_value(values, "wifimon_ap_clients", 1) == 4


def _serial_only_for_ap1(values: Values) -> None:
    assert [info(values, n)["serial"] for n in BROKEN_APS] == ["FCW0000T001", "", ""]


def _uptime_only_for_ap1(values: Values) -> None:
    assert ap_value(values, "wifimon_ap_uptime_seconds", 1) == 86_400
    assert ap_value(values, "wifimon_ap_uptime_seconds", 2) is None


def _no_uplink_counter_for_ap1(values: Values) -> None:
    assert ap_value(values, "wifimon_ap_receive_bytes_total", 1) is None
    assert ap_value(values, "wifimon_ap_receive_bytes_total", 2) == 2_000_000


def _names_of_valid_rows(values: Values) -> None:
    assert [info(values, n)["name"] for n in BROKEN_APS] == [
        "AP-Square-1",
        "AP-Museum-2",
        "AP-Station-3",
    ]


def _system_partial(values: Values) -> None:
    assert ap_value(values, "wifimon_ap_uptime_seconds", 1) == 86_400


AP1, AP2, AP3 = (mac_index(n) for n in BROKEN_APS)

GAPS: dict[str, Gap] = {
    "a column missing entirely": Gap(
        without(HEALTHY_WALK, column("ap", "serial")), 3, _serial_everywhere_empty
    ),
    "a table ending early": Gap(
        without(
            HEALTHY_WALK,
            *(cell("lwapp_ap", name, *ap) for name in ("uptime", "clients") for ap in (AP2, AP3)),
        ),
        4,
        _uptime_and_clients_only_for_ap1,
    ),
    "a row present in one column and not another": Gap(
        without(HEALTHY_WALK, cell("ap", "firmware", *AP1)), 1, _firmware_unknown_for_ap1
    ),
    # An AP whose state the controller does not give is kept, but not claimed up.
    "an AP without a status": Gap(
        without(HEALTHY_WALK, cell("ap", "status", *AP2)),
        1,
        _ap2_kept_with_its_values,
        up_aps=(1, 3),
    ),
    "a NULL value": Gap(
        replaced(HEALTHY_WALK, cell("lwapp_ap", "uptime", *AP1), NULL), 1, _no_uptime_for_ap1
    ),
    "an OCTET STRING where a counter is expected": Gap(
        replaced(HEALTHY_WALK, cell("uplink", "rx_bytes", *AP1, 1), octets("lots")),
        1,
        _no_uplink_counter_for_ap1,
    ),
    # A walk ends at the first exception value, so the rest of the column is lost.
    "noSuchInstance inside a walk": Gap(
        replaced(HEALTHY_WALK, cell("ap", "serial", *AP2), NO_SUCH_INSTANCE),
        2,
        _serial_only_for_ap1,
    ),
    "endOfMibView inside a walk": Gap(
        replaced(HEALTHY_WALK, cell("lwapp_ap", "uptime", *AP2), END_OF_MIB_VIEW),
        2,
        _uptime_only_for_ap1,
    ),
    "noSuchObject for some system scalars": Gap(
        without(HEALTHY_WALK, (*SYSTEM_GROUP, 5), (*SYSTEM_GROUP, 6)), 0, _system_partial
    ),
    "malformed index sub-ids": Gap(
        added(
            HEALTHY_WALK,
            [
                VarBind(cell("ap", "name", 0, 0, 94, 0, 83, 300), octets("sub-id over 255")),
                VarBind(cell("ap", "name", 0, 0, 94, 0, 83), octets("5 sub-ids")),
                VarBind(cell("ap", "name", *AP1, 7), octets("7 sub-ids")),
            ],
        ),
        3,
        _names_of_valid_rows,
    ),
    "duplicate rows": Gap(
        added(HEALTHY_WALK, [vb for vb in HEALTHY_WALK if vb.oid[:-6] == column("ap", "name")]),
        0,
        _names_of_valid_rows,
    ),
}


@pytest.mark.parametrize("gap", GAPS.values(), ids=GAPS.keys())
def test_a_gap_is_counted_and_everything_else_exported(gap: Gap) -> None:
    values = poll_with_healthy(RecordedTransport({BROKEN: gap.walk}))
    assert_answered(values, gap.missing, gap.up_aps)
    gap.check(values)


# The catalogue defines wifimon_target_missing_values_total as values "a target
# did not answer or answered with an unusable value"; these are unusable.
def _ap1_clients_from_its_radios(values: Values) -> None:
    assert ap_value(values, "wifimon_ap_clients", 1) == 3  # the radios' counts, 1+2
    assert ap_value(values, "wifimon_ap_clients", 2) == 8


def _no_channel_for_ap1_radio1(values: Values) -> None:
    channels = of(values, "wifimon_radio_channel")
    assert (*ap_labels(ap_id(1)), "1", "5GHz") not in channels
    assert channels[(*ap_labels(ap_id(1)), "0", "2.4GHz")] == 1
    assert len(channels) == 5


UNUSABLE: dict[str, Gap] = {
    "an OCTET STRING where a gauge is expected": Gap(
        replaced(HEALTHY_WALK, cell("lwapp_ap", "clients", *AP1), octets("eight")),
        1,
        _ap1_clients_from_its_radios,
    ),
    # Its noise floor row cannot be found either (it is keyed by the channel).
    "an OBJECT IDENTIFIER where an INTEGER is expected": Gap(
        replaced(
            HEALTHY_WALK,
            cell("radio", "channel", *AP1, 1),
            SnmpValue(ValueKind.OBJECT_ID, (1, 3, 6, 1, 4, 1, 9)),
        ),
        2,
        _no_channel_for_ap1_radio1,
    ),
}


@pytest.mark.parametrize("gap", UNUSABLE.values(), ids=UNUSABLE.keys())
def test_an_unusable_value_is_never_exported(gap: Gap) -> None:
    values = poll_with_healthy(RecordedTransport({BROKEN: gap.walk}))
    assert values[("wifimon_target_up", (BROKEN,))] == 1
    gap.check(values)


@pytest.mark.parametrize("gap", UNUSABLE.values(), ids=UNUSABLE.keys())
def test_an_unusable_value_is_counted(gap: Gap) -> None:
    values = poll_with_healthy(RecordedTransport({BROKEN: gap.walk}))
    assert_answered(values, gap.missing)


def _without_radio_rows_of_ap2(walk: list[VarBind]) -> list[VarBind]:
    columns = ("type", "channel", "power_level", "clients")
    return without(walk, *(cell("radio", name, *AP2) for name in columns))


def test_an_entity_table_ending_early_keeps_the_rest() -> None:
    """bsnAPIfTable lacks AP :02's radios; their rows in sibling tables are orphans."""
    values = poll_with_healthy(
        RecordedTransport({BROKEN: _without_radio_rows_of_ap2(HEALTHY_WALK)})
    )
    assert values[("wifimon_target_up", (BROKEN,))] == 1
    assert {labels[0] for labels in of(values, "wifimon_radio_channel")} == {ap_id(1), ap_id(3)}
    assert ap_value(values, "wifimon_ap_uptime_seconds", 2) == 172_800


def test_an_entity_table_ending_early_is_counted() -> None:
    values = poll_with_healthy(
        RecordedTransport({BROKEN: _without_radio_rows_of_ap2(HEALTHY_WALK)})
    )
    assert values[("wifimon_target_missing_values_total", (BROKEN,))] > 0


def test_an_empty_controller_is_up_with_no_aps() -> None:
    only_system = [vb for vb in HEALTHY_WALK if vb.oid[: len(SYSTEM_GROUP)] == SYSTEM_GROUP]
    values = poll_with_healthy(RecordedTransport({BROKEN: only_system}))
    assert values[("wifimon_target_up", (BROKEN,))] == 1
    assert values[("wifimon_target_missing_values_total", (BROKEN,))] == 0
    assert of(values, "wifimon_controller_aps") == {(BROKEN, "up"): 0, (BROKEN, "down"): 0}
    assert not of(values, "wifimon_ap_info")


# --- failed polls: counted by reason, target down, nothing escapes -------------


def assert_failed(values: Values, reason: str, count: int = 1) -> None:
    assert values[("wifimon_target_up", (BROKEN,))] == 0
    assert of(values, "wifimon_target_poll_errors_total") == {(BROKEN, reason): count}


@pytest.mark.parametrize("reason", list(ErrorReason), ids=lambda reason: reason.value)
def test_a_failed_poll_is_counted_by_its_reason(reason: ErrorReason) -> None:
    transport = RecordedTransport({BROKEN: HEALTHY_WALK})
    transport.fail(BROKEN, reason)
    values = poll_with_healthy(transport)
    assert_failed(values, reason.value)
    assert ("wifimon_target_last_success_timestamp_seconds", (BROKEN,)) not in values
    assert not of(values, "wifimon_ap_info")  # never seen: nothing to keep
    assert of(values, "wifimon_controller_aps") == {(BROKEN, "up"): 0, (BROKEN, "down"): 0}


def test_a_target_that_times_out() -> None:
    transport = RecordedTransport({BROKEN: HEALTHY_WALK})
    transport.time_out(BROKEN)
    assert_failed(poll_with_healthy(transport), "timeout")


def test_an_auth_failure() -> None:
    transport = RecordedTransport({BROKEN: HEALTHY_WALK})
    transport.fail_auth(BROKEN)
    assert_failed(poll_with_healthy(transport, target(BROKEN, v3=True)), "auth")


def test_an_agent_without_a_system_group_is_no_such_object() -> None:
    walk = without(HEALTHY_WALK, SYSTEM_GROUP)
    assert_failed(poll_with_healthy(RecordedTransport({BROKEN: walk})), "no_such_object")


def test_a_controller_that_goes_down_keeps_its_aps_at_zero() -> None:
    transport = RecordedTransport({BROKEN: HEALTHY_WALK, HEALTHY: OTHER_WALK})
    poller = Poller(transport)
    poller.poll(target(BROKEN), target(HEALTHY))
    transport.time_out(BROKEN)
    values = poller.poll(target(BROKEN), target(HEALTHY))[BROKEN]
    assert_failed(values, "timeout")
    assert values[("wifimon_target_last_success_timestamp_seconds", (BROKEN,))] == NOW
    for n in BROKEN_APS:
        assert ap_value(values, "wifimon_ap_up", n) == 0
        assert ap_value(values, "wifimon_ap_last_seen_timestamp_seconds", n) == NOW
    assert info(values, 2)["name"] == "AP-Museum-2"
    assert of(values, "wifimon_controller_aps") == {(BROKEN, "up"): 0, (BROKEN, "down"): 3}


class StallingTransport(RecordedTransport):
    """Walks of ``stalled`` under ``root`` never get an answer."""

    def __init__(self, agents: Mapping[str, list[VarBind]], stalled: str, root: Oid) -> None:
        super().__init__(agents)
        self.stalled, self.root = stalled, root

    async def walk(
        self, target: SnmpTarget, root: Oid, max_rows: int = 100_000, *, unordered: bool = False
    ) -> list[VarBind]:
        if target.name == self.stalled and root[: len(self.root)] == self.root:
            await asyncio.Event().wait()  # only the target's budget ends this
        return await super().walk(target, root, max_rows, unordered=unordered)


def test_a_target_over_its_budget_is_a_timeout_and_delays_no_other() -> None:
    budget = 0.5
    transport = StallingTransport(
        {BROKEN: HEALTHY_WALK, HEALTHY: OTHER_WALK}, BROKEN, column("lwapp_ap", "uptime")
    )
    poller = Poller(transport)
    polled = poller.poll(target(BROKEN, budget=budget), target(HEALTHY, budget=budget))
    assert_failed(polled[BROKEN], "timeout")
    assert budget <= polled[BROKEN][(DURATION, (BROKEN,))] < budget + 0.5
    assert polled[HEALTHY][("wifimon_target_up", (HEALTHY,))] == 1
    assert polled[HEALTHY][(DURATION, (HEALTHY,))] < budget / 2


class ExplodingTransport(RecordedTransport):
    """Requests to ``exploding`` raise an exception no transport should raise."""

    def __init__(self, agents: Mapping[str, list[VarBind]], exploding: str) -> None:
        super().__init__(agents)
        self.exploding = exploding

    async def get(self, target: SnmpTarget, oids: Sequence[Oid]) -> list[VarBind]:
        if target.name == self.exploding:
            raise RuntimeError("an answer nobody foresaw")
        return await super().get(target, oids)


def test_an_unforeseen_error_is_counted_as_other() -> None:
    transport = ExplodingTransport({BROKEN: HEALTHY_WALK}, BROKEN)
    assert_failed(poll_with_healthy(transport), "other")


def test_an_unforeseen_error_is_logged_once_per_outage(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="wifimon")
    poller = Poller(ExplodingTransport({BROKEN: HEALTHY_WALK}, BROKEN))

    def warnings() -> list[logging.LogRecord]:
        return [
            r
            for r in caplog.records
            if r.levelno >= logging.WARNING and extra(r, "target") == BROKEN
        ]

    poller.poll(target(BROKEN))
    first = len(warnings())
    assert first >= 1  # the outage and its cause are logged when it starts...
    for _ in range(2):
        poller.poll(target(BROKEN))
    assert len(warnings()) == first  # ...and not again while it lasts


# --- APs that leave, outages that last ------------------------------------------


def test_an_ap_that_leaves_the_controller_stays_exported_down() -> None:
    transport = RecordedTransport({BROKEN: HEALTHY_WALK, HEALTHY: OTHER_WALK})
    poller = Poller(transport)
    poller.poll(target(BROKEN), target(HEALTHY))
    transport.add_agent(BROKEN, without_ap(HEALTHY_WALK, 3))
    values = poller.poll(target(BROKEN), target(HEALTHY))[BROKEN]
    assert values[("wifimon_target_up", (BROKEN,))] == 1
    assert values[("wifimon_target_missing_values_total", (BROKEN,))] == 0
    assert ap_value(values, "wifimon_ap_up", 3) == 0
    assert ap_value(values, "wifimon_ap_last_seen_timestamp_seconds", 3) == NOW
    assert info(values, 3)["name"] == "AP-Station-3"
    assert ap_value(values, "wifimon_ap_uptime_seconds", 3) is None
    assert ap_value(values, "wifimon_ap_up", 1) == 1
    assert ap_value(values, "wifimon_ap_last_seen_timestamp_seconds", 1) == NOW + INTERVAL
    assert of(values, "wifimon_controller_aps") == {(BROKEN, "up"): 2, (BROKEN, "down"): 1}


def _events(caplog: pytest.LogCaptureFixture, event: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "wifimon.scheduler" and r.msg == event]


def extra(record: logging.LogRecord, key: str) -> object:
    """A field the call site passed in ``extra=``, e.g. ``extra(record, "target")``."""
    return getattr(record, key, None)


def test_target_down_is_logged_once_per_outage(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="wifimon")
    transport = RecordedTransport({BROKEN: HEALTHY_WALK, HEALTHY: OTHER_WALK})
    poller = Poller(transport)
    transport.time_out(BROKEN)
    for _ in range(3):
        values = poller.poll(target(BROKEN), target(HEALTHY))[BROKEN]
    assert_failed(values, "timeout", count=3)
    (down,) = _events(caplog, "target down")
    assert down.levelno == logging.WARNING
    assert (extra(down, "target"), extra(down, "reason")) == (BROKEN, "timeout")
    transport.heal(BROKEN)
    poller.poll(target(BROKEN), target(HEALTHY))
    assert [extra(r, "target") for r in _events(caplog, "target back up")] == [BROKEN]
    transport.fail_auth(BROKEN)
    for _ in range(2):
        poller.poll(target(BROKEN), target(HEALTHY))
    assert [extra(r, "reason") for r in _events(caplog, "target down")] == ["timeout", "auth"]
    assert HEALTHY not in {extra(r, "target") for r in caplog.records}


@pytest.mark.parametrize("reason", list(ErrorReason), ids=lambda reason: reason.value)
def test_log_lines_never_carry_a_secret(
    reason: ErrorReason, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    transport = RecordedTransport({BROKEN: HEALTHY_WALK, "wlc-v3": OTHER_WALK})
    transport.fail(BROKEN, reason)
    transport.fail("wlc-v3", reason)
    poller = Poller(transport)
    poller.poll(target(BROKEN), target("wlc-v3", v3=True))
    transport.heal(BROKEN)
    transport.heal("wlc-v3")
    poller.poll(target(BROKEN), target("wlc-v3", v3=True))
    assert caplog.records
    for formatter in (JsonFormatter(), TextFormatter()):
        text = "\n".join(formatter.format(record) for record in caplog.records)
        assert not [secret for secret in SECRETS if secret in text]
    assert not [s for s in SECRETS for r in caplog.records if s in repr(vars(r))]


class CuttingTransport(RecordedTransport):
    """Walks of ``cut`` under ``root`` end early, as when an agent answers a
    non-increasing OID: the rows so far come back marked ``cut``."""

    def __init__(self, agents: Mapping[str, list[VarBind]], cut: str, root: Oid) -> None:
        super().__init__(agents)
        self.cut, self.root = cut, root

    async def walk(
        self, target: SnmpTarget, root: Oid, max_rows: int = 100_000, *, unordered: bool = False
    ) -> list[VarBind]:
        rows = await super().walk(target, root, max_rows, unordered=unordered)
        if target.name != self.cut or root[: len(self.root)] != self.root:
            return rows
        shortened = WalkRows(rows[:1])
        shortened.cut = True
        return shortened


def test_a_walk_the_agent_cuts_short_is_counted_as_a_gap() -> None:
    root = column("ap", "name")
    values = poll_with_healthy(CuttingTransport({BROKEN: HEALTHY_WALK}, BROKEN, root))
    # One gap for the cut walk, and one per AP whose name never arrived.
    assert_answered(values, missing=1 + 2)
