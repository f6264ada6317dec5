"""The city's agents as snmpsim data, the variation module that makes them
live, and the inventory and config that point wifimon at them."""

from __future__ import annotations

import csv
import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.agents import REPO_ROOT, snmpsim_command
from wifimon.config import CSV_COLUMNS, load_config
from wifimon.profiles.registry import default_registry
from wifimon.simulator import agents, inventory
from wifimon.simulator.city import ARUBA, CISCO, GENERIC, build_city
from wifimon.simulator.load import Clock
from wifimon.simulator.quantities import QUANTITIES, answer, parse_query
from wifimon.targets import build_targets

CITY = build_city(40, 11)
TAGS = {"2", "4x", "6", "64", "65", "66", "67", "70"}
CLIENT_TABLES = (
    "1.3.6.1.4.1.14179.2.1.4",
    "1.3.6.1.4.1.9.9.599.1.3",
    "1.3.6.1.4.1.14823.2.2.1.5.2.2",
)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("city") / "data"
    agents.write_agents(CITY, directory)
    return directory


def _rows(path: Path) -> list[tuple[tuple[int, ...], str, str]]:
    rows = []
    for line in path.read_text(encoding="ascii").splitlines():
        oid, tag, value = line.split("|", 2)
        rows.append((tuple(int(part) for part in oid.split(".")), tag, value))
    return rows


def test_every_agent_file_is_sorted_well_typed_and_live_where_it_should(data: Path) -> None:
    files = sorted(data.rglob("*.snmprec"))
    live_standalone = [ap for ap in CITY.standalone_aps() if not ap.dead]
    assert len(files) == len(CITY.controllers) + len(live_standalone)
    for path in files:
        rows = _rows(path)
        oids = [oid for oid, _, _ in rows]
        assert oids == sorted(oids)
        assert len(set(oids)) == len(oids)
        for oid, tag, value in rows:
            base, _, module = tag.partition(":")
            assert base in TAGS, (path.name, oid, tag)
            assert not ".".join(map(str, oid)).startswith(CLIENT_TABLES)
            if module and not value.startswith("controller="):
                assert module == agents.MODULE
                query = parse_query(value)
                assert query.name in QUANTITIES
                assert not CITY.ap(query.ap).dead


def test_a_dead_stand_alone_ap_has_no_agent(data: Path) -> None:
    for ap in CITY.standalone_aps():
        assert (data / f"{agents.community(ap.ap)}.snmprec").exists() is not ap.dead


def _columns(profile: str) -> dict[str, str]:
    spec = default_registry().get(profile)
    return {
        f"{table}.{column}": ".".join(map(str, oid))
        for table, table_spec in spec.tables.items()
        for column, oid in table_spec.columns.items()
    }


@pytest.mark.parametrize(
    ("profile", "vendor", "unanswered"),
    [
        (CISCO, CISCO, set()),
        # 6.x-only 32-bit wired counters and per-BSSID bytes: 8.x answers the better columns.
        (
            ARUBA,
            ARUBA,
            {"wired.rx_bytes", "wired.tx_bytes", "bssid_stats.rx_bytes", "bssid_stats.tx_bytes"},
        ),
        (GENERIC, GENERIC, set()),
    ],
)
def test_agents_answer_every_column_their_profile_reads(
    data: Path, profile: str, vendor: str, unanswered: set[str]
) -> None:
    if vendor == GENERIC:
        ap = next(ap for ap in CITY.standalone_aps() if not ap.dead)
        path = data / f"{agents.community(ap.ap)}.snmprec"
    else:
        controller = next(c for c in CITY.controllers if c.vendor == vendor)
        path = data / f"{controller.community}.snmprec"
    present = {".".join(map(str, oid)) for oid, _, _ in _rows(path)}
    missing = {
        name
        for name, prefix in _columns(profile).items()
        if not any(oid.startswith(prefix + ".") for oid in present)
    }
    assert missing == unanswered


def _exec_module(settings: Path) -> dict[str, Any]:
    """Load the variation module the way snmpsim does: exec in a namespace."""
    namespace: dict[str, Any] = {"path": str(agents.VARIATION_SOURCE), "moduleContext": {}}
    exec(compile(agents.VARIATION_SOURCE.read_text(), "wifimon_city", "exec"), namespace)  # noqa: S102 - snmpsim's own loading
    namespace["init"](options=str(settings), mode="variating")
    return namespace


def test_the_variation_module_answers_the_model(tmp_path: Path) -> None:
    settings = tmp_path / "city.json"
    clock = Clock(origin=1_709_712_000.0, wall_start=time.time(), speed=1.0)
    agents.write_settings(settings, 40, 11, clock)
    module = _exec_module(settings)
    ap = CITY.ap(CITY.wrapping_ap)
    context = {"setFlag": False, "nextFlag": True, "exactMatch": False}
    for text in ("q=clients", "q=uplink_rx,bits=32", "q=radio_tx,radio=1", "q=noise,sign=1"):
        module["recordContext"] = {}
        query = parse_query(f"ap={ap.ap},{text}")
        oid, tag, value = module["variate"]((1, 3), "65", query.text(), **context)
        assert (oid, tag) == ((1, 3), "65")
        assert value == answer(11, ap, query, clock.now()) or value == answer(
            11, ap, query, clock.now() - 1
        )
    module["recordContext"] = {}
    controller = CITY.controllers[0]
    _, _, ticks = module["variate"]((1, 3), "67", f"controller={controller.name}", **context)
    assert 0 <= ticks < 2**32
    # A GET of another OID than the cell's own is not answered with the cell.
    miss = {
        "setFlag": False,
        "nextFlag": False,
        "exactMatch": False,
        "origOid": (9,),
        "errorStatus": "e",
    }
    assert module["variate"]((1, 3), "65", "ap=x,q=clients", **miss) == ((9,), "65", "e")


def test_the_variation_module_imports_only_the_stdlib_under_snmpsims_python(tmp_path: Path) -> None:
    python = snmpsim_command().parent / "python"
    if not python.exists():
        pytest.skip("snmpsim's venv is not installed (make setup)")
    settings = tmp_path / "city.json"
    agents.write_settings(settings, 40, 11, Clock(1_709_712_000.0, time.time(), 1.0))
    script = (
        "import sys; ns = {'moduleContext': {}}; "
        f"exec(open({str(agents.VARIATION_SOURCE)!r}).read(), ns); "
        f"ns['init'](options={str(settings)!r}, mode='variating'); "
        "third = ('yaml', 'pydantic', 'click', 'prometheus_client'); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in third); "
        "print(len(ns['_MODEL']['city'].aps), bad)"
    )
    result = subprocess.run(
        [str(python), "-c", script], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert result.stdout.split() == ["40", "[]"]


def test_inventory_and_config_load_as_a_real_config(tmp_path: Path) -> None:
    plan = inventory.PollPlan.every(10.0)
    path = inventory.write_city_config(CITY, tmp_path, 16100, "127.0.0.1:19877", plan)
    config = load_config(path, known_profiles=set(default_registry().profiles))
    assert len(config.access_points) == len(CITY.aps)
    targets = build_targets(config)
    assert len(targets) == len(CITY.controllers) + len(CITY.standalone_aps())
    with (tmp_path / "aps.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS
    for row, ap in zip(rows, CITY.aps, strict=True):
        assert (row["ap"], row["district"], row["mac"]) == (ap.ap, ap.district, ap.mac)
        assert bool(row["controller"]) != bool(row["host"])
    assert json.loads(json.dumps(inventory.config_document(CITY, 16100, "127.0.0.1:1", plan)))


def test_the_default_poll_interval_grows_with_the_city() -> None:
    assert inventory.default_interval(300) == 10
    assert inventory.default_interval(5000) == 125
    assert inventory.PollPlan.every(2.0).timeout == 0.8
    assert REPO_ROOT == agents.PACKAGE_ROOT
