"""Kubernetes' own OpenAPI documents, fetched as a Go module and kept in a cache, never committed.

k8s.io/kubernetes keeps the OpenAPI v2 and v3 documents of its API under `api/openapi-spec/`
(generated from the Go types, Apache-2.0). The build step fetches that module through the Go
module proxy (`go mod download`: the control plane's build fetches the same module, so on CI it is
one download) and writes the documents into the cache folder in the form a running kube-apiserver
serves them (`openapi_served`: no CBOR media types, enum fields as the module's Go definitions
have them); the fake API serves them filtered to the kinds it serves, and server-side apply reads
its field types from them.

    python -m simulator.api.openapi_assets      # build (a no-op when cached); prints the folder
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
from functools import cache
from pathlib import Path
from typing import Any

import msgspec

from simulator.api.go_modules import ModuleError, cache_dir, download
from simulator.api.openapi_served import EnumFields, enum_fields, served_document
from simulator.api.protobuf_schema import API_VERSION, SchemaError, compile_descriptor_set
from simulator.errors import SimulatorError

__all__ = [
    "KUBERNETES_MODULE",
    "KUBERNETES_VERSION",
    "OpenApiError",
    "assets_dir",
    "build",
    "v2_document",
    "v2_messages",
    "v3_document",
    "v3_route_document",
]

# k8s.io/api v0.37.2 is the API of k8s.io/kubernetes v1.37.2: one pin for both.
KUBERNETES_VERSION = "v1" + API_VERSION[2:]
KUBERNETES_MODULE = f"k8s.io/kubernetes@{KUBERNETES_VERSION}"
# The protobuf form of OpenAPI v2 (what kubectl asks /openapi/v2 for), at the version
# k8s.io/kubernetes v1.37.2 requires.
_GNOSTIC = "github.com/google/gnostic-models@v0.7.0"
_GNOSTIC_PROTO = "openapiv2/OpenAPIv2.proto"
_LOCK = threading.Lock()
_DECODER = msgspec.json.Decoder()


class OpenApiError(SimulatorError):
    """The OpenAPI documents could not be fetched; the message says what is missing."""


# Bumped when what `build` writes changes, so that an older cache is built again.
_FORM = "served"
# openapi-gen's Go definitions, which kube-apiserver builds its documents from.
_GO_DEFINITIONS = Path("pkg", "generated", "openapi", "zz_generated.openapi.go")


def assets_dir() -> Path:
    """Where the documents live once built: `<cache>/openapi-v1.37.2-served/{swagger.json,...}`."""
    return cache_dir() / f"openapi-{KUBERNETES_VERSION}-{_FORM}"


def build() -> Path:
    """Fetch and copy the documents unless they are cached; the folder they are in."""
    target = assets_dir()
    with _LOCK:
        if (target / "swagger.json").is_file() and (target / "openapi-v2.binpb").is_file():
            return target
        try:
            found = download(
                [KUBERNETES_MODULE, _GNOSTIC], purpose="fetching the Kubernetes OpenAPI documents"
            )
            v2_messages = compile_descriptor_set(found[_GNOSTIC], [_GNOSTIC_PROTO])
        except (ModuleError, SchemaError) as exc:
            raise OpenApiError(str(exc)) from exc
        module = found[KUBERNETES_MODULE]
        source = module / "api" / "openapi-spec"
        enums = enum_fields((module / _GO_DEFINITIONS).read_text(encoding="utf-8"))
        partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        shutil.rmtree(partial, ignore_errors=True)
        (partial / "v3").mkdir(parents=True)
        (partial / "openapi-v2.binpb").write_bytes(v2_messages)
        for document in sorted((source / "v3").glob("*.json")):
            _write_served(document, partial / "v3" / document.name, enums)
        # swagger.json last: its presence says the copy is complete.
        _write_served(source / "swagger.json", partial / "swagger.json", enums)
        shutil.rmtree(target, ignore_errors=True)
        partial.replace(target)  # atomic: parallel builders never see half a copy
    return target


def _write_served(source: Path, target: Path, enums: EnumFields) -> None:
    published = _DECODER.decode(source.read_bytes())
    target.write_bytes(msgspec.json.encode(served_document(published, enums)))


@cache
def v3_document(group: str, version: str) -> dict[str, Any] | None:
    """The v3 document of one group version (`""`, `"v1"` is the core group); None if absent."""
    name = f"api__{version}" if not group else f"apis__{group}__{version}"
    return _load(assets_dir() / "v3" / f"{name}_openapi.json")


@cache
def v3_route_document(path: str) -> dict[str, Any] | None:
    """The v3 document of a route outside any group version (`version`, `apis/apps`,
    `.well-known/openid-configuration`); None if absent."""
    return _load(assets_dir() / "v3" / f"{path.replace('/', '__')}_openapi.json")


def v2_messages() -> bytes | None:
    """The FileDescriptorSet of gnostic's OpenAPIv2.proto (package openapi.v2), if built."""
    try:
        return (assets_dir() / "openapi-v2.binpb").read_bytes()
    except OSError:
        return None


@cache
def v2_document() -> dict[str, Any] | None:
    """The whole v2 (swagger) document; None when the assets are not built."""
    return _load(assets_dir() / "swagger.json")


def _load(path: Path) -> dict[str, Any] | None:
    try:
        data = path.read_bytes()
    except OSError:
        return None
    doc = _DECODER.decode(data)
    return doc if isinstance(doc, dict) else None


def main() -> int:
    """Build the documents (a no-op when cached) and print where they are."""
    try:
        print(build())
    except OpenApiError as exc:
        print(f"appliance-sim: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
