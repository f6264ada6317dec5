"""/metrics over TLS, with basic auth and client certificates, on 127.0.0.1.

A real ``wifimon run`` polls the session's net-snmp agent and serves
/metrics with a web config in Prometheus exporter-toolkit's format; a real
Prometheus (Debian 2.42) scrapes it over https with basic auth, and with a
wrong password. The in-process exporter covers mTLS and what plain clients
see. Certificates are made per run with ``cryptography``.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import ssl
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest
import yaml

import tests.support.prometheus as prometheus_support
from tests.e2e.conftest import COMMUNITY, Agent
from tests.support.daemon import DaemonConfig, RunningDaemon, running_daemon
from tests.support.prometheus import free_tcp_port, running_prometheus, wait_for
from tests.support.tls_certs import Pki, basic_authorization, client_context, make_pki
from tests.support.tls_certs import https_get as tls_get
from wifimon.catalogue import metric
from wifimon.snapshot import Sample, Snapshot, TargetSnapshot
from wifimon_exporters.prometheus import PrometheusExporter, create

pytestmark = pytest.mark.e2e

USER = "prometheus"
PASSWORD = "scrape-9c2e-secret"
HOST = "127.0.0.1"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def bcrypt_hash(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(10)).decode()


def authorization(user: str = USER, password: str = PASSWORD) -> dict[str, str]:
    return basic_authorization(user, password)


def https_get(
    port: int, path: str, context: ssl.SSLContext, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    return tls_get(f"https://{HOST}:{port}{path}", context, headers)


# --- the in-process exporter -----------------------------------------------------

AP = ("ap-tls", "harbour", "Harbour")
SNAPSHOT = Snapshot(
    {"ap-tls": TargetSnapshot("ap-tls", 0.0, (Sample(metric("wifimon_ap_up"), AP, 1, 1.0),))},
    generation=1,
)


def start_exporter(tmp_path: Path, web: dict[str, object]) -> PrometheusExporter:
    path = tmp_path / "web.yml"
    path.write_text(yaml.safe_dump(web))
    exporter = create({"listen": f"{HOST}:0", "web_config_file": path}, lambda: SNAPSHOT)
    assert isinstance(exporter, PrometheusExporter)
    asyncio.run(exporter.start())
    return exporter


def tls_section(pki: Pki, **extra: object) -> dict[str, object]:
    return {"cert_file": str(pki.server.cert), "key_file": str(pki.server.key), **extra}


@pytest.fixture
def tls_auth_exporter(tmp_path: Path, pki: Pki) -> Iterator[PrometheusExporter]:
    exporter = start_exporter(
        tmp_path,
        {
            "tls_server_config": tls_section(pki),
            "basic_auth_users": {USER: bcrypt_hash(PASSWORD)},
            "http_server_config": {"headers": {"X-Content-Type-Options": "nosniff"}},
        },
    )
    yield exporter
    asyncio.run(exporter.stop())


@pytest.fixture
def mtls_exporter(tmp_path: Path, pki: Pki) -> Iterator[PrometheusExporter]:
    exporter = start_exporter(
        tmp_path,
        {
            "tls_server_config": tls_section(
                pki,
                client_auth_type="RequireAndVerifyClientCert",
                client_ca_file=str(pki.ca.cert),
                client_allowed_sans=["prometheus.scraper"],
            )
        },
    )
    yield exporter
    asyncio.run(exporter.stop())


def test_the_right_password_gets_metrics_over_tls(
    tls_auth_exporter: PrometheusExporter, pki: Pki
) -> None:
    status, headers, body = https_get(
        tls_auth_exporter.port, "/metrics", client_context(pki), authorization()
    )
    assert status == 200
    assert b'wifimon_ap_up{ap="ap-tls",site="harbour",district="Harbour"} 1' in body
    assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/metrics", authorization(password="not-the-password")),
        ("/metrics", authorization(user="grafana")),
        ("/metrics", {}),
        ("/healthz", {}),
    ],
)
def test_wrong_or_missing_credentials_get_401_with_a_challenge(
    tls_auth_exporter: PrometheusExporter, pki: Pki, path: str, headers: dict[str, str]
) -> None:
    status, response_headers, body = https_get(
        tls_auth_exporter.port, path, client_context(pki), headers
    )
    assert status == 401
    assert response_headers["WWW-Authenticate"].startswith('Basic realm="wifimon"')
    assert b"wifimon_" not in body


def test_a_plain_http_client_gets_nothing_from_the_tls_port(
    tls_auth_exporter: PrometheusExporter,
) -> None:
    def plain_get() -> bytes:
        connection = http.client.HTTPConnection(HOST, tls_auth_exporter.port, timeout=10)
        try:
            connection.request("GET", "/metrics", headers=authorization())
            return connection.getresponse().read()
        finally:
            connection.close()

    with pytest.raises((http.client.HTTPException, ConnectionError)):
        plain_get()


def test_a_client_that_never_starts_tls_does_not_block_other_scrapes(
    tls_auth_exporter: PrometheusExporter, pki: Pki
) -> None:
    # Handshakes run on each connection's thread: a silent peer holds only its own.
    silent = [socket.create_connection((HOST, tls_auth_exporter.port)) for _ in range(3)]
    try:
        status, _, _ = https_get(
            tls_auth_exporter.port, "/metrics", client_context(pki), authorization()
        )
        assert status == 200
    finally:
        for sock in silent:
            sock.close()


def test_mtls_admits_the_scraper_certificate(mtls_exporter: PrometheusExporter, pki: Pki) -> None:
    status, _, body = https_get(mtls_exporter.port, "/metrics", client_context(pki, pki.client))
    assert status == 200
    assert b"wifimon_ap_up" in body


@pytest.mark.parametrize("who", ["nobody", "stranger", "intruder"])
def test_mtls_refuses_no_foreign_or_unlisted_client_certificates(
    mtls_exporter: PrometheusExporter, pki: Pki, who: str
) -> None:
    # nobody: no certificate; stranger: signed by another CA; intruder: the
    # right CA but a SAN not in client_allowed_sans.
    client = {"nobody": None, "stranger": pki.stranger, "intruder": pki.intruder}[who]
    with pytest.raises(
        (ssl.SSLError, ConnectionError, urllib.error.URLError, http.client.HTTPException)
    ):
        https_get(mtls_exporter.port, "/metrics", client_context(pki, client))


# --- the daemon, scraped by a real Prometheus ----------------------------------------


def write_daemon_config(directory: Path, snmpd: Agent, pki: Pki) -> DaemonConfig:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "web.yml").write_text(
        yaml.safe_dump(
            {
                "tls_server_config": tls_section(pki),
                "basic_auth_users": {USER: bcrypt_hash(PASSWORD)},
            }
        )
    )
    port = free_tcp_port()
    config = {
        "state_dir": "state",
        "poll": {"interval": "2s", "timeout": "1s", "retries": 1, "jitter": "0s"},
        "credentials": {"lab": {"version": "2c", "community": COMMUNITY}},
        "access_points": [
            {
                "ap": "lamp-9",
                "host": snmpd.host,
                "port": snmpd.port,
                "credentials": "lab",
                "profile": "generic",
                "site": "harbour",
                "district": "Harbour",
            }
        ],
        # relative to the config file
        "exporters": {"prometheus": {"listen": f"{HOST}:{port}", "web_config_file": "web.yml"}},
    }
    path = directory / "wifimon.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return DaemonConfig(path, port)


def wait_until_serving(daemon: RunningDaemon, pki: Pki) -> None:
    def ready() -> bool | None:
        if daemon.process.poll() is not None:
            raise AssertionError(f"wifimon exited:\n{daemon.log()[-3000:]}")
        try:
            status, _, body = https_get(
                daemon.config.http_port, "/healthz", client_context(pki), authorization()
            )
        except (urllib.error.URLError, ConnectionError, ssl.SSLError):
            return None
        return True if status == 200 and b"rendered_generation=none" not in body else None

    wait_for(ready, 60, "wifimon serving over https")


def prometheus_config(
    directory: Path, targets: object, interval: str, jobs: list[dict[str, object]]
) -> Path:
    del targets
    path = directory / "prometheus.yml"
    global_ = {"scrape_interval": interval, "scrape_timeout": interval}
    path.write_text(json.dumps({"global": global_, "scrape_configs": jobs}, indent=2))
    return path


def https_job(name: str, port: int, pki: Pki, password: str) -> dict[str, object]:
    return {
        "job_name": name,
        "scheme": "https",
        "tls_config": {"ca_file": str(pki.ca.cert)},
        "basic_auth": {"username": USER, "password": password},
        "static_configs": [{"targets": [f"{HOST}:{port}"]}],
    }


@pytest.mark.skipif(
    prometheus_support.prometheus_binary() is None, reason="needs Debian prometheus"
)
def test_prometheus_scrapes_the_daemon_over_tls_with_basic_auth(
    snmpd: Agent, pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_daemon_config(tmp_path / "wifimon", snmpd, pki)
    jobs = [
        https_job("wifimon-tls", config.http_port, pki, PASSWORD),
        https_job("wifimon-wrong-password", config.http_port, pki, "not-the-password"),
    ]
    monkeypatch.setattr(
        prometheus_support,
        "write_config",
        lambda directory, targets, interval: prometheus_config(directory, targets, interval, jobs),
    )
    (tmp_path / "prometheus").mkdir()
    with running_daemon(config) as daemon:
        wait_until_serving(daemon, pki)
        with running_prometheus(tmp_path / "prometheus", [], "1s") as prometheus:

            def scraped() -> list[dict[str, object]] | None:
                found = prometheus.query('wifimon_ap_up{job="wifimon-tls",ap="lamp-9"} == 1')
                return found or None

            wait_for(scraped, 60, "wifimon_ap_up scraped over https")
            up = {
                str(series["metric"]["job"]): series["value"][1]  # type: ignore[index]
                for series in wait_for(lambda: _both_up_series(prometheus), 60, "both jobs")
            }
            health = {str(t["labels"]["job"]): t for t in prometheus.targets()}  # type: ignore[index]
    assert up == {"wifimon-tls": "1", "wifimon-wrong-password": "0"}
    assert health["wifimon-tls"]["health"] == "up"
    assert health["wifimon-wrong-password"]["health"] == "down"
    assert "401" in str(health["wifimon-wrong-password"]["lastError"])
    log = daemon.log()
    assert f"serving https://{HOST}:{config.http_port}/metrics (TLS, basic auth)" in log
    assert PASSWORD not in log


def _both_up_series(
    prometheus: prometheus_support.PrometheusServer,
) -> list[dict[str, object]] | None:
    found = prometheus.query("up")
    return found if len(found) == 2 else None


@pytest.mark.skipif(
    prometheus_support.prometheus_binary() is None, reason="needs Debian prometheus"
)
def test_prometheus_scrapes_with_a_client_certificate(
    mtls_exporter: PrometheusExporter, pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tls = {"ca_file": str(pki.ca.cert)}
    jobs: list[dict[str, object]] = [
        {
            "job_name": "mtls",
            "scheme": "https",
            "tls_config": {
                **tls,
                "cert_file": str(pki.client.cert),
                "key_file": str(pki.client.key),
            },
            "static_configs": [{"targets": [f"{HOST}:{mtls_exporter.port}"]}],
        },
        {
            "job_name": "no-client-cert",
            "scheme": "https",
            "tls_config": tls,
            "static_configs": [{"targets": [f"{HOST}:{mtls_exporter.port}"]}],
        },
    ]
    monkeypatch.setattr(
        prometheus_support,
        "write_config",
        lambda directory, targets, interval: prometheus_config(directory, targets, interval, jobs),
    )
    (tmp_path / "prometheus").mkdir()
    with running_prometheus(tmp_path / "prometheus", [], "1s") as prometheus:
        wait_for(lambda: prometheus.query('wifimon_ap_up{job="mtls"}') or None, 60, "mTLS scrape")
        series = wait_for(lambda: _both_up_series(prometheus), 60, "both jobs")
    up = {str(s["metric"]["job"]): s["value"][1] for s in series}  # type: ignore[index]
    assert up == {"mtls": "1", "no-client-cert": "0"}


def test_a_bad_web_config_stops_wifimon_run_with_exit_2_naming_file_and_key(
    tmp_path: Path,
) -> None:
    (tmp_path / "web.yml").write_text("basic_auth_users:\n  prometheus: plain-text-password\n")
    port = free_tcp_port()
    config = tmp_path / "wifimon.yaml"
    config.write_text(
        "state_dir: state\naccess_points: []\n"
        f"exporters:\n  prometheus: {{listen: '{HOST}:{port}', web_config_file: web.yml}}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "wifimon", "run", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert f"{tmp_path / 'web.yml'}:2: basic_auth_users.prometheus: must be a bcrypt hash" in (
        result.stderr
    )
    assert "plain-text-password" not in result.stderr + result.stdout
