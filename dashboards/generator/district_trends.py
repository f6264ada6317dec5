"""District trends: what planners read over weeks and months.

Built on the recording rules of ``dashboards/prometheus/recording.rules.yml``
(district sums recorded every minute, radio utilisation as hourly means), so
a 90-day view stays within Prometheus' sample limit; load those rules with
the dashboards. Availability is a ratio of summed numerators and
denominators, never a mean of ratios.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import barchart
from grafana_foundation_sdk.models import common as common_model
from grafana_foundation_sdk.models import dashboard as model

from dashboards.generator.common import (
    DATASOURCE,
    UID_DISTRICTS,
    ap_detail_link,
    build_dashboard,
    custom_variable,
    datasource_variable,
    district_variable,
    organize,
    query,
    sort_by,
    thresholds,
)
from dashboards.generator.layout import Layout
from dashboards.generator.panels import bargauge_panel, table_panel, timeseries_panel

D = 'district=~"$district"'
CLIENTS = f"district:wifimon_ap_clients:sum{{{D}}}"
RECEIVED = f"district:wifimon_radio_receive_bytes:rate5m{{{D}}}"
SENT = f"district:wifimon_radio_transmit_bytes:rate5m{{{D}}}"
UP, KNOWN = f"district:wifimon_ap_up:sum{{{D}}}", f"district:wifimon_ap_up:count{{{D}}}"
HOURLY = "1h"  # planners read hours, not poll intervals: the panels' minimum step
AVAILABILITY = thresholds((None, "red"), (0.95, "orange"), (0.99, "green"))
GROWTH = thresholds((None, "blue"), (0, "green"), (0.25, "orange"))
WEEKDAYS = (
    ("Monday", "1"),
    ("Tuesday", "2"),
    ("Wednesday", "3"),
    ("Thursday", "4"),
    ("Friday", "5"),
    ("Saturday", "6"),
    ("Sunday", "0"),
)  # PromQL day_of_week()
# PromQL's hour() and day_of_week() are UTC: the city's clock is UTC + $utc_offset.
UTC_OFFSETS = tuple((f"UTC{hours:+d}", str(hours)) for hours in range(-12, 15))
# Local start of the hour that ends at the evaluation time.
HOUR_START = "vector(time() + 3600 * ($utc_offset - 1))"


def build() -> model.Dashboard:
    layout = Layout()
    _load_row(layout)
    _availability_row(layout)
    _when_row(layout)
    _peak_hours_row(layout)
    _growth_row(layout)
    return build_dashboard(
        UID_DISTRICTS,
        "wifimon / District trends",
        "For planners: clients and traffic per district over weeks and months, the weekly "
        "profile (peak hours by weekday), availability, capacity hotspots and growth.",
        [
            datasource_variable(),
            district_variable(),
            custom_variable("weekday", "Weekday", WEEKDAYS, "1", multi=True),
            custom_variable("utc_offset", "Local time", UTC_OFFSETS, "1", multi=False),
        ],
        layout,
        time_from="now-30d",
        refresh="1h",
    )


def _load_row(layout: Layout) -> None:
    layout.row("Load")
    clients = timeseries_panel(
        "Clients per district (hourly peak)",
        "The most clients each district had at once in each interval.",
        "none",
        [query(f"max_over_time({CLIENTS}[$__interval])", "{{district}}")],
    )
    layout.panel(clients.interval(HOURLY), 12, 9)
    traffic = (
        f"avg_over_time({RECEIVED}[$__interval]) + on (district) avg_over_time({SENT}[$__interval])"
    )
    layout.panel(
        timeseries_panel(
            "Wireless traffic per district",
            "Mean bytes per second received plus sent over all radios of each district.",
            "Bps",
            [query(traffic, "{{district}}")],
        ).interval(HOURLY),
        12,
        9,
    )
    per_band = f"district_band:wifimon_radio_clients:sum{{{D}}}"
    bands = f"sum by (band) (avg_over_time({per_band}[$__interval]))"
    layout.panel(
        timeseries_panel(
            "Clients by band",
            "Mean clients on 2.4, 5 and 6 GHz radios of the selected districts.",
            "none",
            [query(bands, "{{band}}")],
            stacked=True,
        ).interval(HOURLY),
        24,
        7,
    )


def _availability_row(layout: Layout) -> None:
    layout.row("Availability")
    over_time = (
        f"sum_over_time({UP}[$__interval]) / on (district) sum_over_time({KNOWN}[$__interval])"
    )
    layout.panel(
        timeseries_panel(
            "Availability per district",
            "Share of AP-minutes up in each interval.",
            "percentunit",
            [query(over_time, "{{district}}")],
        )
        .interval(HOURLY)
        .max(1),
        12,
        8,
    )
    whole_range = f"sum_over_time({UP}[$__range]) / on (district) sum_over_time({KNOWN}[$__range])"
    layout.panel(
        bargauge_panel(
            "Availability over the time range",
            "Share of AP-minutes up over the whole dashboard range, per district.",
            "percentunit",
            [query(whole_range, "{{district}}", instant=True)],
        )
        .thresholds(AVAILABILITY)
        .min(0)
        .max(1),
        12,
        8,
    )


def _when_row(layout: Layout) -> None:
    layout.row("When and where")
    this_week = f"sum(avg_over_time({CLIENTS}[$__interval]))"
    week_before = f"sum(avg_over_time({CLIENTS}[$__interval] offset 1w))"
    profile = timeseries_panel(
        "Weekly profile: peak hours by weekday",
        "Mean clients per hour over the last 7 days and the 7 days before: each day's "
        "peak hour, weekday after weekday.",
        "none",
        [
            query(this_week, "last 7 days", ref="A"),
            query(week_before, "the 7 days before", ref="B"),
        ],
    )
    layout.panel(profile.interval(HOURLY).time_from("7d"), 12, 10)
    hotspots = (
        "topk(20, quantile_over_time(0.5, "
        f"ap_radio:wifimon_radio_channel_utilization_ratio:avg1h{{{D}}}[$__range]))"
    )
    table = table_panel(
        "Capacity hotspots",
        "Radios whose channel stays busy: median of the hourly mean utilisation over the "
        "range. Above 50 % most of the time calls for more capacity.",
        "percentunit",
        [query(hotspots, instant=True, table=True)],
        [
            organize(exclude=("Time",), rename={"Value": "Median utilisation"}),
            sort_by("Median utilisation"),
        ],
    )
    layout.panel(
        table.thresholds(thresholds((None, "green"), (0.5, "orange"), (0.7, "red"))).data_links(
            [ap_detail_link()]
        ),
        12,
        10,
    )


def _peak_hours_row(layout: Layout) -> None:
    """One bar chart per weekday (repeated over $weekday): mean clients at each
    local hour of that weekday over the range, so the peak hour stands out."""
    layout.row("Peak hours by weekday")
    # The mean over each whole hour (not a sample at its edge), kept only
    # for the hours that start at local hour H of the chosen weekday.
    hourly = f"sum(avg_over_time({CLIENTS}[1h]))"
    targets = []
    for hour in range(24):
        at_hour = f"hour({HOUR_START}) == {hour} and on () day_of_week({HOUR_START}) == $weekday"
        expr = f"avg_over_time(({hourly} and on () ({at_hour}))[$__range:1h])"
        targets.append(query(expr, f"{hour:02d}:00", ref=f"H{hour:02d}", instant=True))
    chart = (
        barchart.Panel()
        .title("Mean clients by local hour: ${weekday:text}")
        .description(
            "Mean clients of the selected districts at each hour of the weekday, over the "
            "dashboard's range; one chart per weekday. Set the city's UTC offset above."
        )
        .datasource(DATASOURCE)
        .unit("none")
        .targets(targets)
        .transformations(
            [
                model.DataTransformerConfig(
                    id_val="reduce",
                    options={"mode": "seriesToRows", "reducers": ["lastNotNull"]},
                )
            ]
        )
        .x_field("Field")
        .orientation(common_model.VizOrientation.VERTICAL)
        .show_value(common_model.VisibilityMode.NEVER)
        # The SDK's own defaults, set so that the JSON reads back unchanged.
        .line_width(1)
        .fill_opacity(80)
        .gradient_mode(common_model.GraphGradientMode.NONE)
        .repeat("weekday")
        .repeat_direction("h")
        .max_per_row(4)
    )
    layout.panel(chart, 6, 8)


def _growth_row(layout: Layout) -> None:
    layout.row("Growth")
    week = f"avg_over_time({CLIENTS}[1w])"
    week_before = f"avg_over_time({CLIENTS}[1w] offset 1w)"
    traffic = f"avg_over_time({RECEIVED}[1w]) + on (district) avg_over_time({SENT}[1w])"
    traffic_before = (
        f"avg_over_time({RECEIVED}[1w] offset 1w) "
        f"+ on (district) avg_over_time({SENT}[1w] offset 1w)"
    )
    layout.panel(
        bargauge_panel(
            "Last 7 days vs the 7 days before",
            "Change of mean clients and mean traffic per district, week on week.",
            "percentunit",
            [
                query(f"{week} / {week_before} - 1",
                      "{{district}} clients", ref="A", instant=True),
                query(f"({traffic}) / ({traffic_before}) - 1",
                      "{{district}} traffic", ref="B", instant=True),
            ],
        ).thresholds(GROWTH),
        10,
        9,
    )  # fmt: skip
    layout.panel(
        timeseries_panel(
            "Clients per district, 7-day mean",
            "A trend without the daily and weekly rhythm: the mean of the 7 days before "
            "each point.",
            "none",
            [query(week, "{{district}}")],
        ).interval("1d"),  # one point a day: each reads a week of samples
        14,
        9,
    )
