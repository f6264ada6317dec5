"""Test certificates made on the spot with ``cryptography``: a CA, a server
certificate for 127.0.0.1 and client certificates, all as PEM files."""

from __future__ import annotations

import base64
import datetime
import ipaddress
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_DAY = datetime.timedelta(days=1)


@dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path


@dataclass(frozen=True)
class Pki:
    """A CA (``ca.cert``) with a server pair for 127.0.0.1 and a client pair."""

    ca: Issued
    server: Issued
    client: Issued
    other_ca: Issued  # an unrelated CA, and ``stranger``, a client it signed
    stranger: Issued
    intruder: Issued  # a client of the right CA, but named intruder.example


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(
    directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> Issued:
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Issued(cert_path, key_path)


def _builder(
    subject: str, issuer: str, public: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _DAY)
        .not_valid_after(now + 30 * _DAY)
    )


def _ca(directory: Path, stem: str) -> tuple[Issued, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(stem, stem, key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return _write(directory, stem, cert, key), key


def _leaf(
    directory: Path,
    stem: str,
    ca: tuple[Issued, ec.EllipticCurvePrivateKey],
    names: list[x509.GeneralName],
    usage: x509.ObjectIdentifier,
) -> Issued:
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = x509.load_pem_x509_certificate(ca[0].cert.read_bytes())
    cert = (
        _builder(stem, issuer.subject.rfc4514_string().removeprefix("CN="), key.public_key())
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca[1], hashes.SHA256())
    )
    return _write(directory, stem, cert, key)


def make_pki(directory: Path) -> Pki:
    """Fresh keys and certificates under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = _ca(directory, "wifimon-test-ca")
    server = _leaf(
        directory,
        "server",
        ca,
        [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")],
        ExtendedKeyUsageOID.SERVER_AUTH,
    )
    client = _leaf(
        directory,
        "client",
        ca,
        [x509.DNSName("prometheus.scraper")],
        ExtendedKeyUsageOID.CLIENT_AUTH,
    )
    other = _ca(directory, "other-ca")
    stranger = _leaf(
        directory, "stranger", other, [x509.DNSName("stranger")], ExtendedKeyUsageOID.CLIENT_AUTH
    )
    intruder = _leaf(
        directory,
        "intruder",
        ca,
        [x509.DNSName("intruder.example")],
        ExtendedKeyUsageOID.CLIENT_AUTH,
    )
    return Pki(ca[0], server, client, other[0], stranger, intruder)


# --- an https client for the tests ---------------------------------------------


def client_context(pki: Pki, client: Issued | None = None) -> ssl.SSLContext:
    """Trusts ``pki``'s CA; presents ``client``'s certificate when given."""
    context = ssl.create_default_context(cafile=str(pki.ca.cert))
    if client is not None:
        context.load_cert_chain(client.cert, client.key)
    return context


def basic_authorization(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def https_get(
    url: str, context: ssl.SSLContext, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of a GET of ``url`` (``https://127.0.0.1:PORT/path``)."""
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - https only
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
