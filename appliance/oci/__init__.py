"""OCI registries: image references, the admin's registry credentials, and the distribution API.

- `reference.py`: image references by the distribution grammar (tag, digest, both; Docker Hub's
  default registry and `library/`);
- `credentials.py`: credentials from the admin's Docker config (`auths`, `credHelpers`,
  `credsStore`);
- `client.py`: does a tag exist, which tags do (anonymous or authenticated token dance).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from appliance.errors import RegistryError
from appliance.oci.credentials import Credential, CredentialsError, DockerCredentials
from appliance.oci.reference import ImageRef, ImageReferenceError, parse_image

if TYPE_CHECKING:
    from appliance.oci.client import RegistryClient, TagCheck

__all__ = [
    "Credential",
    "CredentialsError",
    "DockerCredentials",
    "ImageRef",
    "ImageReferenceError",
    "RegistryClient",
    "RegistryError",
    "TagCheck",
    "parse_image",
]


def __getattr__(name: str) -> Any:
    # The client is imported on first use: it brings an HTTP stack, which a release file's image
    # references (`reference.py`, read by every `appliance` command's parser) do not need.
    if name in ("RegistryClient", "TagCheck"):
        from appliance.oci import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
