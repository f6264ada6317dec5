"""Where a value came from, so that any later check can point at it.

A ``KeyPath`` is a tuple of mapping keys and list indices, e.g.
``("controllers", 0, "port")``, printed as ``controllers[0].port``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from wifimon.config.errors import ConfigIssue

KeyPath = tuple[str | int, ...]
LineLookup = Callable[[KeyPath], int]

# Keys made of these characters print bare; anything else is quoted so that a
# credential named "a.b" cannot be mistaken for a nested key.
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")

T = TypeVar("T")


def format_path(path: KeyPath) -> str:
    """``("credentials", "city-v3", "user")`` -> ``"credentials.city-v3.user"``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _BARE_KEY.match(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text


@dataclass(frozen=True, slots=True)
class Origin:
    """An entry's file, its key path in that file and how to find line numbers.

    For YAML, ``prefix`` is e.g. ``("access_points", 3)``; for a CSV row it is
    empty and every column maps to the row's line.
    """

    file: str
    prefix: KeyPath
    line_of: LineLookup

    def issue(self, message: str, *sub_path: str | int) -> ConfigIssue:
        path = self.prefix + sub_path
        return ConfigIssue(self.file, self.line_of(path), format_path(path), message)

    def child(self, *sub_path: str | int) -> Origin:
        return Origin(self.file, self.prefix + sub_path, self.line_of)

    def describe(self) -> str:
        """``"aps.csv:3"``: how other messages refer to this entry."""
        return f"{self.file}:{self.line_of(self.prefix)}"


def fixed_line(line: int) -> LineLookup:
    """A lookup for sources where every key sits on one line (a CSV row)."""
    return lambda _path: line


@dataclass(frozen=True, slots=True)
class Located(Generic[T]):
    """A validated entry together with where it was written."""

    value: T
    origin: Origin
