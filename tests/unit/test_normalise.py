"""Identity and inventory join of observed APs."""

from __future__ import annotations

from wifimon.counters import CounterReconciler
from wifimon.normalise import KnownAp, Normaliser, TargetRole
from wifimon.profiles.evaluate import Measured, ObservedAp


def observed(mac: str, name: str) -> ObservedAp:
    return ObservedAp(mac=mac, up=True, values={"name": Measured(name)})


def up_series(samples: list) -> dict[str, int | float]:  # type: ignore[type-arg]
    return {s.labels[0]: s.value for s in samples if s.metric.name == "wifimon_ap_up"}


def test_a_name_shared_by_several_aps_matches_one_and_drops_none() -> None:
    inventory = (KnownAp(ap="gare-1", controller="wlc", name="RuckusAP", district="Gare"),)
    role = TargetRole("wlc", controller=True, inventory=inventory, district="Centre")
    aps = [observed(f"00:00:5e:00:53:0{n}", "RuckusAP") for n in (1, 2, 3)]
    result = Normaliser(CounterReconciler(), 60.0).normalise(role, aps, {}, "Ruckus", 100.0)
    assert up_series(result.samples) == {"gare-1": 1, "00005e005302": 1, "00005e005303": 1}
    districts = {
        s.labels[0]: s.labels[2] for s in result.samples if s.metric.name == "wifimon_ap_up"
    }
    assert districts == {"gare-1": "Gare", "00005e005302": "Centre", "00005e005303": "Centre"}


def test_an_inventory_ap_the_controller_lacks_is_exported_down() -> None:
    inventory = (KnownAp(ap="musee-2", controller="wlc", mac="00:00:5e:00:53:99"),)
    role = TargetRole("wlc", controller=True, inventory=inventory)
    aps = [observed("00:00:5e:00:53:01", "a")]
    result = Normaliser(CounterReconciler(), 60.0).normalise(role, aps, {}, "Cisco", 100.0)
    assert up_series(result.samples) == {"00005e005301": 1, "musee-2": 0}
    controller = {
        s.labels[1]: s.value for s in result.samples if s.metric.name == "wifimon_controller_aps"
    }
    assert controller == {"up": 1, "down": 1}
