"""The private CA, leaf certificates and the CRL, read back with cryptography and OpenSSL-free checks."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pki_servers import Issue

from hub.pki import CertificateAuthority, PkiError, create_ca, load_ca, revoke, write_crl
from hub.pki.authority import CA_KEY_FILE
from pingan.serving import StatusError
from pingan.tls import (
    RevocationList,
    TlsConfigError,
    channel_credentials,
    identity_from_certificate,
    read_crl,
    server_credentials,
)


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_ca_is_an_ecdsa_p256_root_with_a_private_key_only_the_owner_reads(ca: CertificateAuthority) -> None:
    cert = load(ca.cert_file)
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    assert cert.public_key().curve.name == "secp256r1"
    cert.verify_directly_issued_by(cert)
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length == 0
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "test CA"
    assert mode(ca.key_file) == 0o600
    assert read_crl(ca.crl_file, cert) == (frozenset(), read_crl(ca.crl_file, cert)[1])
    assert load_ca(ca.directory).certificate == cert


def test_init_never_overwrites_a_ca(ca: CertificateAuthority) -> None:
    before = ca.key_file.read_bytes()
    with pytest.raises(PkiError, match="already exist"):
        create_ca(ca.directory)
    assert ca.key_file.read_bytes() == before


@pytest.mark.parametrize("days", [0, -1, 20 * 365 + 1])
def test_ca_lifetime_is_bounded(tmp_path: Path, days: int) -> None:
    with pytest.raises(PkiError, match="--days"):
        create_ca(tmp_path / "ca", days=days)


def test_load_ca_names_the_problem(
    tmp_path: Path, ca: CertificateAuthority, other_ca: CertificateAuthority
) -> None:
    with pytest.raises(PkiError, match="pingan pki init"):
        load_ca(tmp_path / "nowhere")
    (ca.directory / CA_KEY_FILE).write_bytes((other_ca.directory / CA_KEY_FILE).read_bytes())
    with pytest.raises(PkiError, match="does not belong"):
        load_ca(ca.directory)


@pytest.mark.parametrize(
    ("role", "usages"),
    [
        ("hub", {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH}),
        ("adapter", {ExtendedKeyUsageOID.SERVER_AUTH}),
        ("client", {ExtendedKeyUsageOID.CLIENT_AUTH}),
    ],
)
def test_leaf_names_its_holder_and_role(
    issue: Issue, ca: CertificateAuthority, role: str, usages: set[x509.ObjectIdentifier]
) -> None:
    issued = issue(role, "justice")
    cert = load(issued.cert_file)
    cert.verify_directly_issued_by(ca.certificate)
    assert cert.serial_number == issued.serial
    assert set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == usages
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [f"spiffe://pingan/{role}/justice"]
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value == role
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "justice"
    if role == "client":
        assert san.get_values_for_type(x509.DNSName) == []
    else:  # servers default to loopback names so the demo verifies without overrides
        assert san.get_values_for_type(x509.DNSName) == ["localhost", f"justice.{role}.pingan.internal"]
        assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    identity = identity_from_certificate(cert)
    assert (identity.role, identity.name, identity.serial) == (role, "justice", issued.serial)
    assert identity.client_auth == (ExtendedKeyUsageOID.CLIENT_AUTH in usages)
    assert mode(issued.key_file) == 0o600
    assert issued.ca_file.read_bytes() == ca.cert_file.read_bytes()


def test_explicit_server_names_replace_the_defaults(issue: Issue) -> None:
    cert = load(
        issue(
            "adapter", "health", dns_names=["health.gov.internal"], ip_addresses=["10.0.0.7", "::1"]
        ).cert_file
    )
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["health.gov.internal", "health.adapter.pingan.internal"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["10.0.0.7", "::1"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role": "client", "name": "Zhang San"}, "not allowed"),
        ({"role": "client", "name": "../etc"}, "not allowed"),
        ({"role": "client", "name": "a_b"}, "not allowed"),
        ({"role": "adapter", "name": "x", "dns_names": ["bad host"]}, "not a host name"),
        ({"role": "auditor", "name": "x"}, "not one of hub, adapter, client"),
        ({"role": "adapter", "name": "x", "ip_addresses": ["1.2.3"]}, "not an IPv4 or IPv6"),
        ({"role": "client", "name": "x", "days": 0}, "--days"),
        ({"role": "client", "name": "x", "days": 10_000}, "--days"),
    ],
)
def test_bad_issue_requests_are_refused_clearly(
    ca: CertificateAuthority, tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    from hub.pki import issue_certificate

    with pytest.raises(PkiError, match=message):
        issue_certificate(ca, out_dir=tmp_path / "out", **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


def test_issue_never_overwrites_a_key(issue: Issue) -> None:
    issue("client", "app")
    with pytest.raises(PkiError, match="already exist"):
        issue("client", "app")


def test_leaf_never_outlives_its_ca(issue: Issue, ca: CertificateAuthority) -> None:
    issued = issue("client", "app", days=800)
    assert issued.not_after == ca.certificate.not_valid_after_utc


def test_a_certificate_whose_subject_and_san_disagree_has_no_identity(ca: CertificateAuthority) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    forged = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "client"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "app"),
                ]
            )
        )
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier("spiffe://pingan/hub/hub")]), False
        )
        .sign(ca.key, hashes.SHA256())
    )
    with pytest.raises(StatusError) as err:
        identity_from_certificate(forged)
    assert err.value.code == grpc.StatusCode.UNAUTHENTICATED
    plain = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "app")]))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(ca.key, hashes.SHA256())
    )
    with pytest.raises(StatusError, match="no single pingan identity"):
        identity_from_certificate(plain)


def test_revoke_signs_a_growing_crl(issue: Issue, ca: CertificateAuthority) -> None:
    first, second = issue("client", "a"), issue("hub", "hub")
    r1 = revoke(ca, cert_file=first.cert_file)
    r2 = revoke(ca, serial=second.serial)
    again = revoke(ca, cert_file=first.cert_file)
    assert (r1.already_revoked, r2.already_revoked, again.already_revoked) == (False, False, True)
    assert again.revoked_count == 2
    crl = x509.load_pem_x509_crl(ca.crl_file.read_bytes())
    assert crl.is_signature_valid(ca.certificate.public_key())
    assert {r.serial_number for r in crl} == {first.serial, second.serial}
    assert (
        crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 4
    )  # init + 3 revocations
    assert read_crl(ca.crl_file, ca.certificate)[0] == {first.serial, second.serial}


def test_revoke_refuses_foreign_certificates_and_the_ca_itself(
    issue: Issue, ca: CertificateAuthority, other_ca: CertificateAuthority
) -> None:
    stranger = issue("client", "x", authority=other_ca)
    with pytest.raises(PkiError, match="was not issued by the CA"):
        revoke(ca, cert_file=stranger.cert_file)
    with pytest.raises(PkiError, match="CA certificate itself"):
        revoke(ca, cert_file=ca.cert_file)
    with pytest.raises(PkiError, match="exactly one"):
        revoke(ca)
    assert read_crl(ca.crl_file, ca.certificate)[0] == frozenset()


def test_revocation_list_reloads_and_fails_closed(
    issue: Issue, ca: CertificateAuthority, other_ca: CertificateAuthority
) -> None:
    client = issue("client", "a")
    crl = RevocationList(ca.crl_file, ca.cert_file)
    assert client.serial not in crl and crl.problem is None
    revoke(ca, cert_file=client.cert_file)
    assert client.serial in crl  # same object, new file
    assert 12345 not in crl

    # A list signed by another CA is not believed: everything counts as revoked.
    ca.crl_file.write_bytes(other_ca.crl_file.read_bytes())
    assert 12345 in crl and "not signed by the CA" in (crl.problem or "")
    # So does a missing list...
    ca.crl_file.unlink()
    assert 12345 in crl and "cannot read" in (crl.problem or "")
    # ...and one past its nextUpdate.
    write_crl(ca, {}, number=99, now=datetime.now(UTC) - timedelta(days=40))
    assert 12345 in crl and "expired" in (crl.problem or "")
    # A fresh list restores service.
    write_crl(ca, {}, number=100)
    assert 12345 not in crl and crl.problem is None


def test_revocation_list_refuses_to_start_on_a_bad_file(
    ca: CertificateAuthority, other_ca: CertificateAuthority, tmp_path: Path
) -> None:
    with pytest.raises(TlsConfigError, match="not signed by the CA"):
        RevocationList(other_ca.crl_file, ca.cert_file)
    with pytest.raises(TlsConfigError, match=str(tmp_path / "missing.pem")):
        RevocationList(tmp_path / "missing.pem", ca.cert_file)


def test_credentials_name_the_bad_file(issue: Issue, ca: CertificateAuthority, tmp_path: Path) -> None:
    a, b = issue("adapter", "a"), issue("adapter", "b")
    with pytest.raises(TlsConfigError, match=f"{b.key_file}: this key does not belong"):
        server_credentials(a.cert_file, b.key_file, ca.cert_file)
    with pytest.raises(TlsConfigError, match=f"{tmp_path / 'nope.pem'}: cannot read the CA certificate"):
        channel_credentials(tmp_path / "nope.pem", a.cert_file, a.key_file)
    junk = tmp_path / "junk.pem"
    junk.write_text("hello")
    with pytest.raises(TlsConfigError, match="not a PEM file"):
        server_credentials(junk, a.key_file, ca.cert_file)
    assert isinstance(server_credentials(a.cert_file, a.key_file, ca.cert_file), grpc.ServerCredentials)
