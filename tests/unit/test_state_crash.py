"""The state file under real crashes: a writer process SIGKILLed mid-save.

A child process saves a big state (20,000 APs, a few MB) again and again
with ``StateStore``, each save a new generation. The test kills it with
SIGKILL the instant a temp file appears (inotify), i.e. while the new
file is being written or fsync'd, then loads what is on disk: always one
whole generation with every AP, never a mix and never a corrupt file.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support.crash import KillOnCreate
from wifimon.state import STATE_FILE, PersistedState, StateStore

APS = 20_000
KILLS = 5

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from wifimon.state import PersistedState, StateStore

    directory, first, aps = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    store = StateStore(directory)
    for generation in range(first, first + 10_000):
        known = {
            f"ap-{n:06d}": {"last_seen": float(generation), "site": f"site-{n % 97}"}
            for n in range(aps)
        }
        assert store.save(PersistedState(known, {"generation": generation}))
    """
)


def start_writer(directory: Path, first_generation: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(directory), str(first_generation), str(APS)],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def is_temp(name: str) -> bool:
    return name.startswith(f".{STATE_FILE}.") and name.endswith(".tmp")


def test_sigkill_mid_save_leaves_one_whole_generation(tmp_path: Path) -> None:
    known = {f"ap-{n:06d}": {"last_seen": 0.0, "site": "s"} for n in range(APS)}
    assert StateStore(tmp_path).save(PersistedState(known, {"generation": 0}))
    generations: list[int] = []
    mid_write = 0
    with KillOnCreate(tmp_path, is_temp) as watcher:
        for kill in range(1, KILLS + 1):
            writer = start_writer(tmp_path, first_generation=kill * 10_000)
            try:
                # Let kill-1 saves complete, so later kills meet later generations.
                assert watcher.kill_when_created(writer.pid, timeout=60, skip=kill - 1)
            finally:
                writer.kill()
                writer.wait(30)
            assert writer.returncode == -9
            assert watcher.seen is not None
            mid_write += (tmp_path / watcher.seen).exists()

            state = StateStore(tmp_path).load()
            assert len(state.known_aps) == APS
            generation = state.counters["generation"]
            assert isinstance(generation, int)
            assert generation in {0, kill * 10_000 + kill - 2, kill * 10_000 + kill - 1}
            assert {entry["last_seen"] for entry in state.known_aps.values()} == {generation}
            generations.append(generation)
            assert not list(tmp_path.glob(f"{STATE_FILE}.corrupt-*"))
            assert not [path for path in tmp_path.iterdir() if is_temp(path.name)]
    # Killed while its temp file existed: the rename had not happened.
    assert mid_write >= 1
    assert generations == sorted(generations)
    assert generations[-1] > 0
