"""A certificate authority generated on first start, and the server certificate it signs.

Clients trust the local world by passing the CA file (`connection_verify=<ca file>`); the
emulator and Azurite both serve the one server certificate, valid for 127.0.0.1 and
localhost. Files are reused when present, so a CA handed to a client stays valid across
restarts that share a state directory.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "ca.pem"
CA_KEY_FILE = "ca-key.pem"
SERVER_CERT_FILE = "server.pem"
SERVER_KEY_FILE = "server-key.pem"
_KEY_USAGES = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the local CA certificate and the server certificate with its key."""

    ca_file: Path
    cert_file: Path
    key_file: Path


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path.name} does not hold an elliptic-curve private key")
    return key


def _key_usage(*allowed: str) -> x509.KeyUsage:
    """The key usage extension that allows just `allowed` (an ECDSA TLS server key signs
    its handshakes; the CA's signs certificates and revocation lists too)."""
    return x509.KeyUsage(**{usage: usage in allowed for usage in _KEY_USAGES})


def _new_ca(directory: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Image factory local world CA")])
    now = dt.datetime.now(dt.UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage("digital_signature", "key_cert_sign", "crl_sign"), critical=True)
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_key(directory / CA_KEY_FILE, key)
    (directory / CA_FILE).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _new_server_cert(
    directory: Path, ca_cert: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=825))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage("digital_signature"), critical=True)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.DNSName("localhost"),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    _write_key(directory / SERVER_KEY_FILE, key)
    (directory / SERVER_CERT_FILE).write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def ensure_tls(directory: Path) -> TlsFiles:
    """Create (or reuse) the local CA and the server certificate in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(
        ca_file=directory / CA_FILE,
        cert_file=directory / SERVER_CERT_FILE,
        key_file=directory / SERVER_KEY_FILE,
    )
    if (directory / CA_KEY_FILE).exists() and files.ca_file.exists():
        ca_cert = x509.load_pem_x509_certificate(files.ca_file.read_bytes())
        ca_key = _load_key(directory / CA_KEY_FILE)
    else:
        ca_cert, ca_key = _new_ca(directory)
        files.cert_file.unlink(missing_ok=True)
    if not (files.cert_file.exists() and files.key_file.exists()):
        _new_server_cert(directory, ca_cert, ca_key)
    return files
