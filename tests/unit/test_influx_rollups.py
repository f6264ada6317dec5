"""Hourly district rollups: the hour's numbers, emitted when it closes, kept across
restarts, and tagged by shard so that shards' partial hours add up."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from wifimon.catalogue import metric
from wifimon.sharding import Shard, owner
from wifimon.snapshot import Sample, Snapshot, TargetSnapshot
from wifimon_exporters.influx_encoder import SnapshotEncoder
from wifimon_exporters.influx_rollups import DistrictRollup, shard_tag

HOUR = 1_717_171_200  # 2024-05-31 16:00 UTC, an hour boundary


def ap(
    name: str, district: str, t: float, *, up: int, clients: int, rx: int, tx: int
) -> list[Sample]:
    labels = (name, "site", district)
    return [
        Sample(metric("wifimon_ap_up"), labels, up, t),
        Sample(metric("wifimon_ap_clients"), labels, clients, t),
        Sample(metric("wifimon_ap_receive_bytes_total"), labels, rx, t),
        Sample(metric("wifimon_ap_transmit_bytes_total"), labels, tx, t),
    ]


def poll(t: float, a: tuple[int, int, int], b: tuple[int, int, int]) -> list[Sample]:
    """Two APs of "Old Town" at poll time ``t``: (up, clients, rx) each; tx = 2 * rx."""
    return ap("a", "Old Town", t, up=a[0], clients=a[1], rx=a[2], tx=2 * a[2]) + ap(
        "b", "Old Town", t, up=b[0], clients=b[1], rx=b[2], tx=2 * b[2]
    )


def test_an_hour_is_emitted_when_the_first_poll_of_a_later_hour_arrives(tmp_path: Path) -> None:
    rollup = DistrictRollup(tmp_path / "rollup.json")
    assert rollup.observe(poll(HOUR + 60, (1, 10, 1000), (1, 4, 500)), HOUR + 60) == []
    assert rollup.observe(poll(HOUR + 1260, (1, 20, 1600), (0, 0, 500)), HOUR + 1260) == []
    # b reboots: its counter restarts at 100, which counts as 100 new bytes.
    assert rollup.observe(poll(HOUR + 2460, (1, 6, 2000), (1, 2, 100)), HOUR + 2460) == []
    lines = rollup.observe(poll(HOUR + 3660, (1, 1, 2100), (1, 1, 200)), HOUR + 3660)
    # APs up per poll: 2, 1, 2 -> mean 5/3 rounds to 2; AP-polls up 5 of 6.
    # Clients per poll: 14, 20, 8 -> mean 14, max 20. Bytes: a 600+400, b 0+100.
    assert lines == [
        "wifimon_district_hourly,district=Old\\ Town aps=2i,aps_up=2i,"
        f"availability_ratio={5 / 6!r},clients_mean=14.0,clients_max=20i,"
        f"receive_bytes=1100i,transmit_bytes=2200i,ap_polls=6i,up_polls=5i {HOUR}"
    ]


def test_the_open_hour_and_counter_readings_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "rollup.json"
    first = DistrictRollup(path)
    first.observe(poll(HOUR + 60, (1, 10, 1000), (1, 4, 500)), HOUR + 60)
    first.save()

    second = DistrictRollup(path)
    second.load()
    second.observe(poll(HOUR + 660, (1, 12, 1300), (1, 6, 900)), HOUR + 660)
    (line,) = second.observe(poll(HOUR + 3600, (1, 0, 1300), (1, 0, 900)), HOUR + 3600)
    assert "aps=2i,aps_up=2i,availability_ratio=1.0,clients_mean=16.0,clients_max=18i" in line
    assert "receive_bytes=700i,transmit_bytes=1400i" in line


def test_a_long_gap_starts_counters_afresh_instead_of_pouring_it_into_one_hour(
    tmp_path: Path,
) -> None:
    rollup = DistrictRollup(tmp_path / "rollup.json")
    rollup.observe(poll(HOUR + 60, (1, 1, 1000), (1, 1, 1000)), HOUR + 60)
    # The daemon was down for two hours: an hour is the longest gap bridged.
    later = HOUR + 2 * 3600 + 60
    (first,) = rollup.observe(poll(later, (1, 1, 9000), (1, 1, 9000)), later)
    assert "receive_bytes=0i" in first
    rollup.observe(poll(later + 600, (1, 1, 9100), (1, 1, 9000)), later + 600)
    (second,) = rollup.observe([], later + 3600)
    assert "receive_bytes=100i,transmit_bytes=200i" in second
    assert second.endswith(f" {HOUR + 2 * 3600}")


def test_districts_are_separate_and_an_unreadable_state_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "rollup.json"
    path.write_text("{garbage")
    rollup = DistrictRollup(path)
    rollup.load()
    samples = ap("a", "North", HOUR, up=1, clients=3, rx=0, tx=0) + ap(
        "b", "South", HOUR, up=0, clients=0, rx=0, tx=0
    )
    rollup.observe(samples, HOUR)
    lines = rollup.observe([], HOUR + 3600)
    assert [line.split(" ")[0] for line in lines] == [
        "wifimon_district_hourly,district=North",
        "wifimon_district_hourly,district=South",
    ]
    assert "availability_ratio=0.0" in lines[1]


def test_a_failing_disk_is_logged_once_until_saving_works_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "influxdb"
    folder.write_text("a file where the folder should be: every save fails")
    rollup = DistrictRollup(folder / "rollup.json")
    with caplog.at_level(logging.INFO, logger="wifimon.exporters.influxdb"):
        for _ in range(3):
            rollup.save()
        folder.unlink()
        rollup.save()
        rollup.save()
    messages = [record.getMessage() for record in caplog.records]
    assert len([m for m in messages if "cannot save the open rollup hour" in m]) == 1
    assert len([m for m in messages if "saved again" in m]) == 1
    assert (folder / "rollup.json").exists()


# --- shards ------------------------------------------------------------------------


def shard_info(shard: Shard, t: float) -> Sample:
    return Sample(metric("wifimon_shard_info"), (str(shard.index), str(shard.count)), 1, t)


def test_the_shard_tag_is_the_index_of_a_sharded_daemon_and_none_for_a_whole_fleet() -> None:
    assert shard_tag([shard_info(Shard(2, 3), HOUR)]) == "2"
    assert shard_tag([shard_info(Shard(1, 1), HOUR)]) == ""
    assert shard_tag([Sample(metric("wifimon_fleet_targets"), (), 4, HOUR)]) is None


def encoded_rollups(encoder: SnapshotEncoder, t: float, daemon: tuple[Sample, ...]) -> list[str]:
    """What ``encoder`` hands to the rollup bucket for one poll of "a" and "b" at ``t``."""
    samples = tuple(poll(t, (1, 3, int(t - HOUR)), (0, 0, 0)))
    snapshot = Snapshot({"a+b": TargetSnapshot("a+b", t, samples)}, daemon, generation=int(t))
    rollups, _ = encoder.encode(snapshot)
    return rollups


def test_a_sharded_daemons_hours_carry_its_shard_and_an_unsharded_ones_do_not(
    tmp_path: Path,
) -> None:
    sharded = SnapshotEncoder(DistrictRollup(tmp_path / "sharded.json"))
    whole = SnapshotEncoder(DistrictRollup(tmp_path / "whole.json"))
    for encoder, shard in ((sharded, Shard(2, 3)), (whole, Shard(1, 1))):
        encoded_rollups(encoder, HOUR + 60, (shard_info(shard, HOUR + 60),))
    (tagged,) = encoded_rollups(sharded, HOUR + 3660, (shard_info(Shard(2, 3), HOUR + 3660),))
    (untagged,) = encoded_rollups(whole, HOUR + 3660, (shard_info(Shard(1, 1), HOUR + 3660),))
    assert tagged.startswith("wifimon_district_hourly,district=Old\\ Town,shard=2 aps=2i,")
    assert untagged.startswith("wifimon_district_hourly,district=Old\\ Town aps=2i,")
    # The same polls, the same fields: only the tag tells the two apart.
    assert tagged.rsplit(" ", 2)[1:] == untagged.rsplit(" ", 2)[1:]
    assert tagged.endswith(f",ap_polls=2i,up_polls=1i {HOUR}")


def test_a_snapshot_without_shard_info_keeps_the_last_shard(tmp_path: Path) -> None:
    encoder = SnapshotEncoder(DistrictRollup(tmp_path / "rollup.json"))
    encoded_rollups(encoder, HOUR + 60, (shard_info(Shard(3, 4), HOUR + 60),))
    (line,) = encoded_rollups(encoder, HOUR + 3660, ())
    assert ",shard=3 " in line


def city_poll(k: int, t: float) -> list[Sample]:
    """Poll ``k`` of 12 APs in 3 districts: some down, clients and counters moving."""
    samples: list[Sample] = []
    for n in range(12):
        district = ("North", "South", "East")[n % 3]
        up = int((n + k) % 4 != 0)
        rx = 1000 * (n + 1) * k
        samples += ap(f"ap-{n}", district, t, up=up, clients=up * ((n * k) % 7), rx=rx, tx=rx // 2)
    return samples


def fields_by_district(lines: list[str]) -> dict[str, list[dict[str, float]]]:
    """The fields of each line, by district: ``{"North": [{"aps": 4.0, ...}, ...]}``."""
    found: dict[str, list[dict[str, float]]] = {}
    for line in lines:
        series, text, _ = line.split(" ")
        district = dict(tag.split("=") for tag in series.split(",")[1:])["district"]
        pairs = (pair.split("=") for pair in text.split(","))
        found.setdefault(district, []).append({k: float(v.rstrip("i")) for k, v in pairs})
    return found


def test_three_shards_lines_add_up_to_the_unsharded_hour(tmp_path: Path) -> None:
    """The APs split by the daemon's own sharding function; each shard sees only its APs."""
    whole = DistrictRollup(tmp_path / "whole.json")
    shards = {index: DistrictRollup(tmp_path / f"shard-{index}.json") for index in (1, 2, 3)}
    for index, rollup in shards.items():
        rollup.shard = str(index)
    lines: dict[int, list[str]] = {index: [] for index in (0, 1, 2, 3)}
    for k in range(7):  # six polls of the hour, then one that closes it
        t = HOUR + 600 * k
        samples = city_poll(k, t)
        lines[0] += whole.observe(samples, t)
        for index, rollup in shards.items():
            mine = [s for s in samples if owner(s.labels[0], 3) == index]
            lines[index] += rollup.observe(mine, t)
    truth = {name: hour for name, (hour,) in fields_by_district(lines[0]).items()}
    parts = fields_by_district([line for index in (1, 2, 3) for line in lines[index]])
    assert all(",shard=" in line for index in (1, 2, 3) for line in lines[index])
    assert any(len(found) > 1 for found in parts.values()), "no district is split"
    for district, expected in truth.items():
        found = parts[district]
        for name in ("aps", "ap_polls", "up_polls", "receive_bytes", "transmit_bytes"):
            assert sum(part[name] for part in found) == expected[name], (district, name)
        assert sum(part["clients_mean"] for part in found) == pytest.approx(
            expected["clients_mean"]
        )
        availability = sum(p["up_polls"] for p in found) / sum(p["ap_polls"] for p in found)
        assert availability == pytest.approx(expected["availability_ratio"])
        assert sum(part["clients_max"] for part in found) >= expected["clients_max"]
