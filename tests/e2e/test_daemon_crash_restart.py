"""`wifimon run` killed with SIGKILL, again and again, while it polls a 226-AP controller.

snmpsim serves the Cisco 5508 recording of snmpsim-data (226 APs). The
daemon is killed at random moments (before, during and between polls) and
then, through inotify, the instant it creates the temp file of a state
save, i.e. while it writes or fsyncs the new state. After every kill the
state file must load whole (never set aside as corrupt) with every AP the
controller showed and a last-seen time no older than before. A last start
with a wrong community (the controller now silent) must export all 226
APs down with exactly the last-seen times the state file holds.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.agents import decompressed_recording, run_snmpsim
from tests.support.crash import KillOnCreate
from tests.support.daemon import DaemonConfig, RunningDaemon, start_daemon, write_config
from tests.support.e2e_compare import controllers_config, poll_settings
from tests.support.prometheus import wait_for
from tests.support.recording_truth import cisco_truth
from wifimon.state import STATE_FILE, StateStore

pytestmark = pytest.mark.e2e

RECORDING = "network/appliance/cisco-controller"
CONTROLLER = "wlc-5508"
COMMUNITY_ENV = "WIFIMON_E2E_CRASH_COMMUNITY"
RANDOM_KILLS = 4
WRITE_KILLS = 3
MAX_WRITE_ATTEMPTS = 10
START_S = 120.0


@dataclass(frozen=True)
class Controller:
    host: str
    port: int
    community: str
    ap_ids: frozenset[str]


@pytest.fixture(scope="module")
def controller(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Controller]:
    recording = decompressed_recording(RECORDING)
    truth = cisco_truth(recording.data_dir / f"{RECORDING}.snmprec")
    assert len(truth.aps) == 226
    # Not in the inventory: exported under the id derived from the base MAC.
    ids = frozenset(mac.replace(":", "") for mac in truth.aps)
    log_dir = tmp_path_factory.mktemp("snmpsim")
    with run_snmpsim(recording.data_dir, log_dir, recording.community) as (host, port):
        yield Controller(host, port, recording.community, ids)


def write_daemon_config(directory: Path, controller: Controller) -> DaemonConfig:
    config = controllers_config(
        controller.host,
        controller.port,
        {CONTROLLER: "${" + COMMUNITY_ENV + "}"},
        {CONTROLLER: ("campus", "Centre")},
        poll_settings("5s", budget="4s", timeout="1s"),
    )
    return write_config(directory, config)


def is_temp(name: str) -> bool:
    return name.startswith(f".{STATE_FILE}.") and name.endswith(".tmp")


def assert_state_whole(
    state_dir: Path, ap_ids: frozenset[str], before: dict[str, float]
) -> dict[str, float]:
    """The state file loads, holds every AP, and no last-seen went back in time."""
    store = StateStore(state_dir)
    known = store.load().known_aps
    assert store.load_errors_by_reason == {"corrupt": 0, "unreadable": 0}
    assert not list(state_dir.glob(f"{STATE_FILE}.corrupt-*"))
    assert ap_ids <= known.keys(), f"{len(ap_ids - known.keys())} APs lost"
    last_seen = {ap: float(known[ap]["last_seen"]) for ap in ap_ids}  # type: ignore[arg-type]
    went_back = [ap for ap in ap_ids if last_seen[ap] < before.get(ap, 0.0)]
    assert not went_back, f"last_seen went back for {went_back[:5]}"
    return last_seen


def killed(daemon: RunningDaemon) -> None:
    daemon.kill()
    assert daemon.process.returncode == -9


def test_sigkill_at_any_moment_keeps_every_known_ap_and_its_last_seen(
    controller: Controller, tmp_path: Path
) -> None:
    config = write_daemon_config(tmp_path, controller)
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    answering = {COMMUNITY_ENV: controller.community}
    rng = random.Random(8)  # kill moments, the same every run

    first = start_daemon(config, answering, "run-0.log")
    try:
        wait_for(
            lambda: True if controller.ap_ids <= StateStore(state_dir).load().known_aps.keys()
            else None,
            START_S,
            "a first save with every AP",
        )  # fmt: skip
    finally:
        killed(first)
    last_seen = assert_state_whole(state_dir, controller.ap_ids, {})

    for run in range(1, RANDOM_KILLS + 1):
        daemon = start_daemon(config, answering, f"run-{run}.log")
        time.sleep(rng.uniform(0.2, 8.0))  # a moment in some poll, save or pause
        killed(daemon)
        last_seen = assert_state_whole(state_dir, controller.ap_ids, last_seen)

    mid_write = 0
    with KillOnCreate(state_dir, is_temp) as watcher:
        for attempt in range(MAX_WRITE_ATTEMPTS):
            daemon = start_daemon(config, answering, f"save-{attempt}.log")
            try:
                assert watcher.kill_when_created(daemon.pid, START_S, skip=rng.randint(0, 1))
            finally:
                killed(daemon)
            assert watcher.seen is not None
            mid_write += (state_dir / watcher.seen).exists()  # the rename never came
            last_seen = assert_state_whole(state_dir, controller.ap_ids, last_seen)
            if mid_write >= WRITE_KILLS:
                break
    assert mid_write >= 1, "no kill landed while a save was being written"

    # The controller falls silent: every AP is still exported, down, last seen as saved.
    final = start_daemon(config, {COMMUNITY_ENV: "not-the-community"}, "final.log")
    try:
        final.wait_generation(1, timeout=START_S)
        scrape = final.scrape()
    finally:
        final.stop()
    assert scrape.value("wifimon_target_up", target=CONTROLLER) == 0
    for ap in controller.ap_ids:
        assert scrape.value("wifimon_ap_up", ap=ap) == 0
        exported = scrape.value("wifimon_ap_last_seen_timestamp_seconds", ap=ap)
        assert exported == pytest.approx(last_seen[ap], abs=1e-3)
    logs = "".join(path.read_text() for path in tmp_path.glob("*.log"))
    assert "corrupt" not in logs
    assert "Traceback" not in logs
