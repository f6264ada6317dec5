"""What the daemon exports for a simulated AP at a moment, computed from the model.

It mirrors, vendor by vendor, what the shipped profiles read from the
city's agents (``agents.py``) and what ``normalise.py`` makes of it:
catalogue names and labels, the ``info`` attributes, scaled gauges, and
counters reconciled by the daemon's own ``CounterReconciler`` (reboots,
32-bit wraps), so history written from here reads as if wifimon had been
polling the city all along.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from wifimon.counters import CounterReconciler
from wifimon.simulator.city import ARUBA, CISCO, GENERIC, SSIDS, AccessPoint, radio_index
from wifimon.simulator.load import ApState
from wifimon.simulator.quantities import (
    cell_bytes,
    failures,
    noise_dbm,
    radio_bytes,
    radio_clients,
    retries,
    ssid_clients,
    uplink_bytes,
    uptime_ticks,
    utilisation_percent,
)
from wifimon.simulator.truth import reported_up

VENDOR_NAMES = {CISCO: "Cisco", ARUBA: "Aruba", GENERIC: "generic"}  # the profiles' `vendor`


@dataclass(frozen=True, slots=True)
class Exported:
    """One sample: ``name`` a catalogue metric, ``labels`` its label values
    in catalogue order, ``value`` as the daemon exports it."""

    name: str
    labels: tuple[str, ...]
    value: int | float


def _scaled(value: int, scale: float) -> float:
    return round(value * scale, 9)  # what the profile evaluator does to a scaled value


def info_labels(ap: AccessPoint, seen: bool) -> tuple[str, ...]:
    """``wifimon_ap_info``'s labels; an AP never seen shows only its inventory."""
    attributes = _attributes(ap) if seen else ("", "", "", "", "")
    vendor, model, serial, ip, firmware = attributes
    return (
        ap.ap, ap.site, ap.district, ap.name, vendor, model, serial, ap.mac, ip, firmware,
        ap.controller, f"{ap.latitude:g}", f"{ap.longitude:g}",
    )  # fmt: skip


def _attributes(ap: AccessPoint) -> tuple[str, str, str, str, str]:
    """(vendor, model, serial, ip, firmware) as the AP's agent reports them."""
    vendor = VENDOR_NAMES[ap.vendor]
    if ap.vendor == GENERIC:  # IF-MIB/802.11 MIBs: no serial, no address
        return vendor, ap.model, "", "", ap.firmware
    model = ap.model.removeprefix("AP-") if ap.vendor == ARUBA else ap.model
    return vendor, model, ap.serial, ap.ip, ap.firmware


class ApExporter:
    """The samples of one AP over successive moments (counter state kept).

    ``interval`` is the poll interval in seconds, as the daemon passes it
    to its counter reconciler.
    """

    def __init__(self, seed: int, ap: AccessPoint, interval: float) -> None:
        self.seed, self.ap, self.interval = seed, ap, interval
        self.counters = CounterReconciler()
        self.last_seen = 0.0
        self.seen = False

    def samples(self, st: ApState, t: float) -> list[Exported]:
        ap = self.ap
        answered = not (ap.dead and ap.vendor == GENERIC)  # a dead agent is silent
        self.seen = self.seen or answered
        up = reported_up(ap, st)
        if up:
            self.last_seen = t
        labels = (ap.ap, ap.site, ap.district)
        out = [
            Exported("wifimon_ap_info", info_labels(ap, self.seen), 1),
            Exported("wifimon_ap_up", labels, int(up)),
        ]
        if self.last_seen:
            out.append(Exported("wifimon_ap_last_seen_timestamp_seconds", labels, self.last_seen))
        if not answered:
            return out
        if ap.dead:  # the controller's row: identity and state only
            if ap.vendor == ARUBA:
                out.append(Exported("wifimon_ap_uptime_seconds", labels, 0))
            return out
        uptime = _scaled(uptime_ticks(st.uptime_s), 0.01)
        out.append(Exported("wifimon_ap_uptime_seconds", labels, uptime))
        if not st.counting:  # rebooting: only the radios' static rows remain
            return out + [sample for radio in (0, 1) for sample in self._static_radio(radio)]
        if ap.vendor != GENERIC:
            out.append(Exported("wifimon_ap_clients", labels, st.clients))
        for name, raw, width in self._ap_counters(st):
            out.append(self._counter(name, labels, raw, width, uptime))
        for radio in (0, 1):
            out += self._radio(st, t, radio, uptime)
        if ap.vendor != GENERIC:
            for wlan, ssid in enumerate(SSIDS, 1):
                out.append(
                    Exported("wifimon_ssid_clients", (*labels, ssid), ssid_clients(ap, st, wlan))
                )
        return out

    def _radio_labels(self, radio: int) -> tuple[str, ...]:
        ap = self.ap
        index = str(radio_index(ap.vendor, radio))
        return (ap.ap, ap.site, ap.district, index, ap.radios[radio].band)

    def _static_radio(self, radio: int) -> list[Exported]:
        """Channel and (controllers) transmit power: configuration, always answered."""
        labels, spec = self._radio_labels(radio), self.ap.radios[radio]
        out = [Exported("wifimon_radio_channel", labels, spec.channel)]
        if self.ap.vendor != GENERIC:
            power: int | float = spec.tx_power_dbm  # Cisco: the level's row of the power table
            if self.ap.vendor == ARUBA:
                power = _scaled(10 * spec.tx_power_dbm, 0.1)  # wlanAPRadioTransmitPower10x
            out.append(Exported("wifimon_radio_tx_power_dbm", labels, power))
        return out

    def _counter(
        self, name: str, labels: tuple[str, ...], raw: int, width: int, uptime: float
    ) -> Exported:
        value = self.counters.observe((name, labels), raw % 2**width, width, uptime, self.interval)
        return Exported(name, labels, value)

    def _ap_counters(self, st: ApState) -> Iterator[tuple[str, int, int]]:
        width = 32 if self.ap.vendor == CISCO else 64  # Cisco's uplink has no HC column
        yield "wifimon_ap_receive_bytes_total", uplink_bytes(st, receive=True), width
        yield "wifimon_ap_transmit_bytes_total", uplink_bytes(st, receive=False), width

    def _radio(self, st: ApState, t: float, radio: int, uptime: float) -> list[Exported]:
        ap, labels = self.ap, self._radio_labels(radio)
        out = self._static_radio(radio)
        if ap.vendor != GENERIC:
            util = utilisation_percent(self.seed, ap, st, radio, t)
            out += [
                Exported("wifimon_radio_clients", labels, radio_clients(st, radio)),
                Exported(
                    "wifimon_radio_noise_floor_dbm", labels, noise_dbm(self.seed, ap, st, radio, t)
                ),
                Exported("wifimon_radio_channel_utilization_ratio", labels, _scaled(util, 0.01)),
            ]
        counters = [
            ("wifimon_radio_retries_total", retries(ap, st, radio), 32),
            ("wifimon_radio_failures_total", failures(ap, st, radio), 32),
            ("wifimon_radio_receive_bytes_total", self._radio_bytes(st, radio, False), 64),
            ("wifimon_radio_transmit_bytes_total", self._radio_bytes(st, radio, True), 64),
        ]
        for name, raw, width in counters:
            out.append(self._counter(name, labels, raw, width, uptime))
        return out

    def _radio_bytes(self, st: ApState, radio: int, transmit: bool) -> int:
        if self.ap.vendor == CISCO:  # the sum of the radio's per-WLAN rows
            return sum(cell_bytes(self.ap, st, radio, wlan, transmit) for wlan in (1, 2))
        return radio_bytes(st, radio, transmit)
