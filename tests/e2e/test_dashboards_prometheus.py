"""Every query of every dashboard and rule, run against a real Prometheus holding the demo city.

One Prometheus serves the whole module, with two kinds of real data:

- history: a week and a half of the simulated city (wifimon.simulator.history),
  turned into TSDB blocks by ``promtool tsdb create-blocks-from openmetrics``,
  plus the recording rules backfilled over it by ``promtool tsdb
  create-blocks-from rules`` (the planners' panels read weeks);
- live: ``python -m wifimon.demo`` (snmpsim serving the city, ``wifimon run``
  polling it every 2 s) scraped every 2 s, with the shipped recording and
  alert rules evaluated every 2 s.

Half-way, one live stand-alone AP is "unplugged": its community in the
daemon's config is made wrong and the daemon reloaded (SIGHUP), so the city
has an AP that was seen up and is now down, as well as the simulator's
dead APs that never came up.

Each panel query has Grafana's variables replaced by real values (a
healthy AP and its district and site; for the panels documented as empty
when all is well, the unplugged AP) and ``$__interval``/``$__rate_interval``
computed as Grafana does; it must return data.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from dashboards import generate
from dashboards.generator import promql
from tests.support.prometheus import HOST, PrometheusServer, free_tcp_port, wait_for
from wifimon.simulator.city import City, build_city

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which("prometheus") is None or shutil.which("promtool") is None,
        reason="Debian prometheus (prometheus, promtool) is not installed",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
GRAFANA_DIR = ROOT / "dashboards" / "grafana"
RULES_DIR = ROOT / "dashboards" / "prometheus"
RULE_FILES = [RULES_DIR / "recording.rules.yml", RULES_DIR / "alerts.rules.yml"]

APS, SEED = 20, 1  # the smallest demo city: still every vendor, dead APs, a flaky AP
HISTORY_S = 7.5 * 86400  # "the 7 days before" needs a little more than a week
HISTORY_STEP_S = 150  # two samples in any 5-minute rate window
HISTORY_GAP_S = 600  # > Prometheus' 5-minute lookback: history and live never mix
BACKFILL_EVAL = "10m"
RULE_BLOCK_S = 7200  # promtool's rule-backfill block length
SCRAPE_S = 2  # Prometheus scrape and rule evaluation; also the demo's poll interval
MAX_DATA_POINTS = 1000  # Grafana's default for a panel about 1000 px wide
# Dashboard time ranges (their "time.from"), in seconds.
RANGES = {"now-6h": 6 * 3600, "now-24h": 86400, "now-30d": 30 * 86400}
# Panels documented as empty while all is well: (dashboard uid, panel title).
EMPTY_WHEN_WELL = {
    ("wifimon-city-overview", "Access points down"),
    ("wifimon-ap-detail", "Poll errors"),
}


# --- servers ---------------------------------------------------------------------


def _get_json(url: str, timeout: float = 30.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


def start_prometheus(directory: Path, config: Mapping[str, object]) -> PrometheusServer:
    """Prometheus with ``config`` (rules, scrapes) on ``directory/tsdb``."""
    path = directory / "prometheus.yml"
    path.write_text(json.dumps(config, indent=1))  # JSON is YAML
    port = free_tcp_port()
    command = [
        "prometheus",
        f"--config.file={path}",
        f"--storage.tsdb.path={directory / 'tsdb'}",
        f"--web.listen-address={HOST}:{port}",
        "--storage.tsdb.retention.time=60d",
    ]
    with (directory / "prometheus.log").open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=directory)
    server = PrometheusServer(process, f"http://{HOST}:{port}", directory)

    def ready() -> bool | None:
        assert process.poll() is None, f"prometheus exited:\n{server.log()[-2000:]}"
        try:
            urllib.request.urlopen(f"{server.url}/-/ready", timeout=1)  # noqa: S310 - loopback
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None
        return True

    try:
        wait_for(ready, 60, "prometheus /-/ready")
    except BaseException:
        server.stop()
        raise
    return server


def run_tool(command: list[str], cwd: Path) -> None:
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, f"{command[:4]}: {result.stdout[-2000:]}{result.stderr[-2000:]}"


def load_history(city: City, directory: Path, end: float) -> None:
    """The city's past as TSDB blocks in ``directory/tsdb``, recording rules included."""
    from wifimon.simulator.history import write_history  # noqa: PLC0415 - history only here

    start = end - HISTORY_S
    openmetrics, _ = write_history(
        city, start, end, HISTORY_STEP_S, directory / "history", metrics="all"
    )
    tsdb = directory / "tsdb"
    tsdb.mkdir()
    # Few large blocks: promtool is ~30x slower with its default 2 h blocks.
    run_tool(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=240h",
         str(openmetrics), str(tsdb)],
        directory,
    )  # fmt: skip
    for written in (directory / "history").iterdir():
        written.unlink()  # hundreds of MB, no longer needed
    # Recording rules over that history: evaluated through a Prometheus that
    # serves it, written as blocks, moved in before the real server starts.
    backfiller = start_prometheus(directory, {"global": {"scrape_interval": "1m"}})
    try:
        # Ready is not enough: right after it, queries over the freshly
        # loaded blocks can still come back empty, and promtool then writes
        # no rule blocks at all (seen on a busy machine). Wait for history.
        def history_served() -> bool | None:
            query = f"{backfiller.url}/api/v1/query?query=count(wifimon_ap_up)&time={int(end)}"
            return True if _get_json(query)["data"]["result"] else None

        wait_for(history_served, 60, "the backfiller serving the history")
        # promtool 2.42's rule importer writes nothing at all (and exits 0)
        # for some start times that are not on its 2-hour block grid; from a
        # grid boundary it always works (measured: same history, start 01:57
        # -> no blocks, 02:00 -> every block).
        grid_start = math.ceil(start / RULE_BLOCK_S) * RULE_BLOCK_S
        run_tool(
            ["promtool", "tsdb", "create-blocks-from", "rules", f"--start={grid_start}",
             f"--end={int(end)}", f"--url={backfiller.url}", f"--eval-interval={BACKFILL_EVAL}",
             "--output-dir=rule-blocks", str(RULE_FILES[0])],
            directory,
        )  # fmt: skip
    finally:
        backfiller.stop()
    rule_blocks = directory / "rule-blocks"
    assert rule_blocks.is_dir(), "promtool wrote no recording-rule blocks"
    for block in rule_blocks.iterdir():
        block.rename(tsdb / block.name)


@dataclass
class Demo:
    """``python -m wifimon.demo`` as a child; stopped by its PID (SIGTERM)."""

    process: subprocess.Popen[bytes]
    work: Path
    metrics_url: str

    def daemon_pid(self) -> int:
        pids: dict[str, int] = json.loads((self.work / "processes.json").read_text())
        return pids["wifimon"]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


def start_demo(directory: Path) -> Demo:
    port = free_tcp_port()
    work = directory / "city"
    command = [
        sys.executable, "-m", "wifimon.demo", "--aps", str(APS), "--seed", str(SEED),
        "--listen", f"{HOST}:{port}", "--interval", str(SCRAPE_S), "--work-dir", str(work),
        "--duration", "1200", "--refresh", "60",
    ]  # fmt: skip
    with (directory / "demo.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=directory)
    return Demo(process, work, f"http://{HOST}:{port}/metrics")


UTC_OFFSET_H = 1  # Mulhouse in winter; the peak-hour panels' $utc_offset


def history_weekday() -> str:
    """A weekday (PromQL day_of_week: 0 = Sunday) whose 24 local hours all
    lie inside the backfilled history: the one three days ago."""
    local = datetime.fromtimestamp(time.time() - 3 * 86400 + 3600 * UTC_OFFSET_H, UTC)
    return str(local.isoweekday() % 7)


@dataclass(frozen=True)
class Selection:
    """Values for a dashboard's variables, e.g. ``{"district": "Gare", ...}``."""

    ap: str
    site: str
    district: str

    def variables(self) -> dict[str, str]:
        return {
            "datasource": "wifimon-prometheus",
            "district": self.district,
            "site": self.site,
            "ap": self.ap,
            "job": "wifimon",
            "target": ".*",
            "weekday": history_weekday(),
            "utc_offset": str(UTC_OFFSET_H),
        }


@dataclass
class LiveCity:
    """The running module fixture."""

    prometheus: PrometheusServer
    city: City
    healthy: Selection
    unplugged: Selection
    started: float

    def query(self, expr: str) -> list[dict[str, Any]]:
        params = urllib.parse.urlencode({"query": expr})
        answer = _get_json(f"{self.prometheus.url}/api/v1/query?{params}")
        assert answer["status"] == "success", answer
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def query_range(self, expr: str, start: float, end: float, step: int) -> list[dict[str, Any]]:
        params = {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step}s"}
        encoded = urllib.parse.urlencode(params)
        answer = _get_json(f"{self.prometheus.url}/api/v1/query_range?{encoded}")
        assert answer["status"] == "success", answer
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result


def _one(found: list[dict[str, Any]], what: str) -> dict[str, str]:
    assert found, f"no {what} in the live data"
    labels: dict[str, str] = found[0]["metric"]
    return labels


def _unplug(demo: Demo, ap: str) -> None:
    """Give the stand-alone AP ``ap`` a wrong community and reload the daemon:
    from the next poll on it does not answer, like an AP whose cable was cut."""
    config_path = demo.work / "wifimon.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["credentials"][ap]["community"] = "unplugged-by-the-test"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    os.kill(demo.daemon_pid(), signal.SIGHUP)


def _wait_for_live_data(server: PrometheusServer) -> None:
    def ready() -> bool | None:
        checks = (
            f"count(max by (ap) (wifimon_ap_up)) == {APS}",
            "count(rate(wifimon_radio_receive_bytes_total[10s])) > 0",
            "count(district:wifimon_ap_up:count > 0)",
            "count(increase(wifimon_poll_duration_seconds_count[10s]) > 0)",
        )
        return True if all(server.query(check) for check in checks) else None

    wait_for(ready, 180, "live data of the whole city in Prometheus")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveCity]:
    directory = tmp_path_factory.mktemp("dashboards-e2e")
    started = time.time()
    city = build_city(APS, SEED)
    end = math.floor((started - HISTORY_GAP_S) / HISTORY_STEP_S) * HISTORY_STEP_S
    load_history(city, directory, end)
    demo = start_demo(directory)
    try:
        host_port = demo.metrics_url.split("/")[2]
        config = {
            "global": {"scrape_interval": f"{SCRAPE_S}s", "evaluation_interval": f"{SCRAPE_S}s"},
            "rule_files": [str(path) for path in RULE_FILES],
            "scrape_configs": [
                {"job_name": "wifimon", "static_configs": [{"targets": [host_port]}]}
            ],
        }
        server = start_prometheus(directory, config)
        try:
            _wait_for_live_data(server)
            yield _prepare(city, demo, server, started)
        finally:
            server.stop()
    finally:
        demo.stop()


def _prepare(city: City, demo: Demo, server: PrometheusServer, started: float) -> LiveCity:
    """Unplug a live stand-alone AP, wait until Prometheus sees it down, pick selections."""
    live = [ap for ap in city.standalone_aps() if not ap.dead]
    assert live, "the demo city has a live stand-alone AP"
    victim = live[0]
    _unplug(demo, victim.ap)
    wait_for(
        lambda: server.query(f'max(wifimon_ap_up{{ap="{victim.ap}"}}) == 0') or None,
        60,
        f"{victim.ap} down after the reload",
    )
    # Healthy: the busiest AP on a controller, in a site where every AP is up.
    healthy = _one(
        server.query(
            "topk(1, max by (ap, site, district) (wifimon_ap_clients) "
            "* on (ap) group_left () (max by (ap) (wifimon_ap_up) == 1) "
            '* on (ap) group_left () max by (ap) (wifimon_ap_info{controller!=""}) '
            "unless on (site) (max by (ap, site) (wifimon_ap_up) == 0))"
        ),
        "healthy AP",
    )
    chosen = LiveCity(
        server,
        city,
        Selection(healthy["ap"], healthy["site"], healthy["district"]),
        Selection(victim.ap, victim.site, victim.district),
        started,
    )
    # Enough live history for $__rate_interval windows (a few scrapes).
    time.sleep(6 * SCRAPE_S)
    return chosen


# --- running a panel's query as Grafana would ----------------------------------------


def _seconds(duration: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    return int(duration[:-1]) * units[duration[-1]] if duration else 0


@dataclass(frozen=True)
class Window:
    """A panel's time range and the interval variables Grafana derives from it."""

    range_s: int
    step_s: int

    @classmethod
    def of(cls, dashboard: Mapping[str, Any], query: promql.PanelQuery) -> Window:
        range_s = _seconds(query.time_from) or RANGES[dashboard["time"]["from"]]
        step = max(range_s // MAX_DATA_POINTS, _seconds(query.min_interval), SCRAPE_S)
        return cls(range_s, step)

    def variables(self) -> dict[str, str]:
        # Grafana: $__rate_interval = max($__interval + scrape interval, 4 * scrape interval).
        rate = max(self.step_s + SCRAPE_S, 4 * SCRAPE_S)
        return {
            "__interval": f"{self.step_s}s",
            "__rate_interval": f"{rate}s",
            "__range": f"{self.range_s}s",
        }


def run_panel_query(
    city: LiveCity, dashboard: Mapping[str, Any], query: promql.PanelQuery, selection: Selection
) -> list[dict[str, Any]]:
    window = Window.of(dashboard, query)
    expr = promql.substitute(query.expr, {**selection.variables(), **window.variables()})
    if query.instant:
        return city.query(expr)
    # The step grid ends now: the live part of the data is only seconds old.
    now = time.time()
    start = now - window.range_s // window.step_s * window.step_s
    return city.query_range(expr, start, now, window.step_s)


def dashboard(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((GRAFANA_DIR / name).read_text())
    return loaded


def is_prometheus(name: str) -> bool:
    """Dashboards whose ``datasource`` variable offers Prometheus (the
    InfluxDB planner dashboard is proven against InfluxDB elsewhere)."""
    variables = dashboard(name)["templating"]["list"]
    return any(v["type"] == "datasource" and v["query"] == "prometheus" for v in variables)


PROMETHEUS_DASHBOARDS = [name for name in sorted(generate.DASHBOARDS) if is_prometheus(name)]


# --- the tests ------------------------------------------------------------------------


@pytest.mark.parametrize("name", PROMETHEUS_DASHBOARDS)
def test_every_panel_query_returns_data(city: LiveCity, name: str) -> None:
    board = dashboard(name)
    empty = []
    for query in promql.panel_queries(board):
        if (query.dashboard, query.title) in EMPTY_WHEN_WELL:
            continue
        if not run_panel_query(city, board, query, city.healthy):
            empty.append(f"panel {query.panel_id} {query.title!r} {query.ref}: {query.expr}")
    assert empty == [], f"with {city.healthy}:\n" + "\n".join(empty)


def test_panels_empty_when_all_is_well_show_the_unplugged_ap(city: LiveCity) -> None:
    for name in PROMETHEUS_DASHBOARDS:
        board = dashboard(name)
        for query in promql.panel_queries(board):
            if (query.dashboard, query.title) not in EMPTY_WHEN_WELL:
                continue
            found = run_panel_query(city, board, query, city.unplugged)
            assert found, f"{query.title} {query.ref} with {city.unplugged}: {query.expr}"
            aps = {series["metric"].get("ap") for series in found}
            targets = {series["metric"].get("target") for series in found}
            assert city.unplugged.ap in aps | targets, (query.title, query.ref, found)


def test_the_down_table_is_empty_for_a_site_where_every_ap_is_up(city: LiveCity) -> None:
    board = dashboard("city-overview.json")
    (down,) = {q.panel_id for q in promql.panel_queries(board) if q.title == "Access points down"}
    for query in promql.panel_queries(board):
        if query.panel_id == down:
            assert run_panel_query(city, board, query, city.healthy) == [], query.ref


def test_the_map_places_every_ap_with_coordinates(city: LiveCity) -> None:
    board = dashboard("city-overview.json")
    status, clients = (q for q in promql.panel_queries(board) if q.title == "Access points")
    everything = Selection("", ".*", ".*")
    placed = run_panel_query(city, board, status, everything)
    assert {s["metric"]["ap"] for s in placed} == {ap.ap for ap in city.city.aps}
    by_ap = {s["metric"]["ap"]: s for s in placed}
    for ap in city.city.aps:
        labels = by_ap[ap.ap]["metric"]
        assert float(labels["latitude"]) == pytest.approx(ap.latitude, abs=1e-4)
        assert float(labels["longitude"]) == pytest.approx(ap.longitude, abs=1e-4)
        if ap.dead:
            assert by_ap[ap.ap]["value"][1] == "0", f"dead {ap.ap} must be red"
    sizes = run_panel_query(city, board, clients, everything)
    assert {s["metric"]["ap"] for s in sizes} == {ap.ap for ap in city.city.aps}


def test_planner_panels_read_the_backfilled_weeks(city: LiveCity) -> None:
    board = dashboard("district-trends.json")
    for query in promql.panel_queries(board):
        if query.instant or "offset" in query.expr:
            continue  # offsets reach history by construction; instant = now
        found = run_panel_query(city, board, query, city.healthy)
        oldest = min(float(point[0]) for series in found for point in series["values"])
        assert oldest < city.started - 3 * 86400, f"{query.title}: nothing older than 3 days"


def test_every_variable_lists_real_values(city: LiveCity) -> None:
    for name in PROMETHEUS_DASHBOARDS:
        for variable in dashboard(name)["templating"]["list"]:
            if variable["type"] != "query":
                continue
            expr = promql.substitute(
                promql.label_values_query(variable["query"]), city.healthy.variables()
            )
            values = {series["metric"].get(variable["name"]) for series in city.query(expr)}
            assert values - {None}, f"{name} variable {variable['name']}: {expr}"


def test_every_recording_rule_has_backfilled_and_live_values(city: LiveCity) -> None:
    two_days_ago = int(city.started - 2 * 86400)
    for rule in promql.rules(RULE_FILES[0]):
        backfilled = f"last_over_time({rule.name}[2h] @ {two_days_ago})"
        assert city.query(backfilled), f"{rule.name}: no backfilled history"
        assert city.query(rule.expr), f"{rule.name}: its expression finds no live data"


def test_every_rule_evaluates_without_error_on_real_data(city: LiveCity) -> None:
    groups = _get_json(f"{city.prometheus.url}/api/v1/rules")["data"]["groups"]
    evaluated = 0
    for group in groups:
        for rule in group["rules"]:
            assert rule["health"] in ("ok", "unknown"), (rule["name"], rule.get("lastError"))
            assert not rule.get("lastError"), (rule["name"], rule["lastError"])
            evaluated += rule["health"] == "ok"
            if group["interval"] <= SCRAPE_S:  # the hourly group may not have run yet
                assert rule["health"] == "ok", rule["name"]
    assert evaluated >= len(promql.rules(RULE_FILES[1])) + 8


def test_every_alert_reads_series_that_exist(city: LiveCity) -> None:
    """Alerts are empty while all is well: at least every selector in them
    must find series, so a typo cannot silence one forever."""
    for rule in promql.rules(RULE_FILES[1]):
        assert isinstance(city.query(rule.expr), list)  # runs without an error
        for selector in promql.names(rule.expr).selectors:
            assert city.query(f"count({selector})"), f"{rule.name}: {selector} finds nothing"


def test_each_down_ap_raises_exactly_one_ap_alert(city: LiveCity) -> None:
    """AP down and AP missing from its controller split the APs at 0 between
    them, with no AP in both; together they cover every one of them."""
    alerts = {rule.name: rule.expr for rule in promql.rules(RULE_FILES[1])}
    down = {s["metric"]["ap"] for s in city.query(alerts["WifiApDown"])}
    missing = {s["metric"]["ap"] for s in city.query(alerts["WifiApMissingFromController"])}
    at_zero = {s["metric"]["ap"] for s in city.query("max by (ap) (wifimon_ap_up) == 0")}
    assert down, "the dead stand-alone AP and the unplugged one are down"
    assert missing, "the dead Cisco AP has left its controller's table"
    assert not down & missing
    assert down | missing == at_zero
    assert {ap.ap for ap in city.city.aps if ap.dead} | {city.unplugged.ap} <= at_zero
    assert city.unplugged.ap in down  # a stand-alone AP that stopped answering
