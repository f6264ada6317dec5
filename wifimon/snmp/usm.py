"""SNMPv3 User-based Security Model: keys, message digests, encryption.

RFC 3414 (password to key, key localisation, HMAC-MD5-96, HMAC-SHA-96,
DES-CBC), RFC 7860 (HMAC-SHA-2 with 16/24/32/48-octet digests) and RFC 3826
(AES-128-CFB). AES-192/256 extend a localised key that is too short the way
Cisco and net-snmp's "AES-192-C"/"AES-256-C" do (draft-reeder-snmpv3-usm-
3desede, pysnmp's ``USM_PRIV_CFB192_AES``): hash the key as a password and
localise that again.

Turning a password into a key hashes one mebibyte, about 2 ms of CPU: the
master key is cached per (hash, password) and the localised keys per
(credentials, engine id), so a poll never pays it twice.

Secrets never appear in exceptions or ``repr``: ``UsmError`` messages are
fixed texts.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field
from functools import lru_cache

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wifimon.snmp.types import SnmpCredentials

# hash name, digest octets kept in msgAuthenticationParameters
AUTH_PROTOCOLS: dict[str, tuple[str, int]] = {
    "md5": ("md5", 12),
    "sha": ("sha1", 12),
    "sha224": ("sha224", 16),
    "sha256": ("sha256", 24),
    "sha384": ("sha384", 32),
    "sha512": ("sha512", 48),
}
# key octets; "aes" is RFC 3826's AES-128
PRIV_KEY_SIZES: dict[str, int] = {"des": 16, "aes": 16, "aes128": 16, "aes192": 24, "aes256": 32}
MIN_PASSWORD_LENGTH = 8  # RFC 3414 section 11.2; net-snmp and pysnmp refuse shorter ones
_EXPANDED_PASSWORD_OCTETS = 1_048_576
_MAX_SALT_COUNTER = 2**64


class UsmError(ValueError):
    """Credentials or a message USM cannot work with; the text never holds a secret."""


@lru_cache(maxsize=4096)
def master_key(hash_name: str, password: bytes) -> bytes:
    """RFC 3414 A.2: the digest of the password repeated to one mebibyte.

    Example: ``master_key("md5", b"maplesyrup").hex() ==
    "9faf3283884e92834ebc9847d8edd963"`` (RFC 3414 A.3.1).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsmError(f"password shorter than {MIN_PASSWORD_LENGTH} characters")
    return _expanded_digest(hash_name, password)


def _expanded_digest(hash_name: str, password: bytes) -> bytes:
    repeated = password * (_EXPANDED_PASSWORD_OCTETS // len(password) + 1)
    return hashlib.new(hash_name, repeated[:_EXPANDED_PASSWORD_OCTETS]).digest()


def localize_key(hash_name: str, key: bytes, engine_id: bytes) -> bytes:
    """RFC 3414 2.6: ``H(key + engine_id + key)``."""
    return hashlib.new(hash_name, key + engine_id + key).digest()


def localized_priv_key(hash_name: str, password: bytes, engine_id: bytes, size: int) -> bytes:
    """The privacy key of ``size`` octets; extended Reeder-style when the hash is shorter."""
    key = localize_key(hash_name, master_key(hash_name, password), engine_id)
    while len(key) < size:
        # one round at most in practice: the shortest hash (MD5) is 16 octets
        key += localize_key(hash_name, _expanded_digest(hash_name, key), engine_id)
    return key[:size]


@dataclass(frozen=True, slots=True)
class UsmKeys:
    """A user's keys localised to one engine; ``repr`` hides them.

    ``digest_length`` is the octets of msgAuthenticationParameters (12 for
    MD5/SHA-1, up to 48 for SHA-512); 0 without authentication.
    """

    user: bytes
    engine_id: bytes
    hash_name: str | None
    digest_length: int
    priv_protocol: str | None
    auth_key: bytes = field(repr=False)
    priv_key: bytes = field(repr=False)

    def digest(self, message: bytes) -> bytes:
        """The truncated HMAC of the whole message (its digest field zeroed)."""
        if self.hash_name is None:
            raise UsmError("no authentication protocol")
        return hmac.digest(self.auth_key, message, self.hash_name)[: self.digest_length]

    def is_authentic(self, message: bytes, received_digest: bytes) -> bool:
        return len(received_digest) == self.digest_length and hmac.compare_digest(
            self.digest(message), received_digest
        )


def check_credentials(credentials: SnmpCredentials) -> None:
    """Raise ``UsmError`` for credentials no agent could accept (too short passwords)."""
    if credentials.auth_protocol is not None:
        _password(credentials.auth_password)
    if credentials.priv_protocol is not None:
        if credentials.auth_protocol is None:
            raise UsmError("privacy without authentication")
        _password(credentials.priv_password)


def _password(text: str) -> bytes:
    password = text.encode()
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsmError(f"password shorter than {MIN_PASSWORD_LENGTH} characters")
    return password


def localize(credentials: SnmpCredentials, engine_id: bytes) -> UsmKeys:
    """Localise ``credentials`` to ``engine_id`` (callers cache the result)."""
    check_credentials(credentials)
    auth = credentials.auth_protocol
    priv = credentials.priv_protocol
    user = credentials.user.encode()
    if auth is None:
        return UsmKeys(user, engine_id, None, 0, None, b"", b"")
    hash_name, digest_length = AUTH_PROTOCOLS[auth]
    auth_key = localize_key(
        hash_name, master_key(hash_name, _password(credentials.auth_password)), engine_id
    )
    priv_key = b""
    if priv is not None:
        if priv not in PRIV_KEY_SIZES:
            raise UsmError(f"unsupported privacy protocol {priv}")
        priv_key = localized_priv_key(
            hash_name, _password(credentials.priv_password), engine_id, PRIV_KEY_SIZES[priv]
        )
    return UsmKeys(user, engine_id, hash_name, digest_length, priv, auth_key, priv_key)


# --- privacy ------------------------------------------------------------------


class SaltCounter:
    """The per-engine salt (RFC 3414 8.1.1.1, RFC 3826 3.1.2.1): a counter
    starting at a random value, so two messages never share an IV."""

    def __init__(self) -> None:
        self._next = int.from_bytes(os.urandom(8), "big")

    def take(self) -> int:
        value = self._next
        self._next = (value + 1) % _MAX_SALT_COUNTER
        return value


def encrypt(
    keys: UsmKeys, boots: int, engine_time: int, salt: int, plain: bytes
) -> tuple[bytes, bytes]:
    """Encrypt a scopedPDU; return ``(encryptedPDU, msgPrivacyParameters)``."""
    if keys.priv_protocol == "des":
        # RFC 3414 8.1.1.1: salt = boots + a local 32-bit counter
        salt_octets = boots.to_bytes(4, "big") + (salt & 0xFFFFFFFF).to_bytes(4, "big")
        iv = bytes(a ^ b for a, b in zip(salt_octets, keys.priv_key[8:16], strict=True))
        padded = plain + bytes(-len(plain) % 8)
        encryptor = _des(keys.priv_key[:8], iv).encryptor()
        return encryptor.update(padded) + encryptor.finalize(), salt_octets
    salt_octets = salt.to_bytes(8, "big")
    iv = boots.to_bytes(4, "big") + engine_time.to_bytes(4, "big") + salt_octets
    encryptor = Cipher(algorithms.AES(keys.priv_key), CFB(iv)).encryptor()
    return encryptor.update(plain) + encryptor.finalize(), salt_octets


def decrypt(keys: UsmKeys, boots: int, engine_time: int, salt: bytes, data: bytes) -> bytes:
    """Decrypt an encryptedPDU with the message's own boots, time and salt."""
    if len(salt) != 8:
        raise UsmError("privacy parameters are not 8 octets")
    if keys.priv_protocol == "des":
        if len(data) % 8:
            raise UsmError("DES ciphertext is not a multiple of 8 octets")
        iv = bytes(a ^ b for a, b in zip(salt, keys.priv_key[8:16], strict=True))
        decryptor = _des(keys.priv_key[:8], iv).decryptor()
        return decryptor.update(data) + decryptor.finalize()
    if not (0 <= boots < 2**32 and 0 <= engine_time < 2**32):
        raise UsmError("engine boots or time out of range")
    iv = boots.to_bytes(4, "big") + engine_time.to_bytes(4, "big") + salt
    decryptor = Cipher(algorithms.AES(keys.priv_key), CFB(iv)).decryptor()
    return decryptor.update(data) + decryptor.finalize()


def _des(key: bytes, iv: bytes) -> Cipher[modes.CBC]:
    # cryptography has no single DES; TripleDES with K1 = K2 = K3 is exactly
    # DES (an 8-octet key would do the same but is deprecated there).
    return Cipher(TripleDES(key * 3), modes.CBC(iv))
