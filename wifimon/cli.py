"""The ``wifimon`` command. Exit codes: 0 ok, 2 bad config or usage, 1 failure."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from wifimon import __version__
from wifimon.config import Config, ConfigError, dump_config, load_config
from wifimon.counters import CounterReconciler
from wifimon.exporting import load_exporter_factories
from wifimon.logsetup import configure_logging
from wifimon.profiles.registry import ProfileError, ProfileRegistry, default_registry
from wifimon.scheduler import PollRound, PollTarget
from wifimon.snapshot import Sample
from wifimon.snmp.pysnmp_transport import PysnmpTransport
from wifimon.targets import build_targets

EXIT_BAD_CONFIG = 2
EXIT_FAILURE = 1

CONFIG_OPTION = click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="Path of the wifimon YAML config file.",
)


def _registry() -> ProfileRegistry:
    try:
        return default_registry()
    except ProfileError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_BAD_CONFIG)


def _load(config_path: Path, registry: ProfileRegistry) -> Config:
    try:
        config = load_config(config_path, known_profiles=set(registry.profiles))
    except ConfigError as error:
        for issue in error.issues:
            click.echo(str(issue), err=True)
        click.echo(f"{config_path}: {len(error.issues)} error(s); nothing was started", err=True)
        sys.exit(EXIT_BAD_CONFIG)
    missing = set(config.exporter_settings()) - set(load_exporter_factories())
    if missing:
        # A valid key whose exporter this installation lacks would otherwise
        # run silently without that output.
        for name in sorted(missing):
            click.echo(
                f"{config_path}: exporters.{name}: not available in this installation", err=True
            )
        sys.exit(EXIT_BAD_CONFIG)
    return config


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wifimon")
def main() -> None:
    """Monitor a city's public Wi-Fi over SNMP: one schema for every vendor."""


@main.command("check-config")
@CONFIG_OPTION
@click.option("--dump", is_flag=True, help="Print the resolved config (secrets shown as <secret>).")
def check_config(config_path: Path, dump: bool) -> None:
    """Validate a config file and its inventory; exit 0 if valid, 2 if not."""
    registry = _registry()
    config = _load(config_path, registry)
    targets = build_targets(config)
    if dump:
        click.echo(dump_config(config))
    click.echo(
        f"{config_path}: ok: {len(config.controllers)} controller(s), "
        f"{len(config.access_points)} access point(s), {len(targets)} poll target(s)"
    )


@main.command("run")
@CONFIG_OPTION
def run(config_path: Path) -> None:
    """Poll every target on its interval and serve the exporters until stopped."""
    from wifimon.daemon import run_daemon  # noqa: PLC0415 - keeps `--help` fast

    registry = _registry()
    config = _load(config_path, registry)
    configure_logging(config.log.level, config.log.format)
    try:
        run_daemon(config_path)
    except ConfigError as error:  # the file changed between the check and the start
        for issue in error.issues:
            click.echo(str(issue), err=True)
        sys.exit(EXIT_BAD_CONFIG)


@main.command("poll")
@CONFIG_OPTION
@click.option("--target", "target_names", multiple=True, help="Poll only this target (repeatable).")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
def poll(config_path: Path, target_names: tuple[str, ...], output_format: str) -> None:
    """Run one poll and print what would be exported."""
    registry = _registry()
    config = _load(config_path, registry)
    configure_logging(config.log.level, config.log.format)
    targets = build_targets(config)
    if target_names:
        unknown = set(target_names) - {t.snmp.name for t in targets}
        if unknown:
            click.echo(f"error: no such target: {', '.join(sorted(unknown))}", err=True)
            sys.exit(EXIT_BAD_CONFIG)
        targets = [t for t in targets if t.snmp.name in target_names]
    samples = asyncio.run(
        _poll_once(config.poll.concurrency, config.poll.interval, targets, registry)
    )
    click.echo(_render_json(samples) if output_format == "json" else _render_table(samples))
    if not any(s.metric.name == "wifimon_target_up" and s.value == 1 for s in samples):
        sys.exit(EXIT_FAILURE)


async def _poll_once(
    concurrency: int, interval: float, targets: list[PollTarget], registry: ProfileRegistry
) -> list[Sample]:
    transport = PysnmpTransport(concurrency=concurrency)
    try:
        rounds = PollRound(transport, registry, CounterReconciler(), interval)
        result = await rounds.run(targets)
    finally:
        await transport.close()
    return [sample for snap in result.snapshots for sample in snap.samples]


def _render_table(samples: list[Sample]) -> str:
    lines = []
    for sample in samples:
        labels = ",".join(
            f'{name}="{value}"'
            for name, value in zip(sample.metric.labels, sample.labels, strict=True)
            if value
        )
        lines.append(f"{sample.metric.name}{{{labels}}} {_number(sample.value)}")
    return "\n".join(lines)


def _number(value: float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def _render_json(samples: list[Sample]) -> str:
    rows = [
        {
            "metric": sample.metric.name,
            "labels": dict(zip(sample.metric.labels, sample.labels, strict=True)),
            "value": sample.value,
            "timestamp": sample.timestamp,
        }
        for sample in samples
    ]
    return json.dumps(rows, indent=1)


@main.group("profiles")
def profiles() -> None:
    """List and show the vendor profiles wifimon knows."""


@profiles.command("list")
def profiles_list() -> None:
    """One line per profile: name, kind, vendor, description."""
    registry = _registry()
    for profile in registry.profiles.values():
        click.echo(f"{profile.name:20} {profile.kind:10} {profile.vendor:10} {profile.description}")


@profiles.command("show")
@click.argument("name")
def profiles_show(name: str) -> None:
    """Print one profile as YAML."""
    registry = _registry()
    if name not in registry.profiles:
        click.echo(f"error: no profile named {name!r}; try `wifimon profiles list`", err=True)
        sys.exit(EXIT_BAD_CONFIG)
    click.echo(registry.source(name), nl=False)
