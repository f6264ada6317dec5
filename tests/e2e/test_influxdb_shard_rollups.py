"""Three shards' hourly rollups read as one daemon's, through the planner queries on InfluxDB 1.6.

A day of polls of a small synthetic city (APs polled directly, some down for
hours, one rebooting) goes through the daemon's own encoder and rollup code
twice: as one unsharded daemon, and as three shards, each seeing only the
APs the project's sharding function (``wifimon.sharding.owner``) gives it
and announcing its shard by ``wifimon_shard_info``, as the daemon does. Each
run lands in its own database of a real InfluxDB 1.6. Every planner query
must give the same figures from both, hour by hour and in longer buckets;
the peak clients, a sum of the shards' peaks, only an upper bound. A third
database holds the morning as an unsharded daemon wrote it before
``ap_polls``/``up_polls`` existed and the afternoon from the shards: the same
figures again, availability included.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.influx_servers import Influx1, influxd_binary, running_influx1
from wifimon.catalogue import metric
from wifimon.report.sources import InfluxSource
from wifimon.sharding import WHOLE_FLEET, Shard, owner
from wifimon.snapshot import Sample, Snapshot, TargetSnapshot
from wifimon_exporters.influx_encoder import SnapshotEncoder
from wifimon_exporters.influx_queries import DISTRICT_VARIABLE, PANELS, PlannerPanel, render
from wifimon_exporters.influx_rollups import DistrictRollup

pytestmark = pytest.mark.e2e

DAY0 = 1_717_200_000  # 2024-06-01 00:00 UTC
HOURS, POLLS_PER_HOUR, STEP = 24, 6, 600
UPGRADE = DAY0 + 12 * 3600  # the hour the "upgraded" database's shards took over
SHARDS = 3
DISTRICTS = {"Old Town": 6, "Gare Nord": 4, "Rebberg, Süd": 3}
REBOOT_POLL = 70  # Old Town's first AP reboots: its counter starts again
WHOLE, SHARDED, UPGRADED = "whole", "sharded", "upgraded"


# --- the synthetic city -----------------------------------------------------------


def ap_id(district: str, ap: int) -> str:
    return f"{district.lower().replace(' ', '-')}-ap{ap}"


def is_up(district: int, ap: int, k: int) -> bool:
    outage = ap == 1 and 30 <= k < 48  # one AP down for three hours
    return not outage and (k + 2 * ap + district) % 7 != 0


def ap_samples(district: int, name: str, ap: int, k: int, t: float) -> tuple[Sample, ...]:
    up = is_up(district, ap, k)
    rx = 1000 * (ap + 1) * k + 13 * k * k
    if district == 0 and ap == 0 and k >= REBOOT_POLL:
        rx = 400 * (k - REBOOT_POLL + 1)
    labels = (ap_id(name, ap), "site", name)
    return (
        Sample(metric("wifimon_ap_up"), labels, int(up), t),
        Sample(metric("wifimon_ap_clients"), labels, (k * 5 + ap * 3 + district) % 13 * up, t),
        Sample(metric("wifimon_ap_receive_bytes_total"), labels, rx, t),
        Sample(metric("wifimon_ap_transmit_bytes_total"), labels, 2 * rx + k, t),
    )


def owned_aps(shard: Shard) -> list[tuple[int, str, int]]:
    """(district number, district, AP number) of the APs ``shard`` polls."""
    return [
        (d, name, ap)
        for d, (name, aps) in enumerate(DISTRICTS.items())
        for ap in range(aps)
        if shard.owns(ap_id(name, ap))
    ]


def daemon_rollups(shard: Shard, directory: Path) -> list[str]:
    """The rollup lines a daemon polling ``shard`` writes: every poll of the
    day through its encoder, then one poll that closes the last hour. Shards
    poll a few seconds apart (``shard.index``), as separate daemons do."""
    encoder = SnapshotEncoder(DistrictRollup(directory / f"rollup-{shard.index}.json"))
    aps = owned_aps(shard)
    lines: list[str] = []
    for k in range(HOURS * POLLS_PER_HOUR + 1):
        t = float(DAY0 + k * STEP + shard.index)
        targets = {
            ap_id(name, ap): TargetSnapshot(ap_id(name, ap), t, ap_samples(d, name, ap, k, t))
            for d, name, ap in aps
        }
        info = Sample(metric("wifimon_shard_info"), (str(shard.index), str(shard.count)), 1, t)
        rollups, _ = encoder.encode(Snapshot(targets, (info,), generation=k + 1))
        lines += rollups
    return lines


def before_the_upgrade(lines: list[str]) -> list[str]:
    """``lines`` of the hours before ``UPGRADE``, as written before ap_polls/up_polls existed."""
    old = [line for line in lines if int(line.rsplit(" ", 1)[1]) < UPGRADE]
    stripped = [re.sub(r",ap_polls=\d+i,up_polls=\d+i ", " ", line) for line in old]
    assert all("ap_polls" not in line for line in stripped)
    assert 0 < len(stripped) < len(lines)
    return stripped


# --- the server ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def influx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Influx1]:
    if influxd_binary() is None:
        pytest.fail("InfluxDB (influxd) is not installed")
    state = tmp_path_factory.mktemp("rollups")
    whole = daemon_rollups(WHOLE_FLEET, state)
    shards = [
        line
        for index in range(1, SHARDS + 1)
        for line in daemon_rollups(Shard(index, SHARDS), state)
    ]
    after = [line for line in shards if int(line.rsplit(" ", 1)[1]) >= UPGRADE]
    with running_influx1(tmp_path_factory.mktemp("influx16")) as server:
        for database, lines in (
            (WHOLE, whole),
            (SHARDED, shards),
            (UPGRADED, before_the_upgrade(whole) + after),
        ):
            server.query(f'CREATE DATABASE "{database}"')
            server.write(database, lines)
        yield server


Rows = dict[str, list[dict[str, Any]]]


def run(influx: Influx1, database: str, influxql: str, interval: str) -> Rows:
    """The rows of each series (by district, or ``""``) of a query over the day."""
    query = render(influxql, DAY0, DAY0 + HOURS * 3600 - 1, interval, list(DISTRICTS))
    (result,) = influx.query(query, database)
    return {
        series.get("tags", {}).get("district", ""): [
            dict(zip(series["columns"], row, strict=True)) for row in series["values"]
        ]
        for series in result.get("series", [])
    }


# --- the tests ------------------------------------------------------------------------


def test_the_shards_split_districts_and_their_points_coexist(influx: Influx1) -> None:
    owners = {
        name: {owner(ap_id(name, ap), SHARDS) for ap in range(aps)}
        for name, aps in DISTRICTS.items()
    }
    assert set().union(*owners.values()) == set(range(1, SHARDS + 1))
    assert sum(len(shards) > 1 for shards in owners.values()) >= 2, owners
    counted = 'SELECT count("aps") FROM "wifimon_district_hourly" GROUP BY time(1h), "district"'
    for database, per_hour in ((WHOLE, lambda _: 1), (SHARDED, len)):
        rows = run(influx, database, counted + " fill(none)", "1h")
        for name, shards in owners.items():
            assert len(rows[name]) == HOURS, (database, name)
            assert {row["count"] for row in rows[name]} == {per_hour(shards)}, (database, name)
    (tags,) = influx.query('SHOW TAG VALUES WITH KEY = "shard"', SHARDED)
    assert {row[1] for row in tags["series"][0]["values"]} == {"1", "2", "3"}
    assert influx.query('SHOW TAG VALUES WITH KEY = "shard"', WHOLE) == [{"statement_id": 0}]


def test_the_district_variable_lists_the_same_districts(influx: Influx1) -> None:
    listed = {
        database: {
            row[1] for row in influx.query(DISTRICT_VARIABLE, database)[0]["series"][0]["values"]
        }
        for database in (WHOLE, SHARDED, UPGRADED)
    }
    assert listed[WHOLE] == listed[SHARDED] == listed[UPGRADED] == set(DISTRICTS)


def agrees(panel: PlannerPanel, column: str, whole: object, other: object) -> bool:
    """Whether ``other`` (from shards) is what the planners may see for ``whole``."""
    assert isinstance(whole, int | float), whole
    assert isinstance(other, int | float), other
    if panel.title == "Peak clients by district" or column == "peak_clients":
        # Each shard's peak is at most the district's: their sum is at most N times it.
        return whole <= other <= SHARDS * whole
    if column == "aps_up":  # each shard's rounded mean: half an AP each at most
        return abs(other - whole) <= (SHARDS + 1) / 2
    return math.isclose(other, whole, rel_tol=1e-9, abs_tol=1e-12)


def test_one_daemons_figures_hour_by_hour_are_the_hours_it_wrote(influx: Influx1) -> None:
    """The reference of the comparisons below, anchored to what the rollup wrote."""
    (result,) = influx.query('SELECT * FROM "wifimon_district_hourly" GROUP BY "district"', WHOLE)
    written = {
        (series["tags"]["district"], row[0]): dict(zip(series["columns"], row, strict=True))
        for series in result["series"]
        for row in series["values"]
    }
    assert len(written) == HOURS * len(DISTRICTS)
    fields = {
        "Availability by district": {"mean": "availability_ratio"},
        "Clients by district (mean)": {"mean": "clients_mean"},
        "Peak clients by district": {"max": "clients_max"},
        "Access points by district": {"aps": "aps", "aps_up": "aps_up"},
    }
    for panel in (panel for panel in PANELS if panel.title in fields):
        for name, rows in run(influx, WHOLE, panel.influxql, "1h").items():
            assert len(rows) == HOURS, (panel.title, name)
            for row in rows:
                hour = written[(name, row["time"])]
                for column, field in fields[panel.title].items():
                    assert math.isclose(row[column], hour[field], rel_tol=1e-12), (name, field)


@pytest.mark.parametrize("database", [SHARDED, UPGRADED])
@pytest.mark.parametrize("interval", ["1h", "6h", "1d"])
@pytest.mark.parametrize("panel", PANELS, ids=[panel.title for panel in PANELS])
def test_every_panel_gives_one_daemons_figures_from_the_shards(
    influx: Influx1, panel: PlannerPanel, interval: str, database: str
) -> None:
    expected = run(influx, WHOLE, panel.influxql, interval)
    got = run(influx, database, panel.influxql, interval)
    assert expected, panel.title
    assert set(got) == set(expected), panel.title
    for series, rows in expected.items():
        assert [row["time"] for row in got[series]] == [row["time"] for row in rows], series
        for want, have in zip(rows, got[series], strict=True):
            for column in want.keys() - {"time"}:
                assert agrees(panel, column, want[column], have[column]), (
                    series, want["time"], column, want[column], have[column]
                )  # fmt: skip


def test_the_peak_is_an_upper_bound_that_the_shards_do_exceed(influx: Influx1) -> None:
    """Not only equal by luck: the shards peak at different polls somewhere."""
    (peak,) = (p for p in PANELS if p.title == "Peak clients by district")
    expected = run(influx, WHOLE, peak.influxql, "1h")
    got = run(influx, SHARDED, peak.influxql, "1h")
    above = [
        (name, want["time"])
        for name, rows in expected.items()
        for want, have in zip(rows, got[name], strict=True)
        if have["max"] > want["max"]
    ]
    assert above, "the shards' peaks never exceeded the district's: the bound is untested"


def test_availability_of_the_hours_before_the_upgrade_is_the_one_written(influx: Influx1) -> None:
    (availability,) = (p for p in PANELS if p.title == "Availability by district")
    written = 'SELECT "availability_ratio" FROM "wifimon_district_hourly" WHERE time < {}s'
    (result,) = influx.query(written.format(UPGRADE) + ' GROUP BY "district"', UPGRADED)
    rows = run(influx, UPGRADED, availability.influxql, "1h")
    for series in result["series"]:
        name = series["tags"]["district"]
        old = {time: value for time, value in series["values"]}
        assert len(old) == 12
        shown = {row["time"]: row["mean"] for row in rows[name] if row["time"] < UPGRADE}
        assert shown == old, name


def test_the_influxdb_report_source_reads_the_shards_as_one_daemon(influx: Influx1) -> None:
    """``wifimon report --source influxdb`` sums a district-hour's shard points."""
    histories = {
        database: InfluxSource(f"{influx.url}/{database}", io.StringIO()).history(
            DAY0, DAY0 + HOURS * 3600
        )
        for database in (WHOLE, SHARDED)
    }
    whole, sharded = histories[WHOLE].districts, histories[SHARDED].districts
    assert sorted(whole) == sorted(sharded) == sorted(DISTRICTS)
    exceeded = False
    for name, hours in whole.items():
        assert len(hours) == HOURS
        for want, have in zip(hours, sharded[name], strict=True):
            assert (have.time, have.known) == (want.time, want.known)
            assert have.up == pytest.approx(want.up)
            assert have.clients == pytest.approx(want.clients)
            assert (have.receive_bytes, have.transmit_bytes) == (
                want.receive_bytes, want.transmit_bytes
            )  # fmt: skip
            assert have.clients_peak >= want.clients_peak
            exceeded = exceeded or have.clients_peak > want.clients_peak
    assert exceeded
