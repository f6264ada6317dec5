"""The Grafana dashboards: fresh, valid, self-consistent, and naming only real metrics.

Grafana itself is not installable here, so each dashboard is checked the
ways that stand in for it: against Grafana's JSON Schemas (dashboard, each
panel type's options, each Prometheus query, units), by a round trip through
grafana-foundation-sdk, and by the rules of Grafana's dashboard linter that
matter to us. Checks of PromQL apply to the dashboards whose ``datasource``
variable picks a Prometheus; the InfluxDB one gets its InfluxQL checks here.
Queries are executed against a real Prometheus in
tests/e2e/test_dashboards_prometheus.py and a real InfluxDB in
tests/e2e/test_influxdb_planner_queries.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models import dashboard as model

from dashboards import generate
from dashboards.generator import district_trends_influx, promql
from dashboards.generator.common import DATASOURCE_UID, UID_AP
from wifimon.catalogue import CATALOGUE, Kind
from wifimon_exporters.influx_queries import MIN_INTERVAL, PANELS

ROOT = Path(__file__).resolve().parents[2]
GRAFANA_DIR = ROOT / "dashboards" / "grafana"
RULES_DIR = ROOT / "dashboards" / "prometheus"
SCHEMAS = ROOT.parent / "shared" / "reference" / "grafana-schemas"
# The data source each type of dashboard's `datasource` variable selects by default.
DEFAULT_SOURCES = {"prometheus": DATASOURCE_UID, "influxdb": district_trends_influx.DATASOURCE_UID}
# Series Prometheus writes itself about a scrape, which the health dashboard reads.
PROMETHEUS_SERIES = frozenset({"up", "scrape_duration_seconds"})
# Labels Prometheus adds (job, instance) or a histogram carries (le).
PROMETHEUS_LABELS = frozenset({"job", "instance", "le"})
# Variables Grafana defines itself, per data source type.
GRAFANA_VARIABLES = {
    "prometheus": frozenset({"__rate_interval", "__interval", "__range"}),
    "influxdb": frozenset({"timeFilter", "__interval"}),
}
INFLUXQL_RESULT_FORMATS = {"timeseries": "time_series", "table": "table"}
RATE_FUNCTIONS = ("rate(", "irate(", "increase(")

FILES = sorted(generate.DASHBOARDS)


@cache
def load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((GRAFANA_DIR / name).read_text())
    return loaded


def datasource_type(dashboard: Mapping[str, Any]) -> str:
    """The plugin type its ``datasource`` variable offers, e.g. ``"prometheus"``."""
    (source,) = (v for v in dashboard["templating"]["list"] if v["type"] == "datasource")
    return str(source["query"])


PROMETHEUS_FILES = [name for name in FILES if datasource_type(load(name)) == "prometheus"]
INFLUXDB_FILES = [name for name in FILES if datasource_type(load(name)) == "influxdb"]


@cache
def schema(name: str) -> dict[str, Any]:
    if not SCHEMAS.is_dir():
        # Validation against Grafana's own schemas is the point: never skip it.
        pytest.fail(f"Grafana JSON Schemas not found in {SCHEMAS} (../shared beside the checkout)")
    loaded: dict[str, Any] = json.loads((SCHEMAS / f"{name}.jsonschema.json").read_text())
    if name == "dashboard":
        # Grafana's CUE declares a field matcher's options and an override's
        # value as `_` (any JSON); the generated schema says "object", which
        # would reject every real override ({"id": "byName", "options": "ap"},
        # {"id": "unit", "value": "s"}). The SDK types them as `object`
        # (anything) too. Only these two are relaxed.
        definitions = loaded["definitions"]
        definitions["MatcherConfig"]["properties"]["options"] = {}
        definitions["DynamicConfigValue"]["properties"]["value"] = {}
    return loaded


def errors(instance: object, schema_name: str, definition: str | None = None) -> list[str]:
    """Schema violations of ``instance``, each with its JSON path."""
    document = schema(schema_name)
    if definition is not None:
        document = {**document, "$ref": f"#/definitions/{definition}"}
    validator = jsonschema.Draft7Validator(document)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '.'}: {error.message}"
        for error in _leaves(validator.iter_errors(instance))
    ]


def _leaves(found: Iterable[jsonschema.ValidationError]) -> Iterator[jsonschema.ValidationError]:
    """The innermost errors: "not valid under any of the given schemas" says
    nothing; the branch errors inside it say what is wrong."""
    for error in found:
        if error.context:
            yield from _leaves(error.context)
        else:
            yield error


def panels(dashboard: Mapping[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = dashboard["panels"]
    return found


def catalogue_names() -> set[str]:
    names = set()
    for metric in CATALOGUE:
        names.add(metric.name)
        if metric.kind is Kind.HISTOGRAM:
            names |= {f"{metric.name}_bucket", f"{metric.name}_sum", f"{metric.name}_count"}
    return names


def recorded_names() -> set[str]:
    return {rule.name for rule in promql.rules(RULES_DIR / "recording.rules.yml")}


def catalogue_labels() -> set[str]:
    return {label for metric in CATALOGUE for label in metric.labels} | PROMETHEUS_LABELS


def all_queries() -> Iterator[promql.PanelQuery]:
    for name in PROMETHEUS_FILES:
        yield from promql.panel_queries(load(name))


# --- generated, committed, fresh ---------------------------------------------------


def test_the_committed_json_is_what_the_generator_writes() -> None:
    assert sorted(path.name for path in GRAFANA_DIR.glob("*.json")) == FILES
    assert generate.stale_files() == [], "run: .venv/bin/python dashboards/generate.py"


def test_the_freshness_check_notices_a_stale_file(tmp_path: Path) -> None:
    for name, text in generate.rendered().items():
        (tmp_path / name).write_text(text)
    assert generate.stale_files(tmp_path) == []
    first = FILES[0]
    (tmp_path / first).write_text((tmp_path / first).read_text().replace("wifimon", "wifimom"))
    assert generate.stale_files(tmp_path) == [first]


def test_generation_is_deterministic() -> None:
    assert generate.rendered() == generate.rendered()


# --- Grafana's schemas ----------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_the_dashboard_matches_grafanas_schema(name: str) -> None:
    assert errors(load(name), "dashboard") == []


@pytest.mark.parametrize("name", FILES)
def test_each_panels_options_and_field_config_match_its_panel_schema(name: str) -> None:
    found = []
    for panel in panels(load(name)):
        if panel["type"] == "row":
            continue
        where = f"panel {panel['id']} ({panel['type']})"
        options = panel.get("options")
        assert options is not None, f"{where} has no options"
        found += [f"{where} options {e}" for e in errors(options, panel["type"], "Options")]
        custom = panel.get("fieldConfig", {}).get("defaults", {}).get("custom")
        if custom is not None and "FieldConfig" in schema(panel["type"])["definitions"]:
            found += [f"{where} custom {e}" for e in errors(custom, panel["type"], "FieldConfig")]
    assert found == []


@pytest.mark.parametrize("name", PROMETHEUS_FILES)
def test_each_query_matches_the_prometheus_query_schema(name: str) -> None:
    found = [
        f"panel {panel['id']} {target.get('refId')}: {error}"
        for panel in panels(load(name))
        for target in panel.get("targets", [])
        for error in errors(target, "prometheus")
    ]
    assert found == []


@pytest.mark.parametrize("name", INFLUXDB_FILES)
def test_each_influxdb_panel_is_a_raw_influxql_query_of_the_planner_panels(name: str) -> None:
    placed = [panel for panel in panels(load(name)) if panel["type"] != "row"]
    assert [panel["title"] for panel in placed] == [planner.title for planner in PANELS]
    for panel, planner in zip(placed, PANELS, strict=True):
        assert panel["type"] == planner.kind, panel["id"]
        assert panel["interval"] == MIN_INTERVAL, panel["id"]
        assert panel["fieldConfig"]["defaults"]["unit"] == planner.unit, panel["id"]
        (target,) = panel["targets"]
        assert target["query"] == planner.influxql, panel["id"]
        assert target["rawQuery"] is True, panel["id"]
        assert target["resultFormat"] == INFLUXQL_RESULT_FORMATS[planner.kind], panel["id"]
        assert "expr" not in target, panel["id"]


@pytest.mark.parametrize("name", FILES)
def test_every_panel_has_a_grafana_unit(name: str) -> None:
    units = {entry["const"] for entry in schema("units")["definitions"].values()}
    for panel in panels(load(name)):
        if panel["type"] == "row":
            continue
        field_config = panel["fieldConfig"]
        unit = field_config["defaults"].get("unit")
        assert unit in units, f"panel {panel['id']} {panel['title']!r}: unit {unit!r}"
        for overridden in field_config.get("overrides", []):
            for prop in overridden["properties"]:
                if prop["id"] == "unit":
                    assert prop["value"] in units, f"panel {panel['id']}: unit {prop['value']!r}"


@pytest.mark.parametrize("name", FILES)
def test_the_dashboard_survives_a_round_trip_through_the_sdk(name: str) -> None:
    register_default_plugins()
    text = (GRAFANA_DIR / name).read_text()
    again = generate.render(model.Dashboard.from_json(json.loads(text)))
    assert differences(json.loads(text), json.loads(again)) == []


def differences(before: object, after: object, path: str = "") -> list[str]:
    """Where two JSON documents differ, e.g. ``["panels/11/fieldConfig: ..."]``."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted(set(before) | set(after)):
            if key not in before or key not in after:
                found.append(f"{path}/{key}: only in {'after' if key in after else 'before'}")
            else:
                found += differences(before[key], after[key], f"{path}/{key}")
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [d for i, pair in enumerate(zip(before, after, strict=True))
                for d in differences(*pair, f"{path}/{i}")]  # fmt: skip
    return [] if before == after else [f"{path}: {before!r} != {after!r}"]


# --- linter rules ------------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_uids_are_stable_and_titles_unique(name: str) -> None:
    dashboard = load(name)
    assert dashboard["uid"].startswith("wifimon-")
    assert 8 <= len(dashboard["uid"]) <= 40
    uids = [load(other)["uid"] for other in FILES]
    titles = [load(other)["title"] for other in FILES]
    assert len(set(uids)) == len(uids)
    assert len(set(titles)) == len(titles)


@pytest.mark.parametrize("name", FILES)
def test_panel_ids_are_unique_and_every_panel_is_placed_without_overlap(name: str) -> None:
    placed = panels(load(name))
    ids = [panel["id"] for panel in placed]
    assert len(ids) == len(set(ids)), f"duplicate panel ids in {ids}"
    cells: dict[tuple[int, int], int] = {}
    for panel in placed:
        position = panel["gridPos"]
        assert set(position) >= {"x", "y", "w", "h"}, panel["id"]
        assert position["x"] >= 0, panel["id"]
        assert position["x"] + position["w"] <= 24, panel["id"]
        for x in range(position["x"], position["x"] + position["w"]):
            for y in range(position["y"], position["y"] + position["h"]):
                assert (x, y) not in cells, f"panels {cells[(x, y)]} and {panel['id']} overlap"
                cells[(x, y)] = panel["id"]


@pytest.mark.parametrize("name", FILES)
def test_the_datasource_variable_is_used_everywhere(name: str) -> None:
    dashboard = load(name)
    text = json.dumps(dashboard)
    assert "${DS_" not in text
    assert "__inputs" not in dashboard
    variables = dashboard["templating"]["list"]
    (source,) = (v for v in variables if v["type"] == "datasource")
    assert source["name"] == "datasource"
    kind = datasource_type(dashboard)
    assert source["current"]["value"] == DEFAULT_SOURCES[kind]
    datasource = {"type": kind, "uid": "${datasource}"}
    for variable in variables:
        if variable["type"] == "query":
            assert variable["datasource"] == datasource, variable["name"]
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == datasource, panel["id"]
        assert panel["targets"], f"panel {panel['id']} has no query"
        for target in panel["targets"]:
            assert target["datasource"] == datasource, (panel["id"], target["refId"])


def test_rate_functions_use_the_rate_interval() -> None:
    for query in all_queries():
        text = query.expr
        for function in RATE_FUNCTIONS:
            start = text.find(function)
            while start != -1:
                window = text[text.index("[", start) : text.index("]", start) + 1]
                assert window in ("[$__rate_interval]", "[$__range]"), (query, window)
                start = text.find(function, start + 1)


def test_queries_use_only_variables_their_dashboard_defines() -> None:
    for name in FILES:
        dashboard = load(name)
        defined = {v["name"] for v in dashboard["templating"]["list"]}
        defined |= GRAFANA_VARIABLES[datasource_type(dashboard)]
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                text = target.get("expr", target.get("query"))
                assert promql.variables_used(text) <= defined, (name, panel["id"], text)
        for variable in dashboard["templating"]["list"]:
            assert promql.variables_used(str(variable.get("query", ""))) <= defined


def test_ref_ids_are_unique_within_a_panel() -> None:
    for name in FILES:
        for panel in panels(load(name)):
            refs = [target["refId"] for target in panel.get("targets", [])]
            assert len(refs) == len(set(refs)), (name, panel["id"])


# --- the metric contract ---------------------------------------------------------------


def test_every_metric_a_dashboard_names_is_in_the_catalogue_or_recorded() -> None:
    known = catalogue_names() | recorded_names() | PROMETHEUS_SERIES
    for query in all_queries():
        unknown = promql.names(query.expr).metrics - known
        assert not unknown, f"{query.dashboard} panel {query.panel_id}: {sorted(unknown)}"
    for name in PROMETHEUS_FILES:
        for variable in load(name)["templating"]["list"]:
            if variable["type"] == "query":
                expr = promql.label_values_query(variable["query"])
                assert promql.names(expr).metrics <= known, variable["name"]


def test_every_label_a_dashboard_names_exists() -> None:
    labels = catalogue_labels()
    for query in all_queries():
        found = promql.names(query.expr)
        unknown = found.labels - labels - found.created_labels
        assert not unknown, f"{query.dashboard} panel {query.panel_id}: {sorted(unknown)}"


def test_legends_name_labels_their_query_keeps() -> None:
    for name in FILES:
        for panel in panels(load(name)):
            for target in panel.get("targets", []):
                legend = target.get("legendFormat", "")
                for label in (part.split("}}")[0] for part in legend.split("{{")[1:]):
                    assert label in promql.names(target["expr"]).labels, (panel["id"], label)


# --- links ---------------------------------------------------------------------------------


def data_links(dashboard: Mapping[str, Any]) -> Iterator[str]:
    for panel in panels(dashboard):
        for link in panel.get("fieldConfig", {}).get("defaults", {}).get("links", []):
            yield link["url"]


def test_ap_links_open_the_ap_detail_with_its_variables() -> None:
    detail = load("access-point-detail.json")
    assert detail["uid"] == UID_AP
    detail_variables = {v["name"] for v in detail["templating"]["list"]}
    links = [url for name in FILES for url in data_links(load(name))]
    assert len(links) >= 4, "map, down table and busiest tables link to the AP detail"
    for url in links:
        assert url.startswith(f"/d/{UID_AP}/"), url
        passed = {part.split("=")[0].removeprefix("var-") for part in url.split("?")[1].split("&")}
        assert {"datasource", "ap"} <= passed, url
        assert passed - {"${__url_time_range}"} <= detail_variables, url


def test_the_city_map_reads_coordinates_status_and_clients() -> None:
    (geomap,) = (p for p in panels(load("city-overview.json")) if p["title"] == "Access points")
    (layer,) = geomap["options"]["layers"]
    assert layer["location"] == {"mode": "coords", "latitude": "latitude", "longitude": "longitude"}
    assert layer["config"]["style"]["color"]["field"] == "status"
    assert layer["config"]["style"]["size"]["field"] == "clients"
    exprs = " ".join(target["expr"] for target in geomap["targets"])
    for metric in ("wifimon_ap_info", "wifimon_ap_up", "wifimon_ap_clients"):
        assert metric in exprs
    assert geomap["fieldConfig"]["defaults"]["links"], "a marker opens the AP detail"


def test_the_provisioning_files_point_at_the_dashboards_and_the_fixed_datasources() -> None:
    import yaml  # noqa: PLC0415 - only this test reads YAML

    provisioning = ROOT / "dashboards" / "provisioning"
    sources = {
        source["uid"]: source
        for path in sorted((provisioning / "datasources").glob("*.yaml"))
        for source in yaml.safe_load(path.read_text())["datasources"]
    }
    assert {uid: s["type"] for uid, s in sources.items()} == {
        uid: kind for kind, uid in DEFAULT_SOURCES.items()
    }
    influx = sources[district_trends_influx.DATASOURCE_UID]["jsonData"]
    assert influx["version"] == "InfluxQL"
    assert influx["dbName"] == "wifi-planning"
    (provider_file,) = (provisioning / "dashboards").glob("*.yaml")
    (provider,) = yaml.safe_load(provider_file.read_text())["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"]
