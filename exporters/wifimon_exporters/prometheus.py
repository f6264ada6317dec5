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

With ``web_config_file`` (Prometheus exporter-toolkit's format, see
``web_config``) every path is served over TLS, optionally requiring client
certificates, and/or behind basic auth. The TLS handshake and the bcrypt
check run on the connection's own thread, never on the accepting one, so a
slow or silent client cannot hold up other scrapers.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from wifimon.config.errors import ConfigError, ConfigIssue
from wifimon.exporting import Exporter
from wifimon.memory import release_free_memory
from wifimon.snapshot import Snapshot
from wifimon_exporters.exposition import (
    Family,
    join_families,
    render_families,
)
from wifimon_exporters.web_config import PLAIN, WatchedWebConfig, WebConfig, load_web_config

log = logging.getLogger("wifimon.exporters.prometheus")

TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
# Level 1 compresses exposition text ~10x at a fraction of level 9's cost;
# rendering happens once per poll, so time matters more than the last bytes.
GZIP_LEVEL = 1
# How often the HTTP thread checks for stop(), seconds: bounds stop()'s latency.
SHUTDOWN_POLL_SECONDS = 0.1
# How long a scrape waits for the very first rendition after start, seconds.
FIRST_RENDER_WAIT_SECONDS = 10.0
# How long a client may take to complete the TLS handshake, seconds.
TLS_HANDSHAKE_SECONDS = 10.0
# Addresses that reach every interface: served without TLS and auth, warned about.
_ALL_INTERFACES = frozenset({"", "0.0.0.0", "::"})


# --------------------------------------------------------------------------
# Caching renditions


# (openmetrics, gzip): the four bodies a scrape may ask for.
Variant = tuple[bool, bool]
# Built eagerly until scrapes show what is really asked for: Prometheus asks
# for gzipped OpenMetrics, most other scrapers for gzipped text.
DEFAULT_VARIANTS: frozenset[Variant] = frozenset({(True, True), (False, True)})
# The very first rendition after start builds only Prometheus' body before
# it is served (~0.4 s sooner at 250,000 series); any other is built when
# first asked for, and from then on the variants served are built ahead.
FIRST_VARIANTS: frozenset[Variant] = frozenset({(True, True)})


@dataclass(slots=True)
class _Rendition:
    """One rendered snapshot, the bodies built from it so far, and those served.

    The rendered ``families`` are let go once the expected bodies are built
    (``settle``): at 250,000 series they are ~26 MB that would otherwise sit
    beside the bodies for a whole interval. A body asked for after that is
    rendered again from ``snapshot``, which the daemon keeps anyway.
    """

    generation: int
    snapshot: Snapshot
    families: list[Family] | None
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
                if self.families is None:
                    self.families = render_families(self.snapshot)
                data = join_families(self.families, openmetrics)
                if gzipped:
                    data = gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
                self.bodies[variant] = data
            return data

    def settle(self) -> None:
        """Let the rendered families go (see the class docstring)."""
        with self.lock:
            self.families = None


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
            release_free_memory()  # the previous rendition's text is garbage now

    def _render(self, snapshot: Snapshot) -> _Rendition:
        started = time.perf_counter()
        previous = self._latest
        if previous is not None and previous.served:
            self._prebuild = frozenset(previous.served)
        prebuild = FIRST_VARIANTS if previous is None else self._prebuild
        rendition = _Rendition(snapshot.generation, snapshot, render_families(snapshot))
        for variant in prebuild:
            rendition.body(variant, serving=False)
        rendition.settle()
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

    def finish_request(self, request: Any, client_address: Any) -> None:
        """On the connection's own thread: the TLS handshake, then the handler."""
        web = self.exporter.web.current()
        if web.tls is None:
            super().finish_request(request, client_address)
            return
        secured = _handshake(request, web, client_address)
        if secured is None:
            return
        try:
            super().finish_request(secured, client_address)
        finally:
            self.shutdown_request(secured)


def _handshake(request: socket.socket, web: WebConfig, peer: Any) -> ssl.SSLSocket | None:
    """The TLS socket of ``request``, or None (logged) when the client fails TLS."""
    assert web.tls is not None
    try:
        request.settimeout(TLS_HANDSHAKE_SECONDS)
        secured = web.tls.wrap_socket(request, server_side=True)
    except (OSError, ssl.SSLError) as error:
        # e.g. plain http sent to the https port: "http request" from OpenSSL
        log.debug("TLS handshake with %s failed: %s", peer[0], error)
        return None
    if web.client_allowed_sans is not None and not _san_allowed(secured, web.client_allowed_sans):
        log.warning("client certificate of %s has no allowed SAN; connection closed", peer[0])
        secured.close()
        return None
    return secured


def _san_allowed(secured: ssl.SSLSocket, allowed: frozenset[str]) -> bool:
    certificate: dict[str, Any] = dict(secured.getpeercert() or {})
    names: tuple[tuple[str, str], ...] = certificate.get("subjectAltName", ())
    return any(value in allowed for _kind, value in names)


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
        web = exporter.web.current()
        path = urlsplit(self.path).path
        headers: dict[str, str]
        if exporter.stopped:
            # A keep-alive connection outlived stop(): end it, serve nothing stale.
            self.close_connection = True
            status, headers, body = 503, {}, b"stopped\n"
        elif web.auth is not None and not web.auth.allows(self.headers.get("Authorization")):
            status, headers, body = 401, {"WWW-Authenticate": web.auth.challenge}, b"Unauthorized\n"
        elif path == "/metrics":
            status, headers, body = exporter.scrape(
                self.headers.get("Accept", ""), self.headers.get("Accept-Encoding", "")
            )
        elif path == "/healthz":
            status, headers, body = 200, {}, exporter.health().encode()
        else:
            status, headers, body = 404, {}, b"not found; try /metrics\n"
        self.send_response(status)
        headers = {**web.headers, **headers}
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
    ``web_config_file`` (exporter-toolkit format) adds TLS and basic auth; it
    is read here, so a bad one raises ``ConfigError`` before anything starts.
    """

    def __init__(
        self, listen: str, current: Callable[[], Snapshot], web_config_file: Path | None = None
    ) -> None:
        self.host, self.port = parse_listen(listen)
        self.web = WatchedWebConfig(web_config_file)
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
        web = self.web.current()
        url = (
            f"{'http' if web.tls is None else 'https'}://{_url_host(self.host)}:{self.port}/metrics"
        )
        log.info("serving %s (%s)", url, web.describe())
        warning = exposure_warning(self.host, web)
        if warning:
            log.warning("%s", warning)

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


def exposure_warning(host: str, web: WebConfig) -> str | None:
    """What to warn about when ``/metrics`` is served on every interface
    (``host`` e.g. ``"0.0.0.0"``) without TLS or without authentication."""
    if host not in _ALL_INTERFACES or (web.tls is not None and web.auth is not None):
        return None
    missing = "TLS" if web.tls is None else "authentication"
    return (
        f"/metrics is open to every network this host is on (listen {host or '*'}) "
        f"without {missing}; set exporters.prometheus.listen to one address, "
        "or add a web_config_file"
    )


def _url_host(host: str) -> str:
    if not host:
        return "0.0.0.0"
    return f"[{host}]" if ":" in host else host


def check_settings(settings: Mapping[str, object]) -> list[ConfigIssue]:
    """Every problem of the web config ``settings`` names, without serving
    anything (for ``wifimon check-config``); ``[]`` when there is none."""
    web_config = settings.get("web_config_file")
    if web_config is None:
        return []
    try:
        load_web_config(Path(str(web_config)))
    except ConfigError as error:
        return list(error.issues)
    return []


def describe_settings(settings: Mapping[str, object]) -> str:
    """Where and how ``/metrics`` will be served, for ``wifimon check-config``,
    e.g. ``"https://127.0.0.1:9877/metrics (TLS, basic auth)"``; a web config
    that does not load reads ``"(web config invalid)"``."""
    host, port = parse_listen(str(settings.get("listen", "0.0.0.0:9877")))
    web_config = settings.get("web_config_file")
    try:
        web = load_web_config(Path(str(web_config))) if web_config is not None else PLAIN
    except ConfigError:
        return f"https://{_url_host(host)}:{port}/metrics (web config invalid)"
    scheme = "http" if web.tls is None else "https"
    return f"{scheme}://{_url_host(host)}:{port}/metrics ({web.describe()})"


def create(settings: Mapping[str, object], current: Callable[[], Snapshot]) -> Exporter:
    """Entry point ``wifimon.exporters: prometheus``; ``settings`` is e.g.
    ``{"listen": "127.0.0.1:9877", "web_config_file": Path("/etc/wifimon/web.yml")}``.

    Raises ``ConfigError`` (``file:line: key: message``) for a bad web config.
    """
    listen = settings.get("listen", "0.0.0.0:9877")
    if not isinstance(listen, str):
        raise TypeError(f"prometheus.listen must be a string, got {listen!r}")
    web_config = settings.get("web_config_file")
    if web_config is not None and not isinstance(web_config, str | Path):
        raise TypeError(f"prometheus.web_config_file must be a path, got {web_config!r}")
    return PrometheusExporter(listen, current, None if web_config is None else Path(web_config))
