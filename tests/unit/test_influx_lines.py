"""Line protocol from catalogue samples: one line per series and second, fixed field types."""

from __future__ import annotations

import math

from wifimon.catalogue import metric
from wifimon.snapshot import HistogramValue, Sample
from wifimon_exporters.influx_lines import LineBuilder, encode_samples, escape_key, format_value

AP = ("kiosk-1", "station", "Gare")
RADIO = (*AP, "1", "5GHz")
POLL = 1_717_171_717.9  # a poll time with a fraction: written as the whole second


def sample(name: str, labels: tuple[str, ...], value: float) -> Sample:
    return Sample(metric(name), labels, value, POLL)


def test_samples_of_one_series_share_a_line_with_tags_sorted_and_second_timestamps() -> None:
    lines = encode_samples(
        [
            sample("wifimon_ap_up", AP, 1),
            sample("wifimon_ap_clients", AP, 7),
            sample("wifimon_ap_uptime_seconds", AP, 3600.5),
            sample("wifimon_radio_clients", RADIO, 4),
        ]
    )
    assert lines == [
        "wifimon_ap,ap=kiosk-1,district=Gare,site=station up=1i,clients=7i,"
        "uptime_seconds=3600.5 1717171717",
        "wifimon_radio,ap=kiosk-1,band=5GHz,district=Gare,radio=1,site=station "
        "clients=4i 1717171717",
    ]


def test_a_fields_type_comes_from_the_catalogue_not_from_the_value() -> None:
    # Aruba reports 17.0 dBm, Cisco 17: both are float fields. Counts stay integers
    # even when a vendor's value arrives as a float.
    lines = encode_samples(
        [
            sample("wifimon_radio_tx_power_dbm", RADIO, 17),
            sample("wifimon_radio_channel", RADIO, 36.0),
            sample("wifimon_radio_receive_bytes_total", RADIO, 2**53 - 1),
        ]
    )
    assert lines == [
        "wifimon_radio,ap=kiosk-1,band=5GHz,district=Gare,radio=1,site=station "
        f"tx_power_dbm=17.0,channel=36i,receive_bytes_total={2**53 - 1}i 1717171717"
    ]


def test_unwritable_values_and_empty_tags_are_left_out() -> None:
    lines = encode_samples(
        [
            sample("wifimon_radio_noise_floor_dbm", RADIO, math.nan),
            sample("wifimon_radio_channel_utilization_ratio", RADIO, math.inf),
            sample("wifimon_ap_up", ("kiosk-2", "", ""), 0),
        ]
    )
    assert lines == ["wifimon_ap,ap=kiosk-2 up=0i 1717171717"]


def test_special_characters_are_escaped_like_the_official_client() -> None:
    labels = ("a,b=c d", "back\\slash", "Old Town")
    (line,) = encode_samples([sample("wifimon_ap_up", labels, 1)])
    assert line == r"wifimon_ap,ap=a\,b\=c\ d,district=Old\ Town,site=back\\slash up=1i 1717171717"
    assert escape_key("new\nline") == r"new\nline"
    assert format_value('say "hi" \\o/', "string") == r'"say \"hi\" \\o/"'


def test_ap_info_groups_by_planner_tags_and_keeps_attributes_as_fields() -> None:
    info = sample(
        "wifimon_ap_info",
        (*AP, "Kiosk 1", "Cisco", "AIR-AP1852I", "FCW1", "00:11:22:33:44:55", "10.0.0.7",
         "8.10.1", "wlc-1", "47.7508", "7.3359"),
        1,
    )  # fmt: skip
    (line,) = encode_samples([info])
    assert line == (
        "wifimon_ap_info,ap=kiosk-1,controller=wlc-1,district=Gare,model=AIR-AP1852I,"
        'site=station,vendor=Cisco info=1i,name="Kiosk 1",serial="FCW1",'
        'mac="00:11:22:33:44:55",ip="10.0.0.7",firmware="8.10.1",'
        "latitude=47.7508,longitude=7.3359 1717171717"
    )


def test_histograms_become_count_and_sum_fields_of_the_daemon() -> None:
    builder = LineBuilder()
    value = HistogramValue(((1.0, 2), (math.inf, 3)), count=3, total=4.5)
    builder.add_histogram(metric("wifimon_poll_duration_seconds"), value, 1_717_171_717)
    assert list(builder.lines()) == [
        "wifimon_daemon poll_duration_seconds_count=3i,poll_duration_seconds_sum=4.5 1717171717"
    ]


def test_labelled_daemon_series_are_lines_of_their_own() -> None:
    lines = encode_samples(
        [
            sample("wifimon_snmp_requests_total", (), 10),
            sample("wifimon_targets", ("up",), 2),
            sample("wifimon_influxdb_write_errors_total", ("timeout",), 1),
        ]
    )
    assert lines == [
        "wifimon_daemon snmp_requests_total=10i 1717171717",
        "wifimon_daemon,state=up targets=2i 1717171717",
        "wifimon_daemon,kind=timeout influxdb_write_errors_total=1i 1717171717",
    ]
