"""From observed APs to catalogue samples: identity, inventory, counters.

This is where an AP gets its stable ``ap`` id (the inventory's id, else one
derived from its base MAC, never an SNMP row index), its ``site`` and
``district`` (inventory, else the controller's defaults), where raw counters
become monotonic exported counters, and where every AP the inventory lists
or a controller once showed is kept, at ``wifimon_ap_up 0``, when it is
missing or unreachable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from wifimon.catalogue import Metric, metric
from wifimon.counters import CounterReconciler
from wifimon.profiles.evaluate import Measured, ObservedAp, ObservedRadio
from wifimon.snapshot import Sample
from wifimon.snmp.types import ValueKind

UNASSIGNED = "unassigned"

# Looked up once: samples are built 10^5 times per round.
_AP_INFO = metric("wifimon_ap_info")
_AP_UP = metric("wifimon_ap_up")
_AP_LAST_SEEN = metric("wifimon_ap_last_seen_timestamp_seconds")
_AP_UPTIME = metric("wifimon_ap_uptime_seconds")
_AP_CLIENTS = metric("wifimon_ap_clients")
_AP_COUNTERS = tuple(
    (quantity, metric(f"wifimon_ap_{quantity}"))
    for quantity in ("receive_bytes_total", "transmit_bytes_total")
)
_CONTROLLER_APS = metric("wifimon_controller_aps")
_SSID_CLIENTS = metric("wifimon_ssid_clients")
_RADIO_METRICS: dict[str, Metric] = {}


def _radio_metric(quantity: str) -> Metric:
    found = _RADIO_METRICS.get(quantity)
    if found is None:
        found = _RADIO_METRICS[quantity] = metric(f"wifimon_radio_{quantity}")
    return found


@dataclass(frozen=True, slots=True)
class KnownAp:
    """What wifimon knows of an AP between polls (and across restarts).

    ``last_seen`` is the Unix time it was last seen up (0 if never);
    ``mac`` is "aa:bb:cc:dd:ee:ff" or empty; coordinates are decimal
    degrees as text (e.g. "47.7508"), empty when unknown.
    """

    ap: str
    controller: str = ""
    name: str = ""
    mac: str = ""
    site: str = UNASSIGNED
    district: str = UNASSIGNED
    latitude: str = ""
    longitude: str = ""
    vendor: str = ""
    model: str = ""
    serial: str = ""
    ip: str = ""
    firmware: str = ""
    last_seen: float = 0.0


@dataclass(frozen=True, slots=True)
class TargetRole:
    """The SNMP target being normalised: a controller or a single AP.

    ``inventory`` holds the configured APs that belong to it (for a direct
    AP, exactly one); ``site``/``district`` are defaults for its APs.
    """

    name: str
    controller: bool
    inventory: tuple[KnownAp, ...]
    site: str = UNASSIGNED
    district: str = UNASSIGNED


@dataclass
class Normalised:
    samples: list[Sample] = field(default_factory=list)
    known: dict[str, KnownAp] = field(default_factory=dict)


def ap_id_from_mac(mac: str) -> str:
    """``"00:3a:98:b0:2e:70"`` -> ``"003a98b02e70"``: stable across polls."""
    return mac.replace(":", "")


class _Matcher:
    """Inventory lookups for one target: by MAC first, then by name."""

    def __init__(self, inventory: Iterable[KnownAp]) -> None:
        entries = list(inventory)
        self.by_mac = {entry.mac: entry for entry in entries if entry.mac}
        self.by_name = {entry.name: entry for entry in entries if entry.name}

    def find(self, mac: str | None, name: str) -> KnownAp | None:
        if mac and mac in self.by_mac:
            return self.by_mac[mac]
        return self.by_name.get(name) if name else None


def _text(values: Mapping[str, Measured], name: str) -> str:
    found = values.get(name)
    return str(found.value) if found is not None else ""


def _identify(observed: ObservedAp, role: TargetRole, matcher: _Matcher) -> KnownAp | None:
    name = _text(observed.values, "name")
    if not role.controller:
        base = role.inventory[0]
    else:
        match = matcher.find(observed.mac, name)
        if match is not None:
            base = match
        elif observed.mac:
            base = KnownAp(ap=ap_id_from_mac(observed.mac), site=role.site, district=role.district)
        else:
            return None  # no MAC, no inventory entry: no stable identity
    values = observed.values
    # Spelled out rather than dataclasses.replace(): this runs once per AP per
    # poll (7,682 times for one SmartCell Gateway) and replace() costs 3x more.
    return KnownAp(
        ap=base.ap,
        controller=role.name if role.controller else base.controller,
        name=name or base.name,
        mac=observed.mac or base.mac,
        site=base.site,
        district=base.district,
        latitude=base.latitude,
        longitude=base.longitude,
        vendor=base.vendor,
        model=_text(values, "model") or base.model,
        serial=_text(values, "serial") or base.serial,
        ip=_text(values, "ip") or base.ip,
        firmware=_text(values, "firmware") or base.firmware,
        last_seen=base.last_seen,
    )


def _stamped(identity: KnownAp, vendor: str, last_seen: float) -> KnownAp:
    """``identity`` with this poll's vendor and last-seen time."""
    return KnownAp(
        ap=identity.ap,
        controller=identity.controller,
        name=identity.name,
        mac=identity.mac,
        site=identity.site,
        district=identity.district,
        latitude=identity.latitude,
        longitude=identity.longitude,
        vendor=vendor or identity.vendor,
        model=identity.model,
        serial=identity.serial,
        ip=identity.ip,
        firmware=identity.firmware,
        last_seen=last_seen,
    )


class Normaliser:
    """Turns one target's observations into samples, keeping counter state."""

    def __init__(self, counters: CounterReconciler, interval: float) -> None:
        self.counters = counters
        self.interval = interval

    def normalise(
        self,
        role: TargetRole,
        observed: list[ObservedAp] | None,
        known: Mapping[str, KnownAp],
        vendor: str,
        now: float,
    ) -> Normalised:
        """``observed`` is ``None`` when the target could not be polled."""
        out = Normalised()
        matcher = _Matcher(role.inventory)
        seen: set[str] = set()
        up_count = 0
        for ap in observed or []:
            identity = _identify(ap, role, matcher)
            if identity is not None and identity.ap in seen and role.controller and ap.mac:
                # An inventory name matched twice (many APs keep a factory
                # name such as "RuckusAP"): the later ones keep their MAC id.
                identity = replace(
                    identity,
                    ap=ap_id_from_mac(ap.mac),
                    site=role.site,
                    district=role.district,
                    latitude="",
                    longitude="",
                )
            if identity is None or identity.ap in seen:
                continue
            seen.add(identity.ap)
            previous = known.get(identity.ap)
            last_seen = now if ap.up else (previous.last_seen if previous else 0.0)
            entry = _stamped(identity, vendor, last_seen)
            out.known[entry.ap] = entry
            up_count += ap.up
            self._emit_ap(out.samples, entry, ap, now)
        down = self._emit_missing(out, role, known, seen, now)
        if role.controller:
            self._emit_controller(
                out.samples, role.name, up_count, down + len(seen) - up_count, now
            )
        return out

    def _emit_missing(
        self,
        out: Normalised,
        role: TargetRole,
        known: Mapping[str, KnownAp],
        seen: set[str],
        now: float,
    ) -> int:
        """Inventory APs and APs this target showed before, now absent."""
        absent: dict[str, KnownAp] = {}
        for entry in role.inventory:
            absent.setdefault(entry.ap, known.get(entry.ap, entry))
        if role.controller:
            # Only a controller inherits the APs it showed before; checked
            # outside the loop, since a directly polled AP would otherwise
            # scan every known AP of the city (10^4 x 10^4 per round).
            for entry in known.values():
                if entry.controller == role.name:
                    absent.setdefault(entry.ap, entry)
        count = 0
        for ap_id, entry in absent.items():
            if ap_id in seen:
                continue
            out.known[ap_id] = entry
            labels = (entry.ap, entry.site, entry.district)
            _add(out.samples, _AP_INFO, _info_labels(entry), 1, now)
            _add(out.samples, _AP_UP, labels, 0, now)
            if entry.last_seen:
                _add(out.samples, _AP_LAST_SEEN, labels, entry.last_seen, now)
            count += 1
        return count

    def _emit_controller(
        self, samples: list[Sample], name: str, up: int, down: int, now: float
    ) -> None:
        _add(samples, _CONTROLLER_APS, (name, "up"), up, now)
        _add(samples, _CONTROLLER_APS, (name, "down"), down, now)

    def _emit_ap(self, samples: list[Sample], entry: KnownAp, ap: ObservedAp, now: float) -> None:
        labels = (entry.ap, entry.site, entry.district)
        _add(samples, _AP_INFO, _info_labels(entry), 1, now)
        _add(samples, _AP_UP, labels, 1 if ap.up else 0, now)
        if entry.last_seen:
            _add(samples, _AP_LAST_SEEN, labels, entry.last_seen, now)
        uptime = _number(ap.values.get("uptime_seconds"))
        if uptime is not None:
            _add(samples, _AP_UPTIME, labels, uptime, now)
        clients = _number(ap.values.get("clients"))
        if clients is None and ap.radios:
            clients = _sum(_number(r.values.get("clients")) for r in ap.radios.values())
        if clients is not None:
            _add(samples, _AP_CLIENTS, labels, clients, now)
        for quantity, counter in _AP_COUNTERS:
            self._counter(samples, counter, labels, ap.values.get(quantity), uptime=uptime, now=now)
        for radio in ap.radios.values():
            self._emit_radio(samples, labels, radio, uptime, now)
        for ssid, values in ap.ssids.items():
            clients_on_ssid = _number(values.get("clients"))
            if clients_on_ssid is not None:
                _add(samples, _SSID_CLIENTS, (*labels, ssid), clients_on_ssid, now)

    def _emit_radio(
        self,
        samples: list[Sample],
        ap_labels: tuple[str, str, str],
        radio: ObservedRadio,
        uptime: float | None,
        now: float,
    ) -> None:
        labels = (*ap_labels, radio.radio, radio.band)
        for quantity, measured in radio.values.items():
            radio_metric = _radio_metric(quantity)
            if quantity.endswith("_total"):
                self._counter(samples, radio_metric, labels, measured, uptime=uptime, now=now)
                continue
            value = _number(measured)
            if value is not None:
                _add(samples, radio_metric, labels, value, now)

    def _counter(
        self,
        samples: list[Sample],
        counter: Metric,
        labels: tuple[str, ...],
        measured: Measured | None,
        *,
        uptime: float | None,
        now: float,
    ) -> None:
        value = _number(measured)
        if measured is None or value is None or value < 0:
            return
        width = 32 if measured.kind is ValueKind.COUNTER32 else 64
        exported = self.counters.observe(
            (counter.name, labels), int(value), width, uptime, self.interval, None
        )
        _add(samples, counter, labels, exported, now)


def _info_labels(entry: KnownAp) -> tuple[str, ...]:
    return (
        entry.ap,
        entry.site,
        entry.district,
        entry.name,
        entry.vendor,
        entry.model,
        entry.serial,
        entry.mac,
        entry.ip,
        entry.firmware,
        entry.controller,
        entry.latitude,
        entry.longitude,
    )


def _number(measured: Measured | None) -> int | float | None:
    if measured is None or isinstance(measured.value, (str, bytes)):
        return None
    return measured.value


def _sum(values: Iterable[int | float | None]) -> int | float | None:
    present = [value for value in values if value is not None]
    return sum(present) if present else None


def _add(
    samples: list[Sample], which: Metric, labels: tuple[str, ...], value: float, now: float
) -> None:
    samples.append(Sample(which, labels, value, now))
