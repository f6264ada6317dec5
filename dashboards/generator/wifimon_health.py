"""wifimon health: is the poller itself doing its job?

Poll durations and errors by reason, stale targets, SNMP traffic, overruns,
reload status, and Prometheus' own view of the scrape. The ``job`` variable
lists the scrape jobs that carry wifimon (from ``wifimon_build_info``), so
the dashboard needs no edit for another job name.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import table
from grafana_foundation_sdk.models import common as common_model
from grafana_foundation_sdk.models import dashboard as model

from dashboards.generator.common import (
    UID_HEALTH,
    UP_DOWN,
    UP_DOWN_THRESHOLDS,
    build_dashboard,
    datasource_variable,
    join_by,
    label_variable,
    organize,
    override,
    query,
    sort_by,
    thresholds,
    value_texts,
)
from dashboards.generator.layout import Layout
from dashboards.generator.panels import stat_panel, table_panel, timeseries_panel

J = 'job=~"$job"'
T = f'{J}, target=~"$target"'
STALE_AFTER = thresholds((None, "green"), (180, "orange"), (900, "red"))  # seconds


def build() -> model.Dashboard:
    layout = Layout()
    _now_row(layout)
    _polls_row(layout)
    _traffic_row(layout)
    job = label_variable("job", "Scrape job", "label_values(wifimon_build_info, job)")
    target = label_variable(
        "target", "Poll target", f"label_values(wifimon_target_up{{{J}}}, target)"
    )
    return build_dashboard(
        UID_HEALTH,
        "wifimon / Health",
        "The poller itself: poll durations, errors by reason, stale targets, SNMP traffic, "
        "overruns, configuration reloads and Prometheus' scrape of wifimon.",
        [datasource_variable(), job, target],
        layout,
        time_from="now-6h",
        refresh="30s",
    )


def _now_row(layout: Layout) -> None:
    layout.row("Now")
    scrape = stat_panel(
        "Scrape", "Prometheus reached wifimon's /metrics at the last scrape.", "none",
        [query(f"max by (instance) (up{{{J}}})", "{{instance}}", instant=True)],
    )  # fmt: skip
    layout.panel(scrape.mappings(UP_DOWN).thresholds(UP_DOWN_THRESHOLDS), 4, 4)
    version = stat_panel(
        "Version", "wifimon and Python versions running.", "none",
        [query(f"max by (version, python) (wifimon_build_info{{{J}}})",
               "{{version}} (Python {{python}})", instant=True)],
    )  # fmt: skip
    layout.panel(version.text_mode(common_model.BigValueTextMode.NAME), 5, 4)
    targets = stat_panel(
        "Poll targets", "Targets by state at the last poll, summed over the shards.", "none",
        [query(f"sum by (state) (wifimon_targets{{{J}}})", "{{state}}", instant=True)],
    )  # fmt: skip
    layout.panel(targets, 5, 4)
    reload_ok = stat_panel(
        "Last reload", "Outcome of the last configuration reload.", "none",
        [query(f"min(wifimon_config_last_reload_success{{{J}}})", instant=True)],
    )  # fmt: skip
    mappings = value_texts({"0": ("failed", "red"), "1": ("ok", "green")})
    layout.panel(reload_ok.mappings(mappings).thresholds(UP_DOWN_THRESHOLDS), 3, 4)
    layout.panel(
        stat_panel(
            "Reloaded", "When the configuration was last (re)loaded.", "dateTimeFromNow",
            [query(f"1000 * max(wifimon_config_last_reload_timestamp_seconds{{{J}}})",
                   instant=True)],
        ),
        3, 4,
    )  # fmt: skip
    overruns = stat_panel(
        "Overruns in range",
        "Polls that could not start on time because the previous one still ran.",
        "none",
        [query(f"sum(increase(wifimon_poll_overruns_total{{{J}}}[$__range]))", instant=True)],
    )
    layout.panel(overruns.thresholds(thresholds((None, "green"), (1, "orange"))), 4, 4)


def _polls_row(layout: Layout) -> None:
    layout.row("Polls")
    bucket_rate = (
        f"sum by (le) (rate(wifimon_poll_duration_seconds_bucket{{{J}}}[$__rate_interval]))"
    )
    mean = (
        f"sum(rate(wifimon_poll_duration_seconds_sum{{{J}}}[$__rate_interval])) "
        f"/ sum(rate(wifimon_poll_duration_seconds_count{{{J}}}[$__rate_interval]))"
    )
    layout.panel(
        timeseries_panel(
            "Poll duration, all targets",
            "Wall time of a whole poll: mean and 90th percentile.",
            "s",
            [
                query(mean, "mean", ref="A"),
                query(f"histogram_quantile(0.9, {bucket_rate})", "p90", ref="B"),
            ],
        ),
        12,
        8,
    )
    layout.panel(
        timeseries_panel(
            "Poll duration by target",
            "Wall time of the last poll of each target.",
            "s",
            [query(f"max by (target) (wifimon_target_poll_duration_seconds{{{T}}})", "{{target}}")],
        ),
        12,
        8,
    )
    errors = f"sum by (reason) (rate(wifimon_target_poll_errors_total{{{T}}}[$__rate_interval]))"
    layout.panel(
        timeseries_panel(
            "Poll errors by reason",
            "Failed polls per second: timeout, auth, no_such_object, decode, unreachable, "
            "other. Empty while every poll succeeds.",
            "cps",
            [query(errors, "{{reason}}")],
            stacked=True,
        ),
        12,
        8,
    )
    layout.panel(_staleness_table(), 12, 8)


def _staleness_table() -> table.Panel:
    """Every target with the age of its last complete poll, oldest first."""
    age = f"time() - max by (target) (wifimon_target_last_success_timestamp_seconds{{{T}}})"
    up = f"max by (target) (wifimon_target_up{{{T}}})"
    panel = table_panel(
        "Targets by staleness",
        "Age of each target's last complete poll (blank: never) and whether it answered "
        "the last poll; stale targets first.",
        "none",
        [
            query(age, ref="A", instant=True, table=True),
            query(up, ref="B", instant=True, table=True),
        ],
        [
            join_by("target"),
            organize(
                exclude=("Time", "Time 1", "Time 2"),
                rename={"Value #A": "Last complete poll", "Value #B": "Answered"},
                order=("target", "Answered", "Last complete poll"),
            ),
            sort_by("Last complete poll"),
        ],
    )
    return panel.overrides(
        [
            override("Last complete poll", unit="dtdurations", thresholds=STALE_AFTER.build()),
            override("Answered", mappings=UP_DOWN),
        ]
    )


def _traffic_row(layout: Layout) -> None:
    layout.row("SNMP and scrape")
    requests = [
        query(f"sum(rate(wifimon_snmp_requests_total{{{J}}}[$__rate_interval]))", "requests",
              ref="A"),
        query(f"sum(rate(wifimon_snmp_retries_total{{{J}}}[$__rate_interval]))", "retries",
              ref="B"),
    ]  # fmt: skip
    layout.panel(
        timeseries_panel("SNMP traffic", "SNMP PDUs sent, and sent again after a timeout.",
                         "reqps", requests), 8, 8)  # fmt: skip
    missing = (
        f"sum by (target) (rate(wifimon_target_missing_values_total{{{T}}}[$__rate_interval]))"
    )
    layout.panel(
        timeseries_panel("Missing values by target", "Profile values a target did not answer "
                         "or answered with an unusable value, per second.", "cps",
                         [query(missing, "{{target}}")]), 8, 8)  # fmt: skip
    scrape = [
        query(f"max by (instance) (scrape_duration_seconds{{{J}}})", "{{instance}} scrape",
              ref="A"),
    ]  # fmt: skip
    layout.panel(
        timeseries_panel("Scrape duration", "How long Prometheus took to read /metrics.",
                         "s", scrape), 8, 8)  # fmt: skip
    controller_aps = "max by (controller, state) (wifimon_controller_aps)"
    layout.panel(
        timeseries_panel("APs reported by controllers", "APs each controller reports, by "
                         "state.", "none", [query(controller_aps, "{{controller}} {{state}}")],
                         stacked=True), 24, 7)  # fmt: skip
