"""`run_demo`'s options and errors, the live view's sums and rates, and the
child-process handling the demo relies on to leave nothing behind."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import pytest

from wifimon.demo import EXIT_OK, EXIT_USAGE, main, run_demo
from wifimon.simulator import liveview, processes
from wifimon.simulator.snmpsim import answers, free_port

SCRAPE = """\
wifimon_ap_up{{ap="a1",site="s",district="Gare"}} 1
wifimon_ap_up{{ap="a2",site="s",district="Gare"}} 0
wifimon_ap_up{{ap="a3",site="t",district="Centre"}} 1
wifimon_ap_clients{{ap="a1",site="s",district="Gare"}} 12
wifimon_ap_clients{{ap="a3",site="t",district="Centre"}} 30
wifimon_ap_receive_bytes_total{{ap="a1",site="s",district="Gare"}} {a1}
wifimon_ap_receive_bytes_total{{ap="a3",site="t",district="Centre"}} {a3}
wifimon_ap_transmit_bytes_total{{ap="a3",site="t",district="Centre"}} 5
wifimon_target_up{{target="wlc-1"}} 1
wifimon_target_up{{target="mul-0009"}} 0
wifimon_target_last_success_timestamp_seconds{{target="wlc-1"}} {polled}
"""


def test_the_view_sums_by_district_and_rates_per_simulated_second() -> None:
    aggregator = liveview.Aggregator(speed=10.0)
    first = aggregator.summarise(SCRAPE.format(a1=1000, a3=5000, polled=100.0))
    assert (first.districts["Gare"].up, first.districts["Gare"].known) == (1, 2)
    assert first.districts["Centre"].clients == 30
    assert (first.targets_up, first.targets) == (1, 2)
    # 2 wall seconds at 10x later: a1 grew by 4000 bytes, a3 was reset to 200.
    second = aggregator.summarise(SCRAPE.format(a1=5000, a3=200, polled=102.0))
    assert second.districts["Gare"].rates[0] == pytest.approx(4000 / 20)
    assert second.districts["Centre"].rates[0] == pytest.approx(200 / 20)
    # No new poll since: the same rates, not zero.
    third = aggregator.summarise(SCRAPE.format(a1=5000, a3=200, polled=102.0))
    assert third.districts["Gare"].rates == second.districts["Gare"].rates
    screen = liveview.render_screen(second, 1_709_712_000.0, 10.0, "http://x/metrics")
    assert "Gare" in screen
    assert "Wed 06 Mar 2024 09:00:00 CET" in screen
    assert liveview.render_line(second, 1_709_712_000.0).count("\n") == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"aps": 5},
        {"speed": 0.0},
        {"listen": "nowhere"},
        {"history": "30d"},  # without out
        {"history": "soon", "out": Path("/nonexistent")},
    ],
)
def test_bad_options_exit_2_and_start_nothing(
    kwargs: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_demo(**kwargs) == EXIT_USAGE  # type: ignore[arg-type]
    assert "wifimon demo:" in capsys.readouterr().err


def test_history_through_the_entry_point(tmp_path: Path) -> None:
    output = io.StringIO()
    code = run_demo(
        aps=20, seed=2, history="2h", out=tmp_path, step="10m", start=1_709_712_000.0, stream=output
    )
    assert code == EXIT_OK
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "wifimon-history.lp",
        "wifimon-history.om",
    ]
    assert output.getvalue().count("wrote ") == 2
    argv = ["--aps", "20", "--history", "1h", "--out", str(tmp_path / "b"), "--start", "1e9"]
    assert main(argv) == EXIT_OK


def test_a_child_is_stopped_by_pid_and_killed_if_it_ignores_sigterm(tmp_path: Path) -> None:
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    child = processes.start_child(
        "stubborn", [sys.executable, "-c", stubborn], tmp_path / "log", tmp_path
    )
    time.sleep(0.3)  # let it install its handler
    started = time.monotonic()
    status = child.stop(grace=0.5)
    assert status == -9
    assert time.monotonic() - started < 5
    assert not Path(f"/proc/{child.pid}").exists()
    assert not answers(processes.HOST, free_port(), "nobody", timeout=0.2)
