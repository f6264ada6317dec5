"""One write request through the official influxdb-client (v2 write API).

``InfluxWriter.write`` posts a body of line protocol to ``/api/v2/write``
with precision ``s`` and turns whatever happens into a ``WriteOutcome`` of a
closed set of kinds (the ``kind`` label of
``wifimon_influxdb_write_errors_total``). The client's own retries are off:
retrying, backing off and spooling are the exporter's decisions.
``describe`` says what a failure means to an operator, never with the token.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol, cast
from urllib.parse import urlsplit, urlunsplit

import urllib3
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from influxdb_client.rest import ApiException

log = logging.getLogger("wifimon.exporters.influxdb")

# Kinds that no retry will fix until someone changes the config or the server.
PERMANENT_KINDS = frozenset({"auth", "not_found", "rejected"})
# Answers about the batch itself (400 malformed line protocol, 422 a field type
# conflict): it will never be accepted, so it is parked and the next one sent.
UNACCEPTABLE_STATUSES = frozenset({400, 422})
MAX_DETAIL_CHARS = 200
# The generated client declares its enum values as plain strings.
SECONDS = cast(WritePrecision, WritePrecision.S)


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """``kind`` None means accepted; ``retry_after`` is the server's hint, seconds."""

    kind: str | None = None
    status: int = 0
    detail: str = ""
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.kind is None

    @property
    def permanent(self) -> bool:
        return self.kind in PERMANENT_KINDS

    @property
    def unacceptable(self) -> bool:
        """The server refuses this batch for good; later batches may well pass."""
        return self.kind == "rejected" and self.status in UNACCEPTABLE_STATUSES


class Sender(Protocol):
    """What the exporter needs of a writer (``InfluxWriter``, or a test's)."""

    def write(self, body: bytes) -> WriteOutcome: ...

    def describe(self, outcome: WriteOutcome) -> str: ...

    def close(self) -> None: ...


def kind_of_status(status: int) -> str:
    """The error kind of an HTTP status, e.g. ``auth`` for 401."""
    if status in (401, 403):
        return "auth"
    if status == 404:
        return "not_found"
    if status == 429:
        return "throttled"
    if 400 <= status < 500:
        return "rejected"  # 400 malformed, 413 too large, 422 type conflict...
    if status >= 500:
        return "server_error"
    return "other"


def safe_url(url: str) -> str:
    """``url`` without user:password or query, fit for a log line."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _retry_after(error: ApiException) -> float | None:
    try:
        return float(error.retry_after) if error.retry_after else None
    except (TypeError, ValueError):
        return None  # an HTTP date: the exporter's own backoff is good enough


def _clip(text: object) -> str:
    return " ".join(str(text).split())[:MAX_DETAIL_CHARS]


class InfluxWriter:
    """Sends bodies to ``bucket`` of ``org`` at ``url``; one request at a time."""

    def __init__(
        self, url: str, org: str, bucket: str, *, token: str, timeout: float, gzip: bool
    ) -> None:
        self.url, self.org, self.bucket, self.timeout = url, org, bucket, timeout
        self._client = InfluxDBClient(
            url=url,
            token=token,  # empty: no Authorization header at all
            org=org,
            timeout=int(timeout * 1000),
            enable_gzip=gzip,
            retries=False,
        )
        self._api = self._client.write_api(write_options=SYNCHRONOUS)

    def write(self, body: bytes) -> WriteOutcome:
        try:
            self._api.write(bucket=self.bucket, org=self.org, record=body, write_precision=SECONDS)
        except ApiException as error:
            if not error.status:  # TLS failures and the like: no HTTP answer at all
                return WriteOutcome("unreachable", 0, _clip(error.reason))
            detail = _clip(getattr(error, "message", "") or error.reason)
            return WriteOutcome(
                kind_of_status(error.status), error.status, detail, _retry_after(error)
            )
        except urllib3.exceptions.NewConnectionError as error:
            # Checked first: urllib3 derives it from ConnectTimeoutError.
            return WriteOutcome("unreachable", 0, _clip(error.__context__ or "refused"))
        except urllib3.exceptions.TimeoutError as error:
            return WriteOutcome("timeout", 0, _clip(type(error).__name__))
        except (urllib3.exceptions.HTTPError, OSError) as error:
            return WriteOutcome("unreachable", 0, _clip(type(error).__name__))
        except Exception as error:  # the client's own bug must not end the writer
            log.debug("unexpected error from influxdb-client", exc_info=True)
            return WriteOutcome("other", 0, _clip(type(error).__name__))
        return WriteOutcome()

    def describe(self, outcome: WriteOutcome) -> str:
        """E.g. ``InfluxDB at http://db:8086 refuses the token (HTTP 401: unauthorized)``."""
        where = f"InfluxDB at {safe_url(self.url)}"
        status = f"HTTP {outcome.status}: {outcome.detail}" if outcome.status else outcome.detail
        reasons = {
            "auth": f"{where} refuses the token ({status}); check exporters.influxdb.token",
            "not_found": f"{where} has no bucket {self.bucket!r} in org {self.org!r} ({status})",
            "rejected": f"{where} rejects the data ({status})",
            "throttled": f"{where} asks to slow down ({status})",
            "server_error": f"{where} fails ({status})",
            "timeout": f"{where} did not answer within {self.timeout:g} s",
            "unreachable": f"cannot reach {where} ({status})",
        }
        return reasons.get(outcome.kind or "", f"{where}: write failed ({status})")

    def close(self) -> None:
        self._client.close()  # type: ignore[no-untyped-call]  # the client is not fully typed
