"""YAML loading that remembers the line of every key and list item.

PyYAML's ``safe_load`` forgets positions, so this builds plain Python data
from the composed node tree itself and records ``KeyPath -> line``. It also
rejects what ``safe_load`` silently accepts: duplicate keys (the last one
would win) and non-scalar keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from wifimon.config.errors import ConfigError, ConfigIssue
from wifimon.config.location import KeyPath, Origin, format_path

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """Parsed data plus ``lines``: the 1-based line of each key path."""

    file: str
    data: object
    lines: dict[KeyPath, int]

    def line_of(self, path: KeyPath) -> int:
        """The line of ``path`` or, for a key that is absent, of its parent."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                return line
        return 1

    def origin(self, *prefix: str | int) -> Origin:
        return Origin(self.file, prefix, self.line_of)


def read_yaml(path: Path, display: str) -> YamlDocument:
    """Read one YAML document; raise ``ConfigError`` for anything unreadable."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _fail(display, 1, f"cannot read config file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _fail(display, line, "config file is not UTF-8 text") from None
    return parse_yaml(text, display)


def parse_yaml(text: str, display: str) -> YamlDocument:
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as exc:
        raise ConfigError([_reader_issue(exc, text, display)]) from None
    try:
        root = loader.get_single_node()
        if root is None:
            raise _fail(display, 1, "config file is empty")
        builder = _Builder(loader, display)
        data = builder.build(root, ())
    except yaml.MarkedYAMLError as exc:
        raise ConfigError([_syntax_issue(exc, text, display)]) from None
    except yaml.reader.ReaderError as exc:
        raise ConfigError([_reader_issue(exc, text, display)]) from None
    finally:
        loader.dispose()
    if builder.issues:
        raise ConfigError(builder.issues)
    return YamlDocument(display, data, builder.lines)


def _fail(display: str, line: int, message: str) -> ConfigError:
    return ConfigError([ConfigIssue(display, line, "", message)])


def _reader_issue(exc: yaml.reader.ReaderError, text: str, display: str) -> ConfigIssue:
    # A character YAML forbids (NUL, most control characters): named by code
    # point and line, never quoted with its surroundings (a secret may be there).
    line = text[: exc.position].count("\n") + 1
    message = f"character #x{exc.character:04x} is not allowed in YAML; remove it"
    return ConfigIssue(display, line, "", message)


def _syntax_issue(exc: yaml.MarkedYAMLError, text: str, display: str) -> ConfigIssue:
    # Only PyYAML's problem description is used: its default rendering quotes
    # the offending source line, which may hold a password.
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 1
    message = f"YAML syntax error: {exc.problem or exc.context}"
    if exc.context and exc.problem:
        message += f" ({exc.context})"
    source_lines = text.splitlines()
    in_flow = "{" in (exc.problem or "") and 0 < line <= len(source_lines)
    if in_flow and "${" in source_lines[line - 1]:
        message += '; quote values with ${...} inside {...} or [...], e.g. "${NAME}"'
    return ConfigIssue(display, line, "", message)


@dataclass
class _Builder:
    loader: yaml.SafeLoader
    file: str
    lines: dict[KeyPath, int] = field(default_factory=dict)
    issues: list[ConfigIssue] = field(default_factory=list)
    # Nodes being built right now: a recursive alias (&a [*a]) would loop.
    active: set[int] = field(default_factory=set)

    def build(self, node: Node, path: KeyPath) -> object:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in self.active:
            self._report(node, "recursive YAML alias")
            return None
        self.active.add(id(node))
        try:
            return self._build_node(node, path)
        finally:
            self.active.discard(id(node))

    def _build_node(self, node: Node, path: KeyPath) -> object:
        if isinstance(node, MappingNode):
            return self._build_mapping(node, path)
        if isinstance(node, SequenceNode):
            self._check_tag(node, _SEQ_TAG)
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        return self._build_scalar(node)

    def _build_mapping(self, node: MappingNode, path: KeyPath) -> dict[str, object]:
        self._check_tag(node, _MAP_TAG)
        self.loader.flatten_mapping(node)  # applies "<<: *defaults" merge keys
        result: dict[str, object] = {}
        first_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self._report(key_node, "mapping keys must be plain strings")
                continue
            # The key as written: "on" stays "on" rather than becoming True.
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            if key in result:
                message = f"duplicate key '{key}' (first at line {first_lines[key]})"
                self._report(key_node, message, (*path, key))
                continue
            first_lines[key] = line
            self.lines[(*path, key)] = line
            result[key] = self.build(value_node, (*path, key))
        return result

    def _build_scalar(self, node: Node) -> object:
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            self._report(node, f"cannot read value: {exc.problem}")
            return None

    def _check_tag(self, node: Node, default_tag: str) -> None:
        if node.tag != default_tag:
            self._report(node, f"unsupported YAML tag {node.tag}")

    def _report(self, node: Node, message: str, path: KeyPath = ()) -> None:
        line = node.start_mark.line + 1
        self.issues.append(ConfigIssue(self.file, line, format_path(path), message))
