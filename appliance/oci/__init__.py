"""OCI registries: image references, the admin's registry credentials, and the distribution API.

- `reference.py`: image references by the distribution grammar (tag, digest, both; Docker Hub's
  default registry and `library/`);
- `credentials.py`: credentials from the admin's Docker config (`auths`, `credHelpers`,
  `credsStore`);
- `client.py`: does a tag exist, which tags do (anonymous or authenticated token dance).
"""

from appliance.oci.client import ImageRef, RegistryClient, RegistryError, TagCheck, parse_image

__all__ = ["ImageRef", "RegistryClient", "RegistryError", "TagCheck", "parse_image"]
