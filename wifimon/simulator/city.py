"""The demo city: Mulhouse's quartiers, their landmarks and their access points.

A pure function of ``(aps, seed)``: the same pair always yields the same
city, AP for AP, so the snmpsim variation module (which rebuilds it inside
snmpsim's own Python), the inventory writer, the history writer and the
tests all agree without sharing a file. Stdlib only: this module is
imported by snmpsim's interpreter too (see ``variation/wifimon_city.py``).

Coordinates are approximate (a few hundred metres) and only place the map;
the landmarks are real. Privacy: AP MACs are locally administered
(``02:00:5e:…``), AP addresses come from the documentation ranges, and there
is no client identity anywhere in the model.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from functools import lru_cache

DEFAULT_APS = 300
DEFAULT_SEED = 1
MIN_APS = 20  # below this, a vendor, a dead AP or the rebooting AP may be missing
MAX_APS = 50_000

CENTRE = (47.7486, 7.3389)  # Place de la Réunion, approximately
METRES_PER_DEGREE_LAT = 111_320.0

# Which controller family serves a district; stand-alone APs may sit anywhere.
CISCO, ARUBA, GENERIC = "cisco-aireos", "aruba-controller", "generic"
APS_PER_CONTROLLER = 1000  # a controller of the demo never serves more
SSIDS = ("Mulhouse-WiFi", "eduroam")

# Site kinds, each with its own weekly rhythm (``load.PROFILES``) and size.
# capacity: clients one AP serves at full load; radius: spread of its APs (m).
KIND_CAPACITY = {
    "station": 60,
    "square": 45,
    "market": 40,
    "museum": 35,
    "campus": 50,
    "zoo": 35,
    "park": 25,
    "library": 20,
    "residential": 15,
}
KIND_RADIUS_M = {
    "station": 60,
    "square": 70,
    "market": 50,
    "museum": 40,
    "campus": 90,
    "zoo": 150,
    "park": 120,
    "library": 25,
    "residential": 250,
}
# City buildings that run their own stand-alone APs (no controller licence).
STANDALONE_KINDS = frozenset({"library"})


@dataclass(frozen=True, slots=True)
class SiteSpec:
    """A landmark: ``slug`` is the ``site`` label, e.g. ``"gare-centrale"``;
    ``weight`` is its share of APs relative to other sites (e.g. ``8``)."""

    slug: str
    title: str
    kind: str
    latitude: float
    longitude: float
    weight: float


@dataclass(frozen=True, slots=True)
class District:
    """A quartier: ``name`` is the ``district`` label, e.g. ``"Gare"``;
    ``vendor`` the controller family that serves it."""

    name: str
    latitude: float
    longitude: float
    vendor: str
    sites: tuple[SiteSpec, ...]


def _s(  # noqa: PLR0917 - the landmark table below reads best as positional rows
    slug: str, title: str, kind: str, lat: float, lon: float, weight: float
) -> SiteSpec:
    return SiteSpec(slug, title, kind, lat, lon, weight)


def _residential(prefix: str, lat: float, lon: float, weight: float = 1.0) -> tuple[SiteSpec, ...]:
    """The ordinary sites of a residential quartier: its streets, a park and
    the library (a city building with stand-alone APs)."""
    return (
        _s(f"{prefix}-rues", f"{prefix} streets", "residential", lat, lon, 3 * weight),
        _s(f"{prefix}-parc", f"{prefix} park", "park", lat + 0.0015, lon - 0.002, 1.2 * weight),
        _s(f"{prefix}-mediatheque", f"{prefix} library", "library", lat - 0.001, lon + 0.0015, 1),
    )


# fmt: off
DISTRICTS: tuple[District, ...] = (
    District("Centre", 47.7478, 7.3392, CISCO, (
        _s("place-de-la-reunion", "Place de la Réunion", "square", 47.7476, 7.3396, 10),
        _s("rue-du-sauvage", "Rue du Sauvage", "square", 47.7483, 7.3411, 7),
        _s("porte-jeune", "Place Porte Jeune", "square", 47.7473, 7.3358, 4),
        _s("musee-historique", "Musée historique (Hôtel de ville)", "museum", 47.7474, 7.3387, 2),
        _s("musee-beaux-arts", "Musée des Beaux-Arts", "museum", 47.7452, 7.3381, 2),
        _s("tour-de-l-europe", "Tour de l'Europe", "square", 47.7496, 7.3413, 2),
        _s("theatre-sinne", "Théâtre de la Sinne", "square", 47.7481, 7.3387, 2),
        _s("parc-salvator", "Parc Salvator", "park", 47.7510, 7.3425, 2),
    )),
    District("Gare", 47.7422, 7.3428, CISCO, (
        _s("gare-centrale", "Gare centrale", "station", 47.7419, 7.3428, 9),
        _s("parvis-gare", "Parvis de la gare", "station", 47.7426, 7.3421, 3),
        _s("passerelle-gare", "Passerelle de la gare", "station", 47.7412, 7.3446, 2),
        _s("musee-impression", "Musée de l'Impression sur Étoffes", "museum", 47.7440, 7.3411, 2),
    )),
    District("Fonderie", 47.7408, 7.3296, CISCO, (
        _s("kmo", "KMØ start-up campus", "campus", 47.7404, 7.3290, 7),
        _s("uha-fonderie", "Université, campus Fonderie", "campus", 47.7411, 7.3306, 2),
        _s("kunsthalle", "La Kunsthalle", "museum", 47.7407, 7.3298, 1),
        _s("canal-couvert", "Marché du Canal Couvert", "market", 47.7437, 7.3318, 3),
    )),
    District("Rebberg", 47.7350, 7.3460, CISCO, (
        _s("zoo", "Parc zoologique et botanique", "zoo", 47.7332, 7.3487, 3),
        *_residential("rebberg", 47.7355, 7.3440, 0.8),
    )),
    District("Nordfeld", 47.7555, 7.3355, CISCO, _residential("nordfeld", 47.7555, 7.3355)),
    District("Vauban-Neppert", 47.7503, 7.3497, CISCO,
             _residential("vauban-neppert", 47.7503, 7.3497)),
    District("Brustlein", 47.7362, 7.3232, CISCO, _residential("brustlein", 47.7362, 7.3232)),
    District("Dornach", 47.7468, 7.3075, ARUBA, (
        _s("cite-du-train", "Cité du Train", "museum", 47.7490, 7.2957, 3),
        _s("electropolis", "Musée Electropolis", "museum", 47.7496, 7.2978, 2),
        _s("gare-dornach", "Gare de Dornach", "station", 47.7443, 7.3069, 1),
        *_residential("dornach", 47.7465, 7.3085),
    )),
    District("Coteaux", 47.7410, 7.3055, ARUBA, (
        _s("campus-illberg", "Université, campus Illberg", "campus", 47.7317, 7.3110, 3),
        *_residential("coteaux", 47.7410, 7.3055, 1.3),
    )),
    District("Cité", 47.7560, 7.3240, ARUBA, (
        _s("cite-automobile", "Cité de l'Automobile", "museum", 47.7600, 7.3265, 4),
        _s("motoco", "Motoco (site DMC)", "campus", 47.7555, 7.3195, 2),
        *_residential("cite", 47.7545, 7.3250),
    )),
    District("Doller", 47.7625, 7.3195, ARUBA, _residential("doller", 47.7625, 7.3195)),
    District("Haut-Poirier", 47.7590, 7.3065, ARUBA,
             _residential("haut-poirier", 47.7590, 7.3065)),
    District("Bourtzwiller", 47.7718, 7.3300, ARUBA,
             _residential("bourtzwiller", 47.7718, 7.3300, 1.3)),
    District("Drouot", 47.7590, 7.3560, ARUBA, _residential("drouot", 47.7590, 7.3560, 1.1)),
    District("Wolf-Wagner", 47.7652, 7.3432, ARUBA, _residential("wolf-wagner", 47.7652, 7.3432)),
)
# fmt: on


@dataclass(frozen=True, slots=True)
class Radio:
    """One radio: ``band`` "2.4GHz" or "5GHz", ``channel`` e.g. ``36``,
    ``tx_power_dbm`` e.g. ``17``."""

    band: str
    channel: int
    tx_power_dbm: int


@dataclass(frozen=True, slots=True)
class AccessPoint:
    """One simulated AP; every field is fixed for the life of the city.

    ``ap`` is the inventory id (``"mul-0042"``), ``name`` the name its
    controller shows (``"GARE-CENTRALE-03"``), ``vendor`` the profile that
    reads it, ``controller`` its controller's name (empty when polled
    directly). ``capacity`` is clients at full load (e.g. ``60``), ``factor``
    its share of that (0.6..1.25), ``shift_s`` how far its rhythm leads or
    lags the site's (seconds, e.g. ``-900``), ``density`` how crowded its
    air is (0..1). ``dead`` APs never come up; ``reboot_period_s`` and
    ``reboot_phase_s`` schedule its reboots.
    """

    ap: str
    index: int
    name: str
    vendor: str
    controller: str
    district: str
    site: str
    kind: str
    latitude: float
    longitude: float
    mac: str
    ip: str
    serial: str
    model: str
    firmware: str
    radios: tuple[Radio, ...]
    capacity: int
    factor: float
    shift_s: float
    density: float
    eduroam_share: float
    dead: bool
    reboot_period_s: float
    reboot_phase_s: float
    reboot_downtime_s: float


@dataclass(frozen=True, slots=True)
class Controller:
    """A simulated controller: ``name`` e.g. ``"wlc-1"``, ``vendor`` the
    profile it answers, ``community`` the snmpsim data file that serves it."""

    name: str
    vendor: str
    district: str
    community: str
    boot_phase_s: float


@dataclass(frozen=True)
class City:
    """The whole simulated network; ``aps`` ordered by index.

    ``rebooting_ap`` is the flaky AP that reboots every few hours,
    ``wrapping_ap`` the busiest AP whose 32-bit uplink counter wraps often.
    """

    seed: int
    aps: tuple[AccessPoint, ...]
    controllers: tuple[Controller, ...]
    districts: tuple[District, ...]
    rebooting_ap: str
    wrapping_ap: str
    by_id: dict[str, AccessPoint] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {ap.ap: ap for ap in self.aps})

    def ap(self, ap_id: str) -> AccessPoint:
        return self.by_id[ap_id]

    def controller_aps(self, controller: str) -> list[AccessPoint]:
        return [ap for ap in self.aps if ap.controller == controller]

    def standalone_aps(self) -> list[AccessPoint]:
        return [ap for ap in self.aps if not ap.controller]


def stable_unit(*parts: object) -> float:
    """A uniform number in [0, 1) from its arguments, the same in every
    process and Python version (``hash()`` is salted per process)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _allocate(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` by ``weights`` (largest remainder): the sum is exact."""
    scale = total / sum(weights)
    shares = [weight * scale for weight in weights]
    counts = [math.floor(share) for share in shares]
    by_remainder = sorted(
        range(len(weights)), key=lambda i: (counts[i] - shares[i], i)
    )  # largest remainder first, ties by position
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


MIN_STANDALONE = 2  # even a small city has a live and a dead stand-alone AP


def _with_standalone(counts: list[int], sites: list[tuple[District, SiteSpec]]) -> list[int]:
    """Give the first library sites an AP each, taken from the largest site."""
    counts = list(counts)
    libraries = [i for i, (_, site) in enumerate(sites) if site.kind in STANDALONE_KINDS]
    for i in libraries[:MIN_STANDALONE]:
        if counts[i] == 0:
            donor = max(range(len(counts)), key=lambda j: counts[j])
            counts[donor] -= 1
            counts[i] += 1
    return counts


def _sites() -> list[tuple[District, SiteSpec]]:
    return [(district, site) for district in DISTRICTS for site in district.sites]


def build_city(aps: int = DEFAULT_APS, seed: int = DEFAULT_SEED) -> City:
    """The city of ``aps`` access points for ``seed``, e.g. ``build_city(300, 1)``."""
    return _build_city(aps, seed)


@lru_cache(maxsize=4)
def _build_city(total: int, seed: int) -> City:
    if not MIN_APS <= total <= MAX_APS:
        raise ValueError(f"the demo city has {MIN_APS}..{MAX_APS} access points, not {total}")
    rng = random.Random(f"wifimon-city-{seed}")  # noqa: S311 - a simulation, not a secret
    sites = _sites()
    counts = _with_standalone(_allocate(total, [site.weight for _, site in sites]), sites)
    placed: list[tuple[District, SiteSpec, int]] = [
        (district, site, n) for (district, site), n in zip(sites, counts, strict=True)
    ]
    drafts = _place_aps(placed, rng)
    dead = _choose_dead(drafts, rng)
    rebooting = _busiest(drafts, CISCO, kinds={"park", "residential"}, exclude=dead)
    wrapping = _busiest(drafts, CISCO, kinds={"station"}, exclude=dead | {rebooting})
    controllers, assignment = _controllers(drafts, seed)
    built = tuple(
        _finish(draft, index, seed, assignment, dead, rebooting, rng)
        for index, draft in enumerate(drafts, 1)
    )
    return City(
        seed, built, controllers, DISTRICTS, _ap_id(rebooting, total), _ap_id(wrapping, total)
    )


@dataclass(frozen=True, slots=True)
class _Draft:
    district: District
    site: SiteSpec
    number: int  # 1-based within the site
    vendor: str
    latitude: float
    longitude: float
    density: float


def _place_aps(placed: list[tuple[District, SiteSpec, int]], rng: random.Random) -> list[_Draft]:
    drafts: list[_Draft] = []
    for district, site, count in placed:
        radius = KIND_RADIUS_M[site.kind]
        # Crowded air: many APs of one site share few channels.
        density = min(1.0, count / 12)
        vendor = GENERIC if site.kind in STANDALONE_KINDS else district.vendor
        for number in range(1, count + 1):
            distance = radius * math.sqrt(rng.random())
            angle = rng.uniform(0, 2 * math.pi)
            north, east = distance * math.cos(angle), distance * math.sin(angle)
            lat = site.latitude + north / METRES_PER_DEGREE_LAT
            lon = site.longitude + east / (
                METRES_PER_DEGREE_LAT * math.cos(math.radians(site.latitude))
            )
            drafts.append(
                _Draft(district, site, number, vendor, round(lat, 6), round(lon, 6), density)
            )
    return drafts


def _choose_dead(drafts: list[_Draft], rng: random.Random) -> set[int]:
    """About 1.5% of APs, at least one per vendor: positions in ``drafts``."""
    dead: set[int] = set()
    for vendor in (CISCO, ARUBA, GENERIC):
        candidates = [i for i, draft in enumerate(drafts) if draft.vendor == vendor]
        # At least one per vendor, but never a vendor's last live AP.
        share = min(max(1, round(len(candidates) * 0.015)), len(candidates) - 1)
        if share > 0:
            dead.update(rng.sample(candidates, share))
    return dead


def _busiest(drafts: list[_Draft], vendor: str, kinds: set[str], exclude: set[int]) -> int:
    """The first AP of ``vendor`` at a site of ``kinds`` (falls back to any)."""
    for wanted in (kinds, set(KIND_CAPACITY)):
        for i, draft in enumerate(drafts):
            if draft.vendor == vendor and draft.site.kind in wanted and i not in exclude:
                return i
    raise ValueError(f"the city has no {vendor} access point")


def _ap_id(position: int, total: int) -> str:
    return f"mul-{position + 1:0{max(4, len(str(total)))}d}"


def _controllers(drafts: list[_Draft], seed: int) -> tuple[tuple[Controller, ...], list[str]]:
    """Controllers per vendor (one per ``APS_PER_CONTROLLER`` APs), each AP
    assigned by district so a controller serves whole quartiers where it can."""
    assignment = [""] * len(drafts)
    controllers: list[Controller] = []
    for vendor, prefix in ((CISCO, "wlc"), (ARUBA, "mc")):
        members = [i for i, draft in enumerate(drafts) if draft.vendor == vendor]
        count = max(1, math.ceil(len(members) / APS_PER_CONTROLLER))
        for n in range(count):
            part = members[n * len(members) // count : (n + 1) * len(members) // count]
            name = f"{prefix}-{n + 1}"
            home = drafts[part[0]].district.name if part else ""
            phase = stable_unit(seed, "controller", name) * 180 * 86400
            controllers.append(Controller(name, vendor, home, f"city/{name}", phase))
            for i in part:
                assignment[i] = name
    return tuple(controllers), assignment


_MODELS = {
    CISCO: (("AIR-AP2802I-E-K9", "AIR-AP1562E-E-K9"), "8.10.185.0", "FGL"),
    ARUBA: (("AP-515", "AP-575"), "8.10.0.6_88081", "CNR"),
    GENERIC: (("OpenWrt AP",), "OpenWrt 23.05.3", "OWT"),
}
_VENDOR_BYTE = {CISCO: 0x10, ARUBA: 0x20, GENERIC: 0x30}
_CHANNELS_5 = (36, 40, 44, 48, 52, 56, 60, 64, 100, 104, 108, 112, 116, 132, 136, 140)
OUTDOOR_KINDS = frozenset({"square", "park", "zoo", "station", "residential"})


def _finish(  # noqa: PLR0917 - one call site, arguments in build order
    draft: _Draft,
    index: int,
    seed: int,
    assignment: list[str],
    dead: set[int],
    rebooting: int,
    rng: random.Random,
) -> AccessPoint:
    position = index - 1
    models, firmware, serial_prefix = _MODELS[draft.vendor]
    outdoor = draft.site.kind in OUTDOOR_KINDS and len(models) > 1
    ap_id = f"mul-{index:0{max(4, len(str(len(assignment))))}d}"
    code = draft.site.slug.upper()[:20]
    radios = (
        Radio("2.4GHz", (1, 6, 11)[rng.randrange(3)], rng.choice((14, 17))),
        Radio("5GHz", rng.choice(_CHANNELS_5), rng.choice((17, 20))),
    )
    period, phase, downtime = _reboot_schedule(seed, ap_id, position == rebooting)
    return AccessPoint(
        ap=ap_id,
        index=index,
        name=f"{code}-{draft.number:02d}",
        vendor=draft.vendor,
        controller=assignment[position],
        district=draft.district.name,
        site=draft.site.slug,
        kind=draft.site.kind,
        latitude=draft.latitude,
        longitude=draft.longitude,
        mac=_mac(draft.vendor, index),
        ip=_ip(draft.vendor, index),
        serial=f"{serial_prefix}{seed % 100:02d}{index:06d}",
        model=models[1] if outdoor else models[0],
        firmware=firmware,
        radios=radios,
        capacity=KIND_CAPACITY[draft.site.kind],
        factor=round(rng.uniform(0.6, 1.25), 3),
        # Whole minutes, so its hourly knots fall on the clients' minute grid.
        shift_s=60.0 * rng.randint(-30, 30),
        density=round(draft.density, 3),
        eduroam_share=0.4 if draft.site.kind == "campus" else 0.12,
        dead=position in dead,
        reboot_period_s=period,
        reboot_phase_s=phase,
        reboot_downtime_s=downtime,
    )


REBOOT_PERIOD_FLAKY_S = 3 * 3600.0  # the flaky AP (bad PoE injector) reboots every 3 h
# While an AP reboots it is not joined (controller APs) and counts nothing:
# its agents hide clients, counters and radio gauges for 3 min. Its uptime
# restarts at the reboot itself, so a poll never sees new counters with an
# old uptime as long as one poll takes less than this much simulated time.
REBOOT_DOWNTIME_S = 180.0


def _reboot_schedule(seed: int, ap_id: str, flaky: bool) -> tuple[float, float, float]:
    """(period, phase, downtime) in seconds. Every AP reboots for maintenance
    every 30-90 days at night, which also keeps uptimes and counters bounded;
    the flaky AP reboots every 3 h."""
    downtime = REBOOT_DOWNTIME_S
    if flaky:
        return REBOOT_PERIOD_FLAKY_S, stable_unit(seed, ap_id, "flaky") * 3 * 3600, downtime
    days = 30 + int(stable_unit(seed, ap_id, "period") * 61)
    day = int(stable_unit(seed, ap_id, "day") * days)
    night = 3600 * (2 + 3 * stable_unit(seed, ap_id, "night"))  # 02:00-05:00 CET
    return days * 86400.0, day * 86400.0 + night, downtime


def _mac(vendor: str, index: int) -> str:
    """Locally administered, never a real vendor's: ``02:00:5e:VV:HH:LL``."""
    return f"02:00:5e:{_VENDOR_BYTE[vendor]:02x}:{index >> 8 & 0xFF:02x}:{index & 0xFF:02x}"


def _ip(vendor: str, index: int) -> str:
    """Documentation addresses (RFC 5737); they repeat after 254 APs per
    vendor, which no part of wifimon minds."""
    if vendor == GENERIC:
        return ""  # polled at 127.0.0.1; IF-MIB reports no address to show
    network = "192.0.2" if vendor == CISCO else "198.51.100"
    return f"{network}.{(index - 1) % 254 + 1}"


def radio_index(vendor: str, radio: int) -> int:
    """The SNMP index (and ``radio`` label) of model radio ``radio`` (0 is
    2.4 GHz, 1 is 5 GHz): Cisco slots 0/1, Aruba radio0 = 5 GHz, and the
    stand-alone APs' wlan0/wlan1 interfaces are ifIndex 2/3 (eth0 is 1)."""
    if vendor == ARUBA:
        return 1 - radio
    if vendor == GENERIC:
        return 2 + radio
    return radio
