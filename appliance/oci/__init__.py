"""OCI registries: image references, the admin's registry credentials, and the distribution API.

- `reference.py`: image references by the distribution grammar (tag, digest, both; Docker Hub's
  default registry and `library/`);
- `credentials.py`: credentials from the admin's Docker config (`auths`, `credHelpers`,
  `credsStore`);
- `client.py`: does a tag exist, which tags do (anonymous or authenticated token dance).
"""

from appliance.errors import RegistryError
from appliance.oci.client import RegistryClient, TagCheck
from appliance.oci.credentials import Credential, CredentialsError, DockerCredentials
from appliance.oci.reference import ImageRef, ImageReferenceError, parse_image

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
