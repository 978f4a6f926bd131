"""The Kubernetes protobuf schemas, generated from k8s.io/api rather than written by hand.

kube-apiserver's protobuf messages are described by the `generated.proto` files of the Go modules
k8s.io/api, k8s.io/apimachinery and k8s.io/apiextensions-apiserver. The build step fetches those
modules through the Go module proxy (`go mod download`) and compiles every `generated.proto` into
one FileDescriptorSet with protoc (from the `grpcio-tools` wheel); the set lives in a cache
folder outside the repository, and the fake API decodes requests with it at run time. Nothing
downloaded is committed: the versions below and this step are the whole recipe.

    python -m simulator.api.protobuf_schema      # build (a no-op when cached); prints the path
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from simulator.api.go_modules import ModuleError, cache_dir, download
from simulator.errors import SimulatorError

__all__ = [
    "API_VERSION",
    "SchemaError",
    "compile_descriptor_set",
    "descriptor_set",
    "descriptor_set_path",
    "go_fields",
]

# The Go modules of Kubernetes 1.37's API types (the fake API answers as v1.31 servers do, and
# the wire format of every kind it serves is the same across these versions).
API_VERSION = "v0.37.2"
_MODULES = ("k8s.io/api", "k8s.io/apimachinery", "k8s.io/apiextensions-apiserver")
_LOCK = threading.Lock()
# Bumped when `_scan_types` learns something new, so that a cached build is made again.
_SCAN_REVISION = "r2"
# A Go struct and its fields in types.go: `type Volume struct {`, then
# `VolumeSource `json:"" protobuf:"bytes,2,opt,name=volumeSource"`` (embedded, inlined in JSON) or
# `HostPort int32 `json:"hostPort,omitempty" protobuf:"varint,5,opt,name=hostPort"``.
_STRUCT = re.compile(r"^type (\w+) struct \{")
_FIELD = re.compile(
    r'^\s*(\w+)\s*(\S*)\s+`json:"([\w-]*)((?:,\w+)*)"\s+protobuf:"\w+,\d+,\w+(?:,name=(\w+))?'
)


class SchemaError(SimulatorError):
    """The protobuf schemas could not be built; the message says what is missing."""


def descriptor_set_path() -> Path:
    """The FileDescriptorSet of the Kubernetes API types (built on first use)."""
    return cache_dir() / f"k8s-api-{API_VERSION}-{_SCAN_REVISION}.binpb"


@cache
def descriptor_set() -> bytes:
    """The serialized FileDescriptorSet, building it when it is not cached yet."""
    path = descriptor_set_path()
    with _LOCK:
        if not path.exists():
            _build(path)
    return path.read_bytes()


@dataclass(frozen=True)
class GoFields:
    """What the Go types say that the .proto files do not, keyed by (message, field)."""

    # Embedded structs whose JSON is inlined into their parent (`Volume.volumeSource`).
    inline: frozenset[tuple[str, str]]
    # Non-pointer scalars tagged omitempty: Go always writes them to protobuf, even as 0, "" or
    # false, and leaves them out of JSON when they are.
    omit_zero: frozenset[tuple[str, str]]
    # Fields whose JSON name is not their .proto name (`BoundObjectReference.aPIVersion` is
    # `apiVersion`, `uID` is `uid`).
    json_names: dict[tuple[str, str], str]

    def json_name(self, message: str, field: str) -> str:
        """The JSON name of `field` of `message`."""
        return self.json_names.get((message, field), field)


@cache
def go_fields() -> GoFields:
    """The inline and omitempty fields of the API types (read from types.go at build time)."""
    descriptor_set()
    doc = json.loads(descriptor_set_path().with_suffix(".fields.json").read_text())
    return GoFields(
        inline=frozenset((str(a), str(b)) for a, b in doc["inline"]),
        omit_zero=frozenset((str(a), str(b)) for a, b in doc["omitZero"]),
        json_names={(str(a), str(b)): str(c) for a, b, c in doc["renamed"]},
    )


def _scan_types(dirs: dict[str, Path]) -> dict[str, list[tuple[str, ...]]]:
    inline: set[tuple[str, str]] = set()
    omit_zero: set[tuple[str, str]] = set()
    renamed: set[tuple[str, str, str]] = set()
    for directory in dirs.values():
        for source in directory.rglob("types.go"):
            struct = ""
            for line in source.read_text(errors="replace").splitlines():
                if started := _STRUCT.match(line):
                    struct = started.group(1)
                    continue
                field = _FIELD.match(line)
                if field is None or not struct:
                    continue
                name, go_type, json_name, options, proto_name = field.groups()
                if not json_name:  # embedded and inlined: `VolumeSource `json:""``
                    embedded = go_type.rpartition(".")[2] or name
                    if embedded not in ("TypeMeta", "ListMeta"):
                        inline.add((embedded, proto_name or embedded[0].lower() + embedded[1:]))
                    continue
                if proto_name and json_name not in ("-", proto_name):
                    renamed.add((struct, proto_name, json_name))
                if "omitempty" in options and not go_type.startswith(("*", "[]", "map[")):
                    omit_zero.add((struct, proto_name or json_name))
    return {"inline": sorted(inline), "omitZero": sorted(omit_zero), "renamed": sorted(renamed)}


def _module_dirs() -> dict[str, Path]:
    wanted = [f"{module}@{API_VERSION}" for module in _MODULES]
    try:
        found = download(wanted, purpose="building the Kubernetes protobuf schemas")
    except ModuleError as exc:
        raise SchemaError(str(exc)) from exc
    return {key.partition("@")[0]: path for key, path in found.items()}


def compile_descriptor_set(root: Path, protos: list[str]) -> bytes:
    """protoc (from grpcio-tools) on `protos` (relative to `root`): one FileDescriptorSet."""
    try:
        from grpc_tools import protoc
    except ImportError as exc:
        raise SchemaError(
            "building protobuf schemas needs protoc: pip install grpcio-tools"
        ) from exc
    with tempfile.TemporaryDirectory(prefix="protoc-") as tmp:
        out = Path(tmp) / "set.binpb"
        include = str(Path(protoc.__file__).parent / "_proto")
        code = protoc.main(
            [
                "protoc",
                f"-I{root}",
                f"-I{include}",
                "--include_imports",
                f"--descriptor_set_out={out}",
                *protos,
            ]
        )
        if code != 0:
            raise SchemaError(f"protoc failed ({code}) on {len(protos)} files under {root}")
        return out.read_bytes()


def _build(target: Path) -> None:
    dirs = _module_dirs()
    with tempfile.TemporaryDirectory(prefix="k8s-protos-") as tmp:
        stage = Path(tmp) / "k8s.io"
        stage.mkdir()
        for module, directory in dirs.items():
            (stage / module.split("/", 1)[1]).symlink_to(directory)
        protos = sorted(
            str(p.relative_to(tmp))
            for p in Path(tmp).glob("k8s.io/*/**/generated.proto")
            if "testapigroup" not in p.parts
        )
        compiled = compile_descriptor_set(Path(tmp), protos)
    target.parent.mkdir(parents=True, exist_ok=True)
    fields = target.with_suffix(".fields.json")
    partial = fields.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(_scan_types(dirs)))
    partial.replace(fields)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(compiled)
    partial.replace(target)  # atomic, and last: parallel builders never see half a build


def main() -> int:
    """Build the schemas (a no-op when cached) and print where they are."""
    try:
        descriptor_set()
    except SchemaError as exc:
        print(f"appliance-sim: {exc}", file=sys.stderr)
        return exc.exit_code
    print(descriptor_set_path())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
