"""The control plane's programs, built from Go modules into a cache keyed by what was built.

`tools/control-plane/<module>/go.mod` pins each program (Kubernetes and etcd in one module, each
Flux controller in its own: their dependency graphs disagree). A build goes to
`.cache/control-plane/<module>-<version>-<key>/` where the key hashes go.mod, go.sum and the Go
version, so a changed pin or toolchain builds anew and an unchanged one is found in a
millisecond. A build lands in a temporary folder first and is renamed into place, so an
interrupted build never looks finished; a lock per key keeps two test runs from building the same
thing at once.

helm-controller is optional: nothing the product deploys is a HelmRelease, so no test runs it and
a cold CI machine should not spend minutes compiling it. Its module is still downloaded for its
CRDs (the status engine reads HelmReleases); `build --all` (or `build_missing(optional=True)`)
compiles the program too, and `run --backend control-plane` starts it when it is there.

    python -m simulator.controlplane.binaries build [--all]  # ./tasks test runs `build`
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from simulator.errors import SimulatorError
from simulator.world.timeline import format_duration

__all__ = [
    "FLUX_PROGRAMS",
    "KUBERNETES_PROGRAMS",
    "MODULES",
    "BinaryError",
    "GoModule",
    "build_missing",
    "find_binaries",
    "flux_crd_files",
    "main",
    "missing_reason",
]

_REPO = Path(__file__).resolve().parents[2]
TOOLS_DIR = _REPO / "tools" / "control-plane"
# A build needs a Go toolchain and the module proxy; CI sets this so a failed build fails the
# run instead of skipping the real-control-plane tests.
REQUIRED_ENV = "APPLIANCE_SIM_REQUIRE_CONTROL_PLANE"


class BinaryError(SimulatorError):
    """A program cannot be built or found; the message says which and why."""


@dataclass(frozen=True)
class GoModule:
    """One module under tools/control-plane and the programs it builds (name -> package)."""

    directory: str
    main: str  # the module whose version names the build
    programs: tuple[tuple[str, str], ...]
    # Folders of the main module's source copied beside the programs (the Flux CRDs).
    assets: tuple[str, ...] = ()
    # Programs compiled only when asked for (the assets are always fetched).
    optional: bool = False
    # Files the main module's source needs and its module zip lacks (path -> text), written
    # into a copy of it that the build uses instead (the flux CLI's embedded manifests).
    generated: tuple[tuple[str, str], ...] = ()

    @property
    def path(self) -> Path:
        return TOOLS_DIR / self.directory

    def version(self) -> str:
        """The pinned version of the main requirement (`v1.37.2`)."""
        text = (self.path / "go.mod").read_text(encoding="utf-8")
        found = re.search(rf"^\s*(?:require\s+)?{re.escape(self.main)}\s+(v\S+)", text, re.M)
        return found.group(1) if found else "unversioned"

    def ldflags(self) -> str:
        """Version stamps a release build links in (`kubectl version` and clients parse them)."""
        if self.main != "k8s.io/kubernetes":
            return ""
        version = self.version()
        major, minor = version.lstrip("v").split(".")[:2]
        stamps = {
            "gitVersion": version,
            "gitMajor": major,
            "gitMinor": minor,
            "gitTreeState": "clean",
        }
        return " ".join(
            f"-X {package}.{name}={value}"
            for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
            for name, value in stamps.items()
        )

    def key(self, go_version: str) -> str:
        """`kubernetes-v1.37.2-1a2b3c4d5e6f`: what to build, from which pins, with which Go."""
        digest = hashlib.sha256(go_version.encode())
        digest.update(self.ldflags().encode())
        digest.update(" ".join(self.assets).encode())
        if self.generated:  # (a module without any keeps the key it had)
            digest.update(repr(self.generated).encode())
        for name in ("go.mod", "go.sum"):
            digest.update((self.path / name).read_bytes())
        for source in sorted(self.path.glob("*/*.go")):  # programs of our own (kstatus/)
            digest.update(source.relative_to(self.path).as_posix().encode())
            digest.update(source.read_bytes())
        return f"{self.directory}-{self.version()}-{digest.hexdigest()[:12]}"


# Programs of ours built in a module's folder, against exactly the dependencies it pins:
# kstatus-verdicts prints kustomize-controller's health verdicts (its status readers), the judge
# of the simulated Flux's health checks (simulator/world/kstatus.py).
_OWN_PROGRAMS = {
    "kustomize-controller": (
        ("kstatus-verdicts", "appliance.example/control-plane/kustomize-controller/kstatus"),
    ),
}

MODULES: tuple[GoModule, ...] = (
    GoModule(
        "kubernetes",
        "k8s.io/kubernetes",
        (
            ("etcd", "go.etcd.io/etcd/server/v3"),
            ("kube-apiserver", "k8s.io/kubernetes/cmd/kube-apiserver"),
            ("kube-controller-manager", "k8s.io/kubernetes/cmd/kube-controller-manager"),
        ),
    ),
    *(
        GoModule(
            name,
            f"github.com/fluxcd/{name}",
            ((name, f"github.com/fluxcd/{name}"), *_OWN_PROGRAMS.get(name, ())),
            assets=("config/crd/bases",),
            optional=name == "helm-controller",
        )
        for name in ("source-controller", "kustomize-controller", "helm-controller")
    ),
    GoModule(
        "flux-cli",
        "github.com/fluxcd/flux2/v2",
        (("flux", "github.com/fluxcd/flux2/v2/cmd/flux"),),
        # `flux install`'s manifests come from Flux's release (its Makefile bundles them):
        # without one the package does not compile; the judge runs get and reconcile.
        generated=(("cmd/flux/manifests/none.yaml", "# flux install is not in this build\n"),),
    ),
)


def cache_root() -> Path:
    """Where builds are kept (`APPLIANCE_SIM_CACHE` overrides; the default is git-ignored)."""
    override = os.environ.get("APPLIANCE_SIM_CACHE")
    return Path(override) / "control-plane" if override else _REPO / ".cache" / "control-plane"


def _go() -> str | None:
    return shutil.which("go")


@functools.cache
def _go_version(go: str) -> str:
    done = subprocess.run(
        [go, "env", "GOVERSION"], capture_output=True, text=True, check=False, timeout=60
    )
    if done.returncode != 0:
        raise BinaryError(f"`go env GOVERSION` failed: {done.stderr.strip()[-300:]}")
    return done.stdout.strip()


def _folder(module: GoModule, go_version: str) -> Path:
    return cache_root() / module.key(go_version)


KUBERNETES_PROGRAMS = ("etcd", "kube-apiserver", "kube-controller-manager")
# The Flux controllers the product needs (helm-controller is optional, see the module docstring).
FLUX_PROGRAMS = ("source-controller", "kustomize-controller")


def missing_reason(programs: Sequence[str] = KUBERNETES_PROGRAMS + FLUX_PROGRAMS) -> str | None:
    """Why `programs` cannot run here: None when they are built, or Go is there to build them."""
    if not TOOLS_DIR.is_dir():
        return f"{TOOLS_DIR} is absent (the simulator is not installed from its repository)"
    if _go() is not None:
        return None
    absent = [name for name in programs if name not in find_binaries()]
    if absent:
        return f"no Go toolchain on PATH to build {', '.join(absent)} (tools/control-plane)"
    return None


def _module_folder(module: GoModule) -> Path | None:
    """Where `module` was built: for this Go, or without Go on PATH the newest build."""
    go = _go()
    if go is not None:
        folder = _folder(module, _go_version(go))
        return folder if folder.is_dir() else None
    candidates = sorted(
        (
            p
            for p in cache_root().glob(f"{module.directory}-{module.version()}-*")
            if p.is_dir() and not p.name.endswith(".partial")
        ),
        key=lambda p: p.stat().st_mtime,
    )
    return candidates[-1] if candidates else None


def find_binaries() -> dict[str, Path]:
    """Program name -> executable, for every program already built (nothing is built here)."""
    found: dict[str, Path] = {}
    for module in MODULES:
        folder = _module_folder(module)
        if folder is None:
            continue
        for name, _ in module.programs:
            path = folder / name
            if os.access(path, os.X_OK):
                found[name] = path
    return found


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(go: str, module: GoModule, folder: Path, log: Path, *, programs: bool) -> None:
    """Build `module` into `folder`: its assets, and its programs when `programs`.

    A new folder is filled under a temporary name and renamed into place; programs added to an
    existing (assets-only) folder are each written under a temporary name and renamed.
    """
    env = {**os.environ, "GOFLAGS": "-mod=readonly -buildvcs=false"}
    if module.generated and programs:
        with tempfile.TemporaryDirectory(prefix="go-build-") as scratch:
            env["GOFLAGS"] += f" -modfile={_with_generated(go, module, env, Path(scratch))}"
            _build_in(go, module, folder, log, env, programs=programs)
        return
    _build_in(go, module, folder, log, env, programs=programs)


def _with_generated(go: str, module: GoModule, env: dict[str, str], scratch: Path) -> Path:
    """A writable copy of the main module's source with `module.generated` written into it,
    and a go.mod (with its go.sum) that builds from that copy; returns the go.mod."""
    source = scratch / "source"
    shutil.copytree(_module_dir(go, module, env), source)
    for path in source.rglob("*"):
        path.chmod(path.stat().st_mode | 0o200)  # the module cache is read-only
    for relative, text in module.generated:
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        (source / relative).write_text(text, encoding="utf-8")
    modfile = scratch / "go.mod"
    text = (module.path / "go.mod").read_text(encoding="utf-8")
    modfile.write_text(f"{text}\nreplace {module.main} => {source}\n", encoding="utf-8")
    shutil.copy(module.path / "go.sum", scratch / "go.sum")
    return modfile


def _build_in(
    go: str, module: GoModule, folder: Path, log: Path, env: dict[str, str], *, programs: bool
) -> None:
    fresh = not folder.is_dir()
    target = folder.with_name(folder.name + ".partial") if fresh else folder
    if fresh:
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
    with log.open("a") as out:
        for name, package in module.programs if programs else ():
            if (target / name).exists():
                continue
            partial = target / f"{name}.partial"
            done = subprocess.run(
                [go, "build", "-ldflags", module.ldflags(), "-o", str(partial), package],
                cwd=module.path,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                check=False,
            )
            if done.returncode != 0:
                raise BinaryError(
                    f"building {name} ({package}) in {module.path} failed; the log is {log}"
                )
            partial.rename(target / name)
    if fresh:
        if module.assets:
            source = _module_dir(go, module, env)
            for asset in module.assets:
                shutil.copytree(source / asset, target / Path(asset).name)
        target.rename(folder)


def _module_dir(go: str, module: GoModule, env: dict[str, str]) -> Path:
    # `go mod download` first: an assets-only module was never fetched by a build.
    subprocess.run(
        [go, "mod", "download", module.main],
        cwd=module.path,
        env=env,
        capture_output=True,
        check=False,
        timeout=600,
    )
    done = subprocess.run(
        [go, "list", "-m", "-f", "{{.Dir}}", module.main],
        cwd=module.path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise BinaryError(f"cannot find the source of {module.main}: {done.stderr.strip()}")
    return Path(done.stdout.strip())


def flux_crd_files() -> list[Path]:
    """The CustomResourceDefinitions of the Flux controllers (from their modules, built or not)."""
    files: list[Path] = []
    for module in MODULES:
        if module.assets:
            folder = _module_folder(module)
            if folder is not None:
                files += sorted((folder / "bases").glob("*.yaml"))
    return files


def build_missing(echo: bool = True, *, optional: bool = False) -> dict[str, Path]:
    """Build what is not in the cache (optional programs too when `optional`); returns
    program name -> executable for everything built."""
    go = _go()
    if go is None:
        raise BinaryError("no Go toolchain on PATH: install Go 1.26 to build the control plane")
    go_version = _go_version(go)
    for module in MODULES:
        folder = _folder(module, go_version)
        programs = optional or not module.optional
        wanted = [name for name, _ in module.programs] if programs else []
        with _locked(folder.with_name(folder.name + ".lock")):
            if folder.is_dir() and all((folder / name).exists() for name in wanted):
                continue
            started = time.monotonic()
            what = "" if programs else " (its CRDs only)"
            if echo:
                print(f"    building {module.directory} {module.version()}{what} ...", flush=True)
            log = folder.with_name(folder.name + ".log")
            _build(go, module, folder, log, programs=programs)
            if echo:
                took = time.monotonic() - started
                print(
                    f"    built {module.directory} in {format_duration(took)} -> {folder}",
                    flush=True,
                )
    return find_binaries()


def main(argv: Sequence[str] | None = None) -> int:
    """`build`: build what is missing and say how long it took (./tasks test runs this)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args not in (["build"], ["build", "--all"]):
        print("usage: python -m simulator.controlplane.binaries build [--all]", file=sys.stderr)
        return 2
    required = os.environ.get(REQUIRED_ENV, "") not in ("", "0")
    reason = missing_reason()
    if reason is not None:
        print(f"    control plane not built: {reason}", file=sys.stderr)
        return 1 if required else 0
    started = time.monotonic()
    try:
        build_missing(optional=args == ["build", "--all"])
    except BinaryError as exc:
        print(f"    control plane not built: {exc}", file=sys.stderr)
        return 1 if required else 0
    print(f"    control plane binaries ready in {time.monotonic() - started:.1f}s ({cache_root()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
