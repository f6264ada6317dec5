"""Value types shared by the config schema and the inventory CSV.

Validators raise ``ValueError`` with a message that never contains the input:
the error translator appends ``, got ...`` only where echoing is safe.
"""

from __future__ import annotations

import ipaddress
import math
import re
import unicodedata
from collections.abc import Callable, Collection
from typing import Annotated, TypeVar

from pydantic import AfterValidator, BeforeValidator, StringConstraints

N = TypeVar("N", int, float)

_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+\Z")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?\Z")
_DURATION_HINT = "must be a duration such as 60s, 5m, 1h, 500ms, 1m30s or a number of seconds"

_MAC_FORMS = (
    re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}\Z"),
    re.compile(r"[0-9a-f]{2}(?:-[0-9a-f]{2}){5}\Z"),
    re.compile(r"[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}\Z"),
    re.compile(r"[0-9a-f]{12}\Z"),
)
# Control characters, line and paragraph separators (a no-break space is fine).
_CONTROL = frozenset({"Cc", "Zl", "Zp"})
# RFC 1123 labels; "_" is tolerated because internal DNS zones often use it.
_HOST_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\Z")


def parse_duration(value: object) -> float:
    """``"1m30s"`` -> ``90.0``; a bare number is seconds."""
    if isinstance(value, bool):
        raise ValueError(_DURATION_HINT)
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.match(value.strip())):
        seconds = float(value)
    elif isinstance(value, str) and _DURATION.match(value.strip()):
        parts = _DURATION_PART.findall(value.strip())
        seconds = sum(float(amount) * _DURATION_UNITS[unit] for amount, unit in parts)
    else:
        raise ValueError(_DURATION_HINT)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError("must be a duration of zero or more seconds")
    return seconds


def _positive(seconds: float) -> float:
    if seconds <= 0:
        raise ValueError("must be longer than 0s")
    return seconds


def between(low: float, high: float) -> AfterValidator:
    """A range check whose message names both ends: ``must be between 1 and 65535``."""

    def check(value: N) -> N:
        if not low <= value <= high:  # also rejects NaN
            raise ValueError(f"must be between {low:g} and {high:g}")
        return value

    return AfterValidator(check)


def normalise_mac(value: str) -> str:
    """``AA-BB-CC-DD-EE-FF``, ``aabb.ccdd.eeff`` or ``aabbccddeeff`` -> ``aa:bb:cc:dd:ee:ff``."""
    text = value.strip().lower()
    if not any(form.match(text) for form in _MAC_FORMS):
        raise ValueError(
            "must be a MAC address like aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, "
            "aabb.ccdd.eeff or aabbccddeeff"
        )
    digits = re.sub(r"[^0-9a-f]", "", text)
    return ":".join(digits[index : index + 2] for index in range(0, 12, 2))


def check_host(value: str) -> str:
    """An IPv4/IPv6 address or a DNS name, e.g. ``"10.1.0.2"``; never resolved here."""
    host = value.strip()
    try:
        ipaddress.ip_address(host)
    except ValueError:
        labels = host.removesuffix(".").split(".")
        if not host or len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels):
            raise ValueError("must be an IP address or a host name") from None
    return host


def check_printable(value: str) -> str:
    """Names become label values and log text: no NUL, tab, line break or
    other control character, e.g. ``"wlc-centre"`` but not ``"wlc\\x00"``."""
    if any(unicodedata.category(char) in _CONTROL for char in value):
        raise ValueError("must not contain control characters (NUL, tab, line breaks)")
    return value


def split_listen_address(value: str) -> tuple[str, int]:
    """``"0.0.0.0:9877"`` -> ``("0.0.0.0", 9877)``; ``"[::]:9877"`` and ``":9877"`` work too."""
    host, separator, port_text = value.strip().rpartition(":")
    if not separator or not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError("must be host:port with a port between 1 and 65535, e.g. 0.0.0.0:9877")
    host = host.removeprefix("[").removesuffix("]")
    if host:
        check_host(host)
    return host, int(port_text)


def _check_listen_address(value: str) -> str:
    split_listen_address(value)
    return value.strip()


def choice_normaliser(
    choices: Collection[str], aliases: dict[str, str] | None = None
) -> Callable[[object], object]:
    """Case-insensitive input for a Literal: ``"SHA-256"`` -> ``"sha256"``.

    Unknown input is passed through unchanged so the Literal's own error shows
    what the operator actually wrote.
    """
    table = {choice.replace("-", "").replace("_", ""): choice for choice in choices}
    table.update(aliases or {})

    def normalise(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, str | int):
            return value
        key = str(value).strip().lower().replace("-", "").replace("_", "")
        return table.get(key, value)

    return normalise


Duration = Annotated[float, BeforeValidator(parse_duration), AfterValidator(_positive)]
NonNegativeDuration = Annotated[float, BeforeValidator(parse_duration)]
Port = Annotated[int, between(1, 65535)]
Latitude = Annotated[float, between(-90, 90)]
Longitude = Annotated[float, between(-180, 180)]
Mac = Annotated[str, AfterValidator(normalise_mac)]
Host = Annotated[str, AfterValidator(check_host)]
ListenAddress = Annotated[str, AfterValidator(_check_listen_address)]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(check_printable)
]
