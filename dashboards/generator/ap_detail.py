"""Access point detail: everything wifimon knows about one AP.

Opened from the city overview (map marker or table row) with ``var-ap``
set; the district and site variables only narrow the AP picker.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import stat
from grafana_foundation_sdk.models import common as common_model
from grafana_foundation_sdk.models import dashboard as model

from dashboards.generator.common import (
    DISTRICT_SITE,
    ONE_AP,
    UID_AP,
    UP_DOWN,
    UP_DOWN_THRESHOLDS,
    build_dashboard,
    datasource_variable,
    district_variable,
    label_variable,
    organize,
    query,
    site_variable,
    thresholds,
)
from dashboards.generator.layout import Layout
from dashboards.generator.panels import stat_panel, table_panel, timeseries_panel

A = ONE_AP
PER_RADIO = "radio {{radio}} ({{band}})"
# The poll target behind the AP: its controller, or the AP itself when it is
# polled directly (controller=""). Used to join target metrics to this AP.
AP_TARGET = (
    "group by (target) ("
    f'label_replace(max by (ap, controller) (wifimon_ap_info{{{A}, controller!=""}}), '
    '"target", "$1", "controller", "(.+)") '
    f'or label_replace(max by (ap) (wifimon_ap_info{{{A}, controller=""}}), '
    '"target", "$1", "ap", "(.+)"))'
)


def build() -> model.Dashboard:
    layout = Layout()
    _status_row(layout)
    _clients_row(layout)
    _radio_row(layout)
    _polls_row(layout)
    ap = label_variable(
        "ap", "Access point", f"label_values(wifimon_ap_info{{{DISTRICT_SITE}}}, ap)", multi=False
    )
    return build_dashboard(
        UID_AP,
        "wifimon / Access point detail",
        "One access point: status, identity, clients per radio and SSID, traffic, channel, "
        "power, noise, utilisation, uptime and reboots, and the health of its polls.",
        [datasource_variable(), district_variable(), site_variable(), ap],
        layout,
        time_from="now-24h",
        refresh="1m",
    )


def _stat(title: str, description: str, unit: str, expr: str) -> stat.Panel:
    return stat_panel(title, description, unit, [query(expr, instant=True)])


def _status_row(layout: Layout) -> None:
    layout.row("Status")
    status = _stat("Status", "Up or down now.", "none", f"max(wifimon_ap_up{{{A}}})")
    layout.panel(status.mappings(UP_DOWN).thresholds(UP_DOWN_THRESHOLDS), 4, 4)
    layout.panel(
        _stat("Clients", "Associated clients now.", "none",
              f"max(wifimon_ap_clients{{{A}}})"), 4, 4)  # fmt: skip
    layout.panel(
        _stat("Uptime", "Since the AP's last boot.", "dtdurations",
              f"max(wifimon_ap_uptime_seconds{{{A}}})"), 4, 4)  # fmt: skip
    layout.panel(
        _stat("Last seen up", "When wifimon last saw the AP up.", "dateTimeFromNow",
              f"1000 * max(wifimon_ap_last_seen_timestamp_seconds{{{A}}})"), 4, 4)  # fmt: skip
    reboots = _stat(
        "Reboots in range",
        "Times the uptime went back to zero in the dashboard's time range.",
        "none",
        f"max(resets(wifimon_ap_uptime_seconds{{{A}}}[$__range]))",
    )
    layout.panel(reboots.thresholds(thresholds((None, "green"), (1, "orange"), (3, "red"))), 4, 4)
    changes = _stat(
        "Up/down changes in range",
        "State changes in the dashboard's time range; many means flapping.",
        "none",
        f"max(changes(wifimon_ap_up{{{A}}}[$__range]))",
    )
    layout.panel(changes.thresholds(thresholds((None, "green"), (2, "orange"), (4, "red"))), 4, 4)
    labels = "ap, name, vendor, model, serial, mac, ip, firmware, controller, site, district"
    identity = table_panel(
        "Identity",
        "What the inventory and the controller say about the AP.",
        "none",
        [query(f"max by ({labels}) (wifimon_ap_info{{{A}}})", instant=True, table=True)],
        [organize(exclude=("Time", "Value"), order=tuple(labels.split(", ")))],
    )
    layout.panel(identity, 24, 3)


def _clients_row(layout: Layout) -> None:
    layout.row("Clients and traffic")
    per_radio = f"max by (radio, band) (wifimon_radio_clients{{{A}}})"
    layout.panel(
        timeseries_panel("Clients per radio", "Associated clients on each radio.", "none",
                         [query(per_radio, PER_RADIO)], stacked=True), 12, 8)  # fmt: skip
    per_ssid = f"max by (ssid) (wifimon_ssid_clients{{{A}}})"
    layout.panel(
        timeseries_panel("Clients per SSID", "Associated clients on each network name.", "none",
                         [query(per_ssid, "{{ssid}}")], stacked=True), 12, 8)  # fmt: skip
    radio_rate = "max by (radio, band) (rate(wifimon_radio_{}_bytes_total{{{}}}[$__rate_interval]))"
    wireless = [
        query(radio_rate.format("receive", A), f"{PER_RADIO} received", ref="A"),
        query(radio_rate.format("transmit", A), f"{PER_RADIO} sent", ref="B"),
    ]
    layout.panel(
        timeseries_panel("Wireless traffic per radio", "Bytes per second to and from clients.",
                         "Bps", wireless), 12, 8)  # fmt: skip
    uplink_rate = "max(rate(wifimon_ap_{}_bytes_total{{{}}}[$__rate_interval]))"
    uplink = [
        query(uplink_rate.format("receive", A), "received", ref="A"),
        query(uplink_rate.format("transmit", A), "sent", ref="B"),
    ]
    layout.panel(
        timeseries_panel("Uplink traffic", "Bytes per second on the AP's wired uplink, "
                         "where the device reports it.", "Bps", uplink), 12, 8)  # fmt: skip


def _radio_row(layout: Layout) -> None:
    layout.row("Radios")
    gauges = (
        ("Channel", "Channel each radio serves on.", "none", "channel"),
        ("Transmit power", "Transmit power of each radio.", "dBm", "tx_power_dbm"),
        ("Noise floor", "Noise on each radio's channel; closer to 0 is worse.", "dBm",
         "noise_floor_dbm"),
    )  # fmt: skip
    for title, description, unit, quantity in gauges:
        expr = f"max by (radio, band) (wifimon_radio_{quantity}{{{A}}})"
        panel = timeseries_panel(title, description, unit, [query(expr, PER_RADIO)])
        layout.panel(panel.line_interpolation(common_model.LineInterpolation.STEP_AFTER), 8, 7)
    utilisation = f"max by (radio, band) (wifimon_radio_channel_utilization_ratio{{{A}}})"
    busy = timeseries_panel(
        "Channel utilisation",
        "Share of air time the channel was busy (all stations, not only this AP).",
        "percentunit",
        [query(utilisation, PER_RADIO)],
    )
    layout.panel(busy.min(0).max(1), 12, 8)
    frame_rate = "max by (radio, band) (rate(wifimon_radio_{}_total{{{}}}[$__rate_interval]))"
    errors = [
        query(frame_rate.format("retries", A), f"{PER_RADIO} retries", ref="A"),
        query(frame_rate.format("failures", A), f"{PER_RADIO} failures", ref="B"),
    ]
    layout.panel(
        timeseries_panel("Retries and failures", "802.11 frames per second sent again, "
                         "or given up on, where the device reports them.", "cps", errors),
        12, 8)  # fmt: skip


def _polls_row(layout: Layout) -> None:
    layout.row("Uptime and polls")
    layout.panel(
        timeseries_panel("Uptime", "A drop to zero is a reboot.", "s",
                         [query(f"max(wifimon_ap_uptime_seconds{{{A}}})", "uptime")]),
        6, 8)  # fmt: skip
    target_up = f"max by (target) (wifimon_target_up) * on (target) group_left () {AP_TARGET}"
    up = timeseries_panel(
        "Poll target up",
        "Whether the controller (or the AP, polled directly) answered each poll.",
        "none",
        [query(target_up, "{{target}}")],
    )
    layout.panel(up.mappings(UP_DOWN).min(0).max(1), 6, 8)
    duration = (
        "max by (target) (wifimon_target_poll_duration_seconds) "
        f"* on (target) group_left () {AP_TARGET}"
    )
    layout.panel(
        timeseries_panel("Poll duration", "Wall time of each poll of the AP's target.", "s",
                         [query(duration, "{{target}}")]),
        6, 8)  # fmt: skip
    errors = (
        "sum by (target, reason) (rate(wifimon_target_poll_errors_total[$__rate_interval])) "
        f"* on (target) group_left () {AP_TARGET}"
    )
    layout.panel(
        timeseries_panel("Poll errors", "Failed polls of the AP's target per second, by "
                         "reason; empty while every poll succeeds.", "cps",
                         [query(errors, "{{target}}: {{reason}}")]),
        6, 8)  # fmt: skip
