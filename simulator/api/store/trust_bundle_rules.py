"""What kube-apiserver checks in a ClusterTrustBundle (pkg/apis/certificates/validation v1.37,
in its words): a name that starts with its signer's name, slashes as colons (or holds no colon
when it names no signer); the signer's name; a trust bundle of PEM CERTIFICATE blocks without
headers, each a CA certificate, none twice, one at least; a signer that does not change.

kube-controller-manager's publisher writes the API server's serving CA as
`kubernetes.io:kube-apiserver-serving:<hash>`: a name no DNS subdomain rule would pass.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Any

from cryptography import x509

from simulator.api.kinds import KindInfo
from simulator.api.names import subdomain_errors
from simulator.api.store.certificate_rules import PEM_BLOCK, signer_name_errors
from simulator.api.store.go_values import bad_value

__all__ = ["is_trust_bundle", "trust_bundle_errors", "trust_bundle_name_errors"]

Obj = dict[str, Any]
_MAX_BUNDLE = 1024 * 1024
_BUNDLE = "spec.trustBundle"
_OMITTED = f'{_BUNDLE}: Invalid value: "<value omitted>": '


def is_trust_bundle(info: KindInfo) -> bool:
    return (info.group, info.kind) == ("certificates.k8s.io", "ClusterTrustBundle")


def trust_bundle_name_errors(obj: Obj) -> list[str]:
    """ValidateClusterTrustBundleName for the bundle's signer."""
    name = str(obj["metadata"].get("name") or "")
    signer = str((obj.get("spec") or {}).get("signerName") or "")
    shown = f"metadata.name: Invalid value: {bad_value(name)}: "
    if not signer:
        if ":" in name:
            return [shown + 'ClusterTrustBundle without signer name must not have ":" in its name']
        return [shown + e for e in subdomain_errors(name)]
    prefix = signer.replace("/", ":") + ":"
    if not name.startswith(prefix):
        return [
            shown + f"ClusterTrustBundle for signerName {signer} must be named with prefix {prefix}"
        ]
    return [shown + e for e in subdomain_errors(name[len(prefix) :])]


def trust_bundle_errors(obj: Obj, live: Obj | None = None) -> list[str]:
    """ValidateClusterTrustBundle (and its update's checks when `live` is the stored bundle)."""
    spec, old = obj.get("spec") or {}, (live or {}).get("spec") or {}
    signer = str(spec.get("signerName") or "")
    errors = signer_name_errors("spec.signerName", signer) if signer else []
    bundle = str(spec.get("trustBundle") or "")
    if live is None or bundle != str(old.get("trustBundle") or ""):
        errors += _bundle_errors(bundle)
    if live is not None and signer != str(old.get("signerName") or ""):
        errors.append(f"spec.signerName: Invalid value: {bad_value(signer)}: field is immutable")
    return errors


def _blocks(data: bytes) -> Iterator[tuple[str, bool, bytes | None]]:
    """pem.Decode, block after block: each one's type, whether it has headers, its bytes (None
    when its body is no base64, a block Go skips)."""
    for found in PEM_BLOCK.finditer(data):
        lines = found.group(2).split(b"\n")
        headers = bool(lines) and b":" in lines[0]
        if headers:
            lines = lines[lines.index(b"") + 1 :] if b"" in lines else []
        try:
            der = base64.b64decode(b"".join(b"".join(lines).split()), validate=True)
        except (binascii.Error, ValueError):
            continue
        yield found.group(1).decode(errors="replace"), headers, der


def _bundle_errors(bundle: str) -> list[str]:
    """validateTrustBundle: a broken block's errors alone, else none or a repeated anchor."""
    if len(bundle) > _MAX_BUNDLE:
        return [f"{_BUNDLE}: Too long: may not be more than {_MAX_BUNDLE} bytes"]
    errors: list[str] = []
    seen: dict[bytes, list[int]] = {}
    for index, (kind, headers, der) in enumerate(_blocks(bundle.encode())):
        why = ""
        if kind != "CERTIFICATE":
            why = f"entry {index} has bad block type: {kind}"
        elif headers:
            why = f"entry {index} has PEM block headers"
        else:
            why = _certificate_problem(index, der or b"")
        if why:
            errors.append(_OMITTED + why)
        else:
            seen.setdefault(der or b"", []).append(index)
    if errors:
        return errors
    if not seen:
        return [_OMITTED + "at least one trust anchor must be provided"]
    repeated = [indices for indices in seen.values() if len(indices) > 1]
    return [_OMITTED + f"duplicate trust anchor (indices {_go_ints(i)})" for i in repeated]


def _certificate_problem(index: int, der: bytes) -> str:
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError:
        return f"entry {index} does not parse as X.509"
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return f"entry {index} does not have the CA bit set"
    if not constraints.value.ca:
        return f"entry {index} does not have the CA bit set"
    return ""


def _go_ints(values: list[int]) -> str:
    """A Go []int as `%v` prints it: `[0 2]`."""
    return "[" + " ".join(str(v) for v in values) + "]"
