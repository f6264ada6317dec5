"""District trends from InfluxDB: the planner dashboard over the hourly rollups.

The panels are ``wifimon_exporters.influx_queries.PANELS``: InfluxQL, which
InfluxDB 1.x, 2.x (with a DBRP mapping) and 3.x all answer, read through
Grafana's InfluxDB data source in its InfluxQL mode. The ``datasource``
variable picks an InfluxDB data source (the provisioned one, uid
``DATASOURCE_UID``, by default); ``district`` lists the districts the
rollups know. Every panel's minimum interval is the rollups' resolution.
Queries sum the points of a district and hour first, so the figures are
the same whether one daemon or several shards wrote them.
"""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog.builder import Builder
from grafana_foundation_sdk.cog.variants import Dataquery
from grafana_foundation_sdk.models import dashboard as model

from dashboards.generator.common import build_dashboard, organize, override
from dashboards.generator.layout import Layout
from dashboards.generator.panels import table_panel, timeseries_panel
from wifimon_exporters.influx_queries import DISTRICT_VARIABLE, MIN_INTERVAL, PANELS, PlannerPanel

UID = "wifimon-district-trends-influxdb"
DATASOURCE_UID = "wifimon-influxdb"
DATASOURCE_NAME = "wifimon InfluxDB"
DATASOURCE = model.DataSourceRef(type_val="influxdb", uid="${datasource}")
RESULT_FORMATS = {"timeseries": "time_series", "table": "table"}
# Units of the summary table's columns (the panel's own unit is for counts).
COLUMN_UNITS = {"availability": "percentunit", "received": "decbytes", "transmitted": "decbytes"}


class InfluxQLQuery(Dataquery):
    """A raw InfluxQL target, as Grafana's InfluxDB query editor saves it.

    The SDK has no InfluxDB query type; reading the JSON back, it keeps such
    targets as they are (``UnknownDataquery``), so this writes the same keys.
    """

    def __init__(self, query: str, result_format: str, alias: str, ref: str) -> None:
        self.fields: dict[str, Any] = {
            "refId": ref,
            "datasource": DATASOURCE,
            "query": query,
            "rawQuery": True,
            "resultFormat": result_format,
        }
        if alias:
            self.fields["alias"] = alias

    def to_json(self) -> dict[str, Any]:
        return dict(self.fields)


class InfluxQL(Builder[Dataquery]):
    def __init__(self, query: str, result_format: str, *, alias: str = "", ref: str = "A") -> None:
        self._query = InfluxQLQuery(query, result_format, alias, ref)

    def build(self) -> Dataquery:
        return self._query


def datasource_variable() -> dash.DatasourceVariable:
    return (
        dash.DatasourceVariable("datasource")
        .label("Data source")
        .type("influxdb")
        .current(model.VariableOption(selected=True, text=DATASOURCE_NAME, value=DATASOURCE_UID))
    )


def district_variable() -> dash.QueryVariable:
    """The districts of the rollups; "All" is sent as ``.*`` (``/^.*$/``)."""
    return (
        dash.QueryVariable("district")
        .label("District")
        .query(DISTRICT_VARIABLE)
        .datasource(DATASOURCE)
        .refresh(model.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(model.VariableSort.ALPHABETICAL_CASE_INSENSITIVE_ASC)
        .multi(True)
        .include_all(True)
        .all_value(".*")
        .current(model.VariableOption(selected=True, text="All", value="$__all"))
    )


def _outer(panel: PlannerPanel) -> tuple[str, str]:
    """The outermost query's SELECT list and GROUP BY clause: a subquery (the
    district-hours summed over shards) has its own, which name no legend."""
    return panel.influxql.partition(" FROM ")[0], panel.influxql.rpartition("GROUP BY")[2]


def _alias(panel: PlannerPanel) -> str:
    """Legend names: the district (and the column when a query selects several)."""
    columns, group_by = _outer(panel)
    by_district = '"district"' in group_by
    several = columns.count(' AS "') > 1
    name = "$tag_district" if by_district else "selected districts"
    return f"{name} $col" if several else name


def _target(panel: PlannerPanel) -> InfluxQL:
    result_format = RESULT_FORMATS[panel.kind]
    alias = _alias(panel) if panel.kind == "timeseries" else ""
    return InfluxQL(panel.influxql, result_format, alias=alias)


def build() -> model.Dashboard:
    layout = Layout()
    for planner in PANELS:
        if planner.kind == "timeseries":
            chart = timeseries_panel(planner.title, planner.description, planner.unit, [])
            if planner.unit == "percentunit":
                chart = chart.max(1)
            layout.panel(
                chart.datasource(DATASOURCE).targets([_target(planner)]).interval(MIN_INTERVAL),
                12,
                8,
            )
        else:
            table = table_panel(
                planner.title,
                planner.description,
                planner.unit,
                [],
                [organize(exclude=("Time",))],
            )
            table = table.overrides(
                [
                    override(column, unit=unit)
                    for column, unit in COLUMN_UNITS.items()
                    if f'AS "{column}"' in _outer(planner)[0]
                ]
            )
            layout.panel(
                table.datasource(DATASOURCE).targets([_target(planner)]).interval(MIN_INTERVAL),
                24,
                8,
            )
    return build_dashboard(
        UID,
        "wifimon / District trends (InfluxDB)",
        "For planners, from InfluxDB: availability, clients, traffic and access points per "
        "district over months, read with InfluxQL from the hourly rollups wifimon writes "
        "(wifimon_district_hourly).",
        [datasource_variable(), district_variable()],
        layout,
        time_from="now-30d",
        refresh="1h",
    )
