"""The stdout exporter writes what is published, newest first, never blocking."""

from __future__ import annotations

import asyncio
import io
import json

from prometheus_client.parser import text_string_to_metric_families

from wifimon.catalogue import metric
from wifimon.snapshot import Sample, Snapshot, TargetSnapshot
from wifimon_exporters.stdout import StdoutExporter


def snapshot(clients: int) -> Snapshot:
    sample = Sample(metric("wifimon_ap_clients"), ("ap-1", "gare", "Gare"), clients, 10.0)
    return Snapshot({"wlc": TargetSnapshot("wlc", 10.0, (sample,))}, generation=clients)


async def publish_all(exporter: StdoutExporter, *snapshots: Snapshot) -> None:
    await exporter.start()
    for snap in snapshots:
        exporter.publish(snap)
        await asyncio.sleep(0.05)
    await exporter.stop()


def test_json_lines_carry_metric_labels_value_and_poll_time() -> None:
    stream = io.StringIO()
    asyncio.run(publish_all(StdoutExporter("json", stream), snapshot(7)))
    (line,) = stream.getvalue().splitlines()
    assert json.loads(line) == {
        "metric": "wifimon_ap_clients",
        "labels": {"ap": "ap-1", "site": "gare", "district": "Gare"},
        "value": 7,
        "timestamp": 10.0,
    }


def test_text_format_is_prometheus_exposition() -> None:
    stream = io.StringIO()
    asyncio.run(publish_all(StdoutExporter("text", stream), snapshot(3), snapshot(4)))
    families = list(text_string_to_metric_families(stream.getvalue()))
    values = [s.value for family in families for s in family.samples]
    assert values == [3, 4]


def test_a_slow_reader_gets_the_newest_snapshot_not_a_backlog() -> None:
    stream = io.StringIO()
    exporter = StdoutExporter("json", stream)

    async def burst() -> None:
        await exporter.start()
        for clients in range(1, 6):
            exporter.publish(snapshot(clients))  # no await: the writer never ran
        await exporter.stop()

    asyncio.run(burst())
    lines = [json.loads(line)["value"] for line in stream.getvalue().splitlines()]
    assert lines == [5]
    assert exporter.skipped == 4
