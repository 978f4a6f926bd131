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
import copy
import re
from collections.abc import Callable
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from simulator.api.kinds import KindInfo
from simulator.api.names import label_errors, subdomain_errors
from simulator.api.store.go_values import bad_value, not_supported

__all__ = [
    "PEM_BLOCK",
    "certificate_request_errors",
    "is_certificate_request",
    "settle_update",
    "signer_name_errors",
]

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
PEM_BLOCK = re.compile(rb"-----BEGIN ([^-\r\n]*)-----\r?\n(.*?)-----END \1-----", re.DOTALL)
# What Go's CheckSignature says when the signature does not verify, by the key's type.
_BAD_SIGNATURE = {
    rsa.RSAPublicKey: "crypto/rsa: verification error",
    ec.EllipticCurvePublicKey: "x509: ECDSA verification failure",
    ed25519.Ed25519PublicKey: "x509: Ed25519 verification failure",
}
_SUBDOMAIN_MAX, _LABEL_MAX = 253, 63


def is_certificate_request(info: KindInfo) -> bool:
    """Whether `info` is certificates.k8s.io's CertificateSigningRequest."""
    return (info.group, info.kind) == ("certificates.k8s.io", "CertificateSigningRequest")


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
    for found in PEM_BLOCK.finditer(data):
        try:
            return found.group(1), base64.b64decode(b"".join(found.group(2).split()), validate=True)
        except (binascii.Error, ValueError):
            continue
    return None


# ----------------------------------------------------------------------------- updates

# Conditions whose status may only be True (trueConditionTypes), and what only /approval adds.
_TRUE_ONLY = ("Approved", "Denied", "Failed")
_APPROVAL = ("Approved", "Denied")
_STATUSES = ("False", "True", "Unknown")
_FORBIDDEN = "status.conditions: Forbidden: updates may not "


def settle_update(
    live: dict[str, Any], new: dict[str, Any], subresource: str | None, now: str
) -> list[str]:
    """A CSR's write as its strategies prepare it (`new`, changed in place: the spec is the
    stored one; /status keeps the approval conditions as stored; each condition gets its
    times), then the field errors ValidateCertificateSigningRequest*Update finds: the
    conditions, a certificate (only /status sets one, once), no approval condition removed, or
    added but through /approval. The spec was checked on create and is not again."""
    new["spec"] = copy.deepcopy(live.get("spec"))  # the stored object is never shared
    old = _conditions(live)
    if subresource == "status":
        _keep_instances(old, _conditions(new))
    _stamp_times(old, _conditions(new), now)
    errors = _condition_errors(new, live)
    errors += _certificate_errors(live, new)
    for kind in _TRUE_ONLY:
        if _count(new, kind) < _count(live, kind):
            errors.append(f'{_FORBIDDEN}remove a condition of type "{kind}"')
    if subresource != "approval":
        for kind in _APPROVAL:
            if _count(new, kind) > _count(live, kind):
                errors.append(f'{_FORBIDDEN}add a condition of type "{kind}"')
    old_certificate = (live.get("status") or {}).get("certificate") or ""
    if ((new.get("status") or {}).get("certificate") or "") != old_certificate:
        if subresource != "status":
            errors.append("status.certificate: Forbidden: updates may not set certificate content")
        elif old_certificate:
            errors.append(
                "status.certificate: Forbidden: updates may not modify existing certificate content"
            )
    return errors + _exclusive_errors(live, new)


def _exclusive_errors(live: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Approved and Denied together, which v1.37 checks declaratively (zeroOrOneOf, after the
    handwritten checks, in its own words), unless the stored object had both already."""
    if not all(_count(new, kind) for kind in _APPROVAL) or all(
        _count(live, kind) for kind in _APPROVAL
    ):
        return []
    options = [f'conditions[{{"type": "{kind}"}}]' for kind in _APPROVAL]
    listed = ", ".join(f"`{option}`" for option in options)
    return [
        f"status.conditions: Invalid value: {bad_value('{' + ', '.join(options) + '}')}: "
        f"must specify at most one of: {listed}"
    ]


def _conditions(obj: dict[str, Any]) -> list[dict[str, Any]]:
    conditions = (obj.get("status") or {}).get("conditions")
    return conditions if isinstance(conditions, list) else []


def _count(obj: dict[str, Any], kind: str) -> int:
    return sum(1 for c in _conditions(obj) if c.get("type") == kind)


def _keep_instances(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
    """preserveConditionInstances: /status cannot touch an approval condition, when it keeps
    as many of each type."""
    for kind in _APPROVAL:
        was = [c for c in old if c.get("type") == kind]
        at = [i for i, c in enumerate(new) if c.get("type") == kind]
        if len(was) == len(at):
            for index, condition in zip(at, was, strict=True):
                new[index] = copy.deepcopy(condition)


def _stamp_times(old: list[dict[str, Any]], new: list[dict[str, Any]], now: str) -> None:
    """populateConditionTimestamps: an unset update time is now; an unset transition time is
    that of a stored condition of the same type and status, else now."""
    for condition in new:
        condition["lastUpdateTime"] = condition.get("lastUpdateTime") or now
        if not condition.get("lastTransitionTime"):
            same = (
                c.get("lastTransitionTime")
                for c in old
                if (c.get("type"), c.get("status"))
                == (condition.get("type"), condition.get("status"))
                and c.get("lastTransitionTime")
            )
            condition["lastTransitionTime"] = next(same, now)


def _condition_errors(new: dict[str, Any], live: dict[str, Any]) -> list[str]:
    """validateConditions, with its allowances for what the stored object already has."""
    old = _conditions(live)
    old_types = [c.get("type") for c in old]
    allow_empty = "" in old_types or None in old_types
    allow_duplicates = len(set(old_types)) < len(old_types)
    errors, seen = [], set()
    for index, condition in enumerate(_conditions(new)):
        path = f"status.conditions[{index}]"
        kind, status = condition.get("type") or "", condition.get("status") or ""
        if not kind and not allow_empty:
            errors.append(f"{path}.type: Required value")
        allowed = ("True",) if kind in _TRUE_ONLY else _STATUSES
        if not status:
            errors.append(f"{path}.status: Required value")
        elif status not in allowed:
            errors.append(not_supported(f"{path}.status", status, allowed))
        if kind in seen and not allow_duplicates:
            errors.append(f"{path}.type: Duplicate value: {bad_value(kind)}")
        seen.add(kind)
    return errors


def _certificate_errors(live: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """validateCertificate of a changed certificate (one stored invalid is tolerated)."""
    old = (live.get("status") or {}).get("certificate") or ""
    certificate = (new.get("status") or {}).get("certificate") or ""
    if certificate == old or (old and _pem_problem(old) is not None):
        return []
    problem = _pem_problem(certificate)
    return (
        []
        if problem is None
        else [f'status.certificate: Invalid value: "<certificate data>": {problem}']
    )


def _pem_problem(encoded: str) -> str | None:
    """validateCertificate: CERTIFICATE blocks only, without headers, each holding one."""
    try:
        data = base64.b64decode(encoded)
    except (binascii.Error, ValueError):
        data = b""
    if not data:
        return None
    blocks = 0
    for found in PEM_BLOCK.finditer(data):
        try:
            der = base64.b64decode(b"".join(found.group(2).split()), validate=True)
        except (binascii.Error, ValueError):
            continue
        if found.group(1) != b"CERTIFICATE":
            found_type = bad_value(found.group(1).decode())
            return f"only CERTIFICATE PEM blocks are allowed, found {found_type}"
        try:
            x509.load_der_x509_certificate(der)
        except ValueError as exc:
            return str(exc)
        blocks += 1
    return None if blocks else "must contain at least one CERTIFICATE PEM block"
