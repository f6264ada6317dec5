"""The exporter's threads with a scripted writer: never blocking, reporting once, resuming.

The network itself is exercised against real servers in
tests/e2e/test_influxdb_*.py; here the writer is a stand-in so timing and
outcomes are exact.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path

import pytest

from tests.support.prometheus import free_tcp_port
from wifimon.catalogue import metric
from wifimon.config.schema import InfluxDbExporter
from wifimon.exporting import SelfReporting, exporter_samples
from wifimon.snapshot import Sample, Snapshot, TargetSnapshot
from wifimon_exporters.influx_writer import WriteOutcome
from wifimon_exporters.influxdb import InfluxExporter, create
from wifimon_exporters.stdout import StdoutExporter


class ScriptedWriter:
    """Answers with ``outcome``; holds every request while ``gate`` is closed."""

    def __init__(self, outcome: WriteOutcome | None = None) -> None:
        self.outcome = outcome or WriteOutcome()
        self.gate = threading.Event()
        self.gate.set()
        self.bodies: list[bytes] = []

    def write(self, body: bytes) -> WriteOutcome:
        self.gate.wait(30)
        self.bodies.append(body)
        return self.outcome

    def describe(self, outcome: WriteOutcome) -> str:
        return f"scripted {outcome.kind}"

    def close(self) -> None:
        self.gate.set()

    def lines(self) -> list[str]:
        return [line for body in self.bodies for line in body.decode().split("\n")]


Writers = dict[str, "ScriptedWriter"]


def config(**overrides: object) -> InfluxDbExporter:
    settings: dict[str, object] = {
        "url": "http://127.0.0.1:9",
        "bucket": "wifi",
        "flush_interval": 0.05,
        "max_retry_delay": 0.2,
        "timeout": 1.0,
        **overrides,
    }
    return InfluxDbExporter.model_validate(settings)


def snapshot(poll: int, up: bool = False) -> Snapshot:
    """One AP's clients (= ``poll``) at second ``poll``; with ``up``, also its state."""
    labels = ("kiosk-1", "station", "Gare")
    stamp = 1_700_000_000.0 + poll
    samples: tuple[Sample, ...] = (Sample(metric("wifimon_ap_clients"), labels, poll, stamp),)
    if up:
        samples += (Sample(metric("wifimon_ap_up"), labels, 1, stamp),)
    target = TargetSnapshot("kiosk-1", stamp, samples)
    return Snapshot({"kiosk-1": target}, generation=poll)


def wait_until(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not callable(condition) or not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_publish_returns_at_once_while_the_server_hangs(tmp_path: Path) -> None:
    writer = ScriptedWriter()
    writer.gate.clear()  # every request hangs until released
    exporter = InfluxExporter(config(), tmp_path, lambda bucket: writer)

    async def scenario() -> float:
        await exporter.start()
        started = time.perf_counter()
        for poll in range(10):
            exporter.publish(snapshot(poll))
        elapsed = time.perf_counter() - started
        writer.gate.set()
        await exporter.stop()
        return elapsed

    assert asyncio.run(scenario()) < 0.01
    assert exporter.stats.written + exporter.raw.spool.points == 10
    assert sum(exporter.stats.dropped.values()) == 0


def test_a_refused_token_is_reported_once_and_retried_slowly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    writer = ScriptedWriter(WriteOutcome("auth", 401, "unauthorized"))
    exporter = InfluxExporter(config(max_retry_delay=0.3), tmp_path, lambda bucket: writer)

    async def scenario() -> None:
        await exporter.start()
        exporter.publish(snapshot(1))
        await asyncio.sleep(1.0)
        exporter.publish(snapshot(2))
        await exporter.stop()

    with caplog.at_level(logging.DEBUG, logger="wifimon.exporters.influxdb"):
        asyncio.run(scenario())
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [
        "scripted auth; this will not fix itself; points go to the spool (1 waiting), "
        "next attempt in 0 s"
    ]
    # One attempt per max_retry_delay, not a tight loop.
    assert 2 <= len(writer.bodies) <= 5
    assert exporter.stats.errors["auth"] == len(writer.bodies)
    assert exporter.raw.spool.points == 2


def test_what_one_run_spooled_the_next_run_sends_first(tmp_path: Path) -> None:
    failing = ScriptedWriter(WriteOutcome("unreachable", 0, "ConnectionRefused"))
    first = InfluxExporter(config(), tmp_path, lambda bucket: failing)
    healthy = ScriptedWriter()
    second = InfluxExporter(config(), tmp_path, lambda bucket: healthy)

    async def scenario() -> None:
        await first.start()
        for poll in range(3):
            first.publish(snapshot(poll))
        await first.stop()
        await second.start()
        second.publish(snapshot(3))
        await asyncio.to_thread(wait_until, lambda: second.stats.written == 4)
        await second.stop()

    asyncio.run(scenario())
    clients = [line.split(" ")[1] for line in healthy.lines()]
    assert clients == ["clients=0i", "clients=1i", "clients=2i", "clients=3i"]
    # The new poll joins the spool if it arrives before the replay is done.
    assert second.stats.replayed in (3, 4)
    assert not list((tmp_path / "spool").glob("*.seg"))


def test_the_daemon_merges_exporter_self_metrics_into_its_samples(tmp_path: Path) -> None:
    exporter = create(
        {"url": "http://127.0.0.1:9", "bucket": "wifi", "state_dir": tmp_path}, Snapshot
    )
    assert isinstance(exporter, SelfReporting)
    assert not isinstance(StdoutExporter("json"), SelfReporting)
    samples = exporter_samples([StdoutExporter("json"), exporter], now=42.0)
    names = {sample.metric.name for sample in samples}
    assert "wifimon_influxdb_points_written_total" in names
    assert "wifimon_influxdb_write_errors_total" in names
    assert {sample.timestamp for sample in samples} == {42.0}


def test_the_token_is_never_in_a_log_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    token = "s3cr3t-" + "x" * 20
    port = free_tcp_port()  # nothing listens there: connection refused
    exporter = create(
        {"url": f"http://user:pw@127.0.0.1:{port}/", "bucket": "wifi", "token": token,
         "state_dir": tmp_path, "timeout": 0.5},
        Snapshot,
    )  # fmt: skip

    async def scenario() -> None:
        await exporter.start()
        exporter.publish(snapshot(1))
        await asyncio.sleep(0.5)
        await exporter.stop()

    with caplog.at_level(logging.DEBUG):
        asyncio.run(scenario())
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert f"cannot reach InfluxDB at http://127.0.0.1:{port}/" in text
    assert token not in text
    assert "pw@" not in text


def three_polls_to_two_buckets(tmp_path: Path, shard: tuple[str, str] | None) -> Writers:
    """The writers of the raw and the rollup bucket after three polls of one
    AP, half an hour apart (the third closes the first hour), published
    with ``shard`` (index, count) as ``wifimon_shard_info`` when given."""
    writers = {"wifi": ScriptedWriter(), "wifi-planning": ScriptedWriter()}
    settings = config(rollup_bucket="wifi-planning")
    exporter = InfluxExporter(settings, tmp_path, lambda bucket: writers[bucket])
    polls = [snapshot(poll, up=True) for poll in (0, 1800, 3600)]
    if shard is not None:
        polls = [
            Snapshot(
                plain.targets,
                (Sample(metric("wifimon_shard_info"), shard, 1, plain.targets["kiosk-1"].started),),
                generation=plain.generation,
            )
            for plain in polls
        ]

    def written() -> bool:
        raw = [line for line in writers["wifi"].lines() if line.startswith("wifimon_ap,")]
        return len(raw) == 3 and len(writers["wifi-planning"].lines()) == 1

    async def scenario() -> None:
        await exporter.start()
        for published in polls:
            exporter.publish(published)
        await asyncio.to_thread(wait_until, written)
        await exporter.stop()

    asyncio.run(scenario())
    return writers


def test_rollups_go_to_their_own_bucket_when_one_is_named(tmp_path: Path) -> None:
    writers = three_polls_to_two_buckets(tmp_path, shard=None)
    (rollup,) = writers["wifi-planning"].lines()
    assert rollup.startswith("wifimon_district_hourly,district=Gare aps=1i,aps_up=1i")
    assert all(line.startswith("wifimon_ap,") for line in writers["wifi"].lines())
    assert len(writers["wifi"].lines()) == 3


def test_a_sharded_daemons_rollups_carry_the_shard_its_snapshots_name(tmp_path: Path) -> None:
    writers = three_polls_to_two_buckets(tmp_path, shard=("2", "3"))
    (rollup,) = writers["wifi-planning"].lines()
    assert rollup.startswith("wifimon_district_hourly,district=Gare,shard=2 aps=1i,aps_up=1i")
    assert ",ap_polls=2i,up_polls=2i " in rollup
    # The raw points keep their tags: only the rollups of shards need one more.
    raw = [line for line in writers["wifi"].lines() if line.startswith("wifimon_ap,")]
    assert len(raw) == 3
    assert not any("shard" in line for line in raw)


class PickyWriter(ScriptedWriter):
    """Accepts every body except those holding one of ``poison``: HTTP 400 for good."""

    def __init__(self, *poison: str) -> None:
        super().__init__()
        self.poison = poison
        self.refused: list[bytes] = []

    def write(self, body: bytes) -> WriteOutcome:
        if any(marker.encode() in body for marker in self.poison):
            self.refused.append(body)
            return WriteOutcome("rejected", 400, "unable to parse 'x': bad timestamp")
        return super().write(body)

    def describe(self, outcome: WriteOutcome) -> str:
        return f"scripted {outcome.kind} (HTTP {outcome.status}: {outcome.detail})"


def test_a_batch_refused_for_good_is_parked_and_the_rest_goes_on_in_order(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Polls 0-3 are spooled by an outage, 4-7 are sent from memory; 2 and 6 are refused.
    failing = ScriptedWriter(WriteOutcome("unreachable", 0, "ConnectionRefused"))
    first = InfluxExporter(config(batch_size=1), tmp_path, lambda bucket: failing)
    picky = PickyWriter("clients=2i", "clients=6i")
    second = InfluxExporter(config(batch_size=1), tmp_path, lambda bucket: picky)

    async def scenario() -> None:
        await first.start()
        for poll in range(4):
            first.publish(snapshot(poll))
        await first.stop()
        await second.start()
        await asyncio.to_thread(wait_until, lambda: second.raw.spool.empty)
        for poll in range(4, 8):
            second.publish(snapshot(poll))
        await asyncio.to_thread(wait_until, lambda: second.stats.written == 6)
        await second.stop()

    with caplog.at_level(logging.DEBUG, logger="wifimon.exporters.influxdb"):
        asyncio.run(scenario())
    clients = [line.split(" ")[1] for line in picky.lines()]
    assert clients == [f"clients={n}i" for n in (0, 1, 3, 4, 5, 7)]
    parked = second.raw.rejected.files()
    assert [path.read_bytes() for path in parked] == [body + b"\n" for body in picky.refused]
    assert [path.read_text().split(" ")[1] for path in parked] == ["clients=2i", "clients=6i"]
    assert all(path.parent == tmp_path / "rejected" for path in parked)
    assert (second.stats.rejected, second.stats.errors["rejected"]) == (2, 2)
    assert (second.stats.written, second.stats.replayed) == (6, 3)
    assert sum(second.stats.dropped.values()) == 0
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    rejections = [message for message in errors if "rejected" in message]
    assert len(rejections) == 1
    assert "HTTP 400: unable to parse 'x': bad timestamp" in rejections[0]
    assert str(parked[0]) in rejections[0]
    rejected = {
        sample.metric.name: sample.value
        for sample in second.samples(0.0)
        if "rejected" in sample.metric.name
    }
    assert rejected == {
        "wifimon_influxdb_points_rejected_total": 2,
        "wifimon_influxdb_rejected_points_pruned_total": 0,
    }
