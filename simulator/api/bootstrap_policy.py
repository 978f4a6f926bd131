"""The RBAC policy kube-apiserver creates for itself, fetched as a Go module, never committed.

kube-apiserver's `rbac/bootstrap-roles` post-start hook creates the default ClusterRoles
(cluster-admin, admin, edit, view, system:discovery, system:basic-user, system:controller:*, ...),
their ClusterRoleBindings, and the Roles and RoleBindings of kube-system and kube-public. The
k8s.io/kubernetes module keeps exactly those objects as the test data its own tests compare the
policy code with (`plugin/pkg/auth/authorizer/rbac/bootstrappolicy/testdata`, Apache-2.0). The
build step fetches the module (the one `openapi_assets` fetches: on CI it is one download) and
writes the objects as one JSON list into the cache folder; each process reads it once.

`cluster-roles.yaml` is the policy under default feature gates, what a real v1.37.2 serves
(tests/integration/test_fake_api_vs_apiserver_rbac.py compares them);
`cluster-roles-featuregates.yaml` adds the rules of alpha features, off by default, so it is not
used.

    python -m simulator.api.bootstrap_policy      # build (a no-op when cached); prints the file
"""

from __future__ import annotations

import os
import sys
import threading
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
import yaml

from simulator.api.go_modules import ModuleError, cache_dir, download
from simulator.api.openapi_assets import KUBERNETES_MODULE, KUBERNETES_VERSION
from simulator.errors import SimulatorError

__all__ = ["BootstrapPolicyError", "bootstrap_policy", "build", "encoded_policy", "policy_file"]

_TESTDATA = Path("plugin", "pkg", "auth", "authorizer", "rbac", "bootstrappolicy", "testdata")
# In the order the hook creates them: roles before the bindings that name them.
_FILES = (
    "cluster-roles.yaml",
    "controller-roles.yaml",
    "cluster-role-bindings.yaml",
    "controller-role-bindings.yaml",
    "namespace-roles.yaml",
    "namespace-role-bindings.yaml",
)
_LOCK = threading.Lock()


class BootstrapPolicyError(SimulatorError):
    """The policy could not be fetched; the message says what is missing."""


def policy_file() -> Path:
    """Where the policy lives once built: `<cache>/rbac-bootstrap-policy-v1.37.2.json`."""
    return cache_dir() / f"rbac-bootstrap-policy-{KUBERNETES_VERSION}.json"


def build() -> Path:
    """Fetch the module and write the policy unless it is cached; the file it is in."""
    target = policy_file()
    with _LOCK:
        if target.is_file():
            return target
        try:
            found = download([KUBERNETES_MODULE], purpose="fetching the RBAC bootstrap policy")
        except ModuleError as exc:
            raise BootstrapPolicyError(str(exc)) from exc
        objects: list[dict[str, Any]] = []
        for name in _FILES:
            listing = yaml.safe_load((found[KUBERNETES_MODULE] / _TESTDATA / name).read_bytes())
            # `rules: null` is how the test data prints an aggregated role's absent rules.
            objects.extend(
                {k: v for k, v in item.items() if v is not None} for item in listing["items"]
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        partial.write_bytes(msgspec.json.encode(objects))
        partial.replace(target)  # atomic: parallel builders never see half a file
    # A process that read before the build (and found nothing) reads again.
    bootstrap_policy.cache_clear()
    encoded_policy.cache_clear()
    return target


@cache
def bootstrap_policy() -> tuple[dict[str, Any], ...]:
    """The policy's objects in creation order, read once per process (never mutate them);
    empty when not built, as a kube-apiserver whose hook has not run yet serves none."""
    try:
        data = policy_file().read_bytes()
    except OSError:
        return ()
    return tuple(msgspec.json.decode(data))


@cache
def encoded_policy() -> tuple[bytes, ...]:
    """Each object's JSON, encoded once per process: a server's start decodes fresh copies."""
    return tuple(msgspec.json.encode(obj) for obj in bootstrap_policy())


def main() -> int:
    """Build the policy (a no-op when cached) and print where it is."""
    try:
        print(build())
    except BootstrapPolicyError as exc:
        print(f"appliance-sim: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
