"""The inventory CSV and the YAML access_points list, which share one model."""

from __future__ import annotations

from pathlib import Path

import pytest

from wifimon.config import CSV_COLUMNS, ConfigError, ConfigIssue, load_config
from wifimon.config.inventory import parse_inventory_csv, read_inventory_csv


def parse(text: str) -> tuple[list[dict[str, object]], list[str]]:
    """Rows as dicts of the fields that are set, and issues as printed."""
    entries, issues = parse_inventory_csv(text, "aps.csv")
    rows = [entry.value.model_dump(exclude_defaults=True) for entry in entries]
    return rows, [str(issue) for issue in issues]


def test_contract_columns() -> None:
    assert CSV_COLUMNS == (
        "ap", "name", "host", "port", "credentials", "profile", "controller", "mac",
        "site", "district", "latitude", "longitude", "coverage_radius_m",
    )  # fmt: skip


def test_columns_may_come_in_any_order_and_case() -> None:
    rows, issues = parse(" Host ,AP,Port\n10.0.0.1, ap-1 ,1161\n")
    assert issues == []
    assert rows == [{"ap": "ap-1", "host": "10.0.0.1", "port": 1161}]


def test_empty_cells_mean_not_set_and_defaults_apply() -> None:
    entries, _ = parse_inventory_csv("ap,host,port,site\nap-1,10.0.0.1,,\n", "aps.csv")
    assert entries[0].value.port == 161
    assert entries[0].value.site is None
    assert entries[0].value.profile == "auto"


@pytest.mark.parametrize(
    "written",
    ["AA:BB:CC:DD:EE:0F", "aa-bb-cc-dd-ee-0f", "aabb.ccdd.ee0f", "AABBCCDDEE0F", " aabbccddee0f "],
)
def test_every_mac_form_is_normalised(written: str) -> None:
    rows, issues = parse(f'ap,controller,mac\nap-1,wlc,"{written}"\n')
    assert issues == []
    assert rows[0]["mac"] == "aa:bb:cc:dd:ee:0f"


@pytest.mark.parametrize(
    "written", ["aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:gg", "aabb.ccdd.ee", "aa:bb-cc:dd:ee:ff", "1"]
)
def test_malformed_macs_are_refused(written: str) -> None:
    _, issues = parse(f"ap,controller,mac\nap-1,wlc,{written}\n")
    assert len(issues) == 1
    assert issues[0].startswith("aps.csv:2: mac: must be a MAC address like")


def test_unknown_duplicate_and_unnamed_columns_are_each_reported() -> None:
    _, issues = parse("ap,lon,host,ap,\nap-1,2.3,10.0.0.1,x,\n")
    assert issues == [
        "aps.csv:1: lon: unknown column 'lon'; did you mean 'longitude'?",
        "aps.csv:1: ap: duplicate column 'ap'",
        "aps.csv:1: column 5 of the header has no name",
    ]


def test_rows_are_still_checked_when_the_header_has_unknown_columns() -> None:
    _, issues = parse("ap,colour,port\nap-1,red,99999\n")
    assert issues[-1] == "aps.csv:2: port: must be between 1 and 65535, got '99999'"


def test_missing_ap_column_stops_at_the_header() -> None:
    _, issues = parse("name,host\nx,10.0.0.1\n")
    assert issues == ["aps.csv:1: the header has no 'ap' column (required)"]


def test_empty_file_has_no_header() -> None:
    assert parse("\n\n")[1] == ["aps.csv:1: inventory file has no header row"]


def test_line_numbers_count_blank_lines_and_multiline_cells() -> None:
    text = 'ap,name,host\n\nap-1,"Hall\nNorth",10.0.0.1\n,,\nap-2,x,not a host\n'
    entries, issues = parse_inventory_csv(text, "aps.csv")
    assert entries[0].origin.describe() == "aps.csv:3"
    assert [str(issue) for issue in issues] == [
        "aps.csv:6: host: must be an IP address or a host name, got 'not a host'"
    ]


def test_rows_must_match_the_header_width() -> None:
    _, issues = parse("ap,host\nap-1\nap-2,10.0.0.2,extra\nap-3,10.0.0.3,,\n")
    assert issues == [
        "aps.csv:2: row has 1 cells but the header has 2 columns",
        "aps.csv:3: row has 3 cells but the header has 2 columns",
    ]  # trailing empty cells (ap-3), as spreadsheets write them, are fine


def test_blank_ap_id_is_required() -> None:
    _, issues = parse("ap,host\n ,10.0.0.1\n")
    assert issues == ["aps.csv:2: ap: is required"]


def test_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "aps.csv"
    path.write_bytes("\ufeffap,host\nap-1,10.0.0.1\n".encode())
    entries, issues = read_inventory_csv(path, "aps.csv")
    assert issues == []
    assert entries[0].value.ap == "ap-1"


def test_non_utf8_inventory_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "aps.csv"
    path.write_bytes(b"ap,name\nap-1,Caf\xe9\n")
    _, issues = read_inventory_csv(path, "aps.csv")
    assert issues == [ConfigIssue("aps.csv", 2, "", "inventory file is not UTF-8 text")]


# --- through load_config: merging, references, duplicates ---------------------


def load(tmp_path: Path, yaml_text: str, csv_text: str) -> Path:
    (tmp_path / "aps.csv").write_text(csv_text, encoding="utf-8")
    config = tmp_path / "city.yaml"
    config.write_text(
        "credentials: {c: {version: 2c, community: public}}\n"
        "controllers: [{name: wlc, host: 10.1.0.2, credentials: c, site: s, district: D}]\n"
        "inventory_csv: aps.csv\n" + yaml_text,
        encoding="utf-8",
    )
    return config


def errors(config: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_config(config, environ={})
    return [str(issue).replace(f"{config.parent}/", "") for issue in caught.value.issues]


def test_yaml_and_csv_access_points_are_merged_in_order(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        "access_points: [{ap: y-1, controller: wlc, name: Hall}]\n",
        "ap,controller,mac,site\nc-1,wlc,aabbccddeeff,museum\n",
    )
    loaded = load_config(config, environ={})
    assert [(ap.ap, ap.site, ap.district, ap.credentials) for ap in loaded.access_points] == [
        ("y-1", "s", "D", "c"),
        ("c-1", "museum", "D", "c"),
    ]


def test_duplicate_ids_name_both_places(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        "access_points:\n  - {ap: a-1, controller: wlc, name: x}\n",
        "ap,controller,name\na-2,wlc,y\na-1,wlc,z\na-2,wlc,w\n",
    )
    assert errors(config) == [
        "aps.csv:3: ap: duplicate access point id 'a-1', first defined at city.yaml:5",
        "aps.csv:4: ap: duplicate access point id 'a-2', first defined at aps.csv:2",
    ]


def test_yaml_entries_get_the_same_checks_as_csv_rows(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        "access_points:\n  - {ap: a-1, controller: wlc, mac: 'aa:bb'}\n",
        "ap,controller,mac\na-2,wlc,aa:bb\n",
    )
    yaml_issue, csv_issue = errors(config)
    assert yaml_issue.startswith("city.yaml:5: access_points[0].mac: must be a MAC address")
    assert csv_issue.startswith("aps.csv:2: mac: must be a MAC address")
    assert yaml_issue.split(": ", 2)[2] == csv_issue.split(": ", 2)[2]


def test_references_from_csv_rows_are_checked(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        "",
        "ap,host,credentials,controller,mac\n"
        "a-1,10.0.0.1,nope,,\n"
        "a-2,,,wlx,aabbccddeeff\n"
        "a-3,10.0.0.3,,,\n",
    )
    assert errors(config) == [
        "aps.csv:2: credentials: unknown credentials 'nope'; defined credentials: c",
        "aps.csv:3: controller: unknown controller 'wlx'; did you mean 'wlc'?",
        "aps.csv:4: credentials: an access point polled directly (host is set) needs "
        "credentials, or a controller to inherit them from",
    ]


def test_references_to_invalid_entries_are_not_reported_twice(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "credentials: {broken: {version: 7, community: x}}\n"
        "controllers: [{name: wlc, host: 10.0.0.1, credentials: broken}]\n"
        "access_points: [{ap: a, controller: wlc, name: n}]\n",
        encoding="utf-8",
    )
    assert [issue.split(": ")[1] for issue in errors(config)] == ["credentials.broken.version"]


def test_missing_inventory_points_at_the_config_key(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("log: {level: info}\ninventory_csv: sub/aps.csv\n", encoding="utf-8")
    assert errors(config) == ["c.yaml:2: inventory_csv: inventory file sub/aps.csv does not exist"]


def test_inventory_path_is_relative_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load(tmp_path, "", "ap,controller,name\na-1,wlc,x\n")
    monkeypatch.chdir("/")
    loaded = load_config(config, environ={})
    assert loaded.inventory_csv == tmp_path / "aps.csv"
    assert [ap.ap for ap in loaded.access_points] == ["a-1"]
