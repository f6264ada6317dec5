"""What a config problem looks like: file, line, key path and message.

Every problem found while loading is collected and raised together as one
``ConfigError``, so an operator fixes a file in one pass instead of one error
per restart. Each issue prints as ``file:line: key.path: message``, e.g.
``city.yaml:12: controllers[0].port: must be between 1 and 65535, got 70000``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem.

    ``file`` is the path as shown to the user (e.g. ``"city.yaml"``), ``line``
    is 1-based (e.g. ``12``), ``path`` is the key path inside that file (e.g.
    ``"controllers[0].port"``; a CSV column name such as ``"mac"``; empty for
    problems of the whole file) and ``message`` never contains a secret.
    """

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        message = printable(self.message)
        if self.path:
            return f"{self.file}:{self.line}: {self.path}: {message}"
        return f"{self.file}:{self.line}: {message}"


def printable(text: str) -> str:
    """``text`` with control and other unprintable characters escaped (``\\x00``),
    so a NUL or an escape sequence from a config file never reaches a terminal."""
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


class ConfigError(Exception):
    """The config cannot be used; ``issues`` lists every problem found."""

    def __init__(self, issues: Iterable[ConfigIssue]) -> None:
        issues = list(issues)
        # Files keep the order in which they were met (the config file first,
        # then the inventory it names); issues run top to bottom inside each.
        file_rank = {file: rank for rank, file in enumerate(dict.fromkeys(i.file for i in issues))}
        self.issues: list[ConfigIssue] = sorted(
            issues, key=lambda issue: (file_rank[issue.file], issue.line, issue.path)
        )
        super().__init__("\n".join(str(issue) for issue in self.issues))


def suggest(word: str, choices: Iterable[str]) -> str:
    """A ``"; did you mean 'x'?"`` suffix when some choice is close to ``word``."""
    choices = sorted(choices)
    # Abbreviations ("lat", "lon") are too short for difflib's similarity.
    close = [choice for choice in choices if len(word) >= 3 and choice.startswith(word)]
    close = close or difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def list_choices(choices: Iterable[str], limit: int = 12) -> str:
    """``"a, b, c"``, cut after ``limit`` names so huge lists stay readable."""
    ordered = sorted(choices)
    shown = ", ".join(ordered[:limit])
    return shown + (f", ... ({len(ordered) - limit} more)" if len(ordered) > limit else "")
