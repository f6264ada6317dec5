"""Secrets: a type that never prints its value, and ``*_file`` resolution.

``Secret("public")`` prints as ``<secret>`` in ``str``, ``repr``, f-strings,
logs and JSON dumps; only ``reveal()`` returns the text, and only the SNMP and
exporter code that sends it over the wire should call it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic_core import core_schema

from wifimon.config.errors import ConfigIssue
from wifimon.config.location import Origin

REDACTED = "<secret>"
# A secret file is a password, not a document; refusing big files keeps a
# mistyped path (say, a log file) from being read into memory as a password.
MAX_SECRET_FILE_BYTES = 64 * 1024
FILE_SUFFIX = "_file"

M = TypeVar("M", bound=BaseModel)


class Secret:
    """A password or community string, e.g. ``Secret("public")``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return REDACTED

    def __repr__(self) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            _validate_secret,
            json_schema_input_schema=core_schema.str_schema(min_length=1),
            serialization=core_schema.plain_serializer_function_ser_schema(
                _serialise_secret, when_used="json"
            ),
        )


def _validate_secret(value: object) -> Secret:
    if isinstance(value, Secret):
        return value
    # Numbers are refused rather than converted: YAML reads 0123 as 83, which
    # would silently change a numeric community string.
    if not isinstance(value, str):
        raise ValueError("must be a string (quote it so YAML keeps it as written)")
    if not value:
        raise ValueError("must not be empty")
    return Secret(value)


def _serialise_secret(_value: Secret) -> str:
    return REDACTED


class SecretFileError(Exception):
    """A secret file cannot be used; the message never contains its content."""


def read_secret_file(path: Path) -> str:
    """The file's text without trailing line breaks, e.g. ``"s3cret-pass"``."""
    try:
        if path.stat().st_size > MAX_SECRET_FILE_BYTES:
            raise SecretFileError(f"secret file {path} is larger than 64 KiB")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SecretFileError(f"secret file {path} does not exist") from None
    except IsADirectoryError:
        raise SecretFileError(f"secret file {path} is a directory") from None
    except PermissionError:
        raise SecretFileError(f"cannot read secret file {path}: permission denied") from None
    except OSError as exc:
        raise SecretFileError(f"cannot read secret file {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError:
        raise SecretFileError(f"secret file {path} is not UTF-8 text") from None
    if not text:
        raise SecretFileError(f"secret file {path} is empty")
    return text


def resolve_secret_files(model: M, origin: Origin, base_dir: Path) -> tuple[M, list[ConfigIssue]]:
    """Fill every ``x`` from its ``x_file`` sibling, in nested models too.

    Relative file paths are relative to ``base_dir`` (the config file's
    folder) and are replaced by absolute ones so the dump shows what was read.
    """
    updates: dict[str, object] = {}
    issues: list[ConfigIssue] = []
    fields = type(model).model_fields
    for name in fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            updates[name], nested = resolve_secret_files(value, origin.child(name), base_dir)
            issues += nested
        elif name.endswith(FILE_SUFFIX) and name.removesuffix(FILE_SUFFIX) in fields:
            issues += _resolve_one(model, name, origin, base_dir, updates)
    return model.model_copy(update=updates), issues


def _resolve_one(
    model: BaseModel, file_key: str, origin: Origin, base_dir: Path, updates: dict[str, object]
) -> list[ConfigIssue]:
    secret_key = file_key.removesuffix(FILE_SUFFIX)
    file_path = getattr(model, file_key)
    if file_path is None:
        return []
    if getattr(model, secret_key) is not None:
        return [origin.issue(f"give either {secret_key} or {file_key}, not both", file_key)]
    path = file_path if file_path.is_absolute() else base_dir / file_path
    try:
        updates[secret_key] = Secret(read_secret_file(path))
    except SecretFileError as exc:
        return [origin.issue(str(exc), file_key)]
    updates[file_key] = path
    return []
