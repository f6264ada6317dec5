"""The Prometheus exporter over real HTTP on 127.0.0.1, and scraped by a real Prometheus."""

from __future__ import annotations

import asyncio
import gzip
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.prometheus import prometheus_binary, running_prometheus, wait_for
from wifimon.catalogue import metric
from wifimon.exporting import load_exporter_factories
from wifimon.snapshot import HistogramValue, Sample, Snapshot, TargetSnapshot
from wifimon_exporters.exposition import render, render_openmetrics
from wifimon_exporters.prometheus import PrometheusExporter, create

pytestmark = pytest.mark.e2e

AP = ("ap-1", "old-town", 'Centre "1"')  # a quote to check escaping end to end


def snapshot(generation: int, received: int) -> Snapshot:
    samples = (
        Sample(metric("wifimon_ap_up"), AP, 1, 1.0),
        Sample(metric("wifimon_ap_receive_bytes_total"), AP, received, 1.0),
    )
    return Snapshot(
        {"ap-1": TargetSnapshot("ap-1", 0.0, samples)},
        histograms={"wifimon_poll_duration_seconds": HistogramValue(((1.0, 1),), 1, 0.5)},
        generation=generation,
    )


class Current:
    """The daemon's ``current`` callable, counting how often it is asked."""

    def __init__(self, value: Snapshot) -> None:
        self.value, self.calls = value, 0

    def __call__(self) -> Snapshot:
        self.calls += 1
        return self.value


@pytest.fixture
def current() -> Current:
    return Current(snapshot(1, 1000))


@pytest.fixture
def exporter(current: Current) -> Iterator[PrometheusExporter]:
    started = create({"listen": "127.0.0.1:0"}, current)
    assert isinstance(started, PrometheusExporter)
    asyncio.run(started.start())
    yield started
    asyncio.run(started.stop())


def get(
    exporter: PrometheusExporter, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    url = f"http://127.0.0.1:{exporter.port}{path}"
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - http on loopback
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def health(exporter: PrometheusExporter) -> str:
    return get(exporter, "/healthz")[2].decode()


def test_the_entry_point_finds_the_factory() -> None:
    assert load_exporter_factories()["prometheus"] is create


def test_an_ephemeral_port_is_bound_and_exposed(exporter: PrometheusExporter) -> None:
    assert exporter.port > 0


def test_metrics_serves_the_rendered_snapshot(
    exporter: PrometheusExporter, current: Current
) -> None:
    status, headers, body = get(exporter, "/metrics")
    assert status == 200
    assert headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert body == render(current.value)


def test_scrapes_only_read_the_published_snapshot(
    exporter: PrometheusExporter, current: Current
) -> None:
    for _ in range(3):
        get(exporter, "/metrics")
    assert current.calls == 1  # at start; scrapes never ask the daemon (or SNMP)


def test_a_published_snapshot_is_served_soon(exporter: PrometheusExporter) -> None:
    newer = snapshot(2, 5000)
    exporter.publish(newer)
    wait_for(lambda: get(exporter, "/metrics")[2] == render(newer) or None, 10, "generation 2")


def test_gzip_is_served_when_accepted(exporter: PrometheusExporter, current: Current) -> None:
    status, headers, body = get(exporter, "/metrics", {"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body) == render(current.value)


def test_openmetrics_is_served_when_asked_for(exporter: PrometheusExporter) -> None:
    accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
    status, headers, body = get(exporter, "/metrics", {"Accept": accept})
    assert status == 200
    assert headers["Content-Type"].startswith("application/openmetrics-text; version=1.0.0")
    assert body.endswith(b"# EOF\n")


def test_the_variant_prometheus_asked_for_is_ready_before_its_next_scrape(
    exporter: PrometheusExporter,
) -> None:
    get(exporter, "/metrics")  # plain text, uncompressed: not built by default
    exporter.publish(snapshot(2, 5000))
    wait_for(lambda: "rendered_generation=2" in health(exporter) or None, 10, "generation 2")
    rendition = exporter._renderer.latest(0)
    assert rendition is not None
    assert (False, False) in rendition.bodies  # built by the renderer, not by a scrape


def test_the_first_rendition_builds_prometheus_body_only_then_the_defaults(
    exporter: PrometheusExporter,
) -> None:
    """The first poll after start is served sooner: only gzipped OpenMetrics
    (what Prometheus asks for) is built before it is served."""
    first = exporter._renderer.latest(10)
    assert first is not None
    assert set(first.bodies) == {(True, True)}
    exporter.publish(snapshot(2, 5000))  # nothing scraped: the default variants
    wait_for(lambda: "rendered_generation=2" in health(exporter) or None, 10, "generation 2")
    second = exporter._renderer.latest(0)
    assert second is not None
    assert set(second.bodies) == {(True, True), (False, True)}


def test_the_rendered_text_is_let_go_and_a_late_variant_rendered_again(
    exporter: PrometheusExporter, current: Current
) -> None:
    """Between polls only the built bodies stay in memory (~26 MB less at
    250,000 series); a variant nobody asked for before is rendered again."""
    rendition = exporter._renderer.latest(10)
    assert rendition is not None
    assert rendition.families is None
    assert (False, False) not in rendition.bodies
    assert (True, False) not in rendition.bodies
    assert get(exporter, "/metrics")[2] == render(current.value)
    accept = {"Accept": "application/openmetrics-text; version=1.0.0"}
    assert get(exporter, "/metrics", accept)[2] == render_openmetrics(current.value)


def test_healthz_reports_generation_and_age(exporter: PrometheusExporter) -> None:
    status, _, body = get(exporter, "/healthz")
    assert status == 200
    words = body.decode().split()
    assert words[:2] == ["ok", "generation=1"]
    assert words[2].startswith("age_seconds=")
    wait_for(lambda: "rendered_generation=1" in health(exporter) or None, 10, "first render")


def test_a_snapshot_that_cannot_be_rendered_keeps_the_last_good_one(
    exporter: PrometheusExporter, current: Current, caplog: pytest.LogCaptureFixture
) -> None:
    get(exporter, "/metrics")  # generation 1 is rendered
    broken = Sample(metric("wifimon_ap_up"), AP, "not a number", 1.0)  # type: ignore[arg-type]
    exporter.publish(Snapshot({"ap-1": TargetSnapshot("ap-1", 0.0, (broken,))}, generation=2))
    wait_for(lambda: "cannot render generation 2" in caplog.text or None, 10, "the failed render")
    assert get(exporter, "/metrics")[2] == render(current.value)
    assert "generation=2" in health(exporter)
    assert "rendered_generation=1" in health(exporter)
    exporter.publish(snapshot(3, 7000))  # and the next good snapshot is served
    wait_for(lambda: "rendered_generation=3" in health(exporter) or None, 10, "generation 3")


def test_head_sends_headers_only(exporter: PrometheusExporter, current: Current) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{exporter.port}/metrics", method="HEAD")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - http on loopback
        assert int(response.headers["Content-Length"]) == len(render(current.value))
        assert response.read() == b""


def test_other_paths_are_not_found(exporter: PrometheusExporter) -> None:
    assert get(exporter, "/")[0] == 404
    assert get(exporter, "/metrics/extra")[0] == 404


def test_stop_frees_the_port(current: Current) -> None:
    exporter = PrometheusExporter("127.0.0.1:0", current)
    asyncio.run(exporter.start())
    assert get(exporter, "/healthz")[0] == 200
    asyncio.run(exporter.stop())
    with pytest.raises(urllib.error.URLError):
        get(exporter, "/healthz")
    # A new exporter can take the port over (it would fail with EADDRINUSE).
    successor = PrometheusExporter(f"127.0.0.1:{exporter.port}", current)
    asyncio.run(successor.start())
    try:
        assert get(successor, "/healthz")[0] == 200
    finally:
        asyncio.run(successor.stop())


@pytest.mark.skipif(prometheus_binary() is None, reason="Debian prometheus is not installed")
def test_a_real_prometheus_scrapes_published_values(
    exporter: PrometheusExporter, tmp_path: Path
) -> None:
    exporter.publish(snapshot(2, 123_456_789))
    target = f"127.0.0.1:{exporter.port}"
    with running_prometheus(tmp_path, [target], scrape_interval="1s") as prometheus:
        query = 'wifimon_ap_receive_bytes_total{ap="ap-1",district="Centre \\"1\\""}'

        def scraped_value() -> str | None:
            result = prometheus.query(query)
            return str(result[0]["value"][1]) if result else None  # type: ignore[index]

        assert wait_for(scraped_value, 30, "the sample in Prometheus") == "123456789"
        assert prometheus.query("wifimon_poll_duration_seconds_count")
        (health,) = prometheus.targets()
        assert health["health"] == "up", health
