"""HTTP basic auth against bcrypt hashes, as Prometheus' exporter-toolkit does it.

bcrypt is slow on purpose (~50-250 ms per check at cost 10-12), and a
scraper sends the same password every 15 s. A successful check is therefore
remembered under a SHA-256 digest of user, password and hash (never the
password itself), so a known good scrape costs one hash, not one bcrypt. A
check that has to run bcrypt holds no lock while it does: the ``bcrypt``
package releases the GIL, so one slow (or hostile) request never delays the
others, each on its own connection thread. Failures are not remembered, so
an attacker cannot fill the cache; it holds at most ``CACHE_SIZE`` entries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping

import bcrypt

CACHE_SIZE = 256
REALM = "wifimon"
# A valid bcrypt hash of a throw-away word: checked against for unknown user
# names, so that they take as long to refuse as a wrong password.
_DUMMY_HASH = b"$2b$10$urkBzPSwAiZAjKWmgTEgiuBVu8TnpMTO.2aVi0o6k.djb1Bc9uxZ2"


def parse_basic_authorization(header: str | None) -> tuple[str, str] | None:
    """``"Basic YWxpY2U6czNjcmV0"`` -> ``("alice", "s3cret")``; None if absent or malformed."""
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, separator, password = decoded.partition(":")
    return (user, password) if separator else None


class BasicAuth:
    """Users and their bcrypt hashes, e.g. ``BasicAuth({"prometheus": b"$2b$12$..."})``."""

    def __init__(self, users: Mapping[str, bytes]) -> None:
        self._users = dict(users)
        self._verified: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()
        self.bcrypt_checks = 0  # how often bcrypt really ran (the cache's effect, for tests)

    @property
    def challenge(self) -> str:
        """The ``WWW-Authenticate`` value sent with a 401."""
        return f'Basic realm="{REALM}", charset="UTF-8"'

    def allows(self, authorization: str | None) -> bool:
        """True when ``authorization`` (the request header) names a user and its password."""
        credentials = parse_basic_authorization(authorization)
        if credentials is None:
            return False
        user, password = credentials
        hashed = self._users.get(user)
        key = _cache_key(user, password, hashed or _DUMMY_HASH)
        with self._lock:
            if key in self._verified:
                self._verified.move_to_end(key)
                return True
        with self._lock:
            self.bcrypt_checks += 1
        matches = _bcrypt_matches(password, hashed or _DUMMY_HASH)  # no lock held: slow
        if not matches or hashed is None:
            return False
        with self._lock:
            self._verified[key] = None
            while len(self._verified) > CACHE_SIZE:
                self._verified.popitem(last=False)
        return True


def _cache_key(user: str, password: str, hashed: bytes) -> bytes:
    # Length-prefixed parts, so "a:bc" and "ab:c" cannot collide.
    digest = hashlib.sha256()
    for part in (user.encode(), password.encode(), hashed):
        digest.update(len(part).to_bytes(4, "big") + part)
    return digest.digest()


def _bcrypt_matches(password: str, hashed: bytes) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), hashed)
    except ValueError:  # bcrypt refuses passwords over 72 bytes in newer versions
        return False
