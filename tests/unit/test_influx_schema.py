"""The committed InfluxDB schema contract is fresh and keeps METRICS.md's rules."""

from __future__ import annotations

import json
import re
from pathlib import Path

from wifimon.catalogue import CATALOGUE, Kind
from wifimon_exporters.influx_schema import (
    CONTRACT_PATH,
    ROLLUP_MEASUREMENT,
    contract,
    field_type,
    render_contract,
)

ROOT = Path(__file__).resolve().parents[2]
METRICS_MD = ROOT.parent / "shared" / "design" / "METRICS.md"


def test_committed_contract_is_fresh() -> None:
    assert CONTRACT_PATH.read_text(encoding="utf-8") == render_contract(), (
        "run: .venv/bin/python -m wifimon_exporters.influx_schema"
    )


def test_every_catalogue_metric_has_a_field() -> None:
    schema = contract()
    for entry in CATALOGUE:
        measurement = entry.name if entry.kind is Kind.INFO else f"wifimon_{entry.entity.value}"
        fields = schema[measurement]["fields"]
        assert isinstance(fields, dict)
        names = {f"{entry.field}_count"} if entry.kind is Kind.HISTOGRAM else {entry.field}
        assert names <= set(fields), entry.name


def test_counters_and_counts_are_integers_and_measured_quantities_floats() -> None:
    kinds = {entry.name: field_type(entry) for entry in CATALOGUE}
    assert kinds["wifimon_ap_receive_bytes_total"] == "integer"
    assert kinds["wifimon_ap_clients"] == "integer"
    assert kinds["wifimon_radio_channel"] == "integer"
    assert kinds["wifimon_influxdb_spool_bytes"] == "integer"
    assert kinds["wifimon_radio_tx_power_dbm"] == "float"
    assert kinds["wifimon_radio_channel_utilization_ratio"] == "float"
    assert kinds["wifimon_ap_uptime_seconds"] == "float"


def test_no_tag_can_hold_a_client_or_per_device_identifier() -> None:
    for name, measurement in contract().items():
        assert not {"mac", "ip", "serial", "client", "user"} & set(measurement["tags"]), name


# What the rollups gained for shards: a tag only sharded daemons write, and the
# AP-poll counts availability is summed from across shards.
EXTENSION_TAGS = {"shard"}
EXTENSION_FIELDS = {"ap_polls": "integer", "up_polls": "integer"}


def test_the_rollup_measurement_extends_the_one_metrics_md_specifies() -> None:
    """METRICS.md's tags and fields, none renamed, plus the shard extension only."""
    rollup = contract()[ROLLUP_MEASUREMENT]
    fields = rollup["fields"]
    assert isinstance(fields, dict)
    assert rollup["tags"] == ["district", "shard"]
    assert {name: fields[name] for name in EXTENSION_FIELDS} == EXTENSION_FIELDS
    if METRICS_MD.exists():  # the design folder sits beside the checkout
        text = METRICS_MD.read_text(encoding="utf-8")
        match = re.search(r"`wifimon_district_hourly` \(tags: ([^;]*); fields: ([^)]*)\)", text)
        assert match is not None
        tags, listed = ({name.strip() for name in group.replace("\n", " ").split(",")}
                        for group in match.groups())  # fmt: skip
        assert set(rollup["tags"]) == tags | EXTENSION_TAGS
        assert set(fields) == listed | set(EXTENSION_FIELDS)


def test_contract_file_is_json_with_sorted_keys() -> None:
    document = json.loads(CONTRACT_PATH.read_text(encoding="utf-8"))
    assert list(document) == sorted(document)
