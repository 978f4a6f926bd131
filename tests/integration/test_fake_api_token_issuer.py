"""A relying party nobody here wrote (PyJWT) verifies the fake API's service account tokens the
way it verifies kube-apiserver's: it reads the OIDC discovery document, fetches the key set
from its `jwks_uri` over TLS the cluster's CA verifies, and checks the signature, the issuer,
the audience, and the expiry on the cluster's clock (the harness's is months behind the
wall's, so PyJWT's own expiry check, on the wall clock, is replaced by that one). Judged
against a real control plane in test_fake_api_vs_apiserver_issuer.py.
"""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import jwt
import pytest

from tests.integration.fake_api_harness import needs_bootstrap_policy, running_api

_AUDIENCE = "https://kubernetes.default.svc.cluster.local"
# Expiry is checked below against the cluster's clock, not the wall's.
_CLUSTER_CLOCK: jwt.types.Options = {"verify_exp": False, "verify_iat": False, "verify_nbf": False}


@needs_bootstrap_policy  # lets an account read its issuer's keys (service-account-issuer-discovery)
def test_pyjwt_verifies_a_token_through_the_published_key_set(tmp_path: Path) -> None:
    with running_api(tmp_path) as api:
        api.kubectl("create", "serviceaccount", "relying", "-n", "default")
        token = api.kubectl("create", "token", "relying", "-n", "default").stdout.strip()
        other = api.kubectl(
            "create", "token", "relying", "-n", "default", "--audience=vault"
        ).stdout.strip()
        discovery = json.loads(
            api.kubectl("get", "--raw", "/.well-known/openid-configuration").stdout
        )
        assert api.server.certificate is not None
        context = ssl.create_default_context(cadata=api.server.certificate.ca_pem.decode())
        keys = jwt.PyJWKClient(
            discovery["jwks_uri"],
            headers={"Authorization": f"Bearer {token}"},  # the account reads its issuer's keys
            ssl_context=context,
        )
        key = keys.get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key,
            algorithms=discovery["id_token_signing_alg_values_supported"],
            audience=_AUDIENCE,
            issuer=discovery["issuer"],
            options=_CLUSTER_CLOCK,
        )
        now = api.store.clock.now().timestamp()
        assert claims["iat"] <= now < claims["exp"] == claims["iat"] + 3600
        assert claims["sub"] == "system:serviceaccount:default:relying"
        assert claims["kubernetes.io"]["serviceaccount"]["name"] == "relying"
        with pytest.raises(jwt.InvalidAudienceError):  # a token for Vault is not one for the API
            jwt.decode(other, key, ["ES256"], audience=_AUDIENCE, options=_CLUSTER_CLOCK)
        vault = jwt.decode(other, key, ["ES256"], audience="vault", options=_CLUSTER_CLOCK)
        assert vault["aud"] == ["vault"]
        # One token's claims under the other's (valid) signature: a forgery.
        forged = token.rpartition(".")[0] + "." + other.rpartition(".")[2]
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(forged, key, ["ES256"], audience=_AUDIENCE, options=_CLUSTER_CLOCK)
