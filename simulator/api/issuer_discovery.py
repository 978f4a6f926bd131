"""kube-apiserver's service account token issuer: the key that signs the tokens it issues, and
the two documents through which anyone can verify them (pkg/serviceaccount/openidmetadata.go,
pkg/routes/openidmetadata.go).

A relying party (Vault's Kubernetes auth, a cloud's workload identity, a JWT library) reads
`/.well-known/openid-configuration`, follows its `jwks_uri` to `/openid/v1/jwks` and checks a
token's ES256 signature with the key whose `kid` the token's header names. So the fake API signs
for real, with a P-256 key of its own made at its start, and names it as kube-apiserver
does (keyIDFromPublicKey: the unpadded base64url SHA-256 of the key's PKIX DER). Tokens are
still checked by lookup on the way in (rbac.TokenBook), which is stricter than a signature.
"""

from __future__ import annotations

import base64
import hashlib

import msgspec
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

__all__ = ["CONFIGURATION_PATH", "ISSUER", "KEYS_PATH", "TokenIssuer"]

ISSUER = "https://kubernetes.default.svc.cluster.local"
CONFIGURATION_PATH = "/.well-known/openid-configuration"
KEYS_PATH = "/openid/v1/jwks"
_ALGORITHM = "ES256"
_COORDINATE_BYTES = 32  # P-256: go-jose writes x, y and a signature's r, s at this fixed size
# staticPublicKeysGetter.GetCacheAgeMaxSeconds: how long a relying party may keep either document.
_MAX_AGE = 3600
_ENC = msgspec.json.Encoder()


class TokenIssuer:
    """The signing key of one API server and what it publishes about it."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())  # tens of microseconds
        der = self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        # keyIDFromPublicKey: what a token's header and the key set call the key.
        self.key_id = _b64(hashlib.sha256(der).digest())

    def sign(self, claims: dict[str, object]) -> str:
        """A compact JWS of `claims`, its header as go-jose writes it (alg, then kid)."""
        header = {"alg": _ALGORITHM, "kid": self.key_id}
        signing_input = f"{_b64(_ENC.encode(header))}.{_b64(_ENC.encode(claims))}"
        der = self._key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)  # JWS wants r and s side by side, not DER
        raw = r.to_bytes(_COORDINATE_BYTES, "big") + s.to_bytes(_COORDINATE_BYTES, "big")
        return f"{signing_input}.{_b64(raw)}"

    def configuration(self, server_address: str) -> bytes:
        """The OIDC discovery document; its `jwks_uri` on the server's external address."""
        return _ENC.encode(
            {
                "issuer": ISSUER,
                "jwks_uri": f"https://{server_address}{KEYS_PATH}",
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": [_ALGORITHM],
            }
        )

    def key_set(self) -> bytes:
        """The JWKS: the public key in go-jose's field order."""
        numbers = self._key.public_key().public_numbers()
        key = {
            "use": "sig",
            "kty": "EC",
            "kid": self.key_id,
            "crv": "P-256",
            "alg": _ALGORITHM,
            "x": _b64(numbers.x.to_bytes(_COORDINATE_BYTES, "big")),
            "y": _b64(numbers.y.to_bytes(_COORDINATE_BYTES, "big")),
        }
        return _ENC.encode({"keys": [key]})

    def document(self, path: str, server_address: str) -> tuple[bytes, bytes, bytes] | None:
        """(body, content type, cache control) of the document at `path`, or None."""
        cache = f"public, max-age={_MAX_AGE}".encode()
        if path == CONFIGURATION_PATH:
            return self.configuration(server_address), b"application/json", cache
        if path == KEYS_PATH:
            return self.key_set(), b"application/jwk-set+json", cache
        return None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
