"""The InfluxDB exporter against servers that refuse, fail, hang or stay away.

The exporter runs in this process, fed synthetic polls, over real HTTP on
127.0.0.1: a stub that answers every write with one status (or never
answers) stands in for the refusals VictoriaMetrics never makes (it has no
tokens and no buckets), and a real VictoriaMetrics then receives what the
spool kept, to prove nothing was lost, or, with a spool too small for the
outage, that exactly the oldest points were dropped and counted. A stub in
front of VictoriaMetrics that refuses some batches for good (400, 422) shows
them parked in ``rejected/`` while every other batch lands, in order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.support.influx_servers import (
    VictoriaMetrics,
    running_victoria_metrics,
    stub_server,
    victoria_metrics_binary,
)
from tests.support.prometheus import wait_for
from wifimon.catalogue import metric
from wifimon.snapshot import Sample, Snapshot, TargetSnapshot
from wifimon_exporters.influxdb import InfluxExporter, create

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(victoria_metrics_binary() is None, reason="victoria-metrics not installed"),
]

TOKEN = "e2e-token-7d1f0c"  # what the stub sees in Authorization, never in the log
START = int(time.time()) - 3600  # polls of the last hour, one a second


@pytest.fixture(scope="module")
def vm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaMetrics]:
    with running_victoria_metrics(tmp_path_factory.mktemp("vm")) as server:
        yield server


def poll(number: int, site: str, aps: int = 20) -> Snapshot:
    """Poll ``number``: ``aps`` APs of ``site`` whose clients encode the poll, one line each."""
    stamp = float(START + number)
    samples = tuple(
        Sample(metric("wifimon_ap_clients"), (f"ap-{ap}", site, "North"), number * 1000 + ap, stamp)
        for ap in range(aps)
    )
    return Snapshot({"controller": TargetSnapshot("controller", stamp, samples)}, generation=number)


def exporter(url: str, state: Path, **overrides: object) -> InfluxExporter:
    settings: dict[str, object] = {
        "url": url,
        "org": "city",
        "bucket": "wifi",
        "token": TOKEN,
        "flush_interval": 0.05,
        "timeout": 0.5,
        "max_retry_delay": 0.3,
        "state_dir": state,
        **overrides,
    }
    made = create(settings, Snapshot)
    assert isinstance(made, InfluxExporter)
    return made


def clients_in(vm: VictoriaMetrics, site: str) -> dict[tuple[str, int], list[float]]:
    """(ap, timestamp in s) -> every value VictoriaMetrics holds for ``site`` (one per test)."""
    found: dict[tuple[str, int], list[float]] = {}
    for series in vm.export(f'wifimon_ap_clients{{site="{site}"}}'):
        labels = series["metric"]
        assert isinstance(labels, dict)
        for stamp, value in zip(series["timestamps"], series["values"], strict=True):
            found.setdefault((labels["ap"], stamp // 1000), []).append(value)
    return found


async def feed(target: InfluxExporter, polls: range, site: str, pause: float = 0.0) -> float:
    """Publish ``polls``; the longest a single ``publish`` took, seconds."""
    slowest = 0.0
    for number in polls:
        started = time.perf_counter()
        target.publish(poll(number, site))
        slowest = max(slowest, time.perf_counter() - started)
        await asyncio.sleep(pause)
    return slowest


class Refusal(NamedTuple):
    """A stub's answer (status 0: none at all) and what the one log line must say."""

    status: int
    body: bytes
    kind: str
    message: str


REFUSALS = [
    Refusal(401, b'{"code":"unauthorized","message":"unauthorized access"}', "auth",
            "refuses the token"),
    Refusal(404, b'{"code":"not found","message":"bucket not found"}', "not_found",
            "has no bucket 'wifi' in org 'city'"),
    Refusal(500, b'{"code":"internal error","message":"boom"}', "server_error",
            "fails (HTTP 500: boom)"),
    Refusal(0, b"", "timeout", "did not answer within 0.5 s"),
]  # fmt: skip


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda refusal: refusal.kind)
def test_a_refusing_or_silent_server_is_reported_once_and_loses_nothing(
    vm: VictoriaMetrics, tmp_path: Path, caplog: pytest.LogCaptureFixture, refusal: Refusal
) -> None:
    status, body, kind, message = refusal
    site = f"refused-{status}"

    async def scenario(url: str) -> tuple[float, float, InfluxExporter]:
        target = exporter(url, tmp_path)
        await target.start()
        slowest = await feed(target, range(6), site, pause=0.25)
        started = time.perf_counter()
        await target.stop()
        return slowest, time.perf_counter() - started, target

    with caplog.at_level(logging.DEBUG), stub_server(status, body) as stub:
        slowest, stopping, refused = asyncio.run(scenario(stub.url))

    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, errors
    assert message in errors[0]
    assert refused.stats.errors[kind] == stub.requests
    assert 2 <= stub.requests <= 8, "backed off, not a tight loop"
    assert stub.headers[0].get("Authorization") == f"Token {TOKEN}"
    assert all(TOKEN not in r.getMessage() for r in caplog.records)
    assert slowest < 0.01, "publish never waits for the server"
    assert stopping < 0.5 + 5.0, "stop waits at most one request timeout (and a grace)"

    # The same state folder, a server that works: every point arrives, once.
    async def recovery() -> InfluxExporter:
        target = exporter(vm.url, tmp_path)
        await target.start()
        await asyncio.to_thread(wait_for, lambda: target.idle or None, 30, "replay")
        await target.stop()
        return target

    recovered = asyncio.run(recovery())
    landed = clients_in(vm, site)
    assert landed == {
        (f"ap-{ap}", START + number): [number * 1000 + ap]
        for number in range(6)
        for ap in range(20)
    }
    assert recovered.stats.replayed == 6 * 20


PARKED = [
    Refusal(400, b'{"code":"invalid","message":"unable to parse"}', "rejected",
            "rejects the data (HTTP 400: unable to parse)"),
    Refusal(422, b'{"code":"unprocessable entity","message":"field type conflict"}', "rejected",
            "rejects the data (HTTP 422: field type conflict)"),
]  # fmt: skip


@pytest.mark.parametrize("refusal", PARKED, ids=lambda refusal: str(refusal.status))
def test_a_batch_refused_for_good_is_parked_and_every_later_one_lands_in_order(
    vm: VictoriaMetrics, tmp_path: Path, caplog: pytest.LogCaptureFixture, refusal: Refusal
) -> None:
    status, body, _, message = refusal
    site = f"parked-{status}"
    poisoned = (3, 5)  # polls whose batch the server refuses; one batch per poll

    async def scenario(url: str) -> InfluxExporter:
        target = exporter(url, tmp_path, batch_size=20)
        await target.start()
        await feed(target, range(8), site, pause=0.25)
        await asyncio.to_thread(wait_for, lambda: target.idle or None, 30, "sent")
        await target.stop()
        return target

    markers = [f"clients={number * 1000}i".encode() for number in poisoned]
    with (
        caplog.at_level(logging.DEBUG),
        stub_server(status, body, refuse=markers, upstream=vm.url) as stub,
    ):
        target = asyncio.run(scenario(stub.url))

    def numbers(batch: bytes) -> list[int]:
        return [
            int(line.split(b"clients=")[1].split(b"i")[0]) // 1000 for line in batch.split(b"\n")
        ]

    # Parked whole, one file per refused batch, exactly the lines that were sent.
    refused = [
        batch for batch, answer in zip(stub.bodies, stub.answers, strict=True) if answer == status
    ]
    parked = sorted((tmp_path / "influxdb" / "rejected").glob("*.lp"))
    assert [path.read_bytes() for path in parked] == [batch + b"\n" for batch in refused]
    assert [sorted(set(numbers(batch))) for batch in refused] == [[3], [5]]
    assert all(len(path.read_bytes().splitlines()) == 20 for path in parked)
    # Everything else was sent once, in poll order, and landed.
    accepted = [
        batch for batch, answer in zip(stub.bodies, stub.answers, strict=True) if answer == 204
    ]
    assert [numbers(batch)[0] for batch in accepted] == [0, 1, 2, 4, 6, 7]
    assert len(stub.bodies) == 8, "no batch was retried"
    assert clients_in(vm, site) == {
        (f"ap-{ap}", START + number): [number * 1000 + ap]
        for number in range(8)
        if number not in poisoned
        for ap in range(20)
    }
    stats = target.stats
    assert (stats.rejected, stats.errors["rejected"], stats.written) == (40, 2, 120)
    assert (stats.spooled, sum(stats.dropped.values()), stats.rejected_pruned) == (0, 0, 0)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, errors
    assert message in errors[0]
    assert str(parked[0]) in errors[0]
    assert all(TOKEN not in r.getMessage() for r in caplog.records)


def test_an_outage_longer_than_the_spool_drops_the_oldest_and_counts_them(
    tmp_path: Path,
) -> None:
    server = VictoriaMetrics(tmp_path / "vm")  # its port is chosen; it starts later
    (tmp_path / "vm").mkdir()
    aps = 3000  # distinct values: ~25 KiB of spool per poll

    async def outage() -> InfluxExporter:
        target = exporter(server.url, tmp_path / "state", spool_max_bytes=1 << 20)
        await target.start()

        def encoded() -> bool | None:
            return target.pending_snapshots == 0 or None

        for number in range(120):
            target.publish(poll(number, "outage", aps))
            await asyncio.to_thread(wait_for, encoded, 10, "encode")
        return target

    async def recovery(target: InfluxExporter) -> None:
        await asyncio.to_thread(wait_for, lambda: target.idle or None, 60, "replay")
        await target.stop()

    target = asyncio.run(outage())
    dropped = target.stats.dropped["spool_full"]
    assert dropped > 0
    assert target.raw.spool.bytes <= 1 << 20
    server.start()
    try:
        asyncio.run(recovery(target))
        landed = clients_in(server, "outage")
    finally:
        server.stop()

    total = 120 * aps
    assert len(landed) + dropped == total, "every point either landed or was counted as dropped"
    assert all(len(values) == 1 for values in landed.values())
    assert target.stats.replayed == len(landed)
    first_kept = min(stamp for _, stamp in landed)
    # Only the oldest were dropped: everything after the first kept poll is whole.
    for number in range(first_kept - START + 1, 120):
        for ap in range(aps):
            assert landed[(f"ap-{ap}", START + number)] == [number * 1000 + ap]
