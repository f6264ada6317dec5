"""Loading, checking and choosing vendor profiles.

Profiles are checked as strictly as user config: the schema (``schema.py``)
rejects unknown keys and bad types; ``check_profile`` then proves every
reference resolves (tables, columns, index components, catalogue fields),
so a profile error shows at load, never as a silent gap during a poll.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from wifimon.catalogue import CATALOGUE, Entity, Kind
from wifimon.profiles.schema import TEXT_FIELDS, EntitySpec, Profile, ValueSpec
from wifimon.snmp.types import Oid

# Fields a profile may set per entity: the catalogue quantities plus the
# descriptive attributes of wifimon_ap_info.
AP_INFO_FIELDS = TEXT_FIELDS
DAEMON_OWNED = frozenset({"up", "last_seen_timestamp_seconds", "info"})
SYSTEM_SCALARS: dict[str, Oid] = {
    "descr": (1, 3, 6, 1, 2, 1, 1, 1, 0),
    "object_id": (1, 3, 6, 1, 2, 1, 1, 2, 0),
    "uptime": (1, 3, 6, 1, 2, 1, 1, 3, 0),
    "name": (1, 3, 6, 1, 2, 1, 1, 5, 0),
    "location": (1, 3, 6, 1, 2, 1, 1, 6, 0),
}


def _quantities(entity: Entity) -> frozenset[str]:
    return (
        frozenset(m.field for m in CATALOGUE if m.entity is entity and m.kind is not Kind.INFO)
        - DAEMON_OWNED
    )


ALLOWED_FIELDS = {
    "ap": _quantities(Entity.AP) | AP_INFO_FIELDS,
    "radio": _quantities(Entity.RADIO),
    "ssid": _quantities(Entity.SSID),
}


class ProfileError(Exception):
    """A profile is invalid; ``problems`` lists every problem found.

    Each problem reads ``key.path: message``; ``lines`` gives its 1-based
    line in ``source`` (0 when unknown), so each prints as
    ``generic.yaml:12: ap.fields.colour: not a catalogue field; ...``.
    """

    def __init__(self, source: str, problems: list[str], lines: list[int] | None = None) -> None:
        self.source = source
        self.problems = problems
        self.lines = lines if lines is not None else [0] * len(problems)
        located = (
            f"{source}:{line}: {problem}" if line else f"{source}: {problem}"
            for problem, line in zip(problems, self.lines, strict=True)
        )
        super().__init__("\n".join(located))


class _Checker:
    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.problems: list[str] = []

    def entity(self, path: str, spec: EntitySpec, extra: dict[str, ValueSpec | None]) -> None:
        index_names: tuple[str, ...] = ()
        for table_name in spec.from_:
            table = self.profile.tables.get(table_name)
            if table is None:
                self.problems.append(f"{path}.from: no table named {table_name!r}")
                continue
            names = tuple(table.index)
            if index_names and names != index_names:
                self.problems.append(f"{path}.from: tables must share one index layout")
            index_names = names
        known = set(index_names)
        for name, value_spec in spec.let.items():
            self.value(f"{path}.let.{name}", value_spec, known)
            known.add(name)
        allowed = ALLOWED_FIELDS[path]
        for name, value_spec in spec.fields.items():
            if name not in allowed:
                self.problems.append(
                    f"{path}.fields.{name}: not a catalogue field; one of {sorted(allowed)}"
                )
            self.value(f"{path}.fields.{name}", value_spec, known)
            known.add(name)
        # Identity and band are evaluated after let and fields, so they may use them.
        for key, extra_spec in extra.items():
            if extra_spec is not None:
                self.value(f"{path}.{key}", extra_spec, known)

    def value(self, path: str, spec: ValueSpec, known: set[str]) -> None:
        if spec.index is not None and spec.index not in known:
            self.problems.append(f"{path}.index: {spec.index!r} is not an index component here")
        for ref in [
            *(spec.at or []),
            *([spec.pick] if spec.pick else []),
            *([spec.field] if spec.field else []),
        ]:
            if ref not in known:
                self.problems.append(
                    f"{path}: {ref!r} is neither an index component nor an earlier field"
                )
        for option in spec.first or []:
            self.value(f"{path}.first", option, known)
        for reference in [*([spec.value] if spec.value else []), *(spec.choices or [])]:
            self.reference(path, reference, spec, known)

    def reference(self, path: str, reference: str, spec: ValueSpec, known: set[str]) -> None:
        source, column = reference.split(".", 1)
        if source == "system":
            if column not in SYSTEM_SCALARS:
                self.problems.append(
                    f"{path}: system has no {column!r}; one of {sorted(SYSTEM_SCALARS)}"
                )
            return
        if source == "scalars":
            if column not in self.profile.scalars:
                self.problems.append(f"{path}: no scalar named {column!r}")
            return
        table = self.profile.tables.get(source)
        if table is None:
            self.problems.append(f"{path}: no table named {source!r}")
            return
        if column not in table.columns:
            self.problems.append(f"{path}: table {source!r} has no column {column!r}")
        if spec.at is not None:
            width = len(spec.at)
        else:
            width = 0
            for name in table.index:
                if name not in known:
                    break
                width += 1
        if width > len(table.index):
            self.problems.append(
                f"{path}.at: table {source!r} has only {len(table.index)} index components"
            )
        elif width < len(table.index) and spec.aggregate is None:
            self.problems.append(
                f"{path}: several rows of {source!r} can match; say how to combine them (aggregate)"
            )


def check_profile(profile: Profile) -> list[str]:
    """Every reference problem of ``profile``, as ``key.path: message``."""
    checker = _Checker(profile)
    checker.entity("ap", profile.ap, {"mac": profile.ap.mac, "up": profile.ap.up})
    if profile.radio is not None:
        radio = profile.radio
        checker.entity("radio", radio, {"ap": radio.ap, "radio": radio.radio, "band": radio.band})
    if profile.ssid is not None:
        checker.entity("ssid", profile.ssid, {"ap": profile.ssid.ap, "ssid": profile.ssid.ssid})
    if profile.kind == "controller" and (profile.ap.mac is None or not profile.ap.from_):
        checker.problems.append("ap: a controller profile needs ap.from and ap.mac")
    return checker.problems


def _describe(error: ValidationError) -> list[str]:
    problems = []
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"])
        problems.append(f"{path}: {item['msg']}")
    return problems


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """The 1-based line of every key path (list items by index), from the node tree."""
    lines: dict[tuple[str, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[str, ...], depth: int) -> None:
        lines.setdefault(path, node.start_mark.line + 1)
        if depth > 50:  # deeper than any profile; also stops alias cycles
            return
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    lines[(*path, str(key.value))] = key.start_mark.line + 1
                    walk(value, (*path, str(key.value)), depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, (*path, str(index)), depth + 1)

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is not None:
        walk(root, (), 0)
    return lines


def _line_of(problem: str, lines: dict[tuple[str, ...], int]) -> int:
    """The line of the deepest key of ``problem``'s ``key.path: ...`` that exists."""
    parts = tuple(problem.split(": ", 1)[0].split("."))
    for end in range(len(parts), 0, -1):
        if parts[:end] in lines:
            return lines[parts[:end]]
    return lines.get((), 0)


def _fail(source: str, problems: list[str], text: str) -> ProfileError:
    lines = _key_lines(text)
    return ProfileError(source, problems, [_line_of(problem, lines) for problem in problems])


def parse_profile(text: str, source: str) -> Profile:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise ProfileError(source, [f"not valid YAML: {exc}"], [line]) from None
    except RecursionError:
        raise ProfileError(source, ["not valid YAML: nested too deeply"], [1]) from None
    try:
        profile = Profile.model_validate(data)
    except ValidationError as exc:
        raise _fail(source, _describe(exc), text) from None
    problems = check_profile(profile)
    if problems:
        raise _fail(source, problems, text)
    return profile


@dataclass(frozen=True, slots=True)
class _Claim:
    prefix: Oid
    descr: re.Pattern[str] | None
    profile: Profile

    @property
    def specificity(self) -> tuple[int, int]:
        return (len(self.prefix), 1 if self.descr is not None else 0)


class ProfileRegistry:
    """All loaded profiles, and the choice of one for an agent."""

    def __init__(self, profiles: Iterable[Profile]) -> None:
        self.profiles: dict[str, Profile] = {}
        self.sources: dict[str, str] = {}
        self._claims: list[_Claim] = []
        problems: list[str] = []
        for profile in profiles:
            if profile.name in self.profiles:
                problems.append(f"two profiles are named {profile.name!r}")
            self.profiles[profile.name] = profile
            problems.extend(self._claim(profile))
        if problems:
            raise ProfileError("profiles", problems)

    def _claim(self, profile: Profile) -> list[str]:
        if profile.match is None:
            return []
        descr = re.compile(profile.match.sys_descr) if profile.match.sys_descr else None
        problems = []
        for prefix in profile.match.sys_object_id:
            claim = _Claim(prefix, descr, profile)
            for other in self._claims:
                same_descr = (other.descr.pattern if other.descr else None) == (
                    descr.pattern if descr else None
                )
                if other.prefix == prefix and same_descr:
                    problems.append(
                        f"profiles {other.profile.name!r} and {profile.name!r} both claim "
                        f"sysObjectID {'.'.join(map(str, prefix))} with equal specificity"
                    )
            self._claims.append(claim)
        return problems

    def select(self, sys_object_id: Oid | None, sys_descr: str) -> Profile | None:
        """The most specific profile claiming this agent, else ``None``."""
        best: _Claim | None = None
        for claim in self._claims:
            if sys_object_id is None or sys_object_id[: len(claim.prefix)] != claim.prefix:
                continue
            if claim.descr is not None and not claim.descr.search(sys_descr):
                continue
            if best is None or claim.specificity > best.specificity:
                best = claim
        return best.profile if best is not None else None

    def get(self, name: str) -> Profile:
        return self.profiles[name]

    def source(self, name: str) -> str:
        """The profile's YAML as written (comments included)."""
        return self.sources.get(name, "")


def _load_file(text: str, source: str, stem: str) -> tuple[Profile, str]:
    profile = parse_profile(text, source)
    if profile.name != stem:
        # One name everywhere: the file, `profile:` in config, `profiles show`.
        raise ProfileError(source, [f"name: {profile.name!r} must match the file name {stem!r}"])
    return profile, text


def load_builtin_profiles() -> list[tuple[Profile, str]]:
    folder = resources.files("wifimon.profiles") / "data"
    return [
        _load_file(
            entry.read_text(encoding="utf-8"),
            f"wifimon/profiles/data/{entry.name}",
            entry.name.removesuffix(".yaml"),
        )
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yaml")
    ]


def load_profile_files(paths: Iterable[Path]) -> list[tuple[Profile, str]]:
    return [_load_file(path.read_text(encoding="utf-8"), str(path), path.stem) for path in paths]


def default_registry(extra: Iterable[Path] = ()) -> ProfileRegistry:
    loaded = [*load_builtin_profiles(), *load_profile_files(extra)]
    registry = ProfileRegistry(profile for profile, _ in loaded)
    registry.sources = {profile.name: text for profile, text in loaded}
    return registry
