"""`wifimon run` and `wifimon poll` against a real Cisco WLC recording, end to end.

snmpsim serves the AIR-CT5508-K9 controller recording of snmpsim-data (226
APs, 452 radios) over real UDP on 127.0.0.1; wifimon runs as a child process
and is read over HTTP exactly as Prometheus reads it. Every number is
compared with tests/support/recording_truth.py, which computes it straight
from the recording's raw tables with code of its own. One snmpsim serves the
whole module: the full recording, and a copy without one AP's rows (a
second community) for the restart test.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.agents import CACHE_DIR, decompressed_recording, run_snmpsim
from tests.support.daemon import running_daemon, write_config
from tests.support.e2e_compare import (
    ControllerTruth,
    Differences,
    ExportedAps,
    compare_ap,
    controllers_config,
    exported_clients_by_band,
    first_scrape,
    poll_json,
    poll_settings,
)
from tests.support.prometheus import prometheus_binary, running_prometheus, wait_for
from tests.support.recording_truth import cisco_truth, without_ap

pytestmark = pytest.mark.e2e

RECORDING = "network/appliance/cisco-controller"
TRIMMED_DIR = CACHE_DIR / "data" / "wifimon-e2e-trimmed"
CONTROLLER = "wlc-5508"
CONTROLLER_SITE, CONTROLLER_DISTRICT = "campus", "Centre"
GHOST_MAC = "02:00:5e:00:53:01"  # in the inventory, never on the controller
COMMUNITY_ENV = "WIFIMON_E2E_COMMUNITY"


@dataclass(frozen=True)
class CiscoAgent:
    """snmpsim serving the recording (``community``) and the trimmed copy."""

    host: str
    port: int
    community: str
    truth: ControllerTruth
    trimmed_community: str
    trimmed_truth: ControllerTruth
    vanished_mac: str


@dataclass(frozen=True)
class InventoryRow:
    """One line of the inventory CSV (all of them on controller ``wlc-5508``)."""

    ap: str
    name: str = ""
    mac: str = ""
    site: str = ""
    district: str = ""
    latitude: str = ""
    longitude: str = ""


def _trimmed_copy(source: Path, mac: str) -> tuple[Path, str]:
    """The recording without ``mac``'s rows, made once; other copies are removed
    so snmpsim never indexes stale files."""
    community = "cisco-controller-without-" + mac.replace(":", "")
    target = TRIMMED_DIR / f"{community}.snmprec"
    for old in TRIMMED_DIR.glob("*"):
        if old != target:
            old.unlink()
    if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
        without_ap(source, target, mac)
    return target, community


@pytest.fixture(scope="module")
def cisco(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CiscoAgent]:
    recording = decompressed_recording(RECORDING)
    source = recording.data_dir / f"{RECORDING}.snmprec"
    truth = cisco_truth(source)
    assert_truth_has_data(truth)
    vanished = sorted(truth.aps)[-1]  # not one the inventory test names
    assert truth.aps[vanished].up, "the AP to remove must be up in the full recording"
    trimmed, trimmed_community = _trimmed_copy(source, vanished)
    log_dir = tmp_path_factory.mktemp("snmpsim")
    # A second data dir: its file is served under its own community.
    extra = [f"--data-dir={TRIMMED_DIR}"]
    agent = run_snmpsim(recording.data_dir, log_dir, recording.community, extra_args=extra)
    with agent as (host, port):
        yield CiscoAgent(
            host,
            port,
            recording.community,
            truth,
            trimmed_community,
            cisco_truth(trimmed),
            vanished,
        )


def assert_truth_has_data(truth: ControllerTruth) -> None:
    """Guard the oracle itself: a quantity it never finds would make the
    comparison vacuous (None == no series)."""
    assert len(truth.aps) == 226
    radios = [radio for ap in truth.aps.values() for radio in ap.radios.values()]
    assert len(radios) == 452
    for quantity in vars(radios[0]):
        assert all(getattr(radio, quantity) is not None for radio in radios), quantity
    for quantity in vars(next(iter(truth.aps.values()))):
        assert all(getattr(ap, quantity) not in (None, "", {}) for ap in truth.aps.values()), (
            quantity
        )


def cisco_config(agent: CiscoAgent, community: str, **extra: object) -> dict[str, object]:
    """A daemon watching the recorded controller; one poll every 30 s (a poll
    takes ~7 s, so each test reads the first one)."""
    return controllers_config(
        agent.host,
        agent.port,
        {CONTROLLER: community},
        {CONTROLLER: (CONTROLLER_SITE, CONTROLLER_DISTRICT)},
        poll_settings("30s", budget="28s"),
        **extra,
    )


def write_inventory(path: Path, rows: list[InventoryRow]) -> None:
    columns = ["ap", "name", "mac", "controller", "site", "district", "latitude", "longitude"]
    lines = [",".join(columns)]
    for row in rows:
        cells = {**vars(row), "controller": CONTROLLER}
        lines.append(",".join(cells[column] for column in columns))
    path.write_text("\n".join(lines) + "\n")


def up_macs(exported: ExportedAps) -> set[str]:
    """MACs of the APs exported with ``wifimon_ap_up 1``."""
    up_ids = {ap for ap, value in exported.values("wifimon_ap_up").items() if value == 1}
    return {mac for mac, info in exported.info.items() if info.labels["ap"] in up_ids}


# --- the tests ----------------------------------------------------------------


def test_run_exports_exactly_what_the_recording_holds(cisco: CiscoAgent, tmp_path: Path) -> None:
    truth = cisco.truth
    macs = sorted(truth.aps)
    by_name = next(m for m in macs[2:] if truth.mac_of_name(truth.aps[m].name) == m)
    inventory = {
        macs[0]: InventoryRow("museum-hall-1", "", macs[0], "museum", "Old Town",
                              "48.8606", "2.3376"),
        # Any accepted MAC spelling must join: upper case with dashes here.
        macs[1]: InventoryRow("station-north", "", macs[1].upper().replace(":", "-"),
                              "station", "North", "48.8809", "2.3553"),
        # Matched by name only: no MAC in the inventory.
        by_name: InventoryRow("square-fountain", truth.aps[by_name].name, "",
                              "square", "Riverside"),
        GHOST_MAC: InventoryRow("ghost-ap", "Ghost-1", GHOST_MAC, "harbour", "Harbour",
                                "48.85", "2.29"),
    }  # fmt: skip
    assert GHOST_MAC not in truth.aps
    write_inventory(tmp_path / "aps.csv", list(inventory.values()))
    config = cisco_config(cisco, cisco.community, inventory_csv="aps.csv")

    scrape = first_scrape(tmp_path, config)

    assert scrape.value("wifimon_target_up", target=CONTROLLER) == 1
    assert scrape.value("wifimon_targets", state="up") == 1
    exported = ExportedAps(scrape)
    info = exported.info
    assert set(info) == set(truth.aps) | {GHOST_MAC}
    assert len(scrape.series("wifimon_ap_up")) == len(truth.aps) + 1 == 227
    assert len(scrape.series("wifimon_ap_up")) == len(info)
    up = scrape.series("wifimon_ap_up")
    assert sum(s.value == 1 for s in up) == truth.up_count == 226
    assert scrape.value("wifimon_controller_aps", controller=CONTROLLER, state="up") == 226
    down = len(truth.aps) - truth.up_count + 1  # the ghost: configured, absent
    assert scrape.value("wifimon_controller_aps", controller=CONTROLLER, state="down") == down
    expected_bands = {b: float(n) for b, n in truth.clients_by_band().items()}
    assert exported_clients_by_band(scrape) == expected_bands

    out = Differences()
    for mac, ap in truth.aps.items():
        row = inventory.get(mac)
        identity = (
            (row.ap, row.site, row.district, row.latitude, row.longitude)
            if row
            else (mac.replace(":", ""), CONTROLLER_SITE, CONTROLLER_DISTRICT, "", "")
        )
        keys = ("ap", "site", "district", "latitude", "longitude")
        labels = dict(zip(keys, identity, strict=True))
        compare_ap(exported, ap, {**labels, "vendor": "Cisco", "controller": CONTROLLER}, out)
    out.assert_none()

    ghost = info[GHOST_MAC].labels
    assert (ghost["ap"], ghost["site"], ghost["district"]) == ("ghost-ap", "harbour", "Harbour")
    assert (ghost["latitude"], ghost["longitude"], ghost["name"]) == ("48.85", "2.29", "Ghost-1")
    assert scrape.value("wifimon_ap_up", ap="ghost-ap", site="harbour") == 0
    assert scrape.optional("wifimon_ap_last_seen_timestamp_seconds", ap="ghost-ap") is None


def test_an_ap_that_vanishes_stays_exported_at_zero_across_a_restart(
    cisco: CiscoAgent, tmp_path: Path
) -> None:
    config = write_config(tmp_path, cisco_config(cisco, "${" + COMMUNITY_ENV + "}"))
    vanished_id = cisco.vanished_mac.replace(":", "")

    started = time.time()
    with running_daemon(config, {COMMUNITY_ENV: cisco.community}, "first.log") as daemon:
        daemon.wait_generation(1)
        before = daemon.scrape()
    assert before.value("wifimon_ap_up", ap=vanished_id) == 1
    last_seen = before.value("wifimon_ap_last_seen_timestamp_seconds", ap=vanished_id)
    assert started <= last_seen <= time.time()
    assert (tmp_path / "state" / "state.json").is_file()

    # Same config, same state_dir; the community now selects the trimmed copy.
    with running_daemon(config, {COMMUNITY_ENV: cisco.trimmed_community}, "second.log") as daemon:
        daemon.wait_generation(1)
        after = daemon.scrape()

    trimmed = cisco.trimmed_truth
    assert cisco.vanished_mac not in trimmed.aps
    assert len(trimmed.aps) == len(cisco.truth.aps) - 1
    assert after.value("wifimon_target_up", target=CONTROLLER) == 1
    exported = ExportedAps(after)
    assert up_macs(exported) == {mac for mac, ap in trimmed.aps.items() if ap.up}
    assert after.value("wifimon_ap_up", ap=vanished_id) == 0
    assert after.value("wifimon_ap_last_seen_timestamp_seconds", ap=vanished_id) == last_seen
    kept = exported.info[cisco.vanished_mac].labels
    assert (kept["ap"], kept["name"]) == (vanished_id, cisco.truth.aps[cisco.vanished_mac].name)
    assert len(after.series("wifimon_ap_up")) == len(cisco.truth.aps)
    assert after.value("wifimon_controller_aps", controller=CONTROLLER, state="up") == (
        trimmed.up_count
    )
    assert after.value("wifimon_controller_aps", controller=CONTROLLER, state="down") == 1


def test_poll_prints_one_json_row_per_sample(cisco: CiscoAgent, tmp_path: Path) -> None:
    config = write_config(tmp_path, cisco_config(cisco, cisco.community))
    rows = poll_json(config, timeout=180)
    assert isinstance(rows, list)
    assert all(set(row) == {"metric", "labels", "value", "timestamp"} for row in rows)
    ap_up = [row for row in rows if row["metric"] == "wifimon_ap_up"]
    assert len(ap_up) == len(cisco.truth.aps) == 226
    assert {row["labels"]["ap"] for row in ap_up} == {
        mac.replace(":", "") for mac in cisco.truth.aps
    }
    assert sum(row["value"] == 1 for row in ap_up) == cisco.truth.up_count
    target_up = [row for row in rows if row["metric"] == "wifimon_target_up"]
    assert target_up == [
        {
            "metric": "wifimon_target_up",
            "labels": {"target": CONTROLLER},
            "value": 1,
            "timestamp": target_up[0]["timestamp"],
        }
    ]


def test_sigterm_in_the_middle_of_a_poll_exits_cleanly(cisco: CiscoAgent, tmp_path: Path) -> None:
    config = write_config(tmp_path, cisco_config(cisco, cisco.community))
    with running_daemon(config) as daemon:
        # Listening, and the first poll (seconds long) not yet published.
        assert daemon.wait_generation(0) == 0
        daemon.stop()  # SIGTERM by PID; asserts exit status 0
    assert "wifimon stopped" in daemon.log()


def _instant(result: list[dict[str, object]]) -> dict[str, str]:
    """An instant-vector result as ``{label set: value}``, e.g. ``{"band=5GHz": "43"}``."""
    flat: dict[str, str] = {}
    for item in result:
        labels = item["metric"]
        value = item["value"]
        assert isinstance(labels, Mapping)
        assert isinstance(value, list)
        flat[",".join(f"{k}={v}" for k, v in sorted(labels.items()))] = str(value[1])
    return flat


@pytest.mark.skipif(prometheus_binary() is None, reason="Debian prometheus is not installed")
def test_a_real_prometheus_sees_the_recorded_network(cisco: CiscoAgent, tmp_path: Path) -> None:
    config = write_config(tmp_path / "wifimon", cisco_config(cisco, cisco.community))
    expected_bands = {f"band={band}": str(n) for band, n in cisco.truth.clients_by_band().items()}

    with running_daemon(config) as daemon:
        daemon.wait_generation(1)
        target = f"127.0.0.1:{config.http_port}"
        (tmp_path / "prometheus").mkdir()
        with running_prometheus(tmp_path / "prometheus", [target], "2s") as prometheus:

            def ap_count() -> str | None:
                found = _instant(prometheus.query("count(wifimon_ap_up == 1)"))
                return found.get("")

            assert wait_for(ap_count, 60, "count(wifimon_ap_up == 1)") == str(cisco.truth.up_count)
            by_band = _instant(prometheus.query("sum by (band) (wifimon_radio_clients)"))
            assert by_band == expected_bands
            (health,) = prometheus.targets()
            assert health["health"] == "up", health
