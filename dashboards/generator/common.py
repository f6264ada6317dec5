"""What every wifimon dashboard shares: data source, variables, queries, links.

Every panel and every query names its data source through the
``$datasource`` variable (never an import-time ``${DS_...}`` input), so the
JSON drops into any Grafana and the variable picks the Prometheus to read.
The provisioning file in ``dashboards/provisioning/datasources/`` creates a
Prometheus data source with the fixed uid ``DATASOURCE_UID``, which the
variable selects by default.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.builders import prometheus
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models import prometheus as prom_model

from dashboards.generator.layout import Layout

DATASOURCE_UID = "wifimon-prometheus"
DATASOURCE_NAME = "wifimon Prometheus"
DATASOURCE = model.DataSourceRef(type_val="prometheus", uid="${datasource}")
TAG = "wifimon"

# Dashboard uids: stable, so links between dashboards and bookmarks survive.
UID_CITY = "wifimon-city-overview"
UID_AP = "wifimon-ap-detail"
UID_DISTRICTS = "wifimon-district-trends"
UID_HEALTH = "wifimon-health"

# Label filters the variables drive; ``=~`` so "All" (".*") works.
DISTRICT_SITE = 'district=~"$district", site=~"$site"'
ONE_AP = 'ap="$ap"'


# --- variables ----------------------------------------------------------------


def datasource_variable() -> dash.DatasourceVariable:
    return (
        dash.DatasourceVariable("datasource")
        .label("Data source")
        .type("prometheus")
        .current(model.VariableOption(selected=True, text=DATASOURCE_NAME, value=DATASOURCE_UID))
    )


def label_variable(name: str, label: str, query: str, *, multi: bool = True) -> dash.QueryVariable:
    """A variable listing one label's values, e.g. ``label_values(wifimon_ap_info, district)``.

    ``multi`` variables also offer "All", sent to Prometheus as ``.*``.
    """
    variable = (
        dash.QueryVariable(name)
        .label(label)
        .query(query)
        .datasource(DATASOURCE)
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_CASE_INSENSITIVE_ASC)
    )
    if multi:
        variable = variable.multi(True).include_all(True).all_value(".*")
        variable = variable.current(model.VariableOption(selected=True, text="All", value="$__all"))
    return variable


def custom_variable(
    name: str, label: str, choices: Sequence[tuple[str, str]], current: str, *, multi: bool
) -> dash.CustomVariable:
    """A fixed list of ``(text, value)`` choices, e.g. ``[("Monday", "1"), ...]``."""
    options = [
        model.VariableOption(selected=value == current, text=text, value=value)
        for text, value in choices
    ]
    (selected,) = (option for option in options if option.selected)
    variable = (
        dash.CustomVariable(name)
        .label(label)
        .values(", ".join(f"{text} : {value}" for text, value in choices))
        .options(options)
        .current(selected)
        .multi(multi)
    )
    return variable.include_all(True).all_value(".*") if multi else variable


def district_variable() -> dash.QueryVariable:
    return label_variable("district", "District", "label_values(wifimon_ap_info, district)")


def site_variable() -> dash.QueryVariable:
    return label_variable(
        "site", "Site", 'label_values(wifimon_ap_info{district=~"$district"}, site)'
    )


# --- queries ------------------------------------------------------------------


def query(
    expr: str, legend: str = "", *, ref: str = "A", instant: bool = False, table: bool = False
) -> prometheus.Dataquery:
    """A PromQL target. ``instant`` for "now" panels (stat, bar gauge, table);
    ``table`` returns one row per series with its labels as columns."""
    target = prometheus.Dataquery().expr(expr).ref_id(ref).datasource(DATASOURCE)
    target = target.instant() if instant else target.range()
    if table:
        target = target.format(prom_model.PromQueryFormat.TABLE)
    if legend:
        target = target.legend_format(legend)
    return target


# --- field configuration ------------------------------------------------------


def thresholds(*steps: tuple[float | None, str]) -> dash.ThresholdsConfig:
    """Absolute thresholds: ``(None, "red"), (0.9, "orange"), (0.98, "green")``."""
    return (
        dash.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=value, color=color) for value, color in steps])
    )


def value_texts(texts: Mapping[str, tuple[str, str]]) -> list[model.ValueMapping]:
    """Value mappings, e.g. ``{"0": ("down", "red"), "1": ("up", "green")}``."""
    options = {
        value: model.ValueMappingResult(text=text, color=color)
        for value, (text, color) in texts.items()
    }
    return [model.ValueMap(options=options)]


UP_DOWN = value_texts({"0": ("down", "red"), "1": ("up", "green")})
UP_DOWN_THRESHOLDS = thresholds((None, "red"), (1, "green"))


def override(field: str, **properties: object) -> dash.DashboardFieldConfigSourceOverrides:
    """Field overrides by display name, e.g. ``override("Down for", unit="dtdurations")``."""
    values = [
        model.DynamicConfigValue(id_val=key.replace("_", "."), value=value)
        for key, value in properties.items()
    ]
    return (
        dash.DashboardFieldConfigSourceOverrides()
        .matcher(model.MatcherConfig(id_val="byName", options=field))
        .properties(values)
    )


# --- links ----------------------------------------------------------------------


def ap_detail_link() -> dash.DashboardLink:
    """A data link from any row that has an ``ap`` field (table, map) to the
    AP detail dashboard, keeping the data source and the time range."""
    url = (
        f"/d/{UID_AP}/access-point-detail?var-datasource=${{datasource}}"
        "&var-district=${__data.fields.district}&var-site=${__data.fields.site}"
        "&var-ap=${__data.fields.ap}&${__url_time_range}"
    )
    return dash.DashboardLink("Access point detail").url(url)


def dashboard_links() -> dash.DashboardLink:
    """The other wifimon dashboards, by tag, keeping time range and variables."""
    return (
        dash.DashboardLink("wifimon")
        .type(model.DashboardLinkType.DASHBOARDS)
        .tags([TAG])
        .as_dropdown(True)
        .keep_time(True)
        .include_vars(True)
    )


# --- transformations ------------------------------------------------------------


def join_by(field: str) -> model.DataTransformerConfig:
    """Outer join of the queries' table frames on ``field`` (e.g. ``ap``)."""
    return model.DataTransformerConfig(
        id_val="joinByField", options={"byField": field, "mode": "outer"}
    )


def organize(
    exclude: Iterable[str] = (),
    rename: Mapping[str, str] | None = None,
    order: Sequence[str] = (),
) -> model.DataTransformerConfig:
    """Hide, rename and order table columns."""
    return model.DataTransformerConfig(
        id_val="organize",
        options={
            "excludeByName": dict.fromkeys(exclude, True),
            "renameByName": dict(rename or {}),
            "indexByName": {name: index for index, name in enumerate(order)},
        },
    )


def to_numbers(*fields: str) -> model.DataTransformerConfig:
    """Label values are strings; the map needs numbers for lat/lon."""
    conversions = [{"targetField": name, "destinationType": "number"} for name in fields]
    return model.DataTransformerConfig(
        id_val="convertFieldType", options={"conversions": conversions, "fields": {}}
    )


def sort_by(field: str, *, descending: bool = True) -> model.DataTransformerConfig:
    return model.DataTransformerConfig(
        id_val="sortBy", options={"sort": [{"field": field, "desc": descending}]}
    )


# --- the dashboard ---------------------------------------------------------------


def build_dashboard(  # noqa: PLR0917 - one call per dashboard, every argument named at the call site
    uid: str,
    title: str,
    description: str,
    variables: Sequence[dash.DatasourceVariable | dash.QueryVariable | dash.CustomVariable],
    layout: Layout,
    time_from: str = "now-6h",
    refresh: str = "1m",
) -> model.Dashboard:
    """A dashboard with wifimon's common settings and ``layout``'s panels."""
    board = (
        dash.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags([TAG])
        .editable()
        .timezone("browser")
        .time(time_from, "now")
        .refresh(refresh)
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .link(dashboard_links())
    )
    for variable in variables:
        board = board.with_variable(variable)
    for item in layout.items:
        board = board.with_row(item) if isinstance(item, dash.Row) else board.with_panel(item)
    return board.build()
