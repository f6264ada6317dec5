"""Split one fleet between several daemons: ``--shard 2/4`` polls a quarter.

Each poll target (a controller by its name, a directly polled AP by its id)
belongs to exactly one of ``count`` shards, chosen by rendezvous
(highest-random-weight) hashing: every shard ``s`` gives the target the
weight ``blake2b(f"{s}:{target}")`` and the heaviest shard owns it. So

* every daemon decides alone, from the target name only, and all agree:
  no target is polled twice, none is missed;
* the weights do not depend on ``count``: going from N to N+1 shards moves
  only the targets the new shard now outweighs (about 1/(N+1) of them), and
  they all move to the new shard; nothing moves between the old ones.

blake2b, not ``hash()``: Python salts ``hash`` of strings per process, and
the split must be the same in every daemon and after every restart.

APs read from a controller's tables go with their controller (they are not
targets of their own), so a controller's whole AP table stays in one shard.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

MAX_SHARDS = 10_000
_SHARD_TEXT = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*\Z")
SHARD_HINT = 'must be "I/N" with 1 <= I <= N, e.g. "2/4" (the second of four shards)'


@dataclass(frozen=True, slots=True)
class Shard:
    """This daemon's part of the fleet: shard ``index`` (1-based, e.g. ``2``)
    of ``count`` (e.g. ``4``). ``Shard(1, 1)`` is the whole fleet."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_SHARDS or not 1 <= self.index <= self.count:
            raise ValueError(SHARD_HINT)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, target: str) -> bool:
        """Whether ``target`` (a controller name or AP id) is polled by this shard."""
        return self.count == 1 or owner(target, self.count) == self.index


WHOLE_FLEET = Shard(1, 1)


def parse_shard(text: str) -> Shard:
    """``"2/4"`` -> ``Shard(2, 4)``; ``ValueError`` for ``"0/4"``, ``"5/4"``, ``"a/b"``."""
    match = _SHARD_TEXT.match(text)
    if match is None:
        raise ValueError(SHARD_HINT)
    return Shard(int(match.group(1)), int(match.group(2)))


def weight(shard_index: int, target: str) -> int:
    """The rendezvous weight of ``target`` for shard ``shard_index``: 64 stable bits."""
    digest = hashlib.blake2b(f"{shard_index}:{target}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def owner(target: str, count: int) -> int:
    """The 1-based shard of ``count`` that owns ``target``, e.g. ``owner("wlc-1", 4) == 3``.

    Ties (two equal 64-bit weights) go to the lower index, so the answer is
    always unique.
    """
    best_index, best_weight = 1, -1
    for index in range(1, count + 1):
        candidate = weight(index, target)
        if candidate > best_weight:
            best_index, best_weight = index, candidate
    return best_index


def owned(items: Iterable[T], shard: Shard | None, name: Callable[[T], str]) -> list[T]:
    """The ``items`` whose ``name`` ``shard`` owns; all of them without a shard."""
    if shard is None or shard.count == 1:
        return list(items)
    return [item for item in items if shard.owns(name(item))]


def shard_from_config(value: object) -> Shard:
    """The config's ``shard:`` value, ``"2/4"`` or ``{index: 2, count: 4}``, as a ``Shard``."""
    if isinstance(value, Shard):
        return value
    if isinstance(value, str):
        return parse_shard(value)
    if isinstance(value, dict) and set(value) == {"index", "count"}:
        index, count = value["index"], value["count"]
        if all(isinstance(part, int) and not isinstance(part, bool) for part in (index, count)):
            return Shard(index, count)
    raise ValueError(f"{SHARD_HINT}, or {{index: 2, count: 4}}")
