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

import json
import math
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.agents import CACHE_DIR, decompressed_recording, run_snmpsim
from tests.support.daemon import Scrape, Series, running_daemon, write_config
from tests.support.prometheus import prometheus_binary, running_prometheus, wait_for
from tests.support.recording_truth import ApTruth, ControllerTruth, cisco_truth, without_ap

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
    poll = {
        "interval": "30s",
        "timeout": "5s",
        "retries": 2,
        "jitter": "0s",
        "target_budget": "28s",
    }
    return {
        "poll": poll,
        "credentials": {"recording": {"version": "2c", "community": community}},
        "controllers": [
            {
                "name": CONTROLLER,
                "host": agent.host,
                "port": agent.port,
                "credentials": "recording",
                "site": CONTROLLER_SITE,
                "district": CONTROLLER_DISTRICT,
            }
        ],
        **extra,
    }


def write_inventory(path: Path, rows: list[InventoryRow]) -> None:
    columns = ["ap", "name", "mac", "controller", "site", "district", "latitude", "longitude"]
    lines = [",".join(columns)]
    for row in rows:
        cells = {**vars(row), "controller": CONTROLLER}
        lines.append(",".join(cells[column] for column in columns))
    path.write_text("\n".join(lines) + "\n")


# --- comparing a scrape with the truth ---------------------------------------


def aps_by_mac(scrape: Scrape) -> dict[str, Series]:
    """``wifimon_ap_info`` series by their ``mac`` label (the join key)."""
    found: dict[str, Series] = {}
    for series in scrape.series("wifimon_ap_info"):
        mac = series.labels["mac"]
        assert mac not in found, f"two wifimon_ap_info series for MAC {mac}"
        found[mac] = series
    return found


class Differences:
    """Collects every mismatch so one run shows them all, not just the first."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def check(self, what: str, exported: float | None, expected: float | None) -> None:
        same = (
            exported == expected
            if exported is None or expected is None
            # Scaled values (uptime/100, percent/100) may differ in the last bit.
            else math.isclose(exported, expected, rel_tol=1e-12, abs_tol=1e-12)
        )
        if not same:
            self.found.append(f"{what}: exported {exported}, recording says {expected}")

    def equal(self, what: str, exported: object, expected: object) -> None:
        if exported != expected:
            self.found.append(f"{what}: exported {exported!r}, recording says {expected!r}")

    def assert_none(self) -> None:
        shown = "\n".join(self.found[:40])
        assert not self.found, f"{len(self.found)} differences with the recording:\n{shown}"


def compare_ap(scrape: Scrape, info: Series, ap: ApTruth, out: Differences) -> None:
    labels = {key: info.labels[key] for key in ("ap", "site", "district")}
    where = f"AP {ap.mac} ({labels['ap']})"
    for key, text in (
        ("name", ap.name),
        ("model", ap.model),
        ("serial", ap.serial),
        ("firmware", ap.firmware),
        ("ip", ap.ip),
        ("vendor", "Cisco"),
        ("controller", CONTROLLER),
    ):
        out.equal(f"{where} info {key}", info.labels.get(key), text)
    out.check(f"{where} up", scrape.optional("wifimon_ap_up", **labels), float(ap.up))
    quantities: tuple[tuple[str, float | None], ...] = (
        ("wifimon_ap_uptime_seconds", ap.uptime_seconds),
        ("wifimon_ap_clients", ap.clients),
        ("wifimon_ap_receive_bytes_total", ap.receive_bytes_total),
        ("wifimon_ap_transmit_bytes_total", ap.transmit_bytes_total),
    )
    for metric, expected in quantities:
        out.check(f"{where} {metric}", scrape.optional(metric, **labels), expected)
    ssids = {s.labels["ssid"]: s.value for s in scrape.series("wifimon_ssid_clients", **labels)}
    out.equal(f"{where} SSID clients", ssids, {k: float(v) for k, v in ap.ssid_clients.items()})
    exported_radios = {s.labels["radio"] for s in scrape.series("wifimon_radio_channel", **labels)}
    out.equal(f"{where} radios", exported_radios, set(ap.radios))
    for slot, radio in ap.radios.items():
        radio_labels = {**labels, "radio": slot, "band": radio.band}
        for quantity in (
            "clients",
            "channel",
            "tx_power_dbm",
            "noise_floor_dbm",
            "channel_utilization_ratio",
            "retries_total",
            "failures_total",
            "receive_bytes_total",
            "transmit_bytes_total",
        ):
            metric = f"wifimon_radio_{quantity}"
            exported = scrape.optional(metric, **radio_labels)
            out.check(f"{where} radio {slot} {metric}", exported, getattr(radio, quantity))


def clients_by_band(scrape: Scrape) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for series in scrape.series("wifimon_radio_clients"):
        totals[series.labels["band"]] += series.value
    return dict(totals)


def up_macs(scrape: Scrape) -> set[str]:
    """MACs of the APs exported with ``wifimon_ap_up 1``."""
    up_ids = {s.labels["ap"] for s in scrape.series("wifimon_ap_up") if s.value == 1}
    return {mac for mac, info in aps_by_mac(scrape).items() if info.labels["ap"] in up_ids}


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
    config = write_config(tmp_path, cisco_config(cisco, cisco.community, inventory_csv="aps.csv"))

    with running_daemon(config) as daemon:
        daemon.wait_generation(1)
        scrape = daemon.scrape()

    assert scrape.value("wifimon_target_up", target=CONTROLLER) == 1
    assert scrape.value("wifimon_targets", state="up") == 1
    info = aps_by_mac(scrape)
    assert set(info) == set(truth.aps) | {GHOST_MAC}
    assert len(scrape.series("wifimon_ap_up")) == len(truth.aps) + 1 == 227
    assert len(scrape.series("wifimon_ap_up")) == len(info)
    up = scrape.series("wifimon_ap_up")
    assert sum(s.value == 1 for s in up) == truth.up_count == 226
    assert scrape.value("wifimon_controller_aps", controller=CONTROLLER, state="up") == 226
    down = len(truth.aps) - truth.up_count + 1  # the ghost: configured, absent
    assert scrape.value("wifimon_controller_aps", controller=CONTROLLER, state="down") == down
    assert clients_by_band(scrape) == {b: float(n) for b, n in truth.clients_by_band().items()}

    out = Differences()
    for mac, ap in truth.aps.items():
        row = inventory.get(mac)
        expected = (
            (row.ap, row.site, row.district, row.latitude, row.longitude)
            if row
            else (mac.replace(":", ""), CONTROLLER_SITE, CONTROLLER_DISTRICT, "", "")
        )
        keys = ("ap", "site", "district", "latitude", "longitude")
        out.equal(f"AP {mac} identity", tuple(info[mac].labels[k] for k in keys), expected)
        compare_ap(scrape, info[mac], ap, out)
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
    assert up_macs(after) == {mac for mac, ap in trimmed.aps.items() if ap.up}
    assert after.value("wifimon_ap_up", ap=vanished_id) == 0
    assert after.value("wifimon_ap_last_seen_timestamp_seconds", ap=vanished_id) == last_seen
    kept = aps_by_mac(after)[cisco.vanished_mac].labels
    assert (kept["ap"], kept["name"]) == (vanished_id, cisco.truth.aps[cisco.vanished_mac].name)
    assert len(after.series("wifimon_ap_up")) == len(cisco.truth.aps)
    assert after.value("wifimon_controller_aps", controller=CONTROLLER, state="up") == (
        trimmed.up_count
    )
    assert after.value("wifimon_controller_aps", controller=CONTROLLER, state="down") == 1


def test_poll_prints_one_json_row_per_sample(cisco: CiscoAgent, tmp_path: Path) -> None:
    config = write_config(tmp_path, cisco_config(cisco, cisco.community))
    command = [sys.executable, "-m", "wifimon", "poll", "-c", str(config.path), "--format", "json"]
    result = subprocess.run(command, capture_output=True, timeout=180, check=False)

    assert result.returncode == 0, result.stderr.decode(errors="replace")[-3000:]
    rows = json.loads(result.stdout)
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
