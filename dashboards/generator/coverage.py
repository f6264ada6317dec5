"""The city overview's coverage row: district polygons coloured by coverage.

Coverage is ``wifimon_district_coverage_ratio``: the share of each district
within reach of an AP that is up (exported when the daemon has
``districts_geojson``). The map draws the district polygons from a GeoJSON
file Grafana serves itself: Grafana reads ``public/maps/<file>`` from its
own static folder (``/usr/share/grafana/public/maps/`` in the Debian and RPM
packages), so the city's file is copied there at deployment. The demo city's
is shipped as ``dashboards/maps/mulhouse-quartiers.geojson``.

The layer is Grafana's "Dynamic GeoJSON": it matches each query row to the
feature whose GeoJSON ``id`` equals the row's ``district`` and fills it with
the colour of its value. Every feature of the file therefore carries its
district name as ``id`` (besides ``properties.name``).
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import geomap
from grafana_foundation_sdk.models import geomap as geomap_model

from dashboards.generator.common import DATASOURCE, override, query, sort_by, thresholds
from dashboards.generator.layout import Layout
from dashboards.generator.panels import bargauge_panel, timeseries_panel

GEOJSON_SRC = "public/maps/mulhouse-quartiers.geojson"
COVERAGE = 'max by (district) (wifimon_district_coverage_ratio{district=~"$district"})'
# Coverage targets are a city's choice; these colour the demo city's range.
COVERAGE_THRESHOLDS = thresholds((None, "red"), (0.15, "orange"), (0.3, "green"))


def coverage_row(layout: Layout) -> None:
    layout.row("Coverage")
    layout.panel(_coverage_map(), 12, 12)
    now = bargauge_panel(
        "Coverage by district",
        "Share of each district's area within coverage radius of an AP that is up now.",
        "percentunit",
        [query(COVERAGE, "{{district}}", instant=True)],
    )
    layout.panel(now.thresholds(COVERAGE_THRESHOLDS).min(0).max(1), 6, 12)
    over_time = timeseries_panel(
        "Coverage by district over time",
        "Share of each district's area within coverage radius of an AP that is up; "
        "a drop is an AP going down.",
        "percentunit",
        [query(COVERAGE, "{{district}}")],
    )
    layout.panel(over_time.min(0).max(1), 6, 12)


def _polygon_layer() -> common_builders.MapLayerOptions:
    return (
        common_builders.MapLayerOptions()
        .type("dynamic-geojson")
        .name("Districts")
        .config(
            {
                "src": GEOJSON_SRC,
                "idField": "district",
                "dataStyle": {"color": {"field": "Value", "fixed": "dark-green"}, "opacity": 0.5},
                "style": {"color": {"fixed": "transparent"}, "opacity": 0.4, "lineWidth": 1},
                "rules": [],
            }
        )
        .tooltip(True)
    )


def _coverage_map() -> geomap.Panel:
    """The district polygons, each filled by its coverage now."""
    return (
        geomap.Panel()
        .title("Coverage by district (map)")
        .description(
            "District polygons coloured by the share of their area within reach of an AP "
            f"that is up. Needs the city's district GeoJSON at Grafana's {GEOJSON_SRC}."
        )
        .datasource(DATASOURCE)
        .unit("percentunit")
        .min(0)
        .max(1)
        .thresholds(COVERAGE_THRESHOLDS)
        .targets([query(COVERAGE, ref="A", instant=True, table=True)])
        .transformations([sort_by("district", descending=False)])
        .view(geomap.MapViewConfig().id("fit").padding(5).all_layers(True))
        .controls(geomap.ControlsOptions().show_zoom(True).mouse_wheel_zoom(True).show_scale(True))
        .basemap(common_builders.MapLayerOptions().type("default").name("Basemap"))
        .layers([_polygon_layer()])
        .tooltip(geomap.TooltipOptions().mode(geomap_model.TooltipMode.DETAILS))
        .overrides([override("Value", color={"mode": "thresholds"})])
    )
