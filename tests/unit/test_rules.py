"""Prometheus rules and the Alertmanager example, checked by their own tools.

``promtool check rules`` and ``promtool test rules`` (Debian ``prometheus``)
prove the rules parse and that every alert fires, and stays quiet, when it
should; ``amtool`` (Debian ``prometheus-alertmanager``) checks the example
configuration and where each kind of alert is routed. The rest checks the
conventions: annotations, labels, names, and that every name in a rule
exists in the metric catalogue.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards.generator import promql
from wifimon.catalogue import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = ROOT / "dashboards" / "prometheus"
RULE_FILES = [RULES_DIR / "recording.rules.yml", RULES_DIR / "alerts.rules.yml"]
TEST_FILES = sorted((RULES_DIR / "tests").glob("*.yml"))
ALERTMANAGER = ROOT / "dashboards" / "alertmanager" / "alertmanager.yml"
RECORD_NAME = re.compile(r"^(?P<level>[a-z_]+):(?P<metric>wifimon_[a-z_]+):(?P<ops>[a-z0-9_]+)$")
SEVERITIES = {"critical", "warning"}
SCOPES = {"ap", "district", "controller", "target", "wifimon"}
# Series and labels Prometheus itself provides to rules.
PROMETHEUS_SERIES = {"up"}
PROMETHEUS_LABELS = {"job", "instance", "le"}

needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool (Debian prometheus) is not installed"
)
needs_amtool = pytest.mark.skipif(
    shutil.which("amtool") is None, reason="amtool (Debian prometheus-alertmanager) is missing"
)


def run(command: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def alerts() -> list[promql.Rule]:
    return [rule for rule in promql.rules(RULES_DIR / "alerts.rules.yml") if rule.alert]


def recordings() -> list[promql.Rule]:
    return promql.rules(RULES_DIR / "recording.rules.yml")


# --- promtool ---------------------------------------------------------------------


@needs_promtool
def test_promtool_accepts_the_rule_files() -> None:
    result = run(["promtool", "check", "rules", *map(str, RULE_FILES)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 9 rules found" in result.stdout  # recording rules
    assert f"SUCCESS: {len(alerts())} rules found" in result.stdout


@needs_promtool
@pytest.mark.parametrize("test_file", TEST_FILES, ids=lambda path: path.name)
def test_promtool_unit_tests_pass(test_file: Path) -> None:
    result = run(["promtool", "test", "rules", test_file.name], cwd=test_file.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@needs_promtool
def test_promtool_tests_fail_when_a_rule_breaks(tmp_path: Path) -> None:
    """Guard the guard: without the controller clause, AP alerts would storm
    behind a dead controller, and the tests must say so."""
    (tmp_path / "tests").mkdir()
    shutil.copy(RULES_DIR / "recording.rules.yml", tmp_path)
    text = (RULES_DIR / "alerts.rules.yml").read_text()
    clause = "unless on (controller)\n            label_replace(max by (target) (wifimon_target_up)"
    assert f"{clause} == 0" in text
    broken = text.replace(f"{clause} == 0", f"{clause} == 2")
    (tmp_path / "alerts.rules.yml").write_text(broken)
    shutil.copy(RULES_DIR / "tests" / "access_points_test.yml", tmp_path / "tests")
    result = run(["promtool", "test", "rules", "access_points_test.yml"], cwd=tmp_path / "tests")
    assert result.returncode != 0
    assert 'ap="b2"' in result.stderr, result.stdout + result.stderr


def expectations() -> Iterator[tuple[str, bool]]:
    """(alert name, expected to fire) for every alert_rule_test case."""
    for path in TEST_FILES:
        for test in yaml.safe_load(path.read_text())["tests"]:
            for case in test.get("alert_rule_test", []):
                yield case["alertname"], bool(case.get("exp_alerts"))


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    seen = set(expectations())
    for rule in alerts():
        assert (rule.name, True) in seen, f"{rule.name}: no promtool case where it fires"
        assert (rule.name, False) in seen, f"{rule.name}: no promtool case where it is quiet"


# --- conventions ---------------------------------------------------------------------


def test_every_alert_says_what_happened_and_what_to_do() -> None:
    for rule in alerts():
        labels: Mapping[str, Any] = rule.body["labels"]
        annotations: Mapping[str, Any] = rule.body["annotations"]
        assert labels["severity"] in SEVERITIES, rule.name
        assert labels["scope"] in SCOPES, rule.name
        assert {"summary", "description", "runbook"} <= set(annotations), rule.name
        assert all(str(text).strip() for text in annotations.values()), rule.name


def test_ap_down_waits_and_keeps_firing_through_a_blip() -> None:
    (down,) = (rule for rule in alerts() if rule.name == "WifiApDown")
    assert down.body["for"] == "5m"
    assert down.body["keep_firing_for"] == "10m"


def test_ap_alerts_carry_what_alertmanager_matches_on() -> None:
    """Inhibition matches AP alerts on controller and district, so every
    AP alert must keep those labels (joined from wifimon_ap_info)."""
    for rule in alerts():
        if rule.body["labels"]["scope"] != "ap":
            continue
        assert "group_left (name, controller)" in rule.expr, rule.name
        assert "district" in promql.names(rule.expr).labels, rule.name


def test_no_alert_uses_absent_for_inventory_aps() -> None:
    for rule in alerts():
        if rule.body["labels"]["scope"] == "ap":
            assert "absent(" not in rule.expr, rule.name


def test_recording_rules_are_named_level_metric_operations() -> None:
    catalogue = {metric.name.removesuffix("_total") for metric in CATALOGUE}
    for rule in recordings():
        match = RECORD_NAME.match(rule.name)
        assert match, rule.name
        assert match["metric"] in catalogue, rule.name
        # No rule reads a recorded series: `promtool tsdb create-blocks-from
        # rules` backfills them all in one pass only then.
        assert all(":" not in metric for metric in promql.names(rule.expr).metrics), rule.name


def test_numerators_and_denominators_are_recorded_separately() -> None:
    names = {rule.name for rule in recordings()}
    assert {"district:wifimon_ap_up:sum", "district:wifimon_ap_up:count"} <= names
    assert {
        "district:wifimon_radio_channel_utilization_ratio:sum",
        "district:wifimon_radio_channel_utilization_ratio:count",
    } <= names
    assert not any(name.endswith(":ratio") or ":avg:" in name for name in names)


def test_rules_name_only_catalogue_metrics_and_labels() -> None:
    metrics = {metric.name for metric in CATALOGUE} | PROMETHEUS_SERIES
    metrics |= {rule.name for rule in recordings()}
    labels = {label for metric in CATALOGUE for label in metric.labels} | PROMETHEUS_LABELS
    for rule in [*recordings(), *alerts()]:
        found = promql.names(rule.expr)
        assert found.metrics <= metrics, (rule.name, found.metrics - metrics)
        assert found.labels - found.created_labels <= labels, rule.name


# --- Alertmanager ----------------------------------------------------------------------


@needs_amtool
def test_amtool_accepts_the_alertmanager_example() -> None:
    result = run(["amtool", "check-config", str(ALERTMANAGER)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


# (labels of an alert, receivers it must reach, in order)
ROUTES = [
    ("alertname=WifiApDown severity=critical scope=ap district=Gare controller=wlc-1",
     "field-team-centre-pager"),
    ("alertname=WifiApDown severity=critical scope=ap district=Dornach controller=mc-1",
     "field-team-west-pager"),
    ("alertname=WifiApMissingFromController severity=critical scope=ap district=Elsewhere",
     "wifi-ops-pager"),
    ("alertname=WifiDistrictDegraded severity=critical scope=district district=Centre",
     "field-team-centre-pager"),
    ("alertname=WifiControllerUnreachable severity=critical scope=controller controller=wlc-1",
     "wifi-core-pager"),
    ("alertname=WifiTargetStale severity=warning scope=target target=wlc-1",
     "wifi-ops-tickets"),
    ("alertname=WifiApStale severity=warning scope=ap district=Gare", "wifi-ops-tickets"),
    ("alertname=WifiApFlapping severity=warning scope=ap district=Gare", "wifi-ops-tickets"),
    ("alertname=WifiApRebooting severity=warning scope=ap district=Cité", "wifi-ops-tickets"),
    ("alertname=WifiApSilent severity=warning scope=ap district=Drouot", "wifi-ops-tickets"),
    ("alertname=WifiChannelSaturated severity=warning scope=ap district=Gare",
     "planners,wifi-ops-tickets"),
    ("alertname=WifimonDown severity=critical scope=wifimon job=wifimon", "monitoring-team"),
    ("alertname=WifimonPollOverrunning severity=warning scope=wifimon", "monitoring-team"),
    ("alertname=WifimonReloadFailed severity=warning scope=wifimon", "monitoring-team"),
    ("alertname=WifimonStateNotSaved severity=warning scope=wifimon", "monitoring-team"),
    ("alertname=SomethingElse", "wifi-ops-tickets"),
]  # fmt: skip


@needs_amtool
@pytest.mark.parametrize(("labels", "receivers"), ROUTES)
def test_alertmanager_routes(labels: str, receivers: str) -> None:
    command = ["amtool", "config", "routes", "test", f"--config.file={ALERTMANAGER}"]
    result = run([*command, f"--verify.receivers={receivers}", *labels.split()])
    assert result.returncode == 0, f"{labels}: {result.stdout}{result.stderr}"
    assert result.stdout.strip() == receivers


def test_every_rule_severity_and_scope_has_a_route() -> None:
    config = yaml.safe_load(ALERTMANAGER.read_text())
    matchers = " ".join(m for route in config["route"]["routes"] for m in route["matchers"])
    for severity in SEVERITIES:
        assert f'severity="{severity}"' in matchers
    names = {rule.name for rule in alerts()}
    tested = {labels.split()[0].removeprefix("alertname=") for labels, _ in ROUTES}
    assert names <= tested, f"routes not tested for {sorted(names - tested)}"


def test_inhibitions_name_real_alerts_and_labels() -> None:
    config = yaml.safe_load(ALERTMANAGER.read_text())
    names = {rule.name for rule in alerts()}
    ap_labels = {"ap", "site", "district", "name", "controller"}
    for inhibition in config["inhibit_rules"]:
        (source,) = inhibition["source_matchers"]
        assert source.split("=")[0] == "alertname"
        assert source.split("=")[1].strip('"') in names
        assert set(inhibition.get("equal", [])) <= ap_labels
