"""What kube-apiserver checks in a new CertificateSigningRequest (pkg/apis/certificates/validation
ValidateCertificateSigningRequestCreate, in its words and order): a PEM `CERTIFICATE REQUEST`
whose signature verifies, its usages (at least one, each known, none twice), its signer's name
(core/validation ValidateSignerName; the legacy unknown signer refused by v1) and a lifetime of
at least ten minutes. Its status is cleared on create (certificates.stamp_requester), so its
conditions and certificate have nothing to check then.

The request is parsed by `cryptography` where kube-apiserver uses Go's x509: a block that is no
CSR at all gets the Go message only for what is decided before parsing (no PEM, another block
type) and for a signature that does not verify; a DER Go cannot parse is refused with
`cryptography`'s words.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from simulator.api.names import label_errors, subdomain_errors
from simulator.api.store.go_values import bad_value, not_supported

__all__ = ["certificate_request_errors"]

# certificates.KeyUsage's values (allValidUsages, listed sorted as sets.String.List does).
_USAGES = sorted(
    (
        "signing", "digital signature", "content commitment", "key encipherment",
        "key agreement", "data encipherment", "cert sign", "crl sign", "encipher only",
        "decipher only", "any", "server auth", "client auth", "code signing",
        "email protection", "s/mime", "ipsec end system", "ipsec tunnel", "ipsec user",
        "timestamping", "ocsp signing", "microsoft sgc", "netscape sgc",
    )
)  # fmt: skip
_LEGACY_SIGNER = "kubernetes.io/legacy-unknown"
_MIN_SECONDS = 600
# pem.Decode: the first block anywhere in the data (its type, then base64 until the END line).
_PEM = re.compile(rb"-----BEGIN ([^-\r\n]*)-----\r?\n(.*?)-----END \1-----", re.DOTALL)
# What Go's CheckSignature says when the signature does not verify, by the key's type.
_BAD_SIGNATURE = {
    rsa.RSAPublicKey: "crypto/rsa: verification error",
    ec.EllipticCurvePublicKey: "x509: ECDSA verification failure",
    ed25519.Ed25519PublicKey: "x509: Ed25519 verification failure",
}
_SUBDOMAIN_MAX, _LABEL_MAX = 253, 63


def certificate_request_errors(obj: dict[str, Any]) -> list[str]:
    """The field errors of a CSR's create ([] when valid)."""
    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    errors = []
    request = str(spec.get("request") or "")
    if (problem := _request_problem(request)) is not None:
        errors.append(f"spec.request: Invalid value: {bad_value(_canonical(request))}: {problem}")
    usages = spec.get("usages") or []
    if not usages:
        errors.append("spec.usages: Required value")
    for index, usage in enumerate(usages):
        if usage not in _USAGES:
            errors.append(not_supported(f"spec.usages[{index}]", usage, _USAGES))
    for index, usage in enumerate(usages):
        if usage in usages[:index]:
            errors.append(f"spec.usages[{index}]: Duplicate value: {bad_value(usage)}")
    signer = str(spec.get("signerName") or "")
    if signer == _LEGACY_SIGNER:
        why = "the legacy signerName is not allowed via this API version"
        errors.append(f"spec.signerName: Invalid value: {bad_value(signer)}: {why}")
    else:
        errors += signer_name_errors("spec.signerName", signer)
    seconds = spec.get("expirationSeconds")
    if isinstance(seconds, int) and seconds < _MIN_SECONDS:
        why = "may not specify a duration less than 600 seconds (10 minutes)"
        errors.append(f"spec.expirationSeconds: Invalid value: {seconds}: {why}")
    return errors


def signer_name_errors(path: str, signer: str) -> list[str]:
    """ValidateSignerName: `<domain>/<path>`, the domain's labels DNS-1123 labels (two at
    least), the path's DNS-1123 subdomains, short enough to fit in a resource name."""
    if not signer:
        return [f"{path}: Required value"]
    segments = signer.split("/")
    if len(segments) != 2:
        why = "must be a fully qualified domain and path of the form 'example.com/signer-name'"
        return [f"{path}: Invalid value: {bad_value(signer)}: {why}"]
    domain, rest = segments
    errors = []
    if len(domain) > _SUBDOMAIN_MAX:
        errors.append(f"{path}: Too long: may not be more than {_SUBDOMAIN_MAX} bytes")
    labels = domain.split(".")
    errors += _first_part_errors(path, domain, labels, label_errors)
    if len(labels) < 2:
        why = "should be a domain with at least two segments separated by dots"
        errors.append(f"{path}: Invalid value: {bad_value(domain)}: {why}")
    errors += _first_part_errors(path, rest, rest.split("."), subdomain_errors)
    longest = _SUBDOMAIN_MAX + (_SUBDOMAIN_MAX + _LABEL_MAX + 1) + 1
    if len(signer) > longest:
        errors.append(f"{path}: Too long: may not be more than {longest} bytes")
    return errors


def _first_part_errors(
    path: str, whole: str, parts: list[str], check: Callable[[str], list[str]]
) -> list[str]:
    """The errors of the first part `check` refuses, each naming the whole segment (further
    parts' errors would only repeat them, ValidateSignerName says)."""
    for part in parts:
        if found := check(part):
            why = (f"validating label {bad_value(part)}: {e}" for e in found)
            return [f"{path}: Invalid value: {bad_value(whole)}: {w}" for w in why]
    return []


def _canonical(request: str) -> str:
    """The request's bytes as a Go []byte prints in JSON: standard base64, padded."""
    try:
        return base64.b64encode(base64.b64decode(request)).decode()
    except (binascii.Error, ValueError):
        return request


def _request_problem(request: str) -> str | None:
    """ParseCSR, then CheckSignature: why the request is no signed CSR, or None."""
    try:
        data = base64.b64decode(request)
    except (binascii.Error, ValueError):
        data = b""
    der = _first_block(data)
    if der is None or der[0] != b"CERTIFICATE REQUEST":
        return "PEM block type must be CERTIFICATE REQUEST"
    try:
        csr = x509.load_der_x509_csr(der[1])
    except ValueError as exc:
        return str(exc)
    if csr.is_signature_valid:
        return None
    key = csr.public_key()
    said = (message for kind, message in _BAD_SIGNATURE.items() if isinstance(key, kind))
    return next(said, "x509: signature verification failure")


def _first_block(data: bytes) -> tuple[bytes, bytes] | None:
    """pem.Decode: the type and bytes of the first block whose body is base64 (Go skips a
    block it cannot decode and reads on)."""
    for found in _PEM.finditer(data):
        try:
            return found.group(1), base64.b64decode(b"".join(found.group(2).split()), validate=True)
        except (binascii.Error, ValueError):
            continue
    return None
