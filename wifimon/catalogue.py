"""The metric catalogue: the one place METRICS.md lives in code.

The Prometheus collector, the InfluxDB writer, the README table and the
dashboard checks all derive from ``CATALOGUE``; nothing else names metrics.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Kind(enum.Enum):
    GAUGE = "gauge"
    COUNTER = "counter"
    INFO = "info"  # a gauge fixed at 1 whose labels carry the data
    HISTOGRAM = "histogram"


class Entity(enum.Enum):
    """Who a metric describes; also the InfluxDB measurement suffix."""

    AP = "ap"
    RADIO = "radio"
    SSID = "ssid"
    CONTROLLER = "controller"
    TARGET = "target"
    DISTRICT = "district"
    DAEMON = "daemon"


AP_LABELS = ("ap", "site", "district")
RADIO_LABELS = (*AP_LABELS, "radio", "band")
SSID_LABELS = (*AP_LABELS, "ssid")
AP_INFO_LABELS = (
    *AP_LABELS,
    "name",
    "vendor",
    "model",
    "serial",
    "mac",
    "ip",
    "firmware",
    "controller",
    "latitude",
    "longitude",
)
BANDS = ("2.4GHz", "5GHz", "6GHz", "unknown")
POLL_ERROR_REASONS = ("timeout", "auth", "no_such_object", "decode", "unreachable", "other")
INFLUX_WRITE_ERROR_KINDS = (
    "timeout",
    "unreachable",
    "server_error",
    "throttled",
    "auth",
    "not_found",
    "rejected",
    "other",
)
INFLUX_DROP_REASONS = ("spool_full", "spool_corrupt", "spool_unwritable", "queue_full")


@dataclass(frozen=True, slots=True)
class Metric:
    """One catalogue entry; ``name`` is the full Prometheus name.

    ``field`` is the InfluxDB field name (the quantity without entity prefix,
    e.g. ``clients`` for ``wifimon_ap_clients``).
    """

    name: str
    kind: Kind
    entity: Entity
    labels: tuple[str, ...]
    help: str
    unit: str = ""
    field: str = ""


def _m(  # noqa: PLR0917 - the catalogue below reads as a table of positional rows
    name: str,
    kind: Kind,
    entity: Entity,
    labels: tuple[str, ...],
    help_text: str,
    unit: str = "",
) -> Metric:
    prefix = f"wifimon_{entity.value}_"
    quantity = name.removeprefix(prefix) if name.startswith(prefix) else name[len("wifimon_") :]
    return Metric(name, kind, entity, labels, help_text, unit, quantity)


G, C = Kind.GAUGE, Kind.COUNTER
AP, RADIO, SSID = Entity.AP, Entity.RADIO, Entity.SSID

# fmt: off
CATALOGUE: tuple[Metric, ...] = (
    # --- access points
    _m("wifimon_ap_info", Kind.INFO, AP, AP_INFO_LABELS,
       "Descriptive attributes of an access point."),
    _m("wifimon_ap_up", G, AP, AP_LABELS,
       "1 when the access point is operational, 0 when it is known but unreachable or missing."),
    _m("wifimon_ap_last_seen_timestamp_seconds", G, AP, AP_LABELS,
       "Unix time the access point was last seen up.", "seconds"),
    _m("wifimon_ap_uptime_seconds", G, AP, AP_LABELS,
       "Access point uptime as reported by the device or its controller.", "seconds"),
    _m("wifimon_ap_clients", G, AP, AP_LABELS, "Associated client stations on all radios."),
    _m("wifimon_ap_receive_bytes_total", C, AP, AP_LABELS,
       "Bytes received on the access point's wired uplink.", "bytes"),
    _m("wifimon_ap_transmit_bytes_total", C, AP, AP_LABELS,
       "Bytes transmitted on the access point's wired uplink.", "bytes"),
    # --- radios
    _m("wifimon_radio_clients", G, RADIO, RADIO_LABELS,
       "Associated client stations on this radio."),
    _m("wifimon_radio_receive_bytes_total", C, RADIO, RADIO_LABELS,
       "Wireless bytes received by this radio.", "bytes"),
    _m("wifimon_radio_transmit_bytes_total", C, RADIO, RADIO_LABELS,
       "Wireless bytes transmitted by this radio.", "bytes"),
    _m("wifimon_radio_channel", G, RADIO, RADIO_LABELS, "Current channel number."),
    _m("wifimon_radio_tx_power_dbm", G, RADIO, RADIO_LABELS, "Transmit power in dBm.", "dbm"),
    _m("wifimon_radio_noise_floor_dbm", G, RADIO, RADIO_LABELS,
       "Noise floor on the serving channel in dBm.", "dbm"),
    _m("wifimon_radio_channel_utilization_ratio", G, RADIO, RADIO_LABELS,
       "Share of time the channel was busy, 0 to 1.", "ratio"),
    _m("wifimon_radio_retries_total", C, RADIO, RADIO_LABELS,
       "802.11 frames transmitted after one or more retries."),
    _m("wifimon_radio_failures_total", C, RADIO, RADIO_LABELS,
       "802.11 transmissions that failed after the retry limit."),
    # --- SSIDs
    _m("wifimon_ssid_clients", G, SSID, SSID_LABELS,
       "Associated client stations per SSID on this AP."),
    # --- districts (with districts_geojson)
    _m("wifimon_district_coverage_ratio", G, Entity.DISTRICT, ("district",),
       "Share of the district's area within coverage radius of an access point that is up, "
       "0 to 1.", "ratio"),
    _m("wifimon_district_area_square_meters", G, Entity.DISTRICT, ("district",),
       "Area of the district's polygon in square metres.", "square_meters"),
    _m("wifimon_district_unassigned_aps", G, Entity.DISTRICT, (),
       "Access points whose coordinates lie outside every district polygon (their district "
       "label is unassigned)."),
    # --- controllers and targets
    _m("wifimon_controller_aps", G, Entity.CONTROLLER, ("controller", "state"),
       "Access points a controller reports, by state."),
    _m("wifimon_target_up", G, Entity.TARGET, ("target",),
       "1 when the SNMP target answered the last poll."),
    _m("wifimon_target_poll_duration_seconds", G, Entity.TARGET, ("target",),
       "Wall time of the last poll of this target.", "seconds"),
    _m("wifimon_target_last_success_timestamp_seconds", G, Entity.TARGET, ("target",),
       "Unix time of the last complete poll of this target.", "seconds"),
    _m("wifimon_target_poll_errors_total", C, Entity.TARGET, ("target", "reason"),
       "Failed polls of this target by reason."),
    _m("wifimon_target_missing_values_total", C, Entity.TARGET, ("target",),
       "Profile columns or values a target did not answer or answered with an unusable value."),
    # --- the daemon itself
    _m("wifimon_poll_duration_seconds", Kind.HISTOGRAM, Entity.DAEMON, (),
       "Wall time of a poll over all targets.", "seconds"),
    _m("wifimon_snmp_requests_total", C, Entity.DAEMON, (), "SNMP PDUs sent."),
    _m("wifimon_snmp_retries_total", C, Entity.DAEMON, (), "SNMP PDUs sent again after a timeout."),
    _m("wifimon_snmp_replies_dropped_total", C, Entity.DAEMON, (),
       "SNMP replies dropped: matching no request (id, address, version, community), "
       "or undecodable."),
    _m("wifimon_poll_overruns_total", C, Entity.DAEMON, (),
       "Polls that could not start on time because the previous one was still running."),
    _m("wifimon_targets", G, Entity.DAEMON, ("state",), "Poll targets by state."),
    _m("wifimon_config_last_reload_success", G, Entity.DAEMON, (),
       "1 when the last configuration reload succeeded."),
    _m("wifimon_config_last_reload_timestamp_seconds", G, Entity.DAEMON, (),
       "Unix time of the last configuration reload attempt.", "seconds"),
    _m("wifimon_config_reloads_total", C, Entity.DAEMON, ("result",),
       "Configuration reloads (SIGHUP) by result: success or failure."),
    _m("wifimon_state_write_errors_total", C, Entity.DAEMON, ("reason",),
       "Failed saves of the state file by reason: full (no space), read_only (read-only "
       "or not permitted), other. Polling and exporting go on; the next round retries."),
    _m("wifimon_state_load_errors_total", C, Entity.DAEMON, ("reason",),
       "State files that could not be used at start by reason: corrupt (moved aside as "
       "state.json.corrupt-<time>), unreadable. The daemon started with empty state."),
    _m("wifimon_build_info", Kind.INFO, Entity.DAEMON, ("version", "python"),
       "wifimon build information."),
    _m("wifimon_shard_info", Kind.INFO, Entity.DAEMON, ("index", "count"),
       "The part of the fleet this daemon polls: shard index (1-based) of count; 1 of 1 "
       "when not sharded."),
    _m("wifimon_fleet_targets", G, Entity.DAEMON, (),
       "Poll targets in the whole configured fleet, before sharding; the shards' "
       "wifimon_targets add up to it when every shard runs."),
    # --- the InfluxDB exporter
    _m("wifimon_influxdb_points_written_total", C, Entity.DAEMON, (),
       "Points the InfluxDB server accepted, replayed ones included."),
    _m("wifimon_influxdb_points_queued", G, Entity.DAEMON, (),
       "Points waiting in memory for their InfluxDB write."),
    _m("wifimon_influxdb_points_spooled_total", C, Entity.DAEMON, (),
       "Points written to the disk spool because InfluxDB was unreachable, failing or slow."),
    _m("wifimon_influxdb_points_replayed_total", C, Entity.DAEMON, (),
       "Points from the disk spool that the InfluxDB server accepted."),
    _m("wifimon_influxdb_points_dropped_total", C, Entity.DAEMON, ("reason",),
       "Points lost before InfluxDB accepted them, by reason: spool_full (the oldest), "
       "spool_corrupt, spool_unwritable, queue_full."),
    _m("wifimon_influxdb_spool_points", G, Entity.DAEMON, (),
       "Points in the disk spool waiting to be replayed."),
    _m("wifimon_influxdb_spool_bytes", G, Entity.DAEMON, (),
       "Disk space the spool takes.", "bytes"),
    _m("wifimon_influxdb_write_errors_total", C, Entity.DAEMON, ("kind",),
       "Failed InfluxDB write requests by kind: timeout, unreachable, server_error, "
       "throttled, auth, not_found, rejected, other."),
    _m("wifimon_influxdb_last_write_success_timestamp_seconds", G, Entity.DAEMON, (),
       "Unix time of the last write the InfluxDB server accepted.", "seconds"),
    _m("wifimon_influxdb_points_rejected_total", C, Entity.DAEMON, (),
       "Points in batches the InfluxDB server refused for good (HTTP 400 malformed, 422 "
       "field type conflict), parked under state_dir in influxdb/rejected/ instead of retried."),
    _m("wifimon_influxdb_rejected_points_pruned_total", C, Entity.DAEMON, (),
       "Rejected points whose parked file was removed, oldest first, to keep the rejected "
       "folder within its bound."),
)
# fmt: on

BY_NAME: dict[str, Metric] = {metric.name: metric for metric in CATALOGUE}


def metric(name: str) -> Metric:
    """Look a metric up by its full name; a typo is a programming error."""
    return BY_NAME[name]


def markdown_table() -> str:
    """The catalogue as the Markdown table README.md embeds (kept fresh by a test)."""
    rows = ["| metric | type | labels | help |", "|---|---|---|---|"]
    for entry in CATALOGUE:
        labels = ", ".join(entry.labels) or "—"
        rows.append(f"| `{entry.name}` | {entry.kind.value} | {labels} | {entry.help} |")
    return "\n".join(rows)
