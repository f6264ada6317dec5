"""``${NAME}`` environment substitution in YAML string values.

Substitution happens after parsing, on values only (never keys), so a value
containing ``: `` or ``#`` cannot change the document's structure. ``$${``
writes a literal ``${``. Substituted values are not scanned again, and the
paths that received one are remembered so that error messages never echo
them: they usually are secrets.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from wifimon.config.errors import ConfigIssue
from wifimon.config.location import KeyPath
from wifimon.config.yamlsource import YamlDocument

# "$${" (escape), "${...}" (reference) or a lone "${" without its "}".
_REFERENCE = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True, slots=True)
class Interpolated:
    """The document's data after substitution, e.g. ``{"poll": {...}}``."""

    data: object
    substituted: frozenset[KeyPath]
    issues: list[ConfigIssue]


def substitute_env(document: YamlDocument, environ: Mapping[str, str]) -> Interpolated:
    walker = _Walker(document, environ)
    data = walker.walk(document.data, ())
    return Interpolated(data, frozenset(walker.substituted), walker.issues)


class _Walker:
    def __init__(self, document: YamlDocument, environ: Mapping[str, str]) -> None:
        self.document = document
        self.environ = environ
        self.substituted: set[KeyPath] = set()
        self.issues: list[ConfigIssue] = []

    def walk(self, value: object, path: KeyPath) -> object:
        if isinstance(value, dict):
            return {key: self.walk(item, (*path, key)) for key, item in value.items()}
        if isinstance(value, list):
            return [self.walk(item, (*path, index)) for index, item in enumerate(value)]
        if isinstance(value, str) and "${" in value:
            return self._substitute(value, path)
        return value

    def _substitute(self, text: str, path: KeyPath) -> str:
        problems: list[str] = []
        used_env = False

        def replace(match: re.Match[str]) -> str:
            nonlocal used_env
            if match.group(0) == "$${":
                return "${"
            name = match.group(1)
            problem = self._check_reference(name)
            if problem:
                problems.append(problem)
                return match.group(0)
            used_env = True
            return self.environ[name]

        result = _REFERENCE.sub(replace, text)
        origin = self.document.origin()
        self.issues += [origin.issue(problem, *path) for problem in problems]
        if used_env:
            self.substituted.add(path)
        # On any problem the text stays as written, so no second error (say,
        # "must not be empty") piles up on the same value.
        return text if problems else result

    def _check_reference(self, name: str | None) -> str | None:
        if name is None:
            return "unterminated ${ (write $${ for a literal ${)"
        if not _NAME.match(name):
            # The text between the braces is not echoed: it may be part of a
            # literal password that happens to contain "${".
            return "invalid environment variable name in ${...} (write $${ for a literal ${)"
        if name not in self.environ:
            return f"environment variable {name} is not set"
        return None
