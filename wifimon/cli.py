"""The ``wifimon`` command. Exit codes: 0 ok, 2 bad config or usage, 1 failure."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, get_args

import click

from wifimon import __version__
from wifimon.anonymise import anonymise, plan_for
from wifimon.config import Config, ConfigError, dump_config, load_config
from wifimon.counters import CounterReconciler
from wifimon.exporting import check_exporter_settings, installed_exporters
from wifimon.logsetup import configure_logging
from wifimon.profiles.registry import ProfileError, ProfileRegistry, default_registry
from wifimon.recorder import (
    CredentialOptions,
    Recording,
    RecordUsageError,
    credentials_from_options,
    record,
    write_snmprec,
)
from wifimon.scheduler import PollRound, PollTarget
from wifimon.sharding import SHARD_HINT, WHOLE_FLEET, Shard, owner, parse_shard
from wifimon.snapshot import Sample
from wifimon.snmp.fast_transport import FastTransport
from wifimon.snmp.types import (
    AuthProtocol,
    Oid,
    PrivProtocol,
    SnmpCredentials,
    SnmpError,
    SnmpTarget,
    VarBind,
    format_oid,
    parse_oid,
)
from wifimon.snmp.v3_diagnosis import DiagnosingTransport
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


class ShardType(click.ParamType[Shard, object]):
    """``--shard 2/4``: a usage error (exit 2) unless 1 <= I <= N."""

    name = "I/N"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> Shard:
        if isinstance(value, Shard):
            return value
        try:
            return parse_shard(str(value))
        except ValueError:
            self.fail(f"{value!r} {SHARD_HINT}", param, ctx)


SHARD_OPTION = click.option(
    "--shard",
    type=ShardType(),
    help="Poll only this shard's part of the fleet, e.g. 2/4 (overrides the config's shard).",
)


def _shard_summary(config: Config, shard: Shard | None, targets: list[PollTarget]) -> str:
    """E.g. ``", shard 2/4 owns 3 of 12"``; empty when not sharded."""
    effective = shard or config.shard
    if effective is None or effective == WHOLE_FLEET:
        return ""
    fleet = len(build_targets(config, WHOLE_FLEET))
    return f", shard {effective} owns {len(targets)} of {fleet}"


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
    missing = set(config.exporter_settings()) - installed_exporters()
    if missing:
        # A valid key whose exporter this installation lacks would otherwise
        # run silently without that output.
        for name in sorted(missing):
            click.echo(
                f"{config_path}: exporters.{name}: not available in this installation", err=True
            )
        sys.exit(EXIT_BAD_CONFIG)
    exporter_issues = check_exporter_settings(config.exporter_settings())
    if exporter_issues:
        for issue in exporter_issues:
            click.echo(str(issue), err=True)
        click.echo(f"{config_path}: {len(exporter_issues)} error(s); nothing was started", err=True)
        sys.exit(EXIT_BAD_CONFIG)
    return config


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wifimon")
def main() -> None:
    """Monitor a city's public Wi-Fi over SNMP: one schema for every vendor."""


@main.command("check-config")
@CONFIG_OPTION
@click.option("--dump", is_flag=True, help="Print the resolved config (secrets shown as <secret>).")
@SHARD_OPTION
def check_config(config_path: Path, dump: bool, shard: Shard | None) -> None:
    """Validate a config file and its inventory; exit 0 if valid, 2 if not."""
    registry = _registry()
    config = _load(config_path, registry)
    targets = build_targets(config, shard)
    if dump:
        click.echo(dump_config(config))
    click.echo(
        f"{config_path}: ok: {len(config.controllers)} controller(s), "
        f"{len(config.access_points)} access point(s), {len(targets)} poll target(s)"
        f"{_shard_summary(config, shard, targets)}"
    )


@main.command("run")
@CONFIG_OPTION
@SHARD_OPTION
def run(config_path: Path, shard: Shard | None) -> None:
    """Poll every target on its interval and serve the exporters until stopped."""
    from wifimon.daemon import run_daemon  # noqa: PLC0415 - keeps `--help` fast

    registry = _registry()
    config = _load(config_path, registry)
    configure_logging(config.log.level, config.log.format)
    try:
        run_daemon(config_path, shard=shard, config=config, registry=registry)
    except ConfigError as error:
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
@SHARD_OPTION
def poll(
    config_path: Path, target_names: tuple[str, ...], output_format: str, shard: Shard | None
) -> None:
    """Run one poll and print what would be exported."""
    registry = _registry()
    config = _load(config_path, registry)
    configure_logging(config.log.level, config.log.format)
    targets = build_targets(config, shard)
    summary = _shard_summary(config, shard, targets)
    if summary:
        click.echo(f"{config_path}: {len(targets)} poll target(s){summary}", err=True)
    if target_names:
        _check_target_names(config, shard, target_names, targets)
        targets = [t for t in targets if t.snmp.name in target_names]
    samples = asyncio.run(
        _poll_once(config.poll.concurrency, config.poll.interval, targets, registry)
    )
    click.echo(_render_json(samples) if output_format == "json" else _render_table(samples))
    if not any(s.metric.name == "wifimon_target_up" and s.value == 1 for s in samples):
        sys.exit(EXIT_FAILURE)


def _check_target_names(
    config: Config, shard: Shard | None, names: tuple[str, ...], targets: list[PollTarget]
) -> None:
    """Exit 2 for a ``--target`` that does not exist or that another shard polls."""
    fleet = {t.snmp.name for t in build_targets(config, WHOLE_FLEET)}
    unknown = set(names) - fleet
    if unknown:
        click.echo(f"error: no such target: {', '.join(sorted(unknown))}", err=True)
        sys.exit(EXIT_BAD_CONFIG)
    elsewhere = sorted(set(names) - {t.snmp.name for t in targets})
    if elsewhere:
        count = (shard or config.shard or WHOLE_FLEET).count
        where = ", ".join(f"{name} (shard {owner(name, count)}/{count})" for name in elsewhere)
        click.echo(f"error: polled by another shard: {where}", err=True)
        sys.exit(EXIT_BAD_CONFIG)


async def _poll_once(
    concurrency: int, interval: float, targets: list[PollTarget], registry: ProfileRegistry
) -> list[Sample]:
    transport = DiagnosingTransport(FastTransport(concurrency=concurrency))
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


@main.command("demo")
@click.option("--aps", type=int, default=300, show_default=True, help="Access points in the city.")
@click.option(
    "--seed", type=int, default=1, show_default=True, help="Seed: the same seed, the same city."
)
@click.option(
    "--listen",
    default="127.0.0.1:9877",
    show_default=True,
    help="Address of the daemon's /metrics.",
)
@click.option(
    "--speed", type=float, default=1.0, show_default=True, help="Simulated seconds per second."
)
@click.option(
    "--prometheus", is_flag=True, help="Also start Prometheus (if installed) scraping the daemon."
)
@click.option(
    "--rules-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Prometheus rule files (*.yml) to load with --prometheus.",
)
@click.option("--history", help="Write this much history (e.g. 30d) to --out instead of running.")
@click.option("--step", help="History step, e.g. 5m (the default).")
@click.option(
    "--out", type=click.Path(path_type=Path, file_okay=False), help="Folder for --history."
)
@click.option(
    "--work-dir", type=click.Path(path_type=Path, file_okay=False), help="Keep the city here."
)
@click.option(
    "--snmp-port", type=int, help="UDP port of the simulated agents (default: a free one)."
)
@click.option("--duration", type=float, help="Stop after this many seconds (default: at Ctrl-C).")
def demo(  # noqa: PLR0917 - click passes every option
    aps: int,
    seed: int,
    listen: str,
    speed: float,
    prometheus: bool,
    rules_dir: Path | None,
    history: str | None,
    step: str | None,
    out: Path | None,
    work_dir: Path | None,
    snmp_port: int | None,
    duration: float | None,
) -> None:
    """Run a simulated Mulhouse city Wi-Fi over real SNMP with wifimon watching it.

    Serves the city's controllers and APs with snmpsim on 127.0.0.1, runs the
    daemon against them and shows a live view until Ctrl-C, then stops
    everything it started. With --history 30d --out DIR, writes the city's
    past as OpenMetrics and InfluxDB line protocol instead.
    """
    from wifimon.demo import run_demo  # noqa: PLC0415 - keeps `--help` fast

    code = run_demo(
        aps,
        seed,
        listen,
        speed,
        prometheus,
        history,
        out,
        step=step,
        rules_dir=rules_dir,
        work_dir=work_dir,
        snmp_port=snmp_port,
        duration=duration,
    )
    sys.exit(code)


SOURCE_OPTION = click.option(
    "--source",
    type=click.Choice(["prometheus", "influxdb"]),
    required=True,
    help="Where the history lives: a Prometheus-compatible API or InfluxDB's hourly rollups.",
)
OUT_OPTION = click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Folder to write into (created if missing).",
)
STEP_OPTION = click.option(
    "--step", type=float, help="Query resolution in seconds (default: chosen from the period)."
)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@main.command("report")
@SOURCE_OPTION
@click.argument("url")
@click.option("--from", "start", type=click.DateTime(), required=True, help="Period start (UTC).")
@click.option("--to", "end", type=click.DateTime(), required=True, help="Period end (UTC).")
@click.option("--district", help="Only this district.")
@OUT_OPTION
@STEP_OPTION
def report(  # noqa: PLR0917 - click passes every option
    source: str,
    url: str,
    start: datetime,
    end: datetime,
    district: str | None,
    out: Path,
    step: float | None,
) -> None:
    """Planner report for a period: report.html, districts.csv and aps.csv.

    URL is e.g. http://prometheus:9090 or http://influx:8086/wifi-planning.
    Figures are compared with the previous period of the same length.
    """
    from wifimon.report import run_report  # noqa: PLC0415 - keeps `--help` fast

    sys.exit(run_report(source, url, _utc(start), _utc(end), district, out, step=step))


@main.command("opendata")
@SOURCE_OPTION
@click.argument("url")
@click.option(
    "--period",
    type=click.Choice(["day", "week", "month"]),
    default="month",
    show_default=True,
    help="The last complete day, week or month.",
)
@click.option(
    "--threshold",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Client counts below this are suppressed so no person can be singled out.",
)
@click.option("--include-aps", is_flag=True, help="Also publish per-AP figures (off by default).")
@OUT_OPTION
@STEP_OPTION
def opendata(  # noqa: PLR0917 - click passes every option
    source: str,
    url: str,
    period: str,
    threshold: int,
    include_aps: bool,
    out: Path,
    step: float | None,
) -> None:
    """District-level usage as CSV and JSON with a data dictionary, for an open-data portal."""
    from wifimon.report import run_opendata  # noqa: PLC0415 - keeps `--help` fast
    from wifimon.report.opendata import period_bounds  # noqa: PLC0415

    start, end = period_bounds(period, datetime.now(UTC))
    code = run_opendata(
        source, url, start, end, out, threshold=threshold, include_aps=include_aps, step=step
    )
    sys.exit(code)


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


# --- record --------------------------------------------------------------------

SECRET_FILE = click.Path(path_type=Path, dir_okay=False)


@main.command("record")
@click.option("--host", required=True, help="Address of the agent to record, e.g. 10.1.0.2.")
@click.option("--port", type=click.IntRange(1, 65535), default=161, show_default=True)
@click.option(
    "--credentials",
    "credentials_name",
    metavar="NAME",
    help="Authenticate as this named credential of the config file given with -c.",
)
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="wifimon config file holding --credentials.",
)
@click.option("--community-env", metavar="VAR", help="Variable with the v1/v2c community.")
@click.option(
    "--snmp-version",
    type=click.Choice(["1", "2c"]),
    default="2c",
    show_default=True,
    help="SNMP version used with --community-env.",
)
@click.option("--v3-user", metavar="USER", help="SNMPv3 user name.")
@click.option("--auth-protocol", type=click.Choice(get_args(AuthProtocol)))
@click.option("--auth-password-env", metavar="VAR", help="Variable with the v3 auth password.")
@click.option("--auth-password-file", type=SECRET_FILE, help="File with the v3 auth password.")
@click.option("--priv-protocol", type=click.Choice(get_args(PrivProtocol)))
@click.option("--priv-password-env", metavar="VAR", help="Variable with the v3 privacy password.")
@click.option("--priv-password-file", type=SECRET_FILE, help="File with the v3 privacy password.")
@click.option("--context", default="", help="SNMPv3 context name.")
@click.option(
    "--profile",
    "profile_name",
    default="auto",
    show_default=True,
    help="Profile whose columns are walked; auto chooses by sysObjectID like the poller.",
)
@click.option(
    "--subtree",
    "subtrees",
    multiple=True,
    metavar="OID",
    help="Walk this subtree instead of the profile's columns (repeatable).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The .snmprec file to write.",
)
@click.option(
    "--no-anonymise",
    is_flag=True,
    help="Keep real MACs, addresses, serials and names (never commit such a file).",
)
@click.option(
    "--salt-env",
    metavar="VAR",
    help="Anonymise with the salt in this variable (same salt, same fakes) "
    "instead of a random salt that is not stored.",
)
@click.option("--timeout", type=click.FloatRange(0.1, 120.0), default=5.0, show_default=True)
@click.option("--retries", type=click.IntRange(0, 10), default=2, show_default=True)
def record_command(
    *,
    host: str,
    port: int,
    credentials_name: str | None,
    config_path: Path | None,
    community_env: str | None,
    snmp_version: Literal["1", "2c"],
    v3_user: str | None,
    auth_protocol: AuthProtocol | None,
    auth_password_env: str | None,
    auth_password_file: Path | None,
    priv_protocol: PrivProtocol | None,
    priv_password_env: str | None,
    priv_password_file: Path | None,
    context: str,
    profile_name: str,
    subtrees: tuple[str, ...],
    output: Path,
    no_anonymise: bool,
    salt_env: str | None,
    timeout: float,
    retries: int,
) -> None:
    """Record an agent as an .snmprec walk: the system group and the columns
    its profile reads, anonymised unless --no-anonymise. Secrets come only
    from environment variables, files or the config file."""
    registry = _registry()
    options = CredentialOptions(
        community_env=community_env,
        snmp_version=snmp_version,
        v3_user=v3_user,
        auth_protocol=auth_protocol,
        auth_password_env=auth_password_env,
        auth_password_file=auth_password_file,
        priv_protocol=priv_protocol,
        priv_password_env=priv_password_env,
        priv_password_file=priv_password_file,
        context=context,
    )
    credentials = _record_credentials(registry, credentials_name, config_path, options)
    if profile_name != "auto" and profile_name not in registry.profiles:
        raise click.UsageError(f"no profile named {profile_name!r}; try `wifimon profiles list`")
    roots = _record_subtrees(subtrees)
    key = None if no_anonymise else _record_key(salt_env)
    if not output.parent.is_dir():
        raise click.UsageError(f"folder {output.parent} does not exist")
    target = SnmpTarget("record", host, port, credentials, timeout=timeout, retries=retries)
    try:
        recording = asyncio.run(_record_once(target, registry, profile_name, roots))
    except SnmpError as error:  # transport messages name the agent, never a secret
        click.echo(f"error: {error}", err=True)
        sys.exit(EXIT_FAILURE)
    varbinds = recording.varbinds if key is None else _anonymised(recording, key)
    write_snmprec(output, varbinds)
    how = "NOT anonymised" if key is None else "anonymised"
    click.echo(
        f"{output}: {len(varbinds)} varbinds, {recording.tables} table(s), "
        f"profile {recording.profile.name}, {how}",
        err=True,
    )


def _record_credentials(
    registry: ProfileRegistry,
    name: str | None,
    config_path: Path | None,
    options: CredentialOptions,
) -> SnmpCredentials:
    if name is None and config_path is None:
        try:
            return credentials_from_options(options, os.environ)
        except RecordUsageError as error:
            raise click.UsageError(str(error)) from None
    if name is None or config_path is None:
        raise click.UsageError("--credentials and -c/--config go together")
    if options.any_given:
        raise click.UsageError("--credentials takes everything from the config file; drop the rest")
    config = _load(config_path, registry)
    if name not in config.credentials:
        raise click.UsageError(f"{config_path} has no credentials named {name!r}")
    return config.snmp_credentials(name)


def _record_subtrees(subtrees: tuple[str, ...]) -> list[Oid]:
    try:
        return [parse_oid(text) for text in subtrees]
    except ValueError as error:
        raise click.UsageError(f"--subtree: {error}") from None


def _record_key(salt_env: str | None) -> bytes:
    """The anonymisation key: the given salt, else a random one nobody keeps."""
    if salt_env is None:
        return secrets.token_bytes(32)
    salt = os.environ.get(salt_env, "")
    if not salt:
        raise click.UsageError(f"environment variable {salt_env} (the salt) is unset or empty")
    return salt.encode()


async def _record_once(
    target: SnmpTarget, registry: ProfileRegistry, profile: str, subtrees: list[Oid]
) -> Recording:
    transport = FastTransport(concurrency=8)
    try:
        return await record(
            transport, target, registry, sys.stderr, wanted_profile=profile, subtrees=subtrees
        )
    finally:
        await transport.close()


def _anonymised(recording: Recording, key: bytes) -> list[VarBind]:
    result = anonymise(recording.varbinds, plan_for(recording.profile), key)
    if result.dropped:
        click.echo(f"left out {result.dropped} row(s) whose index did not parse", err=True)
    if result.kept_text:
        examples = ", ".join(format_oid(oid) for oid in result.kept_text[:3])
        click.echo(
            f"warning: kept {len(result.kept_text)} text value(s) that no profile describes "
            f"(e.g. {examples}); review them before committing the file",
            err=True,
        )
    return result.varbinds
