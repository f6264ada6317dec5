"""Structured log lines: one event, its target and facts, never a secret.

Call sites log a short event text plus ``extra={"target": ..., ...}``; the
formatter renders those fields as JSON or as ``key=value`` text. Nothing in
wifimon passes a community, key, token or client identifier in ``extra``.
"""

from __future__ import annotations

import json
import logging
import sys
import time

# Attributes every LogRecord has; anything else came in through ``extra``.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {key: value for key, value in vars(record).items() if key not in _STANDARD}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
            **_extras(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created))
        facts = " ".join(f"{key}={value}" for key, value in _extras(record).items())
        text = f"{stamp} {record.levelname.lower():7} {record.name}: {record.getMessage()}"
        text = f"{text} {facts}" if facts else text
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def configure_logging(level: str = "info", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # pysnmp and asyncio are chatty at debug level and may echo PDUs.
    for noisy in ("pysnmp", "pyasn1", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
