"""wifimon configuration: strict YAML schema, inventory CSV and secrets.

Use ``load_config(path, known_profiles)`` to get a checked ``Config`` or a
``ConfigError`` whose ``issues`` list every problem as
``file:line: key.path: message``; ``dump_config`` prints the effective config
with secrets shown as ``<secret>``.
"""

from wifimon.config.errors import ConfigError, ConfigIssue
from wifimon.config.inventory import CSV_COLUMNS
from wifimon.config.loader import dump_config, load_config
from wifimon.config.schema import (
    AccessPoint,
    Config,
    Controller,
    Credential,
    Exporters,
    InfluxDbExporter,
    LogSettings,
    PollSettings,
    PrometheusExporter,
    StdoutExporter,
)
from wifimon.config.secret import Secret
from wifimon.config.valuetypes import parse_duration, split_listen_address

__all__ = [
    "CSV_COLUMNS",
    "AccessPoint",
    "Config",
    "ConfigError",
    "ConfigIssue",
    "Controller",
    "Credential",
    "Exporters",
    "InfluxDbExporter",
    "LogSettings",
    "PollSettings",
    "PrometheusExporter",
    "Secret",
    "StdoutExporter",
    "dump_config",
    "load_config",
    "parse_duration",
    "split_listen_address",
]
