"""snmpsim variation module: the live cells of the demo city.

snmpsim (``--variation-modules-dir``) execs this file in a namespace of its
own, inside its own venv under Debian's Python, and calls ``init`` once,
then ``variate`` for every live cell a request touches, with the cell's
snmprec value (a ``quantities.Query`` text such as
``ap=mul-0042,q=radio_tx,r=1``) and, in the module globals, a per-cell
``recordContext`` dict. So this file imports nothing but the stdlib here;
``init`` receives (``--variation-module-options=wifimon_city:FILE``) a
JSON file naming the folder that holds the ``wifimon`` package, the city
(``aps``, ``seed``) and the clock, and imports the pure model from there.
The same model answers the tests and the history writer, so an agent's
answer is ground truth by construction.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

# Filled by ``init``: the city, its clock and the model modules.
_MODEL: dict[str, Any] = {}
# Per AP: (simulated second, state), so one request's cells share one state.
_STATES: dict[str, tuple[float, Any]] = {}


def init(**context: Any) -> None:
    """Load the city named by the options (a JSON settings file)."""
    settings = json.loads(Path(str(context.get("options") or "")).read_text())
    root = str(settings["root"])
    if root not in sys.path:
        sys.path.append(root)  # appended: snmpsim's own packages keep precedence
    from wifimon.simulator import city, load, quantities  # noqa: PLC0415 - path set just above

    built = city.build_city(int(settings["aps"]), int(settings["seed"]))
    _MODEL.update(
        city=built,
        clock=load.Clock(**settings["clock"]),
        load=load,
        quantities=quantities,
        controllers={controller.name: controller for controller in built.controllers},
    )


def _query(text: str) -> Any:
    record: dict[str, Any] = globals().get("recordContext", {})
    query = record.get("query")
    if query is None:
        if text.startswith("controller="):
            query = ("controller", text.removeprefix("controller="))
        else:
            query = _MODEL["quantities"].parse_query(text)
        record["query"] = query
    return query


def _ap_state(ap: Any, now: float) -> Any:
    cached = _STATES.get(ap.ap)
    if cached is not None and cached[0] == now:
        return cached[1]
    current = _MODEL["load"].state(_MODEL["city"].seed, ap, now)
    _STATES[ap.ap] = (now, current)
    return current


def variate(oid: Any, tag: str, value: Any, **context: Any) -> tuple[Any, str, Any]:
    """The cell's value now; snmpsim builds the SNMP type from ``tag``."""
    if context["setFlag"] or (not context["nextFlag"] and not context["exactMatch"]):
        return context["origOid"], tag, context["errorStatus"]  # as snmpsim's numeric does
    query = _query(str(value))
    now = _MODEL["clock"].now()
    quantities = _MODEL["quantities"]
    if isinstance(query, tuple):  # a controller's own sysUpTime
        controller = _MODEL["controllers"][query[1]]
        return oid, tag, quantities.controller_uptime_ticks(controller.boot_phase_s, now)
    ap = _MODEL["city"].ap(query.ap)
    current = _ap_state(ap, now)
    if not quantities.visible(current, query):
        # A walk skips the row (snmpsim moves on past endOfMib), a GET gets
        # noSuchInstance: the row is gone while the AP reboots.
        return context["origOid"], tag, context["errorStatus"]
    seed = _MODEL["city"].seed
    return oid, tag, quantities.answer_from(seed, ap, current, query, now)


def shutdown(**context: Any) -> None:
    """Nothing to release: the model holds no files or sockets."""
    _STATES.clear()
