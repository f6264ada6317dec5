"""Soak: run the demo city for a while and watch the daemon for leaks and overruns.

Starts ``python -m wifimon.demo`` (snmpsim serving the simulated city over
real UDP on 127.0.0.1, ``wifimon run`` polling it) with a few thousand APs,
and every ``--sample-seconds`` reads from the daemon's process: resident
memory (VmRSS of /proc/PID/status), open file descriptors (/proc/PID/fd),
CPU seconds (/proc/PID/stat), and from its /metrics: poll rounds, overruns,
targets up, state write errors. At the end it prints one row per sample and
a verdict: the slope of RSS over the last two thirds of the run (the first
third is warm-up: caches, counter state, the first rounds), the range of
the fd count, and the overruns.

    .venv/bin/python bench/soak.py                      # 3,000 APs, 30 minutes
    .venv/bin/python bench/soak.py --minutes 5 --aps 2000 [--interval 40]

A figure, not a test: the verdict flags what to look at, it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

# Over the last two thirds of a run, RSS growing faster than this is worth a look.
RSS_SLOPE_LIMIT_MIB_PER_HOUR = 8.0
FD_SPREAD_LIMIT = 16
START_TIMEOUT_S = 300.0
STOP_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Sample:
    """One reading; ``at`` is seconds since the daemon was found."""

    at: float
    rss_mib: float
    fds: int
    cpu_s: float
    rounds: float
    round_seconds_sum: float
    overruns: float
    targets_up: float
    targets: float
    state_errors: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def cpu_seconds(pid: int) -> float:
    # Fields after the command name (which may hold spaces, in parentheses).
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def scrape(url: str) -> dict[str, float]:
    """Sums per metric name (labels folded), e.g. ``{"wifimon_targets": 3001.0}``."""
    with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310 - loopback
        text = response.read().decode()
    sums: dict[str, float] = {}
    wanted = ("wifimon_poll", "wifimon_targets", "wifimon_state_write_errors")
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith(wanted):
                key = sample.name
                if sample.name == "wifimon_targets":
                    key = f"wifimon_targets_{sample.labels.get('state', '')}"
                sums[key] = sums.get(key, 0.0) + float(sample.value)
    return sums


def read_sample(pid: int, url: str, started: float) -> Sample:
    try:
        metrics = scrape(url)
    except OSError:
        metrics = {}  # not serving yet
    up = metrics.get("wifimon_targets_up", 0.0)
    return Sample(
        at=time.monotonic() - started,
        rss_mib=rss_mib(pid),
        fds=open_fds(pid),
        cpu_s=cpu_seconds(pid),
        rounds=metrics.get("wifimon_poll_duration_seconds_count", 0.0),
        round_seconds_sum=metrics.get("wifimon_poll_duration_seconds_sum", 0.0),
        overruns=metrics.get("wifimon_poll_overruns_total", 0.0),
        targets_up=up,
        targets=up
        + metrics.get("wifimon_targets_down", 0.0)
        + metrics.get("wifimon_targets_unknown", 0.0),
        state_errors=metrics.get("wifimon_state_write_errors_total", 0.0),
    )


def slope_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of ``(seconds, value)`` points, per hour."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    var = sum((x - mean_x) ** 2 for x, _ in points)
    if var == 0:
        return 0.0
    cov = sum((x - mean_x) * (y - mean_y) for x, y in points)
    return cov / var * 3600


def wait_for_daemon(work: Path, demo: subprocess.Popen[bytes]) -> int:
    """The daemon's PID, from the demo's processes.json."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if demo.poll() is not None:
            raise SystemExit(f"the demo exited with {demo.returncode}; see {work}/demo.out")
        path = work / "processes.json"
        if path.exists():
            pid: int = json.loads(path.read_text())["wifimon"]
            return pid
        time.sleep(0.5)
    raise SystemExit(f"the daemon did not start within {START_TIMEOUT_S:.0f} s")


def round_seconds(previous: Sample | None, sample: Sample) -> str:
    """Mean duration of the rounds that ended since ``previous``, e.g. ``"12.3"``."""
    if previous is None or sample.rounds <= previous.rounds:
        return "-"
    spent = sample.round_seconds_sum - previous.round_seconds_sum
    return f"{spent / (sample.rounds - previous.rounds):.1f}"


def print_report(samples: list[Sample], minutes: float, aps: int) -> bool:
    print(f"\nsoak: {aps} APs, {minutes:g} min, {len(samples)} samples")
    print(f"{'t (s)':>7} {'RSS MiB':>8} {'fds':>5} {'CPU s':>8} {'rounds':>7} {'round s':>8} "
          f"{'overruns':>9} {'up/targets':>12} {'state err':>9}")  # fmt: skip
    previous: Sample | None = None
    for s in samples:
        print(
            f"{s.at:7.0f} {s.rss_mib:8.1f} {s.fds:5d} {s.cpu_s:8.1f} {s.rounds:7.0f} "
            f"{round_seconds(previous, s):>8} {s.overruns:9.0f} "
            f"{f'{s.targets_up:.0f}/{s.targets:.0f}':>12} {s.state_errors:9.0f}"
        )
        previous = s
    tail = samples[len(samples) // 3 :]
    slope = slope_per_hour([(s.at, s.rss_mib) for s in tail])
    fds = [s.fds for s in tail]
    overruns = samples[-1].overruns
    rounds = samples[-1].rounds
    cpu_share = samples[-1].cpu_s / samples[-1].at if samples[-1].at else 0.0
    checks = {
        f"RSS slope over the last 2/3: {slope:+.2f} MiB/h "
        f"(limit {RSS_SLOPE_LIMIT_MIB_PER_HOUR:g})": slope <= RSS_SLOPE_LIMIT_MIB_PER_HOUR,
        f"open fds over the last 2/3: min {min(fds)}, max {max(fds)} "
        f"(spread limit {FD_SPREAD_LIMIT})": (max(fds) - min(fds) <= FD_SPREAD_LIMIT),
        f"overruns: {overruns:.0f} in {rounds:.0f} rounds": overruns == 0,
        f"state write errors: {samples[-1].state_errors:.0f}": samples[-1].state_errors == 0,
        f"rounds completed: {rounds:.0f}": rounds >= 2,
    }
    last_third = slope_per_hour([(s.at, s.rss_mib) for s in samples[2 * len(samples) // 3 :]])
    print(f"\ndaemon CPU: {cpu_share:.1%} of one core on average")
    print(f"RSS slope over the last 1/3 (for comparison): {last_third:+.2f} MiB/h")
    for text, ok in checks.items():
        print(f"  {'ok   ' if ok else 'CHECK'} {text}")
    verdict = all(checks.values())
    print(f"verdict: {'PASS' if verdict else 'CHECK the lines marked CHECK'}")
    return verdict


def stop(demo: subprocess.Popen[bytes]) -> None:
    """SIGTERM by PID: the demo stops the daemon and the agents itself."""
    if demo.poll() is None:
        os.kill(demo.pid, signal.SIGTERM)
    try:
        demo.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.kill(demo.pid, signal.SIGKILL)
        demo.wait(STOP_TIMEOUT_S)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--aps", type=int, default=3000, help="APs in the city (3000)")
    parser.add_argument("--minutes", type=float, default=30.0, help="duration (30)")
    parser.add_argument("--sample-seconds", type=float, default=30.0, help="sampling period (30)")
    parser.add_argument("--interval", type=float, help="poll interval, s (default: by city size)")
    parser.add_argument("--speed", type=float, default=60.0, help="simulated seconds per second")
    parser.add_argument("--work-dir", type=Path, help="keep the city and logs here")
    args = parser.parse_args()

    work = args.work_dir or Path(tempfile.mkdtemp(prefix="wifimon-soak-"))
    work.mkdir(parents=True, exist_ok=True)
    listen = f"127.0.0.1:{free_port()}"
    command = [
        sys.executable, "-m", "wifimon.demo", "--aps", str(args.aps), "--listen", listen,
        "--speed", str(args.speed), "--work-dir", str(work), "--refresh", "60",
        "--duration", str(args.minutes * 60 + START_TIMEOUT_S),
        *(["--interval", str(args.interval)] if args.interval else []),
    ]  # fmt: skip
    print(f"soak: {' '.join(command)}\n  work folder: {work}", flush=True)
    with (work / "demo.out").open("wb") as out:
        demo = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    samples: list[Sample] = []
    try:
        pid = wait_for_daemon(work, demo)
        url = f"http://{listen}/metrics"
        started = time.monotonic()
        end = started + args.minutes * 60
        while True:
            samples.append(read_sample(pid, url, started))
            last = samples[-1]
            print(f"  t={last.at:5.0f}s rss={last.rss_mib:.1f}MiB fds={last.fds} "
                  f"rounds={last.rounds:.0f} overruns={last.overruns:.0f}", flush=True)  # fmt: skip
            if time.monotonic() >= end:
                break
            time.sleep(min(args.sample_seconds, max(0.0, end - time.monotonic())))
    finally:
        stop(demo)
    return 0 if print_report(samples, args.minutes, args.aps) else 1


if __name__ == "__main__":
    sys.exit(main())
