"""Rules that span fields or entries, run after each entry is validated.

Each check yields issues instead of raising, so every problem is reported in
one pass. A reference to an entry that exists but is itself invalid is not
reported again: its own issues already say what is wrong.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Set
from dataclasses import dataclass
from typing import TypeVar

from wifimon.config.errors import ConfigIssue, list_choices, suggest
from wifimon.config.location import Located, Origin
from wifimon.config.schema import AUTO_PROFILE, AccessPoint, Controller, Credential, PollSettings

T = TypeVar("T")

_V3_ONLY = ("user", "auth_protocol", "auth_password", "priv_protocol", "priv_password", "context")
_MIN_V3_PASSWORD = 8  # RFC 3414 section 11.2; agents reject shorter ones


@dataclass(frozen=True, slots=True)
class Entries:
    """Everything that validated, plus every name written (valid or not)."""

    poll: Located[PollSettings] | None
    credentials: list[Located[Credential]]
    declared_credentials: frozenset[str]
    controllers: list[Located[Controller]]
    declared_controllers: frozenset[str]
    access_points: list[Located[AccessPoint]]
    known_profiles: Set[str] | None


def check_all(entries: Entries) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    if entries.poll is not None:
        issues += check_poll(entries.poll.value, entries.poll.origin)
    for credential in entries.credentials:
        issues += check_credential(credential.value, credential.origin)
    issues += _check_unique(entries.controllers, lambda c: c.name, "name", "controller name")
    for controller in entries.controllers:
        issues += _check_controller(controller.value, controller.origin, entries)
    issues += _check_unique(entries.access_points, lambda ap: ap.ap, "ap", "access point id")
    issues += _check_unique(entries.access_points, lambda ap: ap.mac, "mac", "mac")
    for access_point in entries.access_points:
        issues += _check_access_point(access_point.value, access_point.origin, entries)
    return issues


def check_poll(poll: PollSettings, origin: Origin) -> Iterator[ConfigIssue]:
    if poll.jitter >= poll.interval:
        yield origin.issue(f"must be shorter than interval ({poll.interval:g}s)", "jitter")
    if poll.target_budget > poll.interval:
        yield origin.issue(
            f"must not exceed interval ({poll.interval:g}s), or polls would overlap",
            "target_budget",
        )
    if poll.timeout > poll.target_budget:
        yield origin.issue(
            f"must not exceed target_budget ({poll.target_budget:g}s; default 80% of interval)",
            "timeout",
        )


def check_credential(credential: Credential, origin: Origin) -> Iterator[ConfigIssue]:
    if credential.version == "3":
        yield from _check_v3(credential, origin)
        return
    if _written(credential, "community") is None:
        yield origin.issue(
            f"SNMP v{credential.version} needs community or community_file", "community"
        )
    for key in _V3_ONLY:
        written = _written(credential, key)
        if written:
            yield origin.issue(f"is only used with SNMP v3, not v{credential.version}", written)


def _check_v3(credential: Credential, origin: Origin) -> Iterator[ConfigIssue]:
    if not credential.user:
        yield origin.issue("SNMP v3 needs user", "user")
    written = _written(credential, "community")
    if written:
        yield origin.issue("is only used with SNMP v1 and v2c", written)
    yield from _check_security_pair(credential, origin, "auth")
    yield from _check_security_pair(credential, origin, "priv")
    if credential.priv_protocol and not credential.auth_protocol:
        yield origin.issue(
            "privacy (priv_protocol) requires authentication: set auth_protocol and "
            "auth_password too",
            "priv_protocol",
        )


def _check_security_pair(
    credential: Credential, origin: Origin, kind: str
) -> Iterator[ConfigIssue]:
    protocol = getattr(credential, f"{kind}_protocol")
    password = getattr(credential, f"{kind}_password")
    written = _written(credential, f"{kind}_password")
    if protocol and not written:
        yield origin.issue(
            f"{kind}_protocol {protocol} needs {kind}_password or {kind}_password_file",
            f"{kind}_password",
        )
    elif written and not protocol:
        yield origin.issue(f"is set but {kind}_protocol is not", written)
    elif password is not None and len(password.reveal()) < _MIN_V3_PASSWORD:
        yield origin.issue("must be at least 8 characters long (RFC 3414)", written or "")


def _written(credential: Credential, key: str) -> str | None:
    """Which key the operator wrote for ``key``: ``key_file``, ``key`` or none."""
    if getattr(credential, f"{key}_file", None) is not None:
        return f"{key}_file"
    return key if getattr(credential, key) not in (None, "") else None


def _check_controller(
    controller: Controller, origin: Origin, entries: Entries
) -> Iterator[ConfigIssue]:
    yield from _check_reference(
        "credentials", controller.credentials, entries.declared_credentials, origin
    )
    yield from _check_profile(controller.profile, entries.known_profiles, origin)
    yield from _check_timeout(controller.timeout, entries.poll, origin)


def _check_access_point(ap: AccessPoint, origin: Origin, entries: Entries) -> Iterator[ConfigIssue]:
    yield from _check_how_polled(ap, origin)
    if ap.controller is not None:
        yield from _check_reference(
            "controller", ap.controller, entries.declared_controllers, origin
        )
    if ap.credentials is not None:
        yield from _check_reference(
            "credentials", ap.credentials, entries.declared_credentials, origin
        )
    if (ap.latitude is None) != (ap.longitude is None):
        missing = "longitude" if ap.longitude is None else "latitude"
        yield origin.issue("latitude and longitude go together; one is missing", missing)
    yield from _check_profile(ap.profile, entries.known_profiles, origin)
    yield from _check_timeout(ap.timeout, entries.poll, origin)


def _check_how_polled(ap: AccessPoint, origin: Origin) -> Iterator[ConfigIssue]:
    if ap.host is None and ap.controller is None:
        yield origin.issue(
            "an access point needs host (polled directly) or controller (read from "
            "that controller's tables)",
            "host",
        )
    if ap.host is not None and ap.credentials is None and ap.controller is None:
        yield origin.issue(
            "an access point polled directly (host is set) needs credentials, "
            "or a controller to inherit them from",
            "credentials",
        )
    if ap.host is None and ap.controller is not None and ap.mac is None and ap.name is None:
        yield origin.issue(
            f"needs mac or name so that controller {ap.controller} can find it in its tables",
            "mac",
        )


def _check_reference(
    key: str, name: str, declared: frozenset[str], origin: Origin
) -> Iterator[ConfigIssue]:
    if name in declared:
        return
    kind = "credentials" if key == "credentials" else f"{key}s"
    hint = suggest(name, declared) or (
        f"; defined {kind}: {list_choices(declared)}" if declared else f"; no {kind} are defined"
    )
    yield origin.issue(f"unknown {key} '{name}'{hint}", key)


def _check_profile(
    profile: str, known_profiles: Set[str] | None, origin: Origin
) -> Iterator[ConfigIssue]:
    if known_profiles is None or profile == AUTO_PROFILE or profile in known_profiles:
        return
    hint = suggest(profile, known_profiles) or (
        f"; known profiles: {AUTO_PROFILE}, {list_choices(known_profiles)}"
    )
    yield origin.issue(f"unknown profile '{profile}'{hint}", "profile")


def _check_timeout(
    timeout: float | None, poll: Located[PollSettings] | None, origin: Origin
) -> Iterator[ConfigIssue]:
    if timeout is not None and poll is not None and timeout > poll.value.target_budget:
        yield origin.issue(
            f"must not exceed poll.target_budget ({poll.value.target_budget:g}s)", "timeout"
        )


def _check_unique(
    items: Iterable[Located[T]], key: Callable[[T], str | None], field: str, what: str
) -> Iterator[ConfigIssue]:
    first: dict[str, Origin] = {}
    for item in items:
        value = key(item.value)
        if value is None:
            continue
        if value in first:
            where = first[value].describe()
            yield item.origin.issue(f"duplicate {what} '{value}', first defined at {where}", field)
        else:
            first[value] = item.origin
