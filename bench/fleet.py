"""Benchmark: a city-scale fleet polled by the real daemon (``wifimon run``).

The fleet is ``--aps`` stand-alone APs polled directly with the ``generic``
profile (each its own SNMP target, ~32 OIDs: SNMPv2-MIB system group,
IF-MIB ifTable/ifXTable, IEEE802dot11-MIB; counters and uptime that move)
plus, unless ``--no-scg``, the 7,682-AP Ruckus SmartCell Gateway recording
from snmpsim-data. With ``--agent snmpsim`` (the default) everything is
served by snmpsim on 127.0.0.1: each AP is one ``.snmprec`` file generated
from a small template with per-AP values, selected by its own community; the
APs are spread over ``--agents`` snmpsim processes (one snmpsim answers a
few hundred requests per second at most, so on this 2-core machine they
saturate it and slow the daemon too). With ``--agent snmpd`` one net-snmp
``snmpd`` answers for every AP (the host's IF-MIB plus the same 802.11
objects as overrides; >10,000 requests/s), so the daemon sets the pace. The
SCG recording gets an agent process of its own: with ``--scg-agent
responder`` (the default) wifimon's lean responder, which answers as
snmpsim does (tests/e2e/test_responder.py) but some 20x faster, so the
first complete poll measures the daemon; with ``--scg-agent snmpsim``,
snmpsim itself (10-18 s for one poll of the recording here).

The daemon runs as a child process for ``--rounds`` poll rounds of
``--interval`` seconds while a scraper asks for ``/metrics`` every
``--scrape-every`` seconds (15 s by default, a common Prometheus
``scrape_interval``) the way Prometheus does (gzipped OpenMetrics); after
the rounds, a burst of ``--burst`` scrapes back to back gives the latency
percentiles more samples and the daemon's CPU per scrape.
Printed: time from start to the first complete poll, the daemon's CPU
(user + system, from /proc, all its threads) per round and as a share of
one core over the rounds after the first, overruns, RSS, series, scrape
latency p50/p99 and whether every AP came up. CPU is measured, not wall
time, because the agents run on the same machine.

    .venv/bin/python bench/fleet.py [--aps 10000] [--rounds 4] [--interval 60]
        [--agent snmpsim|snmpd] [--agents 4] [--no-scg] [--scg-agent responder|snmpsim]
        [--work-dir .work/bench/fleet]

Everything started here is stopped by PID when the run ends, and the run is
bounded (``--deadline`` seconds after the daemon starts). Generated agent
data and snmpsim's index are kept in ``--work-dir`` for the next run.
A figure, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from wifimon.simulator.responder import start_responder
from wifimon.simulator.snmpd import start_snmpd as start_net_snmpd
from wifimon.simulator.snmpsim import (
    AgentProcess,
    free_port,
    install_recording,
    recording_path,
    start_snmpsim,
)

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
SCG_RECORDING = "network/wifi/ruckus-smartcell-gateway.snmprec.bz2"
SCG_COMMUNITY = "ruckus-scg"
SCG_APS = 7682  # APs in the recording (README, tests/support/ruckus_truth.py)
DISTRICTS = ("Centre", "North", "South", "East", "West", "Rebberg", "Dornach", "Bourtzwiller")

# --- the agents -------------------------------------------------------------

IF_TABLE, IF_X_TABLE, DOT11 = "1.3.6.1.2.1.2.2.1", "1.3.6.1.2.1.31.1.1.1", "1.2.840.10036"
UPLINK, RADIO_2G, RADIO_5G = 1, 2, 3  # ifIndex of eth0, wlan0, wlan1


def _moving(tag: str, rate: int, offset: int, *, wrap: bool = False) -> str:
    """A value snmpsim's ``numeric`` variation moves: ``offset + rate * t``,
    ``t`` seconds since snmpsim started; Counter32 ones wrap like a device's."""
    extra = ",wrap=1" if wrap else ""
    return f"{tag}:numeric|rate={rate},offset={offset}{extra}"


def ap_rows(number: int) -> list[tuple[tuple[int, ...], str]]:
    """The ``.snmprec`` rows of fleet AP ``number`` as (OID, "tag|value")."""
    mac = [0x02, 0x42, 0xAC, (number >> 16) & 0xFF, (number >> 8) & 0xFF, number & 0xFF]
    name = f"fleet-ap-{number:05d}"
    rows: dict[str, str] = {
        "1.3.6.1.2.1.1.1.0": f"4|Linux {name} 5.15.150 #0 SMP OpenWrt 23.05.3",
        "1.3.6.1.2.1.1.2.0": "6|1.3.6.1.4.1.8072.3.2.10",
        "1.3.6.1.2.1.1.3.0": _moving("67", 100, 100 * (3600 + number * 37 % 86_400)),
        "1.3.6.1.2.1.1.5.0": f"4|{name}",
        "1.3.6.1.2.1.1.6.0": "4|Mulhouse",
    }
    for if_index, if_type in ((UPLINK, 6), (RADIO_2G, 71), (RADIO_5G, 71)):
        if_mac = [mac[0] | (4 * (if_index - 1)), *mac[1:]]
        rate = 20_000 + 97 * (number % 1000) * if_index
        base = number * 1_000_003 + if_index * 7_919
        rows[f"{IF_TABLE}.3.{if_index}"] = f"2|{if_type}"
        rows[f"{IF_TABLE}.6.{if_index}"] = f"4x|{bytes(if_mac).hex()}"
        rows[f"{IF_TABLE}.10.{if_index}"] = _moving("65", rate, base % 2**32, wrap=True)
        rows[f"{IF_TABLE}.16.{if_index}"] = _moving("65", 5 * rate, base * 3 % 2**32, wrap=True)
        rows[f"{IF_X_TABLE}.6.{if_index}"] = _moving("70", rate, base)
        rows[f"{IF_X_TABLE}.10.{if_index}"] = _moving("70", 5 * rate, base * 3)
    rows[f"{DOT11}.4.5.1.1.{RADIO_2G}"] = f"2|{(1, 6, 11)[number % 3]}"
    rows[f"{DOT11}.4.11.1.1.{RADIO_5G}"] = f"2|{(36, 52, 100, 116)[number % 4]}"
    for if_index in (RADIO_2G, RADIO_5G):
        rows[f"{DOT11}.2.2.1.3.{if_index}"] = _moving("65", 1 + number % 5, number, wrap=True)
        rows[f"{DOT11}.2.2.1.4.{if_index}"] = _moving("65", 20 + number % 50, number, wrap=True)
        rows[f"{DOT11}.3.1.2.1.3.{if_index}"] = "4|OpenWrt AP 2x2"
        rows[f"{DOT11}.3.1.2.1.4.{if_index}"] = "4|23.05.3"
    return sorted(
        (tuple(int(part) for part in oid.split(".")), value) for oid, value in rows.items()
    )


def ap_id(number: int) -> str:
    return f"fleet-{number:05d}"


def write_agent_data(data_dir: Path, numbers: range) -> None:
    """One ``ap/<id>.snmprec`` per AP; unchanged files are left alone so
    snmpsim's index of them stays valid between runs."""
    folder = data_dir / "ap"
    folder.mkdir(parents=True, exist_ok=True)
    for number in numbers:
        text = "".join(f"{'.'.join(map(str, oid))}|{value}\n" for oid, value in ap_rows(number))
        path = folder / f"{ap_id(number)}.snmprec"
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


def shards(aps: int, agents: int) -> list[range]:
    size = -(-aps // agents)
    return [range(start, min(start + size, aps)) for start in range(0, aps, size)]


SNMPD_COMMUNITY = "fleet-snmpd"


@dataclass
class Agents:
    """The agents serving the fleet: (port, range of APs) each; with
    ``ap_community`` every AP is asked with it (one snmpd), else with its own."""

    ap_ports: list[tuple[int, range]] = field(default_factory=list)
    scg_port: int | None = None
    running: list[AgentProcess] = field(default_factory=list)
    ap_community: str | None = None

    def stop(self) -> None:
        for agent in self.running:
            agent.stop()


# The host's own IF-MIB (interfaces 2 and 3 play the radios, as in ap_rows)
# plus the IEEE802dot11-MIB objects of a fleet AP, as static overrides.
SNMPD_CONF = (
    "sysName fleet-snmpd",
    "dontLogTCPWrappersConnects yes",  # no log line per request
    f"override {DOT11}.4.5.1.1.{RADIO_2G} integer 6",
    f"override {DOT11}.4.11.1.1.{RADIO_5G} integer 36",
    *(
        f"override {DOT11}.{column} {kind} {value}"
        for radio in (RADIO_2G, RADIO_5G)
        for column, kind, value in (
            (f"2.2.1.3.{radio}", "counter", 3),
            (f"2.2.1.4.{radio}", "counter", 40),
            (f"3.1.2.1.3.{radio}", "octet_str", '"OpenWrt AP 2x2"'),
            (f"3.1.2.1.4.{radio}", "octet_str", '"23.05.3"'),
        )
    ),
)


def start_snmpd(work: Path) -> AgentProcess:
    """net-snmp ``snmpd`` on 127.0.0.1 answering SNMPv2c for every AP (the
    host's interfaces, SNMPD_CONF's radios); it answers >10,000 requests/s
    here, so the daemon, not the agent, sets the pace."""
    conf = [*SNMPD_CONF, f"rocommunity {SNMPD_COMMUNITY} 127.0.0.1"]
    return start_net_snmpd(conf, work / "snmpd", probe_community=SNMPD_COMMUNITY, host=HOST)


def start_agents(  # noqa: PLR0917 - the fleet's shape
    work: Path, aps: int, agents: int, scg: bool, snmpd: bool = False, scg_agent: str = "responder"
) -> Agents:
    """Everything the fleet needs, stopped again if any of it fails to start."""
    started = Agents()
    try:
        if snmpd:
            agent = start_snmpd(work)
            started.running.append(agent)
            started.ap_ports.append((agent.port, range(aps)))
            started.ap_community = SNMPD_COMMUNITY
        else:
            _start_ap_snmpsims(work, aps, agents, started)
        if scg:
            _start_scg(work, started, scg_agent)
    except BaseException:
        started.stop()
        raise
    return started


def _start_ap_snmpsims(work: Path, aps: int, agents: int, started: Agents) -> None:
    for shard_number, numbers in enumerate(shards(aps, agents)):
        data_dir = work / "data" / f"shard-{shard_number}"
        write_agent_data(data_dir, numbers)
        port = free_port(socket.SOCK_DGRAM)
        agent = start_snmpsim(
            data_dir, work / "cache" / f"shard-{shard_number}", port, f"ap/{ap_id(numbers[0])}"
        )
        started.running.append(agent)
        started.ap_ports.append((port, numbers))


def _start_scg(work: Path, started: Agents, scg_agent: str) -> None:
    data_dir = work / "data" / "scg"
    install_recording(recording_path(SCG_RECORDING), data_dir, SCG_COMMUNITY)
    port = free_port(socket.SOCK_DGRAM)
    if scg_agent == "responder":
        agent = start_responder(data_dir, port, SCG_COMMUNITY)
    else:
        agent = start_snmpsim(data_dir, work / "cache" / "scg", port, SCG_COMMUNITY)
    started.running.append(agent)
    started.scg_port = port


# --- the daemon's config ----------------------------------------------------


def write_config(
    run_dir: Path, agents: Agents, interval: float, http_port: int, repetitions: int
) -> Path:
    credentials: dict[str, dict[str, str]] = {}
    lines = ["ap,name,host,port,credentials,profile,site,district,latitude,longitude"]
    for port, numbers in agents.ap_ports:
        for number in numbers:
            ident = ap_id(number)
            if agents.ap_community is None:  # snmpsim picks an AP's data by community
                credentials[ident] = {"version": "2c", "community": f"ap/{ident}"}
            else:  # one set for every AP, as a city's APs share a few
                credentials["fleet"] = {"version": "2c", "community": agents.ap_community}
            district = DISTRICTS[number % len(DISTRICTS)]
            latitude = 47.70 + (number % 100) * 0.001
            longitude = 7.30 + (number // 100 % 100) * 0.001
            lines.append(
                f"{ident},fleet-ap-{number:05d},{HOST},{port},"
                f"{ident if agents.ap_community is None else 'fleet'},generic,"
                f"site-{number % 500:03d},{district},{latitude:.4f},{longitude:.4f}"
            )
    (run_dir / "aps.csv").write_text("\n".join(lines) + "\n")
    config: dict[str, object] = {
        "poll": {
            "interval": f"{interval:g}s",
            "timeout": "5s",
            "retries": 2,
            "max_repetitions": repetitions,
        },
        "credentials": credentials,
        "inventory_csv": "aps.csv",
        "exporters": {"prometheus": {"listen": f"{HOST}:{http_port}"}},
        "state_dir": "state",
        "log": {"level": "info"},
    }
    if agents.scg_port is not None:
        credentials["scg"] = {"version": "2c", "community": SCG_COMMUNITY}
        config["controllers"] = [
            {
                "name": "ruckus-scg",
                "host": HOST,
                "port": agents.scg_port,
                "credentials": "scg",
                "profile": "auto",
                "site": "scg",
                "district": "Centre",
            }
        ]
    path = run_dir / "wifimon.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


# --- watching the daemon ------------------------------------------------------


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of ``pid``, all threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_cpu_split(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of ``pid`` so far, all threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def process_memory(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of ``pid`` in MB."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", status, re.MULTILINE))
    return int(found["VmRSS"]) / 1024, int(found["VmHWM"]) / 1024


_HEALTH = re.compile(r"\bgeneration=(\d+)\b.*\brendered_generation=(\d+|none)\b")


def get(port: int, path: str, headers: dict[str, str] | None = None) -> bytes:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status}")
        return body
    finally:
        connection.close()


def generations(port: int) -> tuple[int, int] | None:
    """(published, rendered) generation from ``/healthz``; None if not answering."""
    try:
        text = get(port, "/healthz").decode()
    except (OSError, RuntimeError):
        return None
    match = _HEALTH.search(text)
    if match is None or match.group(2) == "none":
        return None
    return int(match.group(1)), int(match.group(2))


class Scraper(threading.Thread):
    """Asks for ``/metrics`` like Prometheus every ``every`` seconds; keeps latencies."""

    def __init__(self, port: int, every: float) -> None:
        super().__init__(name="scraper", daemon=True)
        self.port, self.every = port, every
        self.latencies: list[float] = []
        self.failures = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        headers = {
            "Accept": "application/openmetrics-text; version=1.0.0",
            "Accept-Encoding": "gzip",
        }
        while not self.stopping.wait(self.every):
            began = time.perf_counter()
            try:
                get(self.port, "/metrics", headers)
            except (OSError, RuntimeError):
                self.failures += 1
                continue
            self.latencies.append(time.perf_counter() - began)


@dataclass
class Burst:
    latencies: list[float]
    cpu: float  # the daemon's CPU seconds over the burst (polling included)
    wall: float


def scrape_burst(pid: int, port: int, count: int) -> Burst:
    """``count`` gzipped OpenMetrics scrapes back to back, one connection each
    (as Prometheus after a restart): latencies and the daemon's CPU."""
    headers = {
        "Accept": "application/openmetrics-text; version=1.0.0",
        "Accept-Encoding": "gzip",
    }
    latencies = []
    cpu_before, wall_before = process_cpu(pid), time.monotonic()
    for _ in range(count):
        began = time.perf_counter()
        get(port, "/metrics", headers)
        latencies.append(time.perf_counter() - began)
    return Burst(latencies, process_cpu(pid) - cpu_before, time.monotonic() - wall_before)


def report_burst(burst: Burst) -> None:
    lat, count = burst.latencies, max(1, len(burst.latencies))
    print(
        f"/metrics burst: {len(lat)} scrapes back to back in {burst.wall:.1f} s, "
        f"p50 {1000 * percentile(lat, 0.5):.1f} ms, p99 {1000 * percentile(lat, 0.99):.1f} ms; "
        f"daemon CPU {1000 * burst.cpu / count:.2f} ms per scrape (polling included)"
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


@dataclass
class Figures:
    first_poll: float | None = None
    first_rendered: float | None = None
    rounds: list[tuple[int, float, float]] = field(default_factory=list)  # gen, wall, cpu


@contextlib.contextmanager
def running_daemon(config: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "wifimon", "run", "-c", str(config)],
            cwd=config.parent,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def watch(  # noqa: PLR0917 - the run's moving parts
    process: subprocess.Popen[bytes],
    port: int,
    rounds: int,
    deadline: float,
    started: float,
    scraper: Scraper,
) -> Figures:
    """Follow the published generations until ``rounds`` rounds are done;
    start ``scraper`` once the first poll is rendered (before that, /metrics
    is empty and would flatter the latency)."""
    figures = Figures()
    seen = 0
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the daemon exited with {process.returncode}")
        state = generations(port)
        now = time.monotonic()
        if state is not None:
            published, rendered = state
            if published > seen:
                seen = published
                figures.rounds.append((published, now, process_cpu(process.pid)))
                if figures.first_poll is None:
                    figures.first_poll = now - started
            if rendered >= 1 and figures.first_rendered is None:
                figures.first_rendered = now - started
                scraper.start()
            if seen >= rounds and rendered >= rounds:
                break
        time.sleep(0.05)
    return figures


# --- reading the result -----------------------------------------------------

_SAMPLE = re.compile(r"^(\w+)(?:\{(.*)\})? (\S+)$")


def summarise(body: str, aps: int, scg: bool) -> dict[str, object]:
    series = 0
    ap_up = {0: 0, 1: 0}
    fleet_up = 0  # directly polled APs reported up
    targets_up = targets_down = 0
    overruns = requests = 0.0
    round_sum = round_count = 0.0
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        series += 1
        match = _SAMPLE.match(line)
        if match is None:
            continue
        name, labels, value = match.groups()
        if name == "wifimon_ap_up":
            ap_up[int(float(value))] += 1
            if labels.startswith('ap="fleet-') and float(value) == 1:
                fleet_up += 1
        elif name == "wifimon_target_up":
            if float(value) == 1:
                targets_up += 1
            else:
                targets_down += 1
        elif name == "wifimon_poll_overruns_total":
            overruns = float(value)
        elif name == "wifimon_snmp_requests_total":
            requests = float(value)
        elif name == "wifimon_poll_duration_seconds_sum":
            round_sum = float(value)
        elif name == "wifimon_poll_duration_seconds_count":
            round_count = float(value)
    expected_targets = aps + (1 if scg else 0)
    return {
        "series": series,
        "fleet_up": fleet_up,
        "ap_up": ap_up[1],
        "ap_down": ap_up[0],
        "targets_up": targets_up,
        "targets_down": targets_down,
        "all_targets_up": targets_up == expected_targets and targets_down == 0,
        "overruns": int(overruns),
        "snmp_requests": int(requests),
        "mean_round_wall": round_sum / round_count if round_count else float("nan"),
    }


def report(
    args: argparse.Namespace,
    figures: Figures,
    summary: dict[str, object],
    scraper: Scraper,
    memory: tuple[float, float],
) -> None:
    print(
        f"fleet: {args.aps} directly polled APs (generic profile)"
        f"{' + Ruckus SCG recording (7,682 APs)' if args.scg else ''}, "
        f"interval {args.interval:g} s, {len(figures.rounds)} rounds, "
        + (
            "one snmpd answering for every AP"
            if args.agent == "snmpd"
            else f"{args.agents} snmpsim processes for the APs"
        )
        + (f", the SCG served by {args.scg_agent}" if args.scg else "")
    )
    print("CPU is the daemon process's user+system time from /proc (all threads), not wall time")
    print(f"{'round':>5} {'cpu s':>8} {'wall s':>8}")
    previous = None
    for generation, wall, cpu in figures.rounds:
        if previous is not None:
            print(f"{generation:>5} {cpu - previous[2]:>8.2f} {wall - previous[1]:>8.2f}")
        else:
            print(f"{generation:>5} {cpu:>8.2f} {'(start)':>8}")
        previous = (generation, wall, cpu)
    steady = figures.rounds[1:]
    if len(steady) >= 2:
        cpu = steady[-1][2] - steady[0][2]
        wall = steady[-1][1] - steady[0][1]
        per_round = cpu / (len(steady) - 1)
        print(
            f"steady state: {per_round:.2f} CPU s per round, {100 * cpu / wall:.1f} % of one core"
        )
    else:
        print("steady state: not enough rounds (use --rounds 3 or more)")
    first = f"{figures.first_poll:.1f} s" if figures.first_poll is not None else "never"
    rendered = f"{figures.first_rendered:.1f} s" if figures.first_rendered is not None else "never"
    print(f"first complete poll published {first} after start (rendered {rendered})")
    print(
        f"mean round wall time {summary['mean_round_wall']:.2f} s, "
        f"overruns {summary['overruns']}, SNMP requests {summary['snmp_requests']}"
    )
    print(f"RSS {memory[0]:.0f} MB (peak {memory[1]:.0f} MB)")
    print(f"series on /metrics {summary['series']}")
    lat = scraper.latencies
    print(
        f"/metrics (gzipped OpenMetrics) every {args.scrape_every:g} s: {len(lat)} scrapes, "
        f"p50 {1000 * percentile(lat, 0.5):.1f} ms, p99 {1000 * percentile(lat, 0.99):.1f} ms, "
        f"max {1000 * max(lat, default=float('nan')):.1f} ms, failures {scraper.failures}"
    )
    scg = f", the SCG's {SCG_APS} APs" if args.scg else ""
    print(
        f"directly polled APs up: {summary['fleet_up']} of {args.aps}{scg}; all "
        f"wifimon_ap_up series: {summary['ap_up']} up, {summary['ap_down']} down "
        "(the SCG recording reports 103 APs disconnected)"
    )
    print(
        f"targets up "
        f"{summary['targets_up']}, down {summary['targets_down']}; "
        f"every target answered: {'yes' if summary['all_targets_up'] else 'NO'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aps", type=int, default=10_000, help="directly polled APs")
    parser.add_argument("--rounds", type=int, default=4, help="poll rounds to run")
    parser.add_argument("--interval", type=float, default=60.0, help="poll interval, seconds")
    parser.add_argument("--agents", type=int, default=4, help="snmpsim processes for the APs")
    parser.add_argument(
        "--agent",
        choices=("snmpsim", "snmpd"),
        default="snmpsim",
        help="snmpsim: every AP its own data (slow agents, ~300 requests/s each); "
        "snmpd: one net-snmp snmpd answers for every AP (its own IF-MIB, fast)",
    )
    parser.add_argument(
        "--scg",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also poll the Ruckus SCG recording (7,682 APs)",
    )
    parser.add_argument(
        "--scg-agent",
        choices=("responder", "snmpsim"),
        default="responder",
        help="what serves the SCG recording: wifimon's lean responder (snmpsim's "
        "answers, ~20x faster) or snmpsim itself",
    )
    parser.add_argument(
        "--max-repetitions",
        type=int,
        default=25,
        help="GETBULK max-repetitions (poll.max_repetitions)",
    )
    parser.add_argument("--scrape-every", type=float, default=15.0, help="seconds between scrapes")
    parser.add_argument(
        "--burst", type=int, default=200, help="scrapes back to back after the rounds"
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=ROOT / ".work" / "bench" / "fleet",
        help="kept between runs: agent data and snmpsim's index",
    )
    parser.add_argument(
        "--deadline",
        type=float,
        default=None,
        help="give up this many seconds after the daemon starts (default: rounds x interval + 300)",
    )
    args = parser.parse_args()
    deadline_s = args.deadline or args.rounds * args.interval + 300
    args.work_dir.mkdir(parents=True, exist_ok=True)
    print(
        f"starting agents for {args.aps} APs (first run writes and indexes their data)...",
        flush=True,
    )
    agents = start_agents(
        args.work_dir,
        args.aps,
        max(1, args.agents),
        args.scg,
        args.agent == "snmpd",
        args.scg_agent,
    )
    try:
        with tempfile.TemporaryDirectory(prefix="fleet-", dir=args.work_dir) as run_name:
            run_dir = Path(run_name)
            http_port = free_port(socket.SOCK_STREAM)
            config = write_config(run_dir, agents, args.interval, http_port, args.max_repetitions)
            started = time.monotonic()
            with running_daemon(config, run_dir / "daemon.log") as process:
                scraper = Scraper(http_port, args.scrape_every)
                try:
                    figures = watch(
                        process, http_port, args.rounds, started + deadline_s, started, scraper
                    )
                finally:
                    scraper.stopping.set()
                    if scraper.is_alive():
                        scraper.join(timeout=60)
                burst = scrape_burst(process.pid, http_port, args.burst)
                body = get(http_port, "/metrics", {"Accept-Encoding": "gzip"})
                memory = process_memory(process.pid)
                user, system = process_cpu_split(process.pid)
            summary = summarise(gzip.decompress(body).decode(), args.aps, args.scg)
            log_tail = (run_dir / "daemon.log").read_text(errors="replace")[-1500:]
    finally:
        agents.stop()
    report(args, figures, summary, scraper, memory)
    report_burst(burst)
    print(f"daemon CPU over the whole run: user {user:.1f} s, system {system:.1f} s")
    if not summary["all_targets_up"]:
        print("daemon log (tail):\n" + log_tail)


if __name__ == "__main__":
    main()
