"""Hourly district rollups: the hour's numbers, emitted when it closes, kept across restarts."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from wifimon.catalogue import metric
from wifimon.snapshot import Sample
from wifimon_exporters.influx_rollups import DistrictRollup

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
        f"receive_bytes=1100i,transmit_bytes=2200i {HOUR}"
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
