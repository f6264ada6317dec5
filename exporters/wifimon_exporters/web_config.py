"""The web config file of ``/metrics``: Prometheus exporter-toolkit's format.

The same YAML that node_exporter or snmp_exporter take with
``--web.config.file`` (docs/web-configuration.md of prometheus/exporter-toolkit)::

    tls_server_config:
      cert_file: wifimon.crt          # relative to this file
      key_file: wifimon.key
      client_auth_type: RequireAndVerifyClientCert
      client_ca_file: scrapers-ca.crt
      min_version: TLS12
    basic_auth_users:
      prometheus: $2b$12$...          # bcrypt hash (htpasswd -nBC 12 prometheus)
    http_server_config:
      headers: {Strict-Transport-Security: max-age=31536000}

Every key is checked at load like wifimon's own config: an unknown key, a
toolkit setting wifimon cannot honour (HTTP/2, ``RequestClientCert``, curve
preferences...), a bad hash, or a certificate and key that do not load are
errors naming the file, line and key, never silently ignored. Loading also
builds the ``ssl.SSLContext``, so whatever OpenSSL refuses is found then.
"""

from __future__ import annotations

import logging
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from wifimon.config.errors import ConfigError, ConfigIssue
from wifimon.config.location import Origin
from wifimon.config.validation import validate
from wifimon.config.yamlsource import read_yaml
from wifimon_exporters.basic_auth import BasicAuth

log = logging.getLogger("wifimon.exporters.prometheus")

_BCRYPT_HASH = re.compile(r"\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}\Z")
_UNSUPPORTED = "is an exporter-toolkit setting that wifimon does not support"
TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
# Go's names (what the toolkit takes) -> OpenSSL's. Go applies them to TLS 1.2
# and below only; TLS 1.3 suites are not configurable there, nor here.
CIPHER_SUITES = {
    "TLS_RSA_WITH_AES_128_CBC_SHA": "AES128-SHA",
    "TLS_RSA_WITH_AES_256_CBC_SHA": "AES256-SHA",
    "TLS_RSA_WITH_AES_128_GCM_SHA256": "AES128-GCM-SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384": "AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305": "ECDHE-RSA-CHACHA20-POLY1305",
}
# The headers the toolkit lets a web config set, with the values it accepts.
ALLOWED_HEADERS: dict[str, frozenset[str] | None] = {
    "Strict-Transport-Security": None,
    "Content-Security-Policy": None,
    "X-Content-Type-Options": frozenset({"nosniff"}),
    "X-Frame-Options": frozenset({"deny", "sameorigin"}),
    "X-XSS-Protection": None,
}
ClientAuthType = Literal[
    "NoClientCert",
    "RequestClientCert",
    "RequireAnyClientCert",
    "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert",
]
# Python's ssl module cannot ask for a client certificate without verifying it.
_VERIFY_MODES = {
    "NoClientCert": ssl.CERT_NONE,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}


def _unsupported(value: object) -> object:
    raise ValueError(_UNSUPPORTED)


def _bcrypt_hash(value: str) -> str:
    if not _BCRYPT_HASH.match(value):
        raise ValueError(
            "must be a bcrypt hash such as $2b$12$ followed by 53 characters "
            "(make one with: htpasswd -nBC 12 USER)"
        )
    return value


# Inline PEM (a private key!) must never be echoed in an error message.
_INLINE_PEM = frozenset(("tls_server_config", key) for key in ("cert", "key", "client_ca"))
Unsupported = Annotated[object, AfterValidator(_unsupported)]
TlsVersion = Literal["TLS10", "TLS11", "TLS12", "TLS13"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class TlsServerConfig(_Strict):
    """``tls_server_config``: serve https with this certificate."""

    cert_file: Path
    """PEM certificate (chain) of this server, e.g. ``wifimon.crt``."""
    key_file: Path
    """PEM private key of ``cert_file``, e.g. ``wifimon.key``."""
    client_auth_type: ClientAuthType = "NoClientCert"
    """``NoClientCert``, ``VerifyClientCertIfGiven`` or ``RequireAndVerifyClientCert`` (mTLS)."""
    client_ca_file: Path | None = None
    """PEM CA certificates that sign the scrapers' client certificates."""
    client_allowed_sans: list[str] | None = None
    """Only clients whose certificate has one of these SANs (DNS, IP, email, URI)."""
    min_version: TlsVersion = "TLS12"
    """Oldest TLS version accepted, e.g. ``TLS12``."""
    max_version: TlsVersion = "TLS13"
    """Newest TLS version offered, e.g. ``TLS13``."""
    cipher_suites: list[str] | None = None
    """TLS 1.2 suites by Go/IANA name, e.g. ``TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256``."""
    prefer_server_cipher_suites: bool = True
    """Choose the suite by the server's order rather than the client's."""
    cert: Unsupported = None
    key: Unsupported = None
    client_ca: Unsupported = None
    curve_preferences: Unsupported = None


class HttpServerConfig(_Strict):
    """``http_server_config``: extra response headers."""

    http2: bool = False
    """Must be false or absent: wifimon serves HTTP/1.1 only."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Headers added to every response, e.g. ``{X-Frame-Options: deny}``."""


class WebConfigModel(_Strict):
    """The whole file; every section is optional."""

    tls_server_config: TlsServerConfig | None = None
    http_server_config: HttpServerConfig = Field(default_factory=HttpServerConfig)
    basic_auth_users: dict[str, Annotated[str, AfterValidator(_bcrypt_hash)]] = Field(
        default_factory=dict
    )
    rate_limit: Unsupported = None


@dataclass(frozen=True)
class WebConfig:
    """A loaded web config: ``tls`` is None for plain http, ``auth`` None without users."""

    path: Path | None = None
    tls: ssl.SSLContext | None = None
    client_allowed_sans: frozenset[str] | None = None
    auth: BasicAuth | None = None
    headers: dict[str, str] = field(default_factory=dict)
    files: tuple[Path, ...] = ()  # every file it was built from, to notice changes

    def describe(self) -> str:
        """E.g. ``"TLS with client certificates, basic auth (1 user)"``."""
        parts = ["plain http, no TLS" if self.tls is None else "TLS"]
        if self.tls is not None and self.tls.verify_mode == ssl.CERT_REQUIRED:
            parts[0] += " with client certificates"
        parts.append("no authentication" if self.auth is None else "basic auth")
        return ", ".join(parts)


PLAIN = WebConfig()


def load_web_config(path: Path) -> WebConfig:
    """Read and check ``path``; raise ``ConfigError`` listing every problem."""
    document = read_yaml(path, str(path))
    data = {} if document.data is None else document.data
    origin = document.origin()
    if not isinstance(data, dict):
        raise ConfigError([origin.issue("the web config must be a mapping of settings")])
    # Hashes are not passwords, but they are not echoed in errors either.
    users = data.get("basic_auth_users")
    names = users if isinstance(users, dict) else {}
    hidden = frozenset(("basic_auth_users", name) for name in names) | _INLINE_PEM
    model, issues = validate(WebConfigModel, data, origin, hidden)
    issues += _check_headers(model, origin) if model else []
    if model is None or issues:
        raise ConfigError(issues)
    return _build(model, path, origin)


def _check_headers(model: WebConfigModel, origin: Origin) -> list[ConfigIssue]:
    issues = []
    where = ("http_server_config",)
    if model.http_server_config.http2:
        issues.append(
            origin.issue("wifimon serves HTTP/1.1 only; set it to false", *where, "http2")
        )
    for name, value in model.http_server_config.headers.items():
        allowed = {header.lower(): header for header in ALLOWED_HEADERS}
        canonical = allowed.get(name.lower())
        if canonical is None:
            message = f"header '{name}' cannot be set; allowed: {', '.join(ALLOWED_HEADERS)}"
            issues.append(origin.issue(message, *where, "headers", name))
            continue
        values = ALLOWED_HEADERS[canonical]
        if values is not None and value.lower() not in values:
            message = f"must be one of {', '.join(sorted(values))}"
            issues.append(origin.issue(message, *where, "headers", name))
    return issues


def _build(model: WebConfigModel, path: Path, origin: Origin) -> WebConfig:
    base = path.parent.absolute()
    files = [path]
    context = None
    sans = None
    tls = model.tls_server_config
    if tls is not None:
        context, used = _ssl_context(tls, base, origin.child("tls_server_config"))
        files += used
        sans = frozenset(tls.client_allowed_sans) if tls.client_allowed_sans else None
    users = {user: hashed.encode() for user, hashed in model.basic_auth_users.items()}
    headers = {
        next(h for h in ALLOWED_HEADERS if h.lower() == name.lower()): value
        for name, value in model.http_server_config.headers.items()
    }
    return WebConfig(
        path, context, sans, BasicAuth(users) if users else None, headers, tuple(files)
    )


def _ssl_context(
    tls: TlsServerConfig, base: Path, origin: Origin
) -> tuple[ssl.SSLContext, list[Path]]:
    issues = _check_tls_choices(tls, origin) + _check_files(tls, base, origin)
    if issues:
        raise ConfigError(issues)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = TLS_VERSIONS[tls.min_version]
    context.maximum_version = TLS_VERSIONS[tls.max_version]
    if tls.prefer_server_cipher_suites:
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    cert, key = base / tls.cert_file, base / tls.key_file
    _load(lambda: context.load_cert_chain(cert, key), origin, "cert_file", f"{cert} / {key}")
    used = [cert, key]
    if tls.client_ca_file is not None:
        ca = base / tls.client_ca_file
        _load(lambda: context.load_verify_locations(cafile=ca), origin, "client_ca_file", str(ca))
        used.append(ca)
    context.verify_mode = _VERIFY_MODES[tls.client_auth_type]
    if tls.cipher_suites:
        names = ":".join(CIPHER_SUITES[suite] for suite in tls.cipher_suites)
        _load(lambda: context.set_ciphers(names), origin, "cipher_suites", "the cipher suites")
    return context, used


def _check_tls_choices(tls: TlsServerConfig, origin: Origin) -> list[ConfigIssue]:
    issues = []
    if tls.client_auth_type not in _VERIFY_MODES:
        message = (
            f"{tls.client_auth_type} is not supported (a client certificate is always "
            "verified); use VerifyClientCertIfGiven or RequireAndVerifyClientCert"
        )
        issues.append(origin.issue(message, "client_auth_type"))
    needs_ca = tls.client_auth_type != "NoClientCert"
    if needs_ca and tls.client_ca_file is None and not issues:
        issues.append(
            origin.issue(f"client_auth_type {tls.client_auth_type} needs it", "client_ca_file")
        )
    if not needs_ca and tls.client_ca_file is not None:
        issues.append(origin.issue("is set but client_auth_type is NoClientCert", "client_ca_file"))
    if tls.client_allowed_sans and tls.client_auth_type != "RequireAndVerifyClientCert":
        message = "needs client_auth_type RequireAndVerifyClientCert"
        issues.append(origin.issue(message, "client_allowed_sans"))
    if TLS_VERSIONS[tls.min_version] > TLS_VERSIONS[tls.max_version]:
        issues.append(origin.issue(f"is newer than max_version {tls.max_version}", "min_version"))
    for index, suite in enumerate(tls.cipher_suites or []):
        if suite not in CIPHER_SUITES:
            message = f"unknown or insecure cipher suite '{suite}'"
            issues.append(origin.issue(message, "cipher_suites", index))
    return issues


def _check_files(tls: TlsServerConfig, base: Path, origin: Origin) -> list[ConfigIssue]:
    issues = []
    for key in ("cert_file", "key_file", "client_ca_file"):
        written = getattr(tls, key)
        if written is not None and not (base / written).is_file():
            issues.append(origin.issue(f"file {base / written} does not exist", key))
    return issues


def _load(action: Callable[[], object], origin: Origin, key: str, what: str) -> None:
    try:
        action()
    except FileNotFoundError:
        raise ConfigError([origin.issue(f"{what}: no such file", key)]) from None
    except (ssl.SSLError, OSError) as error:
        reason = getattr(error, "reason", None) or error.strerror or type(error).__name__
        raise ConfigError([origin.issue(f"{what}: cannot be used ({reason})", key)]) from None


# How often, at most, a request looks whether the web config or the files it
# names changed (a renewed certificate, a new password hash), seconds.
RELOAD_CHECK_SECONDS = 1.0

_Stamp = tuple[tuple[int, int, int] | None, ...]


def _stamp(files: tuple[Path, ...]) -> _Stamp:
    stamps: list[tuple[int, int, int] | None] = []
    for path in files:
        try:
            status = path.stat()
        except OSError:
            stamps.append(None)
        else:
            stamps.append((status.st_mtime_ns, status.st_size, status.st_ino))
    return tuple(stamps)


class WatchedWebConfig:
    """The web config of ``path`` (plain http when None), reloaded when it changes.

    Like the toolkit, a renewed certificate or an edited user list takes
    effect on the next connection, without a restart. A change that does not
    load is logged once and the previous config stays in force.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._config = PLAIN if path is None else load_web_config(path)
        self._stamp = _stamp(self._config.files)
        self._checked = time.monotonic()
        self._lock = threading.Lock()

    def current(self) -> WebConfig:
        if self.path is None or time.monotonic() - self._checked < RELOAD_CHECK_SECONDS:
            return self._config
        with self._lock:
            self._checked = time.monotonic()
            stamp = _stamp(self._config.files)
            if stamp != self._stamp:
                self._stamp = stamp
                self._reload(self.path)
            return self._config

    def _reload(self, path: Path) -> None:
        try:
            config = load_web_config(path)
        except ConfigError as error:
            log.error(
                "web config %s changed but cannot be used; keeping the previous one:\n%s",
                path,
                error,
            )
            return
        self._config = config
        self._stamp = _stamp(config.files)
        log.info("web config %s reloaded: %s", path, config.describe())
