"""`wifimon run` against the real Huawei AC recordings, end to end.

One snmpsim on 127.0.0.1 serves the two recordings of snmpsim-data, the
ACU2 (1,890 APs) and the S12704 switch with its native AC (816 AP ids, 540
of them never joined and without a MAC), plus a copy of the S12704 sorted by
OID. A real `wifimon run` polls them as controllers with the `huawei-ac`
profile chosen by sysObjectID, and its /metrics page is compared exactly with
tests/support/vendor_truth.py, which reads the raw tables with code of its
own.

Why the sorted copy: both devices return hwWlanVapInfoTable (per-SSID
clients) out of OID order, so a walk that refuses to go backwards (like
net-snmp's) ends early and only some APs would get their SSID series. The
profile marks that table `unordered`, so wifimon follows the backward steps:
the recordings as they are and the sorted copy give the same, every SSID of
every AP.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.agents import CACHE_DIR, decompressed_recording, run_snmpsim
from tests.support.daemon import Scrape
from tests.support.e2e_compare import (
    ControllerTruth,
    Differences,
    ExportedAps,
    compare_aps,
    controllers_config,
    exported_clients_by_band,
    first_scrape,
    poll_settings,
)
from tests.support.raw_snmprec import oid_of, rewrite
from tests.support.vendor_truth import huawei_truth
from wifimon.profiles.registry import default_registry
from wifimon.snmp.types import parse_oid

pytestmark = pytest.mark.e2e

RECORDINGS = {"acu2": "network/router/huawei-acu2", "s12704": "network/switch/huawei-s12704"}
SITES = {"acu2": ("campus", "North"), "s12704": ("library", "South")}
SORTED_DIR = CACHE_DIR / "data" / "wifimon-e2e-huawei-sorted"
SORTED_COMMUNITY = "huawei-s12704-sorted"
VAP_SSID = "1.3.6.1.4.1.2011.6.139.17.1.1.1.6."  # hwWlanVapSSID column
POLL_BUDGET_SECONDS = 100


@dataclass(frozen=True)
class HuaweiAgent:
    host: str
    port: int
    files: dict[str, Path]
    truth: dict[str, ControllerTruth]


@dataclass(frozen=True)
class Polled:
    """A daemon's first poll: the scrape, indexed by AP."""

    scrape: Scrape
    exported: ExportedAps


def _sorted_copy(source: Path) -> Path:
    """``source`` with its records in OID order, written once (atomically)."""
    target = SORTED_DIR / f"{SORTED_COMMUNITY}.snmprec"
    if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
        # Stable: a repeated OID keeps its last record last.
        rewrite(source, target, lambda lines: sorted(filter(_is_record, lines), key=oid_of))
    return target


def _is_record(line: str) -> bool:
    return line[:1].isdigit()


def _backward_steps(path: Path, column: str) -> int:
    """How often ``column``'s rows go back in OID order, in recording order."""
    steps, previous = 0, None
    with path.open(encoding="latin-1") as lines:
        for line in lines:
            if line.startswith(column):
                oid = oid_of(line)
                steps += previous is not None and oid <= previous
                previous = oid
    return steps


def _poll_once(agent: HuaweiAgent, directory: Path, controllers: dict[str, str]) -> Polled:
    # One poll per test run: the interval outlasts the test, the budget
    # covers the ACU2's ~15 s walk over snmpsim with room to spare.
    poll = poll_settings("300s", budget=f"{POLL_BUDGET_SECONDS}s", timeout="10s")
    config = controllers_config(agent.host, agent.port, controllers, SITES, poll)
    scrape = first_scrape(directory, config)
    return Polled(scrape, ExportedAps(scrape))


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HuaweiAgent]:
    recordings = {name: decompressed_recording(path) for name, path in RECORDINGS.items()}
    files = {
        name: recording.data_dir / f"{RECORDINGS[name]}.snmprec"
        for name, recording in recordings.items()
    }
    _sorted_copy(files["s12704"])
    truth = {name: huawei_truth(path) for name, path in files.items()}
    acu2 = recordings["acu2"]
    extra = [f"--data-dir={recordings['s12704'].data_dir}", f"--data-dir={SORTED_DIR}"]
    logs = tmp_path_factory.mktemp("snmpsim-huawei")
    # The first start indexes 250 MB of recordings (about a minute here).
    with run_snmpsim(acu2.data_dir, logs, acu2.community, extra, deadline_s=300) as (host, port):
        yield HuaweiAgent(host, port, files, truth)


@pytest.fixture(scope="module")
def recorded(agent: HuaweiAgent, tmp_path_factory: pytest.TempPathFactory) -> Polled:
    """Both recordings as they are, in one daemon."""
    return _poll_once(agent, tmp_path_factory.mktemp("wifimon-huawei"), RECORDINGS)


@pytest.fixture(scope="module")
def in_order(agent: HuaweiAgent, tmp_path_factory: pytest.TempPathFactory) -> Polled:
    """The S12704 recording sorted by OID, under the same controller name."""
    directory = tmp_path_factory.mktemp("wifimon-huawei-sorted")
    return _poll_once(agent, directory, {"s12704": SORTED_COMMUNITY})


def _compare(
    polled: Polled, truth: ControllerTruth, controller: str, *, all_ssids: bool
) -> Differences:
    site, district = SITES[controller]
    labels = {"vendor": "Huawei", "controller": controller, "site": site, "district": district}
    out = compare_aps(polled.exported, truth.aps.values(), labels, all_ssids=all_ssids)
    out.equal(f"{controller} APs", polled.exported.macs(controller=controller), set(truth.aps))
    return out


@pytest.mark.parametrize("controller", list(RECORDINGS))
def test_every_ap_with_a_mac_is_exported_as_the_recording_says(
    agent: HuaweiAgent, recorded: Polled, controller: str
) -> None:
    assert recorded.scrape.value("wifimon_target_up", target=controller) == 1
    _compare(recorded, agent.truth[controller], controller, all_ssids=True).assert_none()


def test_an_agent_that_walks_in_order_gives_every_ssid(
    agent: HuaweiAgent, in_order: Polled
) -> None:
    _compare(in_order, agent.truth["s12704"], "s12704", all_ssids=True).assert_none()
    with_ssids = {s.labels["ap"] for s in in_order.scrape.series("wifimon_ssid_clients")}
    assert len(with_ssids) == 276  # every AP with a MAC has VAP rows


def test_the_unordered_ssid_table_is_read_whole_despite_backward_steps(
    agent: HuaweiAgent, recorded: Polled
) -> None:
    """hwWlanVapInfoTable comes out of OID order in both recordings (the
    devices list VAPs by AP id); the profile's `unordered` table follows the
    backward steps, so every AP with VAP rows gets its SSID series."""
    for controller, path in agent.files.items():
        assert _backward_steps(path, VAP_SSID) > 100
        ids = recorded.exported.ids(controller=controller)
        ssid_series = recorded.scrape.series("wifimon_ssid_clients")
        with_ssids = {s.labels["ap"] for s in ssid_series if s.labels["ap"] in ids}
        with_vaps = [ap for ap in agent.truth[controller].aps.values() if ap.ssid_clients]
        assert len(with_ssids) == len(with_vaps) > 0, controller


@pytest.mark.parametrize(
    ("controller", "aps", "up", "down", "radios"),
    [("acu2", 1890, 1880, 10, 3600), ("s12704", 276, 247, 29, 600)],
)
def test_controller_counts_follow_the_run_state_column(  # noqa: PLR0917 - the table columns
    agent: HuaweiAgent,
    recorded: Polled,
    controller: str,
    aps: int,
    up: int,
    down: int,
    radios: int,
) -> None:
    truth = agent.truth[controller]
    assert len(truth.aps) == aps, "the truth itself changed"
    assert truth.up_count == up
    assert sum(len(ap.radios) for ap in truth.aps.values()) == radios
    scrape = recorded.scrape
    assert scrape.value("wifimon_controller_aps", controller=controller, state="up") == up
    assert scrape.value("wifimon_controller_aps", controller=controller, state="down") == down
    ap_ids = recorded.exported.ids(controller=controller)
    by_band = exported_clients_by_band(scrape, ap_ids)
    assert by_band == {band: float(n) for band, n in truth.clients_by_band().items()}
    assert sum(len(recorded.exported.radios(ap)) for ap in ap_ids) == radios


def test_aps_that_never_joined_have_no_mac_and_are_not_exported(
    agent: HuaweiAgent, recorded: Polled
) -> None:
    """The S12704 lists 540 APs added by serial number that never joined: its
    MAC column says ff:ff:ff:ff:ff:ff for all of them. That is no identity, so
    they are neither merged into one bogus AP nor counted as down."""
    truth = agent.truth["s12704"]
    assert len(truth.unidentified) == 540
    assert "ff:ff:ff:ff:ff:ff" not in recorded.exported.info
    names = {info.labels["name"] for info in recorded.exported.info.values()}
    assert not names & set(truth.unidentified)
    assert len(recorded.scrape.series("wifimon_ap_up")) == 1890 + 276


def test_invalid_values_are_gaps_not_numbers(recorded: Polled) -> None:
    """Huawei writes "unknown" as all-ones or zero: IP 255.255.255.255 for an
    AP that is down, noise 0 and EIRP 255 for an invalid radio reading."""
    infos = list(recorded.exported.info.values())
    assert "255.255.255.255" not in {series.labels["ip"] for series in infos}
    assert sum(series.labels["ip"] == "" for series in infos) == 9 + 29  # ACU2 + S12704
    assert all(s.value != 0 for s in recorded.scrape.series("wifimon_radio_noise_floor_dbm"))
    assert all(s.value != 255 for s in recorded.scrape.series("wifimon_radio_tx_power_dbm"))
    # Each is counted as a gap: the IPs, and the S12704's 540 all-ones MACs.
    missing = "wifimon_target_missing_values_total"
    assert recorded.scrape.value(missing, target="acu2") == 9
    assert recorded.scrape.value(missing, target="s12704") == 29 + 540 * 2


def test_a_faulted_ap_keeps_no_radio_from_its_leftover_rows(
    agent: HuaweiAgent, recorded: Polled
) -> None:
    """The ACU2's faulted AP 4c:fa:ca:03:de:c0 still has two radio rows, with
    four configuration columns and noise 0 only: no radio is exported."""
    radio_rows = "1.3.6.1.4.1.2011.6.139.16.1.2.1."  # hwWlanRadioInfoEntry
    with agent.files["acu2"].open(encoding="latin-1") as lines:
        leftover = sorted(
            line.partition("|")[0].removeprefix(radio_rows)
            for line in lines
            if line.startswith(radio_rows) and ".76.250.202.3.222.192." in line
        )
    columns = (14, 15, 16, 17, 24)  # antenna gain, description, port type, noise...
    assert leftover == sorted(f"{c}.76.250.202.3.222.192.{r}" for c in columns for r in (0, 1))
    mac = "4c:fa:ca:03:de:c0"
    assert agent.truth["acu2"].aps[mac].up is False
    assert recorded.exported.radios(mac.replace(":", "")) == set()
    assert recorded.exported.value("wifimon_ap_up", mac.replace(":", "")) == 0


def test_each_client_count_comes_from_its_own_object(agent: HuaweiAgent, recorded: Polled) -> None:
    """The ACU2 recording took hours: AP, radio and VAP tables were read at
    different times, so hwWlanIDIndexedApOnlineUserNum differs from the sum
    of hwWlanRadioOnlineStaCnt for many APs. wifimon exports each as read."""
    drifted = [
        ap
        for ap in agent.truth["acu2"].aps.values()
        if ap.radios and ap.clients != sum(radio.clients or 0 for radio in ap.radios.values())
    ]
    assert len(drifted) > 100
    for ap in drifted:
        assert recorded.exported.value("wifimon_ap_clients", ap.mac.replace(":", "")) == ap.clients


def test_ap_uptime_is_in_seconds_and_polls_fit_the_budget(recorded: Polled) -> None:
    """hwWlanIDIndexedApRunTime says "Unit: tick" but counts seconds: the
    longest-running ACU2 AP has been up 194 days, not 1.9."""
    longest = max(recorded.scrape.series("wifimon_ap_uptime_seconds"), key=lambda s: s.value)
    assert 190 * 86400 < longest.value < 200 * 86400
    for controller in RECORDINGS:
        took = recorded.scrape.value("wifimon_target_poll_duration_seconds", target=controller)
        assert 0 < took < POLL_BUDGET_SECONDS


@pytest.mark.parametrize(
    ("sys_object_id", "sys_descr", "profile"),
    [
        ("1.3.6.1.4.1.2011.2.240.7", "Huawei ACU2 Huawei Versatile Routing Platform", "huawei-ac"),
        (
            "1.3.6.1.4.1.2011.2.240.18",
            "Huawei AC6805 Huawei Versatile Routing Platform",
            "huawei-ac",
        ),
        ("1.3.6.1.4.1.2011.2.279.3", "S12704", "huawei-ac"),
        # Other Huawei products are no AC: an AR1220 router (.224.1, LibreNMS's
        # vrp fixture) and an S5720 access switch (.23.306).
        ("1.3.6.1.4.1.2011.2.224.1", "Huawei AR1220 Huawei Versatile Routing Platform", "generic"),
        ("1.3.6.1.4.1.2011.2.23.306", "S5720-52X-EI-AC", "generic"),
    ],
)
def test_only_huawei_acs_and_s12700_switches_get_the_profile(
    sys_object_id: str, sys_descr: str, profile: str
) -> None:
    chosen = default_registry().select(parse_oid(sys_object_id), sys_descr)
    assert chosen is not None
    assert chosen.name == profile
