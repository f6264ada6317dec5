"""The Prometheus exporter: ``/metrics`` rendered from the newest snapshot.

A scrape never triggers SNMP. Every published snapshot is rendered once, on a
worker thread off the event loop, and scrapes are answered with cached bytes
(plain or gzip, Prometheus text 0.0.4 or OpenMetrics 1.0.0). While a newer
snapshot is being rendered, scrapes get the previous rendition (at most one
render staler; ``/healthz`` shows the published and the rendered generation).
Rendering 283,500 series takes ~0.45 s of one core; a scrape then costs ~1 ms.

Samples carry no timestamps on purpose: the daemon polls on its own clock and
exports staleness as metrics, and Prometheus's staleness handling only works
for series it timestamps itself.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import math
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar, cast
from urllib.parse import urlsplit

from wifimon.catalogue import BY_NAME, CATALOGUE, Entity, Kind, Metric
from wifimon.exporting import Exporter
from wifimon.snapshot import HistogramValue, Sample, Snapshot

log = logging.getLogger("wifimon.exporters.prometheus")

TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
# Level 1 compresses exposition text ~10x at a fraction of level 9's cost;
# rendering happens once per poll, so time matters more than the last bytes.
GZIP_LEVEL = 1
# Samples rendered between voluntary GIL hand-offs (~1 ms of work).
GIL_YIELD_EVERY = 1000
# How often the HTTP thread checks for stop(), seconds: bounds stop()'s latency.
SHUTDOWN_POLL_SECONDS = 0.1
# How long a scrape waits for the very first rendition after start, seconds.
FIRST_RENDER_WAIT_SECONDS = 10.0

T = TypeVar("T")
_CATALOGUE_ORDER = {metric.name: index for index, metric in enumerate(CATALOGUE)}


# --------------------------------------------------------------------------
# Rendering


def format_value(value: float) -> str:
    """A sample value as Prometheus parses it: ``3``, ``0.25``, ``+Inf``, ``NaN``.

    Ints are printed exactly (no ``.0``); floats use ``repr``, the shortest
    text that reads back to the same float64.
    """
    if type(value) is int:  # not isinstance: bool would print as "True"
        return str(value)
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    return repr(number)


def format_bound(bound: float) -> str:
    """A histogram ``le`` value in Go's float style, as client_python writes it.

    ``1`` becomes ``1.0`` so the ``le`` label is the same series in the text
    and OpenMetrics formats.
    """
    return format_value(float(bound))


def escape_label_value(value: str) -> str:
    r"""Escape ``\``, ``"`` and newline, e.g. ``a"b`` becomes ``a\"b``."""
    # The common value needs no escaping; checking first is ~3x faster than
    # three unconditional replace() calls over 10^5..10^6 values per render.
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return value


def _escape_help(text: str, openmetrics: bool) -> str:
    escaped = text.replace("\\", "\\\\").replace("\n", "\\n")
    # Text 0.0.4 leaves quotes in HELP alone; OpenMetrics escapes them.
    return escaped.replace('"', '\\"') if openmetrics else escaped


@dataclass(frozen=True, slots=True)
class _Family:
    """One metric family, UTF-8: headers per format, sample lines shared by both.

    Bytes per family, so building a body is one ``b"".join`` (a memcpy) and
    no encode of the whole exposition holds the GIL for tens of ms.
    """

    text_header: bytes
    openmetrics_header: bytes
    body: bytes


def _headers(metric: Metric) -> tuple[str, str]:
    """``# HELP``/``# TYPE`` lines for text 0.0.4 and for OpenMetrics."""
    kind = "gauge" if metric.kind is Kind.INFO else metric.kind.value
    text = f"# HELP {metric.name} {_escape_help(metric.help, False)}\n"
    text += f"# TYPE {metric.name} {kind}\n"
    family = metric.name
    if metric.kind is Kind.COUNTER:
        # OpenMetrics names the family without the `_total` its samples carry.
        if metric.name.endswith("_total"):
            family = metric.name.removesuffix("_total")
        else:
            kind = "unknown"
    om = f"# HELP {family} {_escape_help(metric.help, True)}\n# TYPE {family} {kind}\n"
    if metric.unit and family.endswith(f"_{metric.unit}"):
        om += f"# UNIT {family} {metric.unit}\n"
    return text, om


class _LabelFormatter:
    """Formats ``{ap="a1",site="s"}`` once per distinct label set per render.

    The same AP label values recur in a dozen metrics, so memoising the
    formatted text saves most of the escaping and joining. One cache per
    tuple of label names, so a family looks its cache up once.
    """

    def __init__(self) -> None:
        self._caches: dict[tuple[str, ...], dict[tuple[str, ...], str]] = {}
        self.malformed = 0

    def lines(self, metric: Metric, series: Iterable[Sample]) -> str:
        """The family's sample lines, e.g. ``wifimon_ap_up{ap="a1",...} 1``."""
        cache = self._caches.setdefault(metric.labels, {})
        name, out = metric.name, []
        for sample in _yielding_gil(series):
            labels = cache.get(sample.labels)
            if labels is None:
                if len(sample.labels) != len(metric.labels):
                    self.malformed += 1
                    continue
                labels = cache[sample.labels] = _format_labels(metric.labels, sample.labels)
            value = sample.value
            out.append(f"{name}{labels} {value if type(value) is int else format_value(value)}\n")
        return "".join(out)


def _format_labels(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    pairs = ",".join(f'{n}="{escape_label_value(v)}"' for n, v in zip(names, values, strict=True))
    return "{" + pairs + "}" if pairs else ""


def _yielding_gil(items: Iterable[T]) -> Iterator[T]:
    """``items``, letting other threads run every ``GIL_YIELD_EVERY`` items.

    Rendering shares the GIL with the event loop (SNMP I/O) and the HTTP
    threads. Each of their system calls gives the GIL away, and taking it back
    from a busy thread waits up to the 5 ms switch interval; a scrape needs
    dozens of such hand-offs. Measured with 283,500 series: worst event-loop
    lag during a render 6 ms with this, 11-30 ms without.
    """
    for count, item in enumerate(items, 1):
        if count % GIL_YIELD_EVERY == 0:
            time.sleep(0)
        yield item


def _group(snapshot: Snapshot) -> dict[str, dict[tuple[str, ...], Sample]]:
    """Samples by metric name, then by label values; the newest poll's wins.

    Duplicates happen when two targets report the same series (an AP seen on
    two controllers during a roam). Visiting targets oldest poll first and
    letting later samples overwrite keeps one sample per series, cheaply.
    """
    groups: dict[str, dict[tuple[str, ...], Sample]] = {}
    targets = sorted(snapshot.targets.values(), key=lambda target: target.started)
    for samples in [*(target.samples for target in targets), snapshot.daemon]:
        for sample in _yielding_gil(samples):
            series = groups.get(sample.metric.name)
            if series is None:
                series = groups[sample.metric.name] = {}
            series[sample.labels] = sample
    return groups


def _histogram_lines(name: str, histogram: HistogramValue) -> str:
    buckets = sorted(histogram.buckets)
    if not buckets or not math.isinf(buckets[-1][0]):
        # Prometheus requires the +Inf bucket; it always equals the count.
        buckets.append((math.inf, histogram.count))
    lines = [f'{name}_bucket{{le="{format_bound(le)}"}} {count}\n' for le, count in buckets]
    lines.append(f"{name}_sum {format_value(histogram.total)}\n")
    lines.append(f"{name}_count {histogram.count}\n")
    return "".join(lines)


def _histogram_metric(name: str) -> Metric:
    known = BY_NAME.get(name)
    if known is not None:
        return known
    # Not in the catalogue (a test, a newer daemon): still render it.
    return Metric(name, Kind.HISTOGRAM, Entity.DAEMON, (), f"{name} histogram.")


def _order(name: str) -> tuple[int, str]:
    """Catalogue order first, anything else after it by name."""
    return _CATALOGUE_ORDER.get(name, len(_CATALOGUE_ORDER)), name


def render_families(snapshot: Snapshot) -> list[_Family]:
    """Every family in the snapshot, in catalogue order, each rendered once."""
    formatter = _LabelFormatter()
    bodies: dict[str, tuple[Metric, str]] = {}
    for name, series in _group(snapshot).items():
        metric = next(iter(series.values())).metric
        bodies[name] = (metric, formatter.lines(metric, series.values()))
    if formatter.malformed:
        log.warning(
            "dropped %d samples whose label count differs from the catalogue", formatter.malformed
        )
    for name, histogram in snapshot.histograms.items():
        bodies[name] = (_histogram_metric(name), _histogram_lines(name, histogram))
    families = []
    for name in sorted(bodies, key=_order):
        metric, body = bodies[name]
        text_header, om_header = _headers(metric)
        families.append(_Family(text_header.encode(), om_header.encode(), body.encode()))
    return families


def _join(families: Iterable[_Family], openmetrics: bool) -> bytes:
    parts: list[bytes] = []
    for family in families:
        parts += (family.openmetrics_header if openmetrics else family.text_header, family.body)
    if openmetrics:
        parts.append(b"# EOF\n")
    return b"".join(parts)


def render(snapshot: Snapshot) -> bytes:
    """The snapshot in Prometheus text format 0.0.4, UTF-8.

    >>> render(Snapshot())
    b''
    """
    return _join(render_families(snapshot), openmetrics=False)


def render_openmetrics(snapshot: Snapshot) -> bytes:
    """The snapshot in OpenMetrics 1.0.0 text, ending in ``# EOF``."""
    return _join(render_families(snapshot), openmetrics=True)


# --------------------------------------------------------------------------
# Caching renditions


# (openmetrics, gzip): the four bodies a scrape may ask for.
Variant = tuple[bool, bool]
# Built eagerly until scrapes show what is really asked for: Prometheus asks
# for gzipped OpenMetrics, most other scrapers for gzipped text.
DEFAULT_VARIANTS: frozenset[Variant] = frozenset({(True, True), (False, True)})


@dataclass(slots=True)
class _Rendition:
    """One rendered snapshot, the bodies built from it so far, and those served."""

    generation: int
    families: list[_Family]
    bodies: dict[Variant, bytes] = field(default_factory=dict)
    served: set[Variant] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def body(self, variant: Variant, serving: bool = True) -> bytes:
        """The body for ``variant``, built on first use and kept."""
        with self.lock:
            if serving:
                self.served.add(variant)
            data = self.bodies.get(variant)
            if data is None:
                openmetrics, gzipped = variant
                data = _join(self.families, openmetrics)
                if gzipped:
                    data = gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
                self.bodies[variant] = data
            return data


class _Renderer:
    """A worker thread that renders the newest published snapshot.

    Publishes that arrive during a render coalesce: only the newest is
    rendered next. The variants served from one rendition are pre-built for
    the next (Prometheus asks for gzipped OpenMetrics, curl for plain text),
    so a steady scraper never waits for encoding.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._pending: Snapshot | None = None
        self._latest: _Rendition | None = None
        self._prebuild = DEFAULT_VARIANTS
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="prometheus-render", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join()

    def submit(self, snapshot: Snapshot) -> None:
        with self._cond:
            self._pending = snapshot
            self._cond.notify_all()

    def latest(self, timeout: float) -> _Rendition | None:
        """The newest rendition, waiting up to ``timeout`` s for the first."""
        with self._cond:
            self._cond.wait_for(lambda: self._latest is not None or self._stopping, timeout)
            return self._latest

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None or self._stopping)
                if self._stopping:
                    return
                snapshot, self._pending = cast(Snapshot, self._pending), None
            try:
                rendition = self._render(snapshot)
            except Exception:
                # Keep serving the previous rendition rather than lose the thread.
                log.exception("cannot render generation %d", snapshot.generation)
                continue
            with self._cond:
                self._latest = rendition
                self._cond.notify_all()

    def _render(self, snapshot: Snapshot) -> _Rendition:
        started = time.perf_counter()
        previous = self._latest
        if previous is not None and previous.served:
            self._prebuild = frozenset(previous.served)
        rendition = _Rendition(snapshot.generation, render_families(snapshot))
        for variant in self._prebuild:
            rendition.body(variant, serving=False)
        log.debug(
            "rendered generation %d in %.3f s",
            snapshot.generation,
            time.perf_counter() - started,
        )
        return rendition

    @property
    def rendered_generation(self) -> int | None:
        rendition = self._latest
        return None if rendition is None else rendition.generation


# --------------------------------------------------------------------------
# HTTP


def parse_listen(listen: str) -> tuple[str, int]:
    """``"host:port"`` to ``(host, port)``; IPv6 hosts in brackets, e.g. ``"[::]:9877"``."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"listen must be host:port, got {listen!r}")
    return host.removeprefix("[").removesuffix("]"), int(port)


def _wants_openmetrics(accept: str) -> bool:
    # Prometheus asks for OpenMetrics first; the sample lines are the same, so
    # serving it costs one more join of cached strings.
    return "application/openmetrics-text" in accept


def _wants_gzip(accept_encoding: str) -> bool:
    return any(part.split(";")[0].strip() == "gzip" for part in accept_encoding.split(","))


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], exporter: PrometheusExporter) -> None:
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
        self.exporter = exporter
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn) we don't need.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), self.server_address[1]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: Prometheus reuses connections
    timeout = 120  # seconds an idle keep-alive connection may hold a thread

    def do_GET(self) -> None:  # name fixed by BaseHTTPRequestHandler
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _respond(self, send_body: bool) -> None:
        exporter = cast(_Server, self.server).exporter
        path = urlsplit(self.path).path
        headers: dict[str, str]
        if exporter.stopped:
            # A keep-alive connection outlived stop(): end it, serve nothing stale.
            self.close_connection = True
            status, headers, body = 503, {}, b"stopped\n"
        elif path == "/metrics":
            status, headers, body = exporter.scrape(
                self.headers.get("Accept", ""), self.headers.get("Accept-Encoding", "")
            )
        elif path == "/healthz":
            status, headers, body = 200, {}, exporter.health().encode()
        else:
            status, headers, body = 404, {}, b"not found; try /metrics\n"
        self.send_response(status)
        headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if send_body:
            self.wfile.write(body)


class PrometheusExporter:
    """Serves ``/metrics`` and ``/healthz`` on ``listen`` from published snapshots.

    ``port`` is the bound TCP port once started (useful with ``listen`` port 0).
    """

    def __init__(self, listen: str, current: Callable[[], Snapshot]) -> None:
        self.host, self.port = parse_listen(listen)
        self._current = current
        self._renderer = _Renderer()
        self._server: _Server | None = None
        self.stopped = False
        self._generation = 0
        self._published_at = time.monotonic()

    async def start(self) -> None:
        """Bind the listen address and serve from a daemon thread."""
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        self._renderer.start()
        threading.Thread(
            target=self._server.serve_forever,
            args=(SHUTDOWN_POLL_SECONDS,),
            name="prometheus-http",
            daemon=True,
        ).start()
        self.publish(self._current())
        log.info("serving /metrics on %s port %d", self.host or "*", self.port)

    def publish(self, snapshot: Snapshot) -> None:
        """Hand over a new snapshot; O(1), rendering happens on the worker."""
        self._generation = snapshot.generation
        self._published_at = time.monotonic()
        self._renderer.submit(snapshot)

    async def stop(self) -> None:
        """Stop serving, close the listening socket and end both threads."""
        self.stopped = True
        if self._server is not None:
            await asyncio.to_thread(self._server.shutdown)
            self._server.server_close()
            self._server = None
        await asyncio.to_thread(self._renderer.stop)

    def scrape(self, accept: str, accept_encoding: str) -> tuple[int, dict[str, str], bytes]:
        """Status, headers and body for a ``/metrics`` request."""
        rendition = self._renderer.latest(FIRST_RENDER_WAIT_SECONDS)
        if rendition is None:
            return 503, {}, b"no snapshot rendered yet\n"
        variant = (_wants_openmetrics(accept), _wants_gzip(accept_encoding))
        headers = {
            "Content-Type": OPENMETRICS_CONTENT_TYPE if variant[0] else TEXT_CONTENT_TYPE,
            "Vary": "Accept, Accept-Encoding",  # the body depends on both
        }
        if variant[1]:
            headers["Content-Encoding"] = "gzip"
        return 200, headers, rendition.body(variant)

    def health(self) -> str:
        """E.g. ``ok generation=42 age_seconds=3.1 rendered_generation=42``.

        ``age_seconds`` is the time since the last publish; a rendered
        generation behind the published one for long means rendering is stuck.
        """
        age = time.monotonic() - self._published_at
        rendered = self._renderer.rendered_generation
        return (
            f"ok generation={self._generation} age_seconds={age:.1f}"
            f" rendered_generation={'none' if rendered is None else rendered}\n"
        )


def create(settings: Mapping[str, object], current: Callable[[], Snapshot]) -> Exporter:
    """Entry point ``wifimon.exporters: prometheus``; ``settings = {"listen": "host:port"}``."""
    listen = settings.get("listen", "0.0.0.0:9877")
    if not isinstance(listen, str):
        raise TypeError(f"prometheus.listen must be a string, got {listen!r}")
    return PrometheusExporter(listen, current)
