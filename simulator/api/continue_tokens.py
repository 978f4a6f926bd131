"""A list's `continue` token: where the next page starts, and the resourceVersion its list
was read at, refused in kube-apiserver's words.

The token is unpadded URL-safe base64 of a JSON object that names its encoding version, as
kube-apiserver's is (`{"v":"meta.k8s.io/v1","rv":...}`), so a token that is not one is refused
with the same texts: Go's base64 and JSON errors, or the version it does not recognize.
"""

from __future__ import annotations

import base64
import re
from typing import Any

import msgspec

from simulator.api.go_json import syntax_error, unmarshal_error
from simulator.api.store import BadRequestError

__all__ = ["decode_continue", "encode_continue"]

_ENC = msgspec.json.Encoder()
_DEC = msgspec.json.Decoder()
_VERSION = "meta.k8s.io/v1"
_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")


def encode_continue(namespace: str, name: str, rv: int) -> str:
    """The token of the page after the object `namespace/name` of the list read at `rv`."""
    token = _ENC.encode({"v": _VERSION, "rv": rv, "ns": namespace, "name": name})
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def _invalid(reason: str) -> BadRequestError:
    return BadRequestError(f"invalid continue token: continue key is not valid: {reason}")


def decode_continue(token: str) -> tuple[tuple[str, str], int]:
    """The (namespace, name) a token continues after, and the resourceVersion its list was
    read at; a 400 when it is not one of ours."""
    valid = _ALPHABET.match(token)
    end = valid.end() if valid else 0
    if end < len(token) or len(token) % 4 == 1:
        # Go's base64.RawURLEncoding names the first byte it cannot use.
        bad = end if end < len(token) else len(token) - 1
        raise _invalid(f"illegal base64 data at input byte {bad}")
    data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    problem = syntax_error(data)
    if problem is not None:
        raise _invalid(problem)
    doc: Any = _DEC.decode(data)
    if not isinstance(doc, dict):
        raise _invalid(unmarshal_error(doc, "storage.continueToken"))
    if doc.get("v") != _VERSION:
        version = doc.get("v") or ""
        raise _invalid(f"server does not recognize this encoded version {version}")
    namespace, name, rv = doc.get("ns"), doc.get("name"), doc.get("rv")
    if not isinstance(namespace, str) or not isinstance(name, str):
        raise _invalid("the token names no object")
    if not isinstance(rv, int) or isinstance(rv, bool) or rv < 0:
        raise _invalid("the token names no resourceVersion")
    return (namespace, name), rv
