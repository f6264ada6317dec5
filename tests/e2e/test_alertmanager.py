"""The Alertmanager example, run by a real Alertmanager on 127.0.0.1.

Debian's ``prometheus-alertmanager`` loads dashboards/alertmanager/alertmanager.yml
with two changes only: its webhook receivers point at a small HTTP server
of this test, and the first notification waits 1 s instead of 30 s. Alerts
shaped like the ones the rules send are posted to its API, then read back
from the API (routing, grouping, inhibition) and from the notifications
the receivers get.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.prometheus import HOST, free_tcp_port, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which("prometheus-alertmanager") is None,
        reason="Debian prometheus-alertmanager is not installed",
    ),
]

EXAMPLE = Path(__file__).resolve().parents[2] / "dashboards" / "alertmanager" / "alertmanager.yml"


def key(labels: Mapping[str, str]) -> str:
    """An alert's name and subject, e.g. ``WifiApDown/mul-0034`` or ``WifimonDown/wifimon``."""
    subject = next(
        labels[name] for name in ("ap", "controller", "district", "job") if name in labels
    )
    return f"{labels['alertname']}/{subject}"


@dataclass
class Inbox:
    """Notifications the receivers got: (receiver path, webhook payload)."""

    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: str, payload: dict[str, Any]) -> None:
        with self.lock:
            self.received.append((path, payload))

    def alerts_for(self, receiver: str) -> set[str]:
        """``key`` of every alert ``receiver`` was notified of."""
        with self.lock:
            return {
                key(alert["labels"])
                for path, payload in self.received
                if path == f"/{receiver}"
                for alert in payload["alerts"]
            }

    def all_alerts(self) -> set[str]:
        with self.lock:
            receivers = {path.lstrip("/") for path, _ in self.received}
        return set().union(*(self.alerts_for(receiver) for receiver in receivers))


def _handler(inbox: Inbox) -> type[BaseHTTPRequestHandler]:
    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            inbox.add(self.path, json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test reads the inbox, not the log."""

    return Receiver


@dataclass
class Alertmanager:
    process: subprocess.Popen[bytes]
    url: str
    directory: Path
    inbox: Inbox

    def log(self) -> str:
        return (self.directory / "alertmanager.log").read_text(errors="replace")

    def post(self, alerts: list[dict[str, Any]]) -> None:
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"{self.url}/api/v2/alerts",
            data=json.dumps(alerts).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            assert response.status == 200

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as response:  # noqa: S310
            return json.loads(response.read())


def test_config(example: Mapping[str, Any], webhook: str) -> dict[str, Any]:
    """The example with webhooks at ``webhook`` and a 1 s first wait; nothing else changes."""
    config: dict[str, Any] = copy.deepcopy(dict(example))
    config["route"]["group_wait"] = "1s"
    for receiver in config["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = f"{webhook}/{receiver['name']}"
    return config


test_config.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Alertmanager]:
    directory = tmp_path_factory.mktemp("alertmanager")
    inbox = Inbox()
    server = ThreadingHTTPServer((HOST, 0), _handler(inbox))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        example = yaml.safe_load(EXAMPLE.read_text())
        config = test_config(example, f"http://{HOST}:{server.server_address[1]}")
        (directory / "alertmanager.yml").write_text(yaml.safe_dump(config))
        port = free_tcp_port()
        command = [
            "prometheus-alertmanager",
            f"--config.file={directory / 'alertmanager.yml'}",
            f"--storage.path={directory / 'data'}",
            f"--web.listen-address={HOST}:{port}",
            "--cluster.listen-address=",  # no gossip port: one instance, loopback only
        ]
        with (directory / "alertmanager.log").open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        manager = Alertmanager(process, f"http://{HOST}:{port}", directory, inbox)
        try:
            wait_for(lambda: _ready(manager), 30, "alertmanager /-/ready")
            yield manager
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
    finally:
        server.shutdown()
        server.server_close()


def _ready(manager: Alertmanager) -> bool | None:
    assert manager.process.poll() is None, f"alertmanager exited:\n{manager.log()[-2000:]}"
    try:
        urllib.request.urlopen(f"{manager.url}/-/ready", timeout=1)  # noqa: S310 - loopback
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None
    return True


def alert(name: str, **labels: str) -> dict[str, Any]:
    """An alert as Prometheus posts it, firing for the next 10 minutes."""
    now = datetime.now(UTC)
    return {
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": f"{name} test", "description": "", "runbook": ""},
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(minutes=10)).isoformat(),
        "generatorURL": "http://127.0.0.1/graph",
    }


CONTROLLER_DOWN = alert(
    "WifiControllerUnreachable",
    severity="critical",
    scope="controller",
    controller="wlc-1",
    target="wlc-1",
)
BEHIND_DEAD_CONTROLLER = alert(
    "WifiApDown",
    severity="critical",
    scope="ap",
    ap="mul-0001",
    site="place-de-la-reunion",
    district="Centre",
    controller="wlc-1",
)
ELSEWHERE = alert(
    "WifiApDown",
    severity="critical",
    scope="ap",
    ap="mul-0034",
    site="motoco",
    district="Cité",
    controller="mc-1",
)
DIRECT_AP = alert(
    "WifiApDown",
    severity="critical",
    scope="ap",
    ap="mul-0007",
    site="rebberg-mediatheque",
    district="Rebberg",
)
SATURATED = alert("WifiChannelSaturated", severity="warning", scope="ap", ap="mul-0030",
                  site="parc-zoologique", district="Dornach", controller="mc-1", radio="0",
                  band="2.4GHz")  # fmt: skip


def _by_key(alerts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {key(a["labels"]): a for a in alerts}


def test_alerts_are_routed_grouped_and_inhibited(alertmanager: Alertmanager) -> None:
    alertmanager.post([CONTROLLER_DOWN, BEHIND_DEAD_CONTROLLER, ELSEWHERE, DIRECT_AP, SATURATED])

    def all_in() -> list[dict[str, Any]] | None:
        found: list[dict[str, Any]] = alertmanager.get("/api/v2/alerts")
        return found if len(found) == 5 else None

    alerts = _by_key(wait_for(all_in, 10, "5 alerts in the API"))
    controller = alerts["WifiControllerUnreachable/wlc-1"]
    # The AP behind the unreachable controller is held back by that alert.
    held = alerts["WifiApDown/mul-0001"]
    assert held["status"]["state"] == "suppressed"
    assert held["status"]["inhibitedBy"] == [controller["fingerprint"]]
    for key in (
        "WifiApDown/mul-0034",
        "WifiApDown/mul-0007",
        "WifiControllerUnreachable/wlc-1",
        "WifiChannelSaturated/mul-0030",
    ):
        assert alerts[key]["status"]["state"] == "active", key
    # Routing, as the API reports it for each alert.
    receivers = {key: {r["name"] for r in a["receivers"]} for key, a in alerts.items()}
    assert receivers["WifiControllerUnreachable/wlc-1"] == {"wifi-core-pager"}
    assert receivers["WifiApDown/mul-0034"] == {"field-team-west-pager"}
    assert receivers["WifiApDown/mul-0007"] == {"field-team-centre-pager"}
    assert receivers["WifiChannelSaturated/mul-0030"] == {"planners", "wifi-ops-tickets"}


def test_groups_follow_alert_and_district(alertmanager: Alertmanager) -> None:
    def groups() -> list[dict[str, Any]] | None:
        found: list[dict[str, Any]] = alertmanager.get("/api/v2/alerts/groups")
        return found if sum(len(g["alerts"]) for g in found) >= 5 else None

    found = wait_for(groups, 10, "alert groups")
    by_receiver: dict[str, list[dict[str, str]]] = {}
    for group in found:
        by_receiver.setdefault(group["receiver"]["name"], []).append(group["labels"])
    assert {"alertname": "WifiApDown", "district": "Cité"} in by_receiver["field-team-west-pager"]
    assert {"alertname": "WifiApDown", "district": "Centre"} in by_receiver[
        "field-team-centre-pager"
    ]
    assert {"alertname": "WifiControllerUnreachable", "controller": "wlc-1", "target": "wlc-1"} in (
        by_receiver["wifi-core-pager"]
    )
    assert {"district": "Dornach"} in by_receiver["wifi-ops-tickets"]
    assert {"district": "Dornach"} in by_receiver["planners"]


def test_receivers_are_notified_and_the_held_back_ap_is_not(alertmanager: Alertmanager) -> None:
    inbox = alertmanager.inbox
    expected = {
        "wifi-core-pager": "WifiControllerUnreachable/wlc-1",
        "field-team-west-pager": "WifiApDown/mul-0034",
        "field-team-centre-pager": "WifiApDown/mul-0007",
        "planners": "WifiChannelSaturated/mul-0030",
        "wifi-ops-tickets": "WifiChannelSaturated/mul-0030",
    }

    def delivered() -> bool | None:
        return all(key in inbox.alerts_for(name) for name, key in expected.items()) or None

    wait_for(delivered, 20, "a notification at every receiver")
    time.sleep(2)  # a notification of the inhibited alert would have come with the others
    assert "WifiApDown/mul-0001" not in inbox.all_alerts()


def test_the_test_config_differs_from_the_example_only_in_webhooks_and_first_wait() -> None:
    example = yaml.safe_load(EXAMPLE.read_text())
    changed = test_config(example, "http://127.0.0.1:1")
    assert changed["inhibit_rules"] == example["inhibit_rules"]
    assert {**changed["route"], "group_wait": "30s"} == example["route"]
    names = [r["name"] for r in changed["receivers"]]
    assert names == [r["name"] for r in example["receivers"]]


def _states(manager: Alertmanager) -> dict[str, dict[str, Any]]:
    return _by_key(manager.get("/api/v2/alerts"))


def test_a_degraded_district_then_wifimon_down_hold_back_the_rest(
    alertmanager: Alertmanager,
) -> None:
    """Runs last: it changes what the alerts above look like."""
    degraded = alert("WifiDistrictDegraded", severity="critical", scope="district",
                     district="Cité")  # fmt: skip
    alertmanager.post([degraded])

    def held_by_district() -> dict[str, Any] | None:
        found = _states(alertmanager).get("WifiApDown/mul-0034")
        return found if found and found["status"]["state"] == "suppressed" else None

    ap = wait_for(held_by_district, 10, "mul-0034 held back by its degraded district")
    district = _states(alertmanager)["WifiDistrictDegraded/Cité"]
    assert ap["status"]["inhibitedBy"] == [district["fingerprint"]]
    assert _states(alertmanager)["WifiApDown/mul-0007"]["status"]["state"] == "active"

    alertmanager.post([alert("WifimonDown", severity="critical", scope="wifimon", job="wifimon")])

    def all_held() -> dict[str, dict[str, Any]] | None:
        states = _states(alertmanager)
        active = {key for key, a in states.items() if a["status"]["state"] == "active"}
        return states if active == {"WifimonDown/wifimon"} else None

    states = wait_for(all_held, 10, "every Wi-Fi alert held back while wifimon is down")
    assert len(states) == 7
