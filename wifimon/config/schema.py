"""The typed config schema: every key, its unit, default and an example.

Every model forbids unknown keys and is frozen. Defaults live here and only
here. Durations are floats in seconds (written ``60s``, ``5m``, ``500ms``...).
Rules that span several entries (references, duplicates, v3 consistency)
are in ``checks.py``; ``load_config`` is the only way to a checked
``Config``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
)

from wifimon.config.secret import Secret
from wifimon.config.valuetypes import (
    Duration,
    Host,
    Latitude,
    ListenAddress,
    Longitude,
    Mac,
    Name,
    NonNegativeDuration,
    Port,
    between,
    choice_normaliser,
)
from wifimon.geo.districts import DistrictMap
from wifimon.sharding import Shard, shard_from_config
from wifimon.snmp.types import (
    AuthProtocol,
    PrivProtocol,
    SnmpCredentials,
    SnmpTarget,
    SnmpVersion,
)

DEFAULT_INTERVAL = 60.0
DEFAULT_PORT = 161
AUTO_PROFILE = "auto"

Version = Annotated[
    SnmpVersion,
    BeforeValidator(
        choice_normaliser(
            get_args(SnmpVersion), {"v1": "1", "2": "2c", "v2": "2c", "v2c": "2c", "v3": "3"}
        )
    ),
]
Auth = Annotated[AuthProtocol, BeforeValidator(choice_normaliser(get_args(AuthProtocol)))]
Priv = Annotated[PrivProtocol, BeforeValidator(choice_normaliser(get_args(PrivProtocol)))]
Retries = Annotated[int, between(0, 10)]
CoverageRadius = Annotated[float, between(1, 10_000)]
ShardSpec = Annotated[
    Shard, PlainValidator(shard_from_config), PlainSerializer(str, return_type=str)
]
LogLevel = Literal["debug", "info", "warning", "error"]


class StrictModel(BaseModel):
    # Numbers become strings for text fields (district: 7), never the reverse.
    model_config = ConfigDict(
        extra="forbid", frozen=True, use_attribute_docstrings=True, coerce_numbers_to_str=True
    )


class PollSettings(StrictModel):
    """How often and how patiently every target is polled."""

    interval: Duration = DEFAULT_INTERVAL
    """Seconds between two polls of a target, e.g. ``60.0`` (written ``60s``)."""
    timeout: Duration = 5.0
    """Seconds to wait for one SNMP response before retrying, e.g. ``5.0``."""
    retries: Retries = 2
    """Extra attempts after a timed-out request, 0..10, e.g. ``2``."""
    concurrency: Annotated[int, between(1, 100_000)] = 256
    """Requests in flight at once over all targets, e.g. ``256``."""
    jitter: NonNegativeDuration = Field(
        default_factory=lambda data: 0.1 * data.get("interval", DEFAULT_INTERVAL)
    )
    """Seconds of random start offset per target so polls do not all fire at
    once; default 10% of ``interval``, e.g. ``6.0``."""
    max_repetitions: Annotated[int, between(1, 1000)] = 25
    """Rows asked for per GETBULK request, e.g. ``25``."""
    target_budget: Duration = Field(
        default_factory=lambda data: 0.8 * data.get("interval", DEFAULT_INTERVAL)
    )
    """Seconds one target's whole poll may take before it is abandoned, so a
    slow device cannot overlap its next poll; default 80% of ``interval``,
    e.g. ``48.0``."""
    walk_max_rows: Annotated[int, between(1, 10_000_000)] = 100_000
    """Most varbinds read by one table walk, e.g. ``100000``; guards against
    agents that never end a walk."""


class Credential(StrictModel):
    """A named SNMP identity, e.g. ``{version: 2c, community: public}``.

    A secret ``x`` may instead be read from the file ``x_file``, relative to
    the config file; the loader then fills ``x`` and makes ``x_file`` absolute.
    """

    version: Version
    """SNMP version: ``"1"``, ``"2c"`` or ``"3"`` (``v2c``, ``3``... accepted)."""
    community: Secret | None = None
    """v1/v2c community string, e.g. ``"public"``."""
    community_file: Path | None = None
    """File holding the community, e.g. ``/etc/wifimon/community``."""
    user: str | None = None
    """v3 USM user name, e.g. ``"monitor"``."""
    auth_protocol: Auth | None = None
    """v3 authentication: md5, sha, sha224, sha256, sha384 or sha512."""
    auth_password: Secret | None = None
    """v3 authentication password, at least 8 characters."""
    auth_password_file: Path | None = None
    """File holding ``auth_password``, e.g. ``secrets/snmp-auth``."""
    priv_protocol: Priv | None = None
    """v3 privacy (encryption): des, 3des, aes, aes128, aes192 or aes256."""
    priv_password: Secret | None = None
    """v3 privacy password, at least 8 characters."""
    priv_password_file: Path | None = None
    """File holding ``priv_password``, e.g. ``secrets/snmp-priv``."""
    context: str = ""
    """v3 context name, usually empty, e.g. ``"vlan-10"``."""


class Controller(StrictModel):
    """A wireless LAN controller whose AP tables are read every poll."""

    name: Name
    """Unique name, used as a label value, e.g. ``"wlc-centre"``."""
    host: Host
    """IP address or DNS name of its SNMP agent, e.g. ``"10.1.0.2"``."""
    port: Port = DEFAULT_PORT
    """UDP port of the agent, e.g. ``161``."""
    credentials: Name
    """Name of an entry of ``credentials``, e.g. ``"city-v3"``."""
    profile: Name = AUTO_PROFILE
    """Vendor profile name, or ``"auto"`` to choose by sysObjectID."""
    site: str | None = None
    """Default site for its APs, e.g. ``"centre"``."""
    district: str | None = None
    """Default district for its APs, e.g. ``"Centre"``."""
    timeout: Duration | None = None
    """Overrides ``poll.timeout`` for this controller, seconds, e.g. ``10.0``."""
    retries: Retries | None = None
    """Overrides ``poll.retries`` for this controller, e.g. ``1``."""


class AccessPoint(StrictModel):
    """One AP: the same fields as an inventory CSV row.

    With ``host`` it is polled directly; with ``controller`` it is read from
    that controller's tables, matched by ``mac``, else by ``name``.
    """

    ap: Name
    """Unique id, used as the ``ap`` label, e.g. ``"ap-0017"``."""
    name: str | None = None
    """Name as the controller knows it, e.g. ``"Museum-Hall-2"``."""
    host: Host | None = None
    """IP address or DNS name when polled directly, e.g. ``"10.2.3.4"``."""
    port: Port = DEFAULT_PORT
    """UDP port of its agent, e.g. ``161``."""
    credentials: Name | None = None
    """Entry of ``credentials``; default: its controller's, e.g. ``"city-v2c"``."""
    profile: Name = AUTO_PROFILE
    """Vendor profile name, or ``"auto"``."""
    controller: Name | None = None
    """Name of the controller that manages it, e.g. ``"wlc-centre"``."""
    mac: Mac | None = None
    """Base radio MAC, normalised to ``"aa:bb:cc:dd:ee:ff"``."""
    site: str | None = None
    """Site, e.g. ``"museum"``; default: its controller's."""
    district: str | None = None
    """District, e.g. ``"Old Town"``; default: its controller's."""
    latitude: Latitude | None = None
    """Degrees north, -90..90, e.g. ``48.8566``."""
    longitude: Longitude | None = None
    """Degrees east, -180..180, e.g. ``2.3522``."""
    coverage_radius_m: CoverageRadius | None = None
    """Metres around the AP counted as covered, 1..10000, e.g. ``80.0``;
    default ``coverage.default_radius_m``."""
    timeout: Duration | None = None
    """Overrides ``poll.timeout`` for this AP, seconds (YAML only), e.g. ``3.0``."""
    retries: Retries | None = None
    """Overrides ``poll.retries`` for this AP (YAML only), e.g. ``1``."""


class CoverageSettings(StrictModel):
    """How the share of each district within reach of an AP is measured."""

    default_radius_m: CoverageRadius = 50.0
    """Metres around an AP counted as covered when its ``coverage_radius_m``
    is not set, 1..10000, e.g. ``50.0`` (an outdoor city AP reaches 50-100 m)."""


class PrometheusExporter(StrictModel):
    """Serves ``/metrics`` from the newest snapshot."""

    listen: ListenAddress = "0.0.0.0:9877"
    """Address and TCP port to listen on, e.g. ``"127.0.0.1:9877"``; the
    default reaches every interface, so name one address in production."""
    web_config_file: Path | None = None
    """TLS and basic auth for ``/metrics`` in Prometheus exporter-toolkit's
    web config format, relative to this file, e.g. ``web.yml``; checked when
    the exporter starts."""


class InfluxDbExporter(StrictModel):
    """Writes every poll through the InfluxDB v2 write API."""

    url: Annotated[str, Field(pattern=r"^https?://\S+$")]
    """Base URL of the server, e.g. ``"http://127.0.0.1:8086"``."""
    org: str = ""
    """Organisation, e.g. ``"city"``; empty for servers without orgs."""
    bucket: Name
    """Bucket (or ``database/retention``), e.g. ``"wifi"``."""
    rollup_bucket: str = ""
    """Bucket for the hourly district rollups, e.g. ``"wifi-planning"`` (kept
    longer than the raw data); empty: the rollups go to ``bucket`` too."""
    token: Secret | None = None
    """API token, e.g. ``${WIFIMON_INFLUX_TOKEN}``; none for open servers."""
    token_file: Path | None = None
    """File holding the token, e.g. ``secrets/influx-token``."""
    flush_interval: Duration = 10.0
    """Longest wait in seconds before a batch smaller than ``batch_size`` is
    written anyway, e.g. ``10.0``."""
    batch_size: Annotated[int, between(1, 1_000_000)] = 5000
    """Most points per write request, e.g. ``5000``."""
    queue_size: Annotated[int, between(1, 100_000_000)] = 1_000_000
    """Points held in memory while writes lag; beyond that (and whenever the
    server fails) points go to the disk spool, e.g. ``1000000``."""
    timeout: Duration = 10.0
    """Seconds to wait for one write request, e.g. ``10.0``."""
    gzip: bool = True
    """Compress write requests, e.g. ``true`` (line protocol shrinks ~10x)."""
    spool_max_bytes: Annotated[int, between(1 << 20, 1 << 50)] = 1 << 30
    """Bytes of disk the spool under ``state_dir`` may take before its oldest
    points are dropped (and counted), e.g. ``1073741824`` (1 GiB)."""
    max_retry_delay: Duration = 60.0
    """Longest wait in seconds between two attempts while the server fails,
    e.g. ``60.0``; a refused token or unknown bucket is retried this often."""


class StdoutExporter(StrictModel):
    """Prints every snapshot, for debugging and pipes."""

    format: Literal["json", "text"] = "json"
    """``"json"`` (one object per line) or ``"text"``."""


def _default_exporters() -> Exporters:
    return Exporters(prometheus=PrometheusExporter())


class Exporters(StrictModel):
    """Outputs; one that is not listed is off."""

    prometheus: PrometheusExporter | None = None
    """The Prometheus endpoint, e.g. ``{listen: "0.0.0.0:9877"}``."""
    influxdb: InfluxDbExporter | None = None
    """The InfluxDB writer, e.g. ``{url: ..., bucket: wifi}``."""
    stdout: StdoutExporter | None = None
    """Standard output, e.g. ``{format: json}``."""


class LogSettings(StrictModel):
    """The daemon's own log."""

    level: Annotated[LogLevel, BeforeValidator(choice_normaliser(get_args(LogLevel)))] = "info"
    """Least severe level written: debug, info, warning or error."""
    format: Literal["json", "text"] = "text"
    """``"text"`` for people, ``"json"`` for log shippers."""


class Config(StrictModel):
    """The whole daemon configuration, as returned by ``load_config``.

    ``access_points`` holds the merged inventory (YAML entries, then CSV
    rows) with site, district and credentials already inherited from their
    controller, and secrets read from their files.
    """

    poll: PollSettings = Field(default_factory=PollSettings)
    """Polling rhythm and patience."""
    credentials: dict[str, Credential] = Field(default_factory=dict)
    """Named SNMP identities, e.g. ``{"city-v2c": {...}}``."""
    controllers: list[Controller] = Field(default_factory=list)
    """Wireless LAN controllers."""
    access_points: list[AccessPoint] = Field(default_factory=list)
    """APs written in the YAML file (after loading: all APs)."""
    inventory_csv: Path | None = None
    """CSV inventory, relative to the config file, e.g. ``aps.csv``."""
    districts_geojson: Path | None = None
    """District boundaries (GeoJSON FeatureCollection of WGS84 polygons),
    relative to the config file, e.g. ``quartiers.geojson``."""
    districts_name_property: Name = "name"
    """Feature property holding a district's name, e.g. ``"nom_quartier"``."""
    coverage: CoverageSettings = Field(default_factory=CoverageSettings)
    """Coverage per district, computed when ``districts_geojson`` is set."""
    exporters: Exporters = Field(default_factory=_default_exporters)
    """Outputs; without this section, Prometheus on ``0.0.0.0:9877``."""
    state_dir: Path = Path("/var/lib/wifimon")
    """Folder where known APs and last-seen times survive restarts."""
    log: LogSettings = Field(default_factory=LogSettings)
    """The daemon's own log."""
    shard: ShardSpec | None = None
    """This daemon's part of a fleet split between several daemons, ``"2/4"``
    (or ``{index: 2, count: 4}``): it polls only the targets rendezvous
    hashing gives to shard 2 of 4; ``wifimon run --shard`` overrides it."""

    _source_path: Path | None = PrivateAttr(default=None)
    _districts: DistrictMap | None = PrivateAttr(default=None)

    @property
    def source_path(self) -> Path | None:
        """The file this config was loaded from, e.g. ``Path("/etc/wifimon/city.yaml")``."""
        return self._source_path

    @property
    def districts(self) -> DistrictMap | None:
        """The polygons of ``districts_geojson``, read and checked at load; None without it."""
        return self._districts

    def snmp_credentials(self, name: str) -> SnmpCredentials:
        """The named credential as the transport wants it; ``KeyError`` if unknown."""
        credential = self.credentials[name]
        return SnmpCredentials(
            version=credential.version,
            community=_reveal(credential.community),
            user=credential.user or "",
            auth_protocol=credential.auth_protocol,
            auth_password=_reveal(credential.auth_password),
            priv_protocol=credential.priv_protocol,
            priv_password=_reveal(credential.priv_password),
            context=credential.context,
        )

    def snmp_target(self, entry: Controller | AccessPoint) -> SnmpTarget:
        """Where and how to poll a controller or a directly polled AP."""
        if entry.host is None or entry.credentials is None:
            raise ValueError("this access point is not polled directly (it has no host)")
        return SnmpTarget(
            name=entry.name if isinstance(entry, Controller) else entry.ap,
            host=entry.host,
            port=entry.port,
            credentials=self.snmp_credentials(entry.credentials),
            timeout=self.poll.timeout if entry.timeout is None else entry.timeout,
            retries=self.poll.retries if entry.retries is None else entry.retries,
            max_repetitions=self.poll.max_repetitions,
        )

    def exporter_settings(self) -> dict[str, dict[str, Any]]:
        """Each enabled exporter's section as a plain mapping, e.g.
        ``{"prometheus": {"listen": "0.0.0.0:9877"}}``; secrets stay ``Secret``."""
        sections = self.exporters.model_dump(exclude_none=True)
        web_config = sections.get("prometheus", {}).get("web_config_file")
        if web_config is not None and self.source_path is not None:
            # relative to the config file, like every other path in it
            base = self.source_path.parent.absolute()
            sections["prometheus"]["web_config_file"] = base / web_config
        return {name: dict(section) for name, section in sections.items()}


def _reveal(secret: Secret | None) -> str:
    return "" if secret is None else secret.reveal()
