"""History files: valid OpenMetrics (client_python's parser and promtool
agree), well-formed line protocol, and counters exported as the daemon
would (no reset at a 32-bit wrap, one at a reboot)."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
from prometheus_client.openmetrics.parser import text_fd_to_metric_families

from wifimon.catalogue import BY_NAME
from wifimon.simulator import truth
from wifimon.simulator.city import build_city
from wifimon.simulator.history import iter_lines, steps, write_history
from wifimon.simulator.load import next_reboot

CITY = build_city(24, 5)
START = 1_709_704_800.0  # Wednesday 2024-03-06 07:00 CET
SPAN, STEP = 8 * 3600.0, 300.0
FIELD = r"[a-z_]+=(?:-?\d+i|-?\d+\.\d+(?:e[-+]?\d+)?)"  # an integer or a float field
LINE = re.compile(
    r"^(wifimon_[a-z_]+)((?:,[a-z_]+=(?:[^,= \\]|\\[,= \\])+)*) "
    rf"({FIELD}(?:,{FIELD})*) (\d{{19}})$"
)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("history")
    om, lp = write_history(CITY, START, START + SPAN, STEP, out, metrics="all")
    return om, lp


def _series(om: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[float, float]]]:
    found: dict[tuple[str, tuple[tuple[str, str], ...]], list[tuple[float, float]]] = defaultdict(
        list
    )
    with om.open(encoding="utf-8") as handle:
        for family in text_fd_to_metric_families(handle):  # type: ignore[no-untyped-call]
            for sample in family.samples:
                key = (sample.name, tuple(sorted(sample.labels.items())))
                assert sample.timestamp is not None
                found[key].append((float(sample.timestamp), sample.value))
    return found


def test_openmetrics_parses_and_holds_every_step(files: tuple[Path, Path]) -> None:
    series = _series(files[0])
    moments = steps(START, START + SPAN, STEP)
    assert len(moments) == 97
    up = [values for (name, _), values in series.items() if name == "wifimon_ap_up"]
    assert len(up) == len(CITY.aps)
    assert all(len(values) == len(moments) for values in up)
    names = {name for name, _ in series}
    assert {n.removesuffix("_total") for n in names} <= {n.removesuffix("_total") for n in BY_NAME}
    assert files[0].read_text(encoding="utf-8").endswith("# EOF\n")


def test_promtool_turns_it_into_blocks(files: tuple[Path, Path], tmp_path: Path) -> None:
    if shutil.which("promtool") is None:
        pytest.skip("promtool is not installed (Debian package prometheus)")
    result = subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(files[0]), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert [p for p in tmp_path.iterdir() if p.is_dir()]


def test_exported_counters_survive_the_wrap_and_reset_at_the_reboot(
    files: tuple[Path, Path],
) -> None:
    series = _series(files[0])
    flaky, wrapping = CITY.ap(CITY.rebooting_ap), CITY.ap(CITY.wrapping_ap)
    reboots = truth.reboots_between(flaky, START, START + SPAN)
    assert reboots
    flaky_rx = next(
        values
        for (name, labels), values in series.items()
        if name == "wifimon_ap_receive_bytes_total" and ("ap", flaky.ap) in labels
    )
    assert sum(after < before for (_, before), (_, after) in itertools.pairwise(flaky_rx)) == len(
        reboots
    )
    for (name, labels), values in series.items():
        if not name.endswith("_total"):
            continue
        ap = CITY.ap(dict(labels)["ap"])
        for (before_t, before), (t, after) in itertools.pairwise(values):
            if after < before:  # only a reboot of this very AP may reset it
                assert truth.reboots_between(ap, before_t, t), (name, labels, t)
    wrap = truth.next_wrap(CITY, wrapping, START, START + SPAN)
    assert wrap is not None, "the busiest AP's Counter32 should wrap in 8 busy hours"
    rx = series[
        (
            "wifimon_ap_receive_bytes_total",
            (("ap", wrapping.ap), ("district", wrapping.district), ("site", wrapping.site)),
        )
    ]
    assert rx[-1][1] - rx[0][1] > 2**32 - (
        truth.uplink_received(CITY, wrapping, START) % 2**32
    )  # it counted across the wrap
    assert next_reboot(flaky, START) in reboots


def test_line_protocol_is_well_formed_and_field_types_never_change(
    files: tuple[Path, Path],
) -> None:
    types: dict[tuple[str, str], str] = {}
    measurements: set[str] = set()
    for line in iter_lines(files[1]):
        match = LINE.match(line)
        assert match, line
        measurement, _, fields, _ = match.groups()
        measurements.add(measurement)
        for field in fields.split(","):
            key, value = field.split("=")
            kind = "int" if value.endswith("i") else "float"
            assert types.setdefault((measurement, key), kind) == kind, (measurement, key)
    assert measurements == {
        "wifimon_ap",
        "wifimon_radio",
        "wifimon_ssid",
        "wifimon_controller",
        "wifimon_target",
        "wifimon_district",
        "wifimon_district_hourly",
    }


def test_hourly_rollups_cover_every_district_and_hour(files: tuple[Path, Path]) -> None:
    hourly = [line for line in iter_lines(files[1]) if line.startswith("wifimon_district_hourly,")]
    districts = {ap.district for ap in CITY.aps}
    assert len(hourly) == len(districts) * 9  # 07:00 .. 15:00, the last hour partial
    for line in hourly:
        fields = dict(part.split("=") for part in line.split(" ")[1].split(","))
        assert 0 <= float(fields["availability_ratio"]) <= 1
        assert int(fields["aps_up"].rstrip("i")) <= int(fields["aps"].rstrip("i"))
        assert float(fields["clients_mean"]) <= int(fields["clients_max"].rstrip("i"))
