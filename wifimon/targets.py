"""From a loaded config to the list of SNMP targets a poll round visits.

Controllers are targets; so is every AP with a ``host`` (polled directly).
APs with a ``controller`` become that controller's inventory, matched
against its tables by MAC, else by name. Also converts known APs to and
from the state file.
"""

from __future__ import annotations

from wifimon.config import Config
from wifimon.config.schema import AccessPoint, Controller
from wifimon.normalise import UNASSIGNED, KnownAp, TargetRole
from wifimon.scheduler import PollTarget
from wifimon.sharding import Shard, owned
from wifimon.state import PersistedState


def _coordinate(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def inventory_entry(ap: AccessPoint, controller: Controller | None) -> KnownAp:
    """The inventory view of a configured AP (site/district inherited)."""
    site = ap.site or (controller.site if controller else None) or UNASSIGNED
    district = ap.district or (controller.district if controller else None) or UNASSIGNED
    return KnownAp(
        ap=ap.ap,
        controller=ap.controller or "",
        name=ap.name or "",
        mac=ap.mac or "",
        site=site,
        district=district,
        latitude=_coordinate(ap.latitude),
        longitude=_coordinate(ap.longitude),
    )


def build_targets(config: Config, shard: Shard | None = None) -> list[PollTarget]:
    """The targets this daemon polls: those its shard owns (``shard``, else
    ``config.shard``; ``WHOLE_FLEET`` for all of them), each controller with
    its AP inventory."""
    controllers = {controller.name: controller for controller in config.controllers}
    budget = config.poll.target_budget
    targets: list[PollTarget] = []
    for controller in config.controllers:
        inventory = tuple(
            inventory_entry(ap, controller)
            for ap in config.access_points
            if ap.controller == controller.name
        )
        role = TargetRole(
            name=controller.name,
            controller=True,
            inventory=inventory,
            site=controller.site or UNASSIGNED,
            district=controller.district or UNASSIGNED,
        )
        targets.append(PollTarget(config.snmp_target(controller), controller.profile, role, budget))
    for ap in config.access_points:
        if ap.host is None:
            continue
        entry = inventory_entry(ap, controllers.get(ap.controller or ""))
        role = TargetRole(
            name=ap.ap,
            controller=False,
            inventory=(entry,),
            site=entry.site,
            district=entry.district,
        )
        targets.append(PollTarget(config.snmp_target(ap), ap.profile, role, budget))
    return owned(targets, shard or config.shard, lambda target: target.snmp.name)


_KNOWN_FIELDS = tuple(KnownAp.__dataclass_fields__)


def known_to_state(known: dict[str, KnownAp]) -> dict[str, dict[str, object]]:
    return {
        ap_id: {name: getattr(entry, name) for name in _KNOWN_FIELDS}
        for ap_id, entry in known.items()
    }


def known_from_state(state: PersistedState) -> dict[str, KnownAp]:
    """Known APs from the state file; entries that do not fit are skipped."""
    known: dict[str, KnownAp] = {}
    for ap_id, fields in state.known_aps.items():
        values = {name: fields[name] for name in _KNOWN_FIELDS if name in fields}
        try:
            entry = KnownAp(**values)  # type: ignore[arg-type]
        except TypeError:
            continue
        if entry.ap == ap_id:
            known[ap_id] = KnownAp(
                **{**values, "last_seen": float(values.get("last_seen", 0.0) or 0.0)}  # type: ignore[arg-type]
            )
    return known
