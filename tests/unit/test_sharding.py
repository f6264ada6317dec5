"""Sharding: several daemons split one fleet by rendezvous hashing of target names.

The properties that make it safe to run: every target has exactly one
owner among the N shards (none polled twice, none missed), the owner
depends only on the name (every daemon and every restart agree), and going
from N to N+1 shards moves only ~1/(N+1) of the targets, all to the new one.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from wifimon.cli import main
from wifimon.config import ConfigError, load_config
from wifimon.selfmetrics import DaemonMetrics
from wifimon.sharding import WHOLE_FLEET, Shard, owned, owner, parse_shard
from wifimon.targets import build_targets

NAMES = st.text(min_size=1, max_size=40)
COUNTS = st.integers(min_value=1, max_value=40)
FLEET = [f"ap-{number:05d}" for number in range(3000)] + [f"wlc-{n}" for n in range(100)]


def shards_of(count: int) -> list[Shard]:
    return [Shard(index, count) for index in range(1, count + 1)]


@given(st.sets(NAMES, max_size=200), COUNTS)
def test_every_target_has_exactly_one_owning_shard(names: set[str], count: int) -> None:
    parts = [set(owned(names, shard, str)) for shard in shards_of(count)]
    assert set().union(*parts) == names  # none missed
    assert sum(len(part) for part in parts) == len(names)  # none polled twice


@given(st.sets(NAMES, max_size=200), COUNTS)
def test_adding_a_shard_moves_targets_only_to_the_new_shard(names: set[str], count: int) -> None:
    for name in names:
        before, after = owner(name, count), owner(name, count + 1)
        assert after in (before, count + 1)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 16])
def test_adding_a_shard_moves_about_one_target_in_n_plus_one(count: int) -> None:
    moved = sum(owner(name, count) != owner(name, count + 1) for name in FLEET)
    share = 1 / (count + 1)
    # The hash is fixed, so this is a fixed number; the bound is 5 binomial
    # standard deviations around the ideal share.
    spread = 5 * math.sqrt(len(FLEET) * share * (1 - share))
    assert abs(moved - len(FLEET) * share) <= spread


@pytest.mark.parametrize("count", [2, 3, 4, 8])
def test_shards_get_similar_shares_of_a_fleet(count: int) -> None:
    share = 1 / count
    spread = 5 * math.sqrt(len(FLEET) * share * (1 - share))
    for shard in shards_of(count):
        assert abs(len(owned(FLEET, shard, str)) - len(FLEET) * share) <= spread


@settings(max_examples=50)
@given(NAMES, COUNTS)
def test_removing_the_last_shard_moves_only_its_targets(name: str, count: int) -> None:
    if owner(name, count + 1) != count + 1:
        assert owner(name, count) == owner(name, count + 1)


def test_the_split_is_the_same_in_every_process_and_release() -> None:
    # Fixed values: a change here would reshuffle every deployed fleet.
    assert [owner(name, 4) for name in ("wlc-centre", "wlc-north", "ap-0017", "ruckus-scg")] == [
        1,
        2,
        4,
        2,
    ]


def test_one_shard_owns_everything() -> None:
    assert owned(FLEET, WHOLE_FLEET, str) == FLEET
    assert owned(FLEET, None, str) == FLEET


@pytest.mark.parametrize(
    ("text", "shard"), [("2/4", Shard(2, 4)), (" 1 / 1 ", Shard(1, 1)), ("4/4", Shard(4, 4))]
)
def test_shard_text_is_index_slash_count(text: str, shard: Shard) -> None:
    assert parse_shard(text) == shard
    assert str(shard) == text.replace(" ", "")


@pytest.mark.parametrize("text", ["0/4", "5/4", "a/b", "2", "-1/4", "1/0", "2/4/8", ""])
def test_bad_shard_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="I/N"):
        parse_shard(text)


# --- config, targets and the command line --------------------------------------

CONFIG = """\
credentials:
  city: {version: 2c, community: public}
controllers:
  - {name: wlc-a, host: 127.0.0.1, credentials: city}
  - {name: wlc-b, host: 127.0.0.1, credentials: city}
access_points:
  - {ap: behind-a, controller: wlc-a, mac: "aa:bb:cc:00:00:01"}
  - {ap: behind-b, controller: wlc-b, mac: "aa:bb:cc:00:00:02"}
"""
DIRECT_APS = [f"direct-{number}" for number in range(12)]


def write_config(tmp_path: Path, shard: str = "") -> Path:
    direct = "".join(
        f"  - {{ap: {name}, host: 127.0.0.1, credentials: city}}\n" for name in DIRECT_APS
    )
    path = tmp_path / "wifimon.yaml"
    path.write_text(CONFIG + direct + f"state_dir: {tmp_path}\n" + shard)
    return path


def target_names(path: Path, shard: Shard | None = None) -> list[str]:
    return [target.snmp.name for target in build_targets(load_config(path), shard)]


def test_shards_of_a_config_split_its_targets_with_no_overlap(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    everything = target_names(path)
    parts = [target_names(path, shard) for shard in shards_of(3)]
    assert sorted(name for part in parts for name in part) == sorted(everything)
    assert len(everything) == 2 + len(DIRECT_APS)


def test_aps_behind_a_controller_go_with_their_controller(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    for shard in shards_of(3):
        for target in build_targets(load_config(path), shard):
            inventory = {entry.ap for entry in target.role.inventory}
            expected = {"wlc-a": {"behind-a"}, "wlc-b": {"behind-b"}}.get(
                target.snmp.name, {target.snmp.name}
            )
            assert inventory == expected


@pytest.mark.parametrize("written", ['shard: "2/3"\n', "shard: {index: 2, count: 3}\n"])
def test_the_config_shard_key_selects_the_targets(tmp_path: Path, written: str) -> None:
    path = write_config(tmp_path, written)
    (tmp_path / "unsharded").mkdir()
    unsharded = write_config(tmp_path / "unsharded")
    assert load_config(path).shard == Shard(2, 3)
    assert target_names(path) == target_names(unsharded, Shard(2, 3))


def test_the_command_line_shard_overrides_the_config(tmp_path: Path) -> None:
    path = write_config(tmp_path, "shard: 2/3\n")
    assert target_names(path, Shard(1, 3)) == [
        name for name in target_names(path, WHOLE_FLEET) if owner(name, 3) == 1
    ]


@pytest.mark.parametrize(
    "written", ["shard: 0/4\n", "shard: 5/4\n", "shard: a/b\n", "shard: {index: 1}\n"]
)
def test_a_bad_config_shard_names_file_line_and_key(tmp_path: Path, written: str) -> None:
    path = write_config(tmp_path, written)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    [issue] = caught.value.issues
    assert (issue.file, issue.path) == (str(path), "shard")
    assert issue.line == len(path.read_text().splitlines())
    assert "I/N" in issue.message


def test_check_config_tells_how_many_targets_the_shard_owns(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    owned_here = len(target_names(path, Shard(2, 3)))
    result = CliRunner().invoke(main, ["check-config", "-c", str(path), "--shard", "2/3"])
    assert result.exit_code == 0, result.output
    assert f"{owned_here} poll target(s), shard 2/3 owns {owned_here} of 14" in result.output


@pytest.mark.parametrize("bad", ["0/4", "5/4", "a/b"])
@pytest.mark.parametrize("command", ["check-config", "poll", "run"])
def test_a_bad_shard_option_is_a_usage_error(tmp_path: Path, command: str, bad: str) -> None:
    path = write_config(tmp_path)
    result = CliRunner().invoke(main, [command, "-c", str(path), "--shard", bad])
    assert result.exit_code == 2
    assert "--shard" in result.output
    assert "I/N" in result.output


def test_poll_of_a_target_of_another_shard_exits_2(tmp_path: Path) -> None:
    path = write_config(tmp_path)
    elsewhere = next(name for name in target_names(path) if owner(name, 2) == 2)
    result = CliRunner().invoke(
        main, ["poll", "-c", str(path), "--shard", "1/2", "--target", elsewhere]
    )
    assert result.exit_code == 2
    assert f"{elsewhere} (shard 2/2)" in result.output


def test_the_daemon_exports_its_shard_and_the_fleet_size() -> None:
    metrics = DaemonMetrics(shard=Shard(2, 4), fleet_targets=14)
    samples = {sample.metric.name: sample for sample in metrics.samples(1.0, [True], 0, 0)}
    assert samples["wifimon_shard_info"].labels == ("2", "4")
    assert samples["wifimon_fleet_targets"].value == 14
