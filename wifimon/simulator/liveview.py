"""The demo's terminal view: the daemon's own ``/metrics``, summed by district.

It reads what the daemon exports, as Prometheus would, so the view shows
wifimon's output, not the simulator's. On a terminal it redraws a table
with plain ANSI escapes; otherwise it prints one line per refresh.
Traffic rates come from counter differences between two refreshes, with a
counter that went down counted as a reset (what ``rate()`` does), and are
timed by the daemon's own poll timestamps and shown per simulated second,
so neither the refresh period nor ``--speed`` skews them.
"""

from __future__ import annotations

import urllib.request
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from prometheus_client.parser import text_string_to_metric_families

CET = timezone(timedelta(hours=1), "CET")  # the model's clock (load.py)
CLEAR = "\x1b[H\x1b[2J"
BOLD, RED, GREEN, DIM, RESET = "\x1b[1m", "\x1b[31m", "\x1b[32m", "\x1b[2m", "\x1b[0m"
COUNTERS = ("wifimon_ap_receive_bytes_total", "wifimon_ap_transmit_bytes_total")


@dataclass
class District:
    """One row of the view: APs up of known, clients, bytes/s (rx, tx)."""

    up: int = 0
    known: int = 0
    clients: int = 0
    rates: list[float] = field(default_factory=lambda: [0.0, 0.0])


@dataclass
class Summary:
    districts: dict[str, District]
    targets_up: int
    targets: int


def fetch_metrics(url: str, timeout: float = 5.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - our own loopback URL
        body: bytes = response.read()
        return body.decode()


class Aggregator:
    """Sums one scrape by district, and rates against the previous poll;
    ``speed`` is simulated seconds per wall second."""

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = speed
        self._previous: dict[tuple[str, str], float] = {}
        self._previous_poll: float | None = None
        self._rates_shown: dict[str, list[float]] = {}

    def summarise(self, text: str) -> Summary:
        districts: dict[str, District] = defaultdict(District)
        counters: dict[tuple[str, str], tuple[str, float]] = {}
        targets_up = targets = 0
        polled = 0.0  # wall time of the newest complete poll
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels, value = sample.labels, float(sample.value)
                if sample.name == "wifimon_ap_up":
                    row = districts[labels.get("district", "?")]
                    row.known += 1
                    row.up += int(value == 1)
                elif sample.name == "wifimon_ap_clients":
                    districts[labels.get("district", "?")].clients += int(value)
                elif sample.name in COUNTERS:
                    key = (sample.name, labels.get("ap", ""))
                    counters[key] = (labels.get("district", "?"), value)
                elif sample.name == "wifimon_target_up":
                    targets += 1
                    targets_up += int(value == 1)
                elif sample.name == "wifimon_target_last_success_timestamp_seconds":
                    polled = max(polled, value)
        self._rates(districts, counters, polled)
        return Summary(dict(sorted(districts.items())), targets_up, targets)

    def _rates(
        self,
        districts: dict[str, District],
        counters: dict[tuple[str, str], tuple[str, float]],
        polled: float,
    ) -> None:
        current = {key: value for key, (_, value) in counters.items()}
        if current == self._previous:  # no poll since the last refresh: same rates
            for name, rates in self._rates_shown.items():
                districts[name].rates = list(rates)
            return
        previous = self._previous_poll
        elapsed = None if previous is None else (polled - previous) * self.speed
        if elapsed is not None and elapsed > 0:
            for (name, ap), (district, value) in counters.items():
                before = self._previous.get((name, ap))
                if before is None:
                    continue
                increase = value - before if value >= before else value  # a reset
                districts[district].rates[COUNTERS.index(name)] += increase / elapsed
        self._previous, self._previous_poll = current, polled
        self._rates_shown = {name: list(row.rates) for name, row in districts.items()}


def _mbit(bytes_per_s: float) -> str:
    return f"{bytes_per_s * 8 / 1e6:8.1f}"


def clock_text(sim_time: float) -> str:
    return datetime.fromtimestamp(sim_time, CET).strftime("%a %d %b %Y %H:%M:%S CET")


def render_screen(summary: Summary, sim_time: float, speed: float, metrics_url: str) -> str:
    """The whole screen for a terminal."""
    lines = [
        f"{BOLD}wifimon demo: Mulhouse public Wi-Fi{RESET}   {clock_text(sim_time)}"
        f"   speed x{speed:g}",
        f"{DIM}metrics: {metrics_url}   Ctrl-C stops everything{RESET}",
        "",
        f"{'district':<16}{'APs up':>10}{'clients':>9}{'rx Mbit/s':>11}{'tx Mbit/s':>11}",
    ]
    total = District()
    for name, row in summary.districts.items():
        colour = GREEN if row.up == row.known else RED
        lines.append(
            f"{name:<16}{colour}{row.up:>5}/{row.known:<4}{RESET}{row.clients:>9}"
            f"  {_mbit(row.rates[0])}   {_mbit(row.rates[1])}"
        )
        total.up, total.known, total.clients = (
            total.up + row.up,
            total.known + row.known,
            total.clients + row.clients,
        )
        total.rates = [total.rates[0] + row.rates[0], total.rates[1] + row.rates[1]]
    lines.append(
        f"{BOLD}{'city':<16}{total.up:>5}/{total.known:<4}{total.clients:>9}"
        f"  {_mbit(total.rates[0])}   {_mbit(total.rates[1])}{RESET}"
    )
    lines.append(f"{DIM}SNMP targets answering: {summary.targets_up}/{summary.targets}{RESET}")
    return CLEAR + "\n".join(lines) + "\n"


def render_line(summary: Summary, sim_time: float) -> str:
    """One line per refresh, for logs and pipes."""
    up = sum(row.up for row in summary.districts.values())
    known = sum(row.known for row in summary.districts.values())
    clients = sum(row.clients for row in summary.districts.values())
    rx = sum(row.rates[0] for row in summary.districts.values())
    tx = sum(row.rates[1] for row in summary.districts.values())
    return (
        f"{clock_text(sim_time)}  APs up {up}/{known}  clients {clients}  "
        f"rx {rx * 8 / 1e6:.1f} Mbit/s  tx {tx * 8 / 1e6:.1f} Mbit/s  "
        f"targets {summary.targets_up}/{summary.targets}\n"
    )
