"""``wifimon demo``: a living city Wi-Fi network on this machine, and wifimon watching it.

``run_demo`` generates the simulated city of Mulhouse into a work folder
(agents' data, inventory CSV, wifimon config), serves it over real SNMP on
127.0.0.1 with snmpsim, starts ``wifimon run`` against it (and Prometheus
if asked), and shows a live view until Ctrl-C or SIGTERM; then it stops
everything it started, by PID. With ``history`` it instead writes the same
city's past as OpenMetrics and InfluxDB line protocol and returns.

Also runnable as ``python -m wifimon.demo`` (the same options).
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TextIO

from wifimon.config import parse_duration, split_listen_address
from wifimon.simulator import agents, inventory, liveview, processes
from wifimon.simulator.city import DEFAULT_APS, DEFAULT_SEED, MAX_APS, MIN_APS, City, build_city
from wifimon.simulator.load import Clock
from wifimon.simulator.snmpsim import free_port

DEFAULT_LISTEN = "127.0.0.1:9877"
DEFAULT_REFRESH_S = 5.0
DEFAULT_HISTORY_STEP_S = 300.0
PROMETHEUS_PORT = 9090
EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class DemoError(Exception):
    """A bad option (exit 2) or a child that failed (exit 1)."""

    def __init__(self, message: str, code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.code = code


def run_demo(  # noqa: PLR0917 - the CLI contract: `wifimon demo`'s options in order
    aps: int = DEFAULT_APS,
    seed: int = DEFAULT_SEED,
    listen: str = DEFAULT_LISTEN,
    speed: float = 1.0,
    prometheus: bool = False,
    history: str | None = None,
    out: Path | None = None,
    *,
    step: str | None = None,
    rules_dir: Path | None = None,
    start: float | None = None,
    work_dir: Path | None = None,
    interval: float | None = None,
    refresh: float = DEFAULT_REFRESH_S,
    snmp_port: int | None = None,
    duration: float | None = None,
    stream: TextIO | None = None,
) -> int:
    """Run the demo city; returns the exit code (0 ok, 1 failure, 2 bad usage).

    ``history`` ("30d") with ``out`` writes history instead (``step``, e.g.
    "5m"). ``start`` is the simulated Unix time at start (default: now);
    ``duration`` stops after that many wall seconds (default: until
    Ctrl-C/SIGTERM). Errors are printed to stderr.
    """
    output = stream or sys.stdout
    try:
        _check(aps, speed, listen, refresh)
        if history is not None:
            return _write_history(aps, seed, history, out, step, start, output)
        return _run_live(
            build_city(aps, seed),
            _LiveOptions(
                listen=listen,
                speed=speed,
                prometheus=prometheus,
                rules_dir=rules_dir,
                start=start,
                work_dir=work_dir,
                interval=interval,
                refresh=refresh,
                snmp_port=snmp_port,
                duration=duration,
            ),
            output,
        )
    except DemoError as error:
        print(f"wifimon demo: {error}", file=sys.stderr)
        return error.code


def _check(aps: int, speed: float, listen: str, refresh: float) -> None:
    if not MIN_APS <= aps <= MAX_APS:
        raise DemoError(f"--aps must be between {MIN_APS} and {MAX_APS}", EXIT_USAGE)
    if not 0 < speed <= 100_000:
        raise DemoError("--speed must be above 0 and at most 100000", EXIT_USAGE)
    if refresh <= 0:
        raise DemoError("the refresh period must be above 0 seconds", EXIT_USAGE)
    try:
        split_listen_address(listen)
    except ValueError as error:
        raise DemoError(f"--listen {error}", EXIT_USAGE) from None


def _write_history(  # noqa: PLR0917 - run_demo's history options, passed on
    aps: int,
    seed: int,
    span_text: str,
    out: Path | None,
    step_text: str | None,
    start: float | None,
    output: TextIO,
) -> int:
    from wifimon.simulator.history import write_history  # noqa: PLC0415 - history-only import

    if out is None:
        raise DemoError("--history needs --out DIR", EXIT_USAGE)
    try:
        span = parse_duration(span_text)
        step = parse_duration(step_text) if step_text else DEFAULT_HISTORY_STEP_S
    except ValueError as error:
        raise DemoError(f"--history/--step: {error}", EXIT_USAGE) from None
    if span <= 0 or step <= 0 or span / step > 10_000_000:
        raise DemoError("--history and --step must be positive, at most 10^7 steps", EXIT_USAGE)
    end = time.time() if start is None else start
    files = write_history(build_city(aps, seed), end - span, end, step, out)
    for path in files:
        print(f"wrote {path}", file=output)
    return EXIT_OK


@dataclass(frozen=True)
class _LiveOptions:
    """run_demo's options of a live run, as given (see ``run_demo``)."""

    listen: str
    speed: float
    prometheus: bool
    rules_dir: Path | None
    start: float | None
    work_dir: Path | None
    interval: float | None
    refresh: float
    snmp_port: int | None
    duration: float | None


def _run_live(city: City, options: _LiveOptions, output: TextIO) -> int:
    with _work_folder(options.work_dir) as work, _stop_on_signals() as stopping:
        children: list[processes.Child] = []
        try:
            urls = _start(city, options, work, children, output)
            _, clock = agents.read_settings(work / "city.json")
            view = _View(
                liveview.Aggregator(options.speed), clock, options.speed, urls["metrics"], output
            )
            _watch(options, view, children, stopping)
        finally:
            failed = _stop_all(children)
        if failed:
            raise DemoError(failed)
    return EXIT_OK


def _start(
    city: City,
    options: _LiveOptions,
    work: Path,
    children: list[processes.Child],
    output: TextIO,
) -> dict[str, str]:
    """Generate the city into ``work`` and start its children (appended to
    ``children`` as they start, so a failure still stops the earlier ones)."""
    now = time.time()
    clock = Clock(options.start if options.start is not None else now, now, options.speed)
    snmp_port = options.snmp_port or free_port()
    plan = inventory.PollPlan.every(options.interval or inventory.default_interval(len(city.aps)))
    agents.write_agents(city, work / "data")
    agents.write_settings(work / "city.json", len(city.aps), city.seed, clock)
    agents.install_variation_module(work / "variation")
    config = inventory.write_city_config(city, work, snmp_port, options.listen, plan)
    print(f"simulated city: {len(city.aps)} APs in {work}", file=output, flush=True)
    probe = city.controllers[0].community
    children.append(processes.start_city_agents(work, snmp_port, probe))
    children.append(processes.start_daemon(work, config))
    host, port = split_listen_address(options.listen)
    local = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
    urls = {"metrics": f"http://{local}:{port}/metrics"}
    if options.prometheus:
        urls["prometheus"] = _start_prometheus(work, f"{local}:{port}", plan, options, children)
    _record_pids(work, children)
    for name, url in urls.items():
        print(f"{name}: {url}", file=output, flush=True)
    return urls


def _start_prometheus(
    work: Path,
    target: str,
    plan: inventory.PollPlan,
    options: _LiveOptions,
    children: list[processes.Child],
) -> str:
    if processes.prometheus_binary() is None:
        raise DemoError("--prometheus: prometheus is not installed (apt-get install prometheus)")
    tcp = socket.SOCK_STREAM
    free = processes.port_is_free(PROMETHEUS_PORT, tcp)
    port = PROMETHEUS_PORT if free else free_port(tcp)
    rules = options.rules_dir or shipped_rules()
    children.append(processes.start_prometheus(work, target, plan.interval, port, rules))
    return f"http://127.0.0.1:{port}"


def shipped_rules() -> Path | None:
    """The checkout's alert and recording rules (dashboards/prometheus), so
    `--prometheus` shows the dead APs' alerts firing; None when wifimon runs
    from an installed package without the repository."""
    folder = Path(__file__).resolve().parents[1] / "dashboards" / "prometheus"
    return folder if (folder / "alerts.rules.yml").is_file() else None


def _record_pids(work: Path, children: list[processes.Child]) -> None:
    """``processes.json``: what runs, for people and for tests that check
    nothing is left behind."""
    pids = {child.name: child.pid for child in children}
    (work / "processes.json").write_text(json.dumps(pids) + "\n")


@dataclass
class _View:
    """The live view: reads the daemon's /metrics, prints a screen or a line."""

    aggregator: liveview.Aggregator
    clock: Clock
    speed: float
    url: str
    output: TextIO

    def refresh(self) -> None:
        sim_time = self.clock.at(time.time())
        try:
            summary = self.aggregator.summarise(liveview.fetch_metrics(self.url))
        except OSError:
            summary = None  # the daemon is not listening yet
        if summary is None or not summary.districts:
            text = f"{liveview.clock_text(sim_time)}  waiting for the first poll...\n"
        elif self.output.isatty():
            text = liveview.render_screen(summary, sim_time, self.speed, self.url)
        else:
            text = liveview.render_line(summary, sim_time)
        self.output.write(text)
        self.output.flush()


def _watch(
    options: _LiveOptions, view: _View, children: list[processes.Child], stopping: list[bool]
) -> None:
    """Refresh the view until a signal, ``duration``, or a child's death."""
    deadline = None if options.duration is None else time.monotonic() + options.duration
    next_refresh = time.monotonic()
    while not stopping and (deadline is None or time.monotonic() < deadline):
        for child in children:
            if not child.running():
                raise DemoError(f"{child.name} exited unexpectedly:\n{child.log_tail()}")
        if time.monotonic() >= next_refresh:
            next_refresh += options.refresh
            view.refresh()
        time.sleep(0.1)  # short: a signal or the deadline is noticed at once


def _stop_all(children: list[processes.Child]) -> str:
    """Stop the daemon first, then Prometheus, then the agents; returns a
    failure description, empty if every child stopped cleanly."""
    order = {"wifimon": 0, "prometheus": 1, "snmpsim": 2}
    problems = []
    for child in sorted(children, key=lambda c: order.get(c.name, 3)):
        was_running = child.running()
        status = child.stop()
        if child.name == "wifimon" and (status != 0 or not was_running):
            problems.append(f"wifimon exited with status {status}:\n{child.log_tail()}")
    return "\n".join(problems)


@contextmanager
def _work_folder(given: Path | None) -> Iterator[Path]:
    """``given``, or a temporary folder removed afterwards."""
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given.resolve()
        return
    work = Path(tempfile.mkdtemp(prefix="wifimon-demo-"))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


@contextmanager
def _stop_on_signals() -> Iterator[list[bool]]:
    """SIGINT and SIGTERM ask the demo to stop (a non-empty list) instead
    of killing it mid-way, so it can stop its children; restored after."""
    stopping: list[bool] = []

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.append(True)

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stopping
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m wifimon.demo", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--aps", type=int, default=DEFAULT_APS, help="access points (default %(default)s)"
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="city seed (default %(default)s)"
    )
    parser.add_argument("--listen", default=DEFAULT_LISTEN, help="daemon /metrics address")
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second")
    parser.add_argument("--prometheus", action="store_true", help="also start Prometheus")
    parser.add_argument("--rules-dir", type=Path, help="Prometheus rule files (*.yml) to load")
    parser.add_argument("--history", help="write this much history (e.g. 30d) instead")
    parser.add_argument("--step", help="history step (default 5m)")
    parser.add_argument("--out", type=Path, help="folder for --history files")
    parser.add_argument("--start", type=float, help="simulated Unix time at start (default now)")
    parser.add_argument("--work-dir", type=Path, help="keep the generated city here")
    parser.add_argument("--interval", type=float, help="poll interval, seconds (default by size)")
    parser.add_argument("--refresh", type=float, default=DEFAULT_REFRESH_S, help="view refresh, s")
    parser.add_argument("--snmp-port", type=int, help="UDP port of the agents (default: free)")
    parser.add_argument("--duration", type=float, help="stop after this many seconds")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return run_demo(
        args.aps,
        args.seed,
        args.listen,
        args.speed,
        args.prometheus,
        args.history,
        args.out,
        step=args.step,
        rules_dir=args.rules_dir,
        start=args.start,
        work_dir=args.work_dir,
        interval=args.interval,
        refresh=args.refresh,
        snmp_port=args.snmp_port,
        duration=args.duration,
    )


if __name__ == "__main__":
    sys.exit(main())
