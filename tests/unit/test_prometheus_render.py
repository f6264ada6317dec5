"""The Prometheus exposition rendered from a snapshot: format, escaping, grouping."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.metrics_core import Metric as Family
from prometheus_client.openmetrics import parser as openmetrics_parser
from prometheus_client.parser import text_string_to_metric_families as parse_text

from wifimon.catalogue import CATALOGUE, Entity, Kind, Metric, metric
from wifimon.snapshot import HistogramValue, Sample, Snapshot, TargetSnapshot
from wifimon_exporters.exposition import (
    escape_label_value,
    format_value,
    render,
    render_openmetrics,
)

AP = ("ap-1", "old-town", "Centre")


def sample(name: str, labels: tuple[str, ...], value: float, timestamp: float = 1.0) -> Sample:
    return Sample(metric(name), labels, value, timestamp)


def snapshot_of(*samples: Sample, **histograms: HistogramValue) -> Snapshot:
    target = TargetSnapshot("wlc-1", 0.0, samples)
    return Snapshot({"wlc-1": target}, histograms=histograms, generation=1)


def text_of(snapshot: Snapshot) -> str:
    return render(snapshot).decode("utf-8")


def parse_openmetrics(text: str) -> list[Family]:
    """prometheus_client's OpenMetrics parser (untyped, hence the wrapper)."""
    return list(openmetrics_parser.text_string_to_metric_families(text))  # type: ignore[no-untyped-call]


def parsed_values(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every parsed sample as ``{(name, labels): value}``."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in parse_text(text)
        for s in family.samples
    }


def labels_of(m: Metric) -> tuple[str, ...]:
    """Plausible label values for any catalogue metric."""
    defaults = {"radio": "1", "band": "5GHz", "ssid": "CityWiFi", "target": "wlc-1"}
    values = dict(zip(("ap", "site", "district"), AP, strict=True))
    return tuple(values.get(n) or defaults.get(n) or f"{n}-value" for n in m.labels)


def every_catalogue_sample() -> list[Sample]:
    return [
        Sample(m, labels_of(m), 1 if m.kind is Kind.INFO else 7 + index, 1.0)
        for index, m in enumerate(CATALOGUE)
        if m.kind is not Kind.HISTOGRAM
    ]


POLL_HISTOGRAM = HistogramValue(buckets=((0.5, 2), (1.0, 5), (10.0, 9)), count=10, total=31.5)


# --- values and escaping


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3, "3"),
        (0, "0"),
        (2**53 - 1, "9007199254740991"),
        (-95.5, "-95.5"),
        (0.25, "0.25"),
        (1.0, "1.0"),
        (1e20, "1e+20"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (math.nan, "NaN"),
        (True, "1.0"),
    ],
)
def test_values_are_formatted_as_prometheus_parses_them(value: float, text: str) -> None:
    assert format_value(value) == text


def test_label_values_escape_backslash_quote_and_newline() -> None:
    assert escape_label_value('a\\b"c\nd') == 'a\\\\b\\"c\\nd'
    assert escape_label_value("plain ünïcode") == "plain ünïcode"


def test_escaped_label_values_render_and_parse_back() -> None:
    tricky = ('ap "1"\\', "line\nbreak", "Zentrum")
    text = text_of(snapshot_of(sample("wifimon_ap_up", tricky, 1)))
    assert 'wifimon_ap_up{ap="ap \\"1\\"\\\\",site="line\\nbreak",district="Zentrum"} 1\n' in text
    labels = dict(zip(("ap", "site", "district"), tricky, strict=True))
    assert parsed_values(text) == {("wifimon_ap_up", frozenset(labels.items())): 1.0}


def test_help_escapes_backslash_and_newline() -> None:
    odd = Metric("wifimon_odd", Kind.GAUGE, Entity.DAEMON, (), 'back\\slash\nand "quotes"')
    text = text_of(snapshot_of(Sample(odd, (), 1, 1.0)))
    assert '# HELP wifimon_odd back\\\\slash\\nand "quotes"\n' in text
    (family,) = parse_text(text)
    assert family.documentation == odd.help


# --- types and grouping


def test_counters_keep_total_in_type_line() -> None:
    text = text_of(snapshot_of(sample("wifimon_ap_receive_bytes_total", AP, 12)))
    assert "# TYPE wifimon_ap_receive_bytes_total counter\n" in text
    assert (
        'wifimon_ap_receive_bytes_total{ap="ap-1",site="old-town",district="Centre"} 12\n' in text
    )


def test_info_metrics_are_gauges_of_one() -> None:
    text = text_of(snapshot_of(sample("wifimon_build_info", ("0.1.0", "3.11.2"), 1)))
    assert "# TYPE wifimon_build_info gauge\n" in text
    assert 'wifimon_build_info{version="0.1.0",python="3.11.2"} 1\n' in text


def test_samples_of_one_metric_share_one_help_and_type() -> None:
    other_ap = ("ap-2", "harbour", "Port")
    first = TargetSnapshot("ap-1", 0.0, (sample("wifimon_ap_up", AP, 1),))
    second = TargetSnapshot(
        "ap-2",
        0.0,
        (sample("wifimon_ap_clients", other_ap, 4), sample("wifimon_ap_up", other_ap, 0)),
    )
    text = text_of(Snapshot({"ap-1": first, "ap-2": second}))
    lines = text.splitlines()
    assert lines.count("# TYPE wifimon_ap_up gauge") == 1
    up = lines.index("# TYPE wifimon_ap_up gauge")
    assert [line.split("{")[0] for line in lines[up + 1 : up + 3]] == ["wifimon_ap_up"] * 2


def test_families_follow_catalogue_order() -> None:
    samples = list(reversed(every_catalogue_sample()))
    text = text_of(snapshot_of(*samples, wifimon_poll_duration_seconds=POLL_HISTOGRAM))
    typed = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")]
    assert typed == [m.name for m in CATALOGUE]


def test_the_newest_poll_wins_when_two_targets_report_one_series() -> None:
    old = TargetSnapshot("wlc-a", 100.0, (sample("wifimon_ap_clients", AP, 3),))
    new = TargetSnapshot("wlc-b", 160.0, (sample("wifimon_ap_clients", AP, 5),))
    text = text_of(Snapshot({"wlc-b": new, "wlc-a": old}))
    assert [line for line in text.splitlines() if not line.startswith("#")] == [
        'wifimon_ap_clients{ap="ap-1",site="old-town",district="Centre"} 5'
    ]


def test_samples_with_a_wrong_label_count_are_dropped(caplog: pytest.LogCaptureFixture) -> None:
    text = text_of(
        snapshot_of(sample("wifimon_ap_up", ("only-ap",), 1), sample("wifimon_ap_up", AP, 1))
    )
    assert "only-ap" not in text
    assert "dropped 1 samples" in caplog.text


def test_an_empty_snapshot_renders_nothing() -> None:
    assert render(Snapshot()) == b""


# --- histograms


def test_histograms_render_cumulative_buckets_sum_and_count() -> None:
    text = text_of(snapshot_of(wifimon_poll_duration_seconds=POLL_HISTOGRAM))
    assert text.splitlines()[1:] == [
        "# TYPE wifimon_poll_duration_seconds histogram",
        'wifimon_poll_duration_seconds_bucket{le="0.5"} 2',
        'wifimon_poll_duration_seconds_bucket{le="1.0"} 5',
        'wifimon_poll_duration_seconds_bucket{le="10.0"} 9',
        'wifimon_poll_duration_seconds_bucket{le="+Inf"} 10',
        "wifimon_poll_duration_seconds_sum 31.5",
        "wifimon_poll_duration_seconds_count 10",
    ]
    (family,) = parse_text(text)
    assert family.type == "histogram"


def test_a_histogram_with_its_own_inf_bucket_gets_no_second_one() -> None:
    histogram = HistogramValue(buckets=((1.0, 1), (math.inf, 2)), count=2, total=1.5)
    text = text_of(snapshot_of(wifimon_poll_duration_seconds=histogram))
    assert text.count('le="+Inf"') == 1


# --- round trips through prometheus_client's parsers


def test_every_catalogue_metric_parses_back_to_the_snapshot() -> None:
    samples = every_catalogue_sample()
    text = text_of(snapshot_of(*samples, wifimon_poll_duration_seconds=POLL_HISTOGRAM))
    expected = {
        (s.metric.name, frozenset(zip(s.metric.labels, s.labels, strict=True))): float(s.value)
        for s in samples
    }
    parsed = parsed_values(text)
    histogram_part = {
        key: value
        for key, value in parsed.items()
        if key[0].startswith("wifimon_poll_duration_seconds")
    }
    assert {key: value for key, value in parsed.items() if key not in histogram_part} == expected
    assert parsed[("wifimon_poll_duration_seconds_count", frozenset())] == 10
    assert parsed[("wifimon_poll_duration_seconds_bucket", frozenset({("le", "+Inf")}))] == 10
    types = {family.name: family.type for family in parse_text(text)}
    assert types["wifimon_ap_receive_bytes"] == "counter"  # the parser strips _total
    assert types["wifimon_ap_info"] == "gauge"


def test_openmetrics_output_is_valid_and_names_counter_families_without_total() -> None:
    samples = every_catalogue_sample()
    data = render_openmetrics(snapshot_of(*samples, wifimon_poll_duration_seconds=POLL_HISTOGRAM))
    text = data.decode("utf-8")
    assert text.endswith("# EOF\n")
    assert "# TYPE wifimon_ap_receive_bytes counter\n" in text
    assert "# UNIT wifimon_ap_receive_bytes bytes\n" in text
    families = {family.name: family for family in parse_openmetrics(text)}
    assert families["wifimon_poll_duration_seconds"].type == "histogram"
    assert len(families) == len(CATALOGUE)


def test_sample_lines_are_the_same_in_both_formats() -> None:
    snapshot = snapshot_of(*every_catalogue_sample(), wifimon_poll_duration_seconds=POLL_HISTOGRAM)

    def sample_lines(data: bytes) -> list[str]:
        return [line for line in data.decode().splitlines() if not line.startswith("#")]

    assert sample_lines(render(snapshot)) == sample_lines(render_openmetrics(snapshot))


label_values = st.text(max_size=30)  # any Unicode, control characters included


@given(ap=label_values, site=label_values, district=label_values, value=st.integers(0, 2**53))
def test_any_label_values_survive_a_round_trip(
    ap: str, site: str, district: str, value: int
) -> None:
    snapshot = snapshot_of(sample("wifimon_ap_receive_bytes_total", (ap, site, district), value))
    expected = {
        (
            "wifimon_ap_receive_bytes_total",
            frozenset({("ap", ap), ("site", site), ("district", district)}),
        ): value
    }
    assert parsed_values(text_of(snapshot)) == expected
    (family,) = parse_openmetrics(render_openmetrics(snapshot).decode("utf-8"))
    assert family.samples[0].labels == {"ap": ap, "site": site, "district": district}
