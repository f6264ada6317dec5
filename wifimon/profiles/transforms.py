"""The closed set of value transforms a profile may name.

Each returns ``None`` for input it cannot convert, which the evaluator
counts as a missing value instead of exporting something invented.
"""

from __future__ import annotations

from collections.abc import Callable

Plain = int | float | str | bytes

MAC_LENGTH = 6
IPV4_LENGTH = 4


def to_text(value: Plain) -> str | None:
    if isinstance(value, bytes):
        # DisplayStrings are ASCII in practice; never fail a poll on a bad byte.
        return value.decode("utf-8", errors="replace").replace("\x00", "").strip()
    return str(value)


def to_mac(value: Plain) -> str | None:
    if isinstance(value, bytes) and len(value) == MAC_LENGTH:
        return value.hex(":")  # "aa:bb:cc:dd:ee:ff", lower case, in C
    return None


def to_ip(value: Plain) -> str | None:
    if isinstance(value, bytes) and len(value) == IPV4_LENGTH:
        return ".".join(map(str, value))
    return None


def to_hex(value: Plain) -> str | None:
    return value.hex() if isinstance(value, bytes) else None


def band_from_channel(value: Plain) -> str | None:
    """2.4 GHz channels are 1-14; 5 GHz channels are even from 32 to 144
    (centre channels of wide modes included) and 149-177. 6 GHz channels
    (1, 5, 9, ... 233) overlap both, so a bare channel number never says
    6GHz; one that fits no 2.4/5 GHz channel (e.g. 53) is "unknown"."""
    if not isinstance(value, int):
        return None
    if 1 <= value <= 14:
        return "2.4GHz"
    if (32 <= value <= 144 and value % 2 == 0) or 149 <= value <= 177:
        return "5GHz"
    return "unknown"


def band_from_frequency(value: Plain) -> str | None:
    """Centre frequency in MHz, e.g. 2412 -> 2.4GHz, 5180 -> 5GHz."""
    if not isinstance(value, (int, float)):
        return None
    if 2400 <= value < 2500:
        return "2.4GHz"
    if 5150 <= value < 5925:
        return "5GHz"
    if 5925 <= value <= 7125:
        return "6GHz"
    return "unknown"


def channel_from_frequency(value: Plain) -> int | None:
    """IEEE channel number of a centre frequency in MHz (802.11-2020 Annex E):
    2412 -> 1, 2484 -> 14, 5180 -> 36, 5955 -> 1 (6 GHz)."""
    if not isinstance(value, (int, float)):
        return None
    mhz = int(value)
    if mhz == 2484:
        return 14
    if 2412 <= mhz <= 2472:
        return (mhz - 2407) // 5
    if 5000 <= mhz < 5925:
        return (mhz - 5000) // 5
    if 5955 <= mhz <= 7115:
        return (mhz - 5950) // 5
    return None


def leading_int(value: Plain) -> int | None:
    """The number a text starts with: Aruba Instant writes channels as
    "116E" or "53S" (width suffix). An integer passes through."""
    if isinstance(value, int):
        return value
    text = to_text(value) if isinstance(value, bytes) else str(value)
    digits = ""
    for character in (text or "").strip():
        if not character.isdigit():
            break
        digits += character
    return int(digits) if digits else None


TRANSFORMS: dict[str, Callable[[Plain], Plain | None]] = {
    "string": to_text,
    "mac": to_mac,
    "ip": to_ip,
    "hex": to_hex,
    "band_from_channel": band_from_channel,
    "band_from_frequency": band_from_frequency,
    "channel_from_frequency": channel_from_frequency,
    "leading_int": leading_int,
}


def apply_transform(name: str, value: Plain) -> Plain | None:
    return TRANSFORMS[name](value)
