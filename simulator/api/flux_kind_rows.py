"""The Flux 2.4 kinds as plain rows, read by the kind table (`kind_table.FLUX_KINDS`) and by the
fake `flux` CLI (the CRDs `flux install` applies, the paths it asks for).

Free of imports on purpose: the CLI is a process per command, and importing the kind table (its
dataclasses, every built-in kind) was a fifth of each `flux` start's CPU.
"""

from __future__ import annotations

__all__ = ["FLUX_KIND_ROWS"]

_SOURCE, _KUSTOMIZE = "source.toolkit.fluxcd.io", "kustomize.toolkit.fluxcd.io"
_HELM, _NOTIFICATION = "helm.toolkit.fluxcd.io", "notification.toolkit.fluxcd.io"

# (group, kind, plural, short names, served versions with the storage version first)
FLUX_KIND_ROWS: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (_SOURCE, "GitRepository", "gitrepositories", ("gitrepo",), ("v1", "v1beta2")),
    (_SOURCE, "HelmRepository", "helmrepositories", ("helmrepo",), ("v1", "v1beta2")),
    (_SOURCE, "HelmChart", "helmcharts", ("hc",), ("v1", "v1beta2")),
    (_SOURCE, "OCIRepository", "ocirepositories", ("ocirepo",), ("v1beta2",)),
    (_SOURCE, "Bucket", "buckets", (), ("v1beta2",)),
    (_KUSTOMIZE, "Kustomization", "kustomizations", ("ks",), ("v1", "v1beta2")),
    (_HELM, "HelmRelease", "helmreleases", ("hr",), ("v2", "v2beta2", "v2beta1")),
    (_NOTIFICATION, "Alert", "alerts", (), ("v1beta3", "v1beta2")),
    (_NOTIFICATION, "Provider", "providers", (), ("v1beta3", "v1beta2")),
    (_NOTIFICATION, "Receiver", "receivers", (), ("v1", "v1beta2")),
)
