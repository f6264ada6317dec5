"""City overview: what operators keep on the wall screen.

A map of every AP coloured by status and sized by clients, the city's
numbers now, the districts' coverage (a map of their polygons and bars),
availability and load per district, the APs that are down and the busiest
ones. Every AP row and map marker links to the AP detail.

Every AP series is first reduced with ``max by (ap, ...)``: two Prometheus
servers scraping one daemon, or a new ``instance`` after a restart, must
neither double counts nor break a join.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import geomap, stat, table
from grafana_foundation_sdk.models import common as common_model
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models import geomap as geomap_model

from dashboards.generator.common import (
    DATASOURCE,
    DISTRICT_SITE,
    UID_CITY,
    UP_DOWN,
    UP_DOWN_THRESHOLDS,
    ap_detail_link,
    build_dashboard,
    datasource_variable,
    district_variable,
    join_by,
    organize,
    override,
    query,
    site_variable,
    sort_by,
    thresholds,
    to_numbers,
)
from dashboards.generator.coverage import coverage_row
from dashboards.generator.layout import Layout
from dashboards.generator.panels import bargauge_panel, stat_panel, table_panel, timeseries_panel

F = DISTRICT_SITE
UP = f"max by (ap) (wifimon_ap_up{{{F}}})"
UP_BY_DISTRICT = f"max by (ap, district) (wifimon_ap_up{{{F}}})"
DOWN = f"({UP} == 0)"
AVAILABILITY = thresholds((None, "red"), (0.9, "orange"), (0.98, "green"))
UTILISATION = thresholds((None, "green"), (0.5, "orange"), (0.8, "red"))
RADIO_RATE = (
    "max by (ap, district, radio) (rate(wifimon_radio_{}_bytes_total{{{}}}[$__rate_interval]))"
)


def build() -> model.Dashboard:
    layout = Layout()
    _now_row(layout)
    layout.row("Map")
    layout.panel(_ap_map(), 15, 14)
    layout.panel(_down_table(), 9, 14)
    coverage_row(layout)
    _district_row(layout)
    _busiest_row(layout)
    return build_dashboard(
        UID_CITY,
        "wifimon / City overview",
        "Every access point of the city on a map, the city's numbers now, availability "
        "and load per district, APs down and the busiest ones.",
        [datasource_variable(), district_variable(), site_variable()],
        layout,
        time_from="now-6h",
        refresh="1m",
    )


def _now_row(layout: Layout) -> None:
    layout.row("The city now")
    stats = (
        ("APs up", "Access points up now.", f"sum({UP})"),
        ("APs known", "Access points in the inventory or ever seen.", f"count({UP})"),
        ("Clients", "Associated clients on all APs now.",
         f"sum(max by (ap) (wifimon_ap_clients{{{F}}}))"),
        ("Poll targets down", "Controllers and directly polled APs wifimon cannot poll.",
         "sum(1 - max by (target) (wifimon_target_up))"),
    )  # fmt: skip
    for title, description, expr in stats:
        layout.panel(stat_panel(title, description, "none", [query(expr, instant=True)]), 4, 4)
    availability = stat_panel(
        "Availability",
        "Share of known APs that are up now.",
        "percentunit",
        [query(f"sum({UP}) / count({UP})", instant=True)],
    )
    layout.panel(availability.thresholds(AVAILABILITY), 4, 4)
    layout.panel(_throughput_stat(), 4, 4)


def _throughput_stat() -> stat.Panel:
    return stat_panel(
        "Wireless throughput",
        "Bytes per second received from and sent to clients over all radios.",
        "Bps",
        [
            query(f"sum({RADIO_RATE.format('receive', F)})", "received", ref="A", instant=True),
            query(f"sum({RADIO_RATE.format('transmit', F)})", "sent", ref="B", instant=True),
        ],
    )


def _marker_layer() -> common_builders.MapLayerOptions:
    location = (
        common_builders.FrameGeometrySource()
        .mode(common_model.FrameGeometrySourceMode.COORDS)
        .latitude("latitude")
        .longitude("longitude")
    )
    style = {
        "color": {"field": "status", "fixed": "dark-green"},
        "size": {"field": "clients", "fixed": 5, "min": 4, "max": 16},
        "symbol": {"mode": "fixed", "fixed": "img/icons/marker/circle.svg"},
        "opacity": 0.8,
    }
    return (
        common_builders.MapLayerOptions()
        .type("markers")
        .name("Access points")
        .location(location)
        .config({"showLegend": True, "style": style})
        .tooltip(True)
    )


def _ap_map() -> geomap.Panel:
    """Markers at each AP's inventory coordinates: colour = status, size = clients."""
    status = (
        "max by (ap, name, site, district, latitude, longitude) "
        f'(wifimon_ap_info{{{F}, latitude!=""}}) * on (ap) group_left () {UP}'
    )
    # Down APs report no clients: 0, so that they still get a marker.
    clients = f"max by (ap) (wifimon_ap_clients{{{F}}}) or on (ap) 0 * {UP}"
    return (
        geomap.Panel()
        .title("Access points")
        .description("Every AP with coordinates: green up, red down; bigger = more clients.")
        .datasource(DATASOURCE)
        .unit("none")
        .targets(
            [
                query(status, ref="A", instant=True, table=True),
                query(clients, ref="B", instant=True, table=True),
            ]
        )
        .transformations(
            [
                join_by("ap"),
                to_numbers("latitude", "longitude"),
                organize(
                    exclude=("Time", "Time 1", "Time 2"),
                    rename={"Value #A": "status", "Value #B": "clients"},
                ),
            ]
        )
        .view(geomap.MapViewConfig().id("fit").padding(10).all_layers(True))
        .controls(geomap.ControlsOptions().show_zoom(True).mouse_wheel_zoom(True).show_scale(True))
        .basemap(common_builders.MapLayerOptions().type("default").name("Basemap"))
        .layers([_marker_layer()])
        .tooltip(geomap.TooltipOptions().mode(geomap_model.TooltipMode.DETAILS))
        .data_links([ap_detail_link()])
        .overrides(
            [
                override(
                    "status",
                    mappings=UP_DOWN,
                    thresholds=UP_DOWN_THRESHOLDS.build(),
                    color={"mode": "thresholds"},
                )
            ]
        )
    )


def _down_table() -> table.Panel:
    """Empty when all is well: one row per AP down, longest outage first."""
    info = f"max by (ap, name, site, district, controller) (wifimon_ap_info{{{F}}})"
    last_seen = f"max by (ap) (wifimon_ap_last_seen_timestamp_seconds{{{F}}})"
    panel = table_panel(
        "Access points down",
        "APs down now, with the last time each was seen up (blank: never seen); "
        "empty when every AP is up.",
        "none",
        [
            query(f"{info} * on (ap) group_left () {DOWN}", ref="A", instant=True, table=True),
            query(f"1000 * {last_seen} and on (ap) {DOWN}", ref="B", instant=True, table=True),
            query(f"time() - {last_seen} and on (ap) {DOWN}", ref="C", instant=True, table=True),
        ],
        [
            join_by("ap"),
            organize(
                exclude=("Time", "Time 1", "Time 2", "Time 3", "Value #A"),
                rename={"Value #B": "Last seen up", "Value #C": "Down for"},
                order=("ap", "name", "district", "site", "controller", "Down for", "Last seen up"),
            ),
            sort_by("Down for"),
        ],
    )
    return (
        panel.data_links([ap_detail_link()])
        .overrides(
            [
                override("Last seen up", unit="dateTimeAsIso"),
                override("Down for", unit="dtdurations"),
            ]
        )
        .no_value("every AP is up")
    )


def _district_row(layout: Layout) -> None:
    layout.row("Districts")
    availability = f"sum by (district) ({UP_BY_DISTRICT}) / count by (district) ({UP_BY_DISTRICT})"
    now = bargauge_panel(
        "Availability by district",
        "Share of each district's APs up now.",
        "percentunit",
        [query(availability, "{{district}}", instant=True)],
    )
    layout.panel(now.thresholds(AVAILABILITY).min(0).max(1), 6, 9)
    over_time = timeseries_panel(
        "Availability by district over time",
        "Share of each district's APs up.",
        "percentunit",
        [query(availability, "{{district}}")],
    )
    layout.panel(over_time.min(0).max(1), 6, 9)
    clients = f"sum by (district) (max by (ap, district) (wifimon_ap_clients{{{F}}}))"
    layout.panel(
        timeseries_panel(
            "Clients by district",
            "Associated clients per district.",
            "none",
            [query(clients, "{{district}}")],
            stacked=True,
        ),
        6,
        9,
    )
    received, sent = RADIO_RATE.format("receive", F), RADIO_RATE.format("transmit", F)
    layout.panel(
        timeseries_panel(
            "Wireless throughput by district",
            "Bytes per second received plus sent over all radios of each district.",
            "Bps",
            [query(f"sum by (district) ({received} + {sent})", "{{district}}")],
            stacked=True,
        ),
        6,
        9,
    )


def _busiest_row(layout: Layout) -> None:
    layout.row("Busiest access points")
    utilisation = (
        "topk(15, max by (ap, site, district, radio, band) "
        f"(wifimon_radio_channel_utilization_ratio{{{F}}}))"
    )
    busiest = table_panel(
        "Busiest radios by channel utilisation",
        "The 15 radios whose channel is busiest now (share of air time in use).",
        "percentunit",
        [query(utilisation, instant=True, table=True)],
        [
            organize(exclude=("Time",), rename={"Value": "Utilisation"}),
            sort_by("Utilisation"),
        ],
    )
    utilisation_cells = {"type": "color-background", "mode": "gradient"}
    layout.panel(
        busiest.thresholds(UTILISATION)
        .data_links([ap_detail_link()])
        .overrides([override("Utilisation", custom_cellOptions=utilisation_cells)]),
        12,
        10,
    )
    most_clients = table_panel(
        "Most clients",
        "The 15 APs with the most associated clients now.",
        "none",
        [
            query(
                f"topk(15, max by (ap, site, district) (wifimon_ap_clients{{{F}}}))",
                instant=True,
                table=True,
            )
        ],
        [organize(exclude=("Time",), rename={"Value": "Clients"}), sort_by("Clients")],
    )
    layout.panel(most_clients.data_links([ap_detail_link()]), 12, 10)
