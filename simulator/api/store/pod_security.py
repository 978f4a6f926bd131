"""Pod Security admission's enforce mode at the `baseline` level (k8s.io/pod-security-admission
v0.37, policy/check_*.go), ported check by check with their words.

A namespace labelled `pod-security.kubernetes.io/enforce: baseline` (or `restricted`, of which
the baseline checks are a part) refuses a new pod that breaks one of the baseline checks:
`pods "x" is forbidden: violates PodSecurity "baseline:latest": host namespaces
(hostNetwork=true), hostPort (container "c" uses hostPort 80)`, each failed check's reason and
detail, in the order of the checks' IDs. `pod-security.kubernetes.io/enforce-version` picks the
checks of a release (`v1.30`; `latest`, the default, is v1.37's); a value that does not parse
is `latest`. Talos enforces `baseline` in every namespace by default (its admission
configuration); a plain kube-apiserver, and so the fake API, only where a label says so.

Not modelled: the `restricted` level's own checks (a restricted namespace refuses what
`baseline` refuses, not more), the warn and audit modes (their `Warning:` headers), the
exemptions, checks on updates, and seccomp's pre-1.19 annotations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["pod_security_refusal"]

Obj = dict[str, Any]
Check = Callable[[Obj, Obj, tuple[int, int]], tuple[str, str] | None]
_LABEL = "pod-security.kubernetes.io/enforce"
_LATEST = (1, 37)
_ENFORCED = frozenset({"baseline", "restricted"})


def pod_security_refusal(namespace: Obj | None, pod: Obj) -> str | None:
    """`violates PodSecurity "baseline:latest": ...` when the namespace's enforce level refuses
    `pod` (as admitted so far), else None."""
    labels = ((namespace or {}).get("metadata") or {}).get("labels") or {}
    level = labels.get(_LABEL)
    if level not in _ENFORCED:
        return None
    label_version = str(labels.get(f"{_LABEL}-version") or "latest")
    version = _parse_version(label_version)
    shown = label_version if version is not None else "latest"
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    failed = [
        found for check in _CHECKS if (found := check(meta, spec, version or _LATEST)) is not None
    ]
    if not failed:
        return None
    details = ", ".join(f"{reason} ({detail})" if detail else reason for reason, detail in failed)
    return f'violates PodSecurity "{level}:{shown}": {details}'


def _parse_version(text: str) -> tuple[int, int] | None:
    """`v1.30` as (1, 30), newer than the checks' newest as it; None for `latest` or nonsense."""
    major, _, minor = text.removeprefix("v").partition(".")
    if not (text.startswith("v") and major == "1" and minor.isdigit()):
        return None
    return min((1, int(minor)), _LATEST)


# -- helpers of policy/helpers.go and visitor.go ------------------------------------------------


def _quote(items: list[str]) -> str:
    return '"' + '", "'.join(items) + '"' if items else ""


def _plural(singular: str, plural: str, count: int) -> str:
    return singular if count == 1 else plural


def _containers(spec: Obj) -> Iterator[Obj]:
    """Init containers, containers, then ephemeral containers (visitContainers)."""
    for field in ("initContainers", "containers", "ephemeralContainers"):
        yield from (c for c in spec.get(field) or [] if isinstance(c, dict))


def _context(obj: Obj) -> Obj:
    context = obj.get("securityContext")
    return context if isinstance(context, dict) else {}


def _named(containers: list[str]) -> str:
    return f"{_plural('container', 'containers', len(containers))} {_quote(containers)}"


def _setters(pod_set: bool, containers: list[str]) -> list[str]:
    return (["pod"] if pod_set else []) + ([_named(containers)] if containers else [])


# -- the baseline checks, in the order of their IDs ----------------------------------------------


def _profile_setters(spec: Obj, field: str, allowed: set[str]) -> tuple[list[str], set[str]]:
    """Who sets the profile `field` (appArmorProfile, seccompProfile) to a type not `allowed`
    (`pod`, `container(s) "a", ...`), and those types."""
    bad_values: set[str] = set()

    def bad(obj: Obj) -> bool:
        profile = _context(obj).get(field)
        if isinstance(profile, dict) and profile.get("type") not in allowed:
            bad_values.add(str(profile.get("type") or ""))
            return True
        return False

    pod_bad = bad(spec)
    containers = [str(c.get("name")) for c in _containers(spec) if bad(c)]
    return _setters(pod_bad, containers), bad_values


def _app_armor(meta: Obj, spec: Obj, version: tuple[int, int]) -> tuple[str, str] | None:
    setters, bad_values = _profile_setters(spec, "appArmorProfile", {"RuntimeDefault", "Localhost"})
    prefix = "container.apparmor.security.beta.kubernetes.io/"
    annotations = sorted(
        f'{key}="{value}"'
        for key, value in (meta.get("annotations") or {}).items()
        if key.startswith(prefix)
        and value
        and value != "runtime/default"
        and not str(value).startswith("localhost/")
    )
    values = sorted(bad_values) + annotations
    if annotations:
        setters.append(_plural("annotation", "annotations", len(annotations)))
    if not setters:
        return None
    return (
        _plural("forbidden AppArmor profile", "forbidden AppArmor profiles", len(values)),
        f"{' and '.join(setters)} must not set AppArmor profile type to {_quote(values)}",
    )


_DEFAULT_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)


def _capabilities(meta: Obj, spec: Obj, version: tuple[int, int]) -> tuple[str, str] | None:
    containers, added = [], set()
    for container in _containers(spec):
        extra = {
            str(c)
            for c in (_context(container).get("capabilities") or {}).get("add") or []
            if str(c) not in _DEFAULT_CAPABILITIES
        }
        if extra:
            containers.append(str(container.get("name")))
            added |= extra
    if not containers:
        return None
    detail = f"{_named(containers)} must not include {_quote(sorted(added))} in "
    return "non-default capabilities", detail + "securityContext.capabilities.add"


def _host_namespaces(meta: Obj, spec: Obj, version: tuple[int, int]) -> tuple[str, str] | None:
    used = [f"{key}=true" for key in ("hostNetwork", "hostPID", "hostIPC") if spec.get(key)]
    return ("host namespaces", ", ".join(used)) if used else None


def _host_path_volumes(meta: Obj, spec: Obj, version: tuple[int, int]) -> tuple[str, str] | None:
    volumes = [str(v.get("name")) for v in spec.get("volumes") or [] if v.get("hostPath")]
    if not volumes:
        return None
    return "hostPath volumes", f"{_plural('volume', 'volumes', len(volumes))} {_quote(volumes)}"


def _host_ports(meta: Obj, spec: Obj, version: tuple[int, int]) -> tuple[str, str] | None:
    containers, ports = [], set()
    for container in _containers(spec):
        used = {str(p.get("hostPort")) for p in container.get("ports") or [] if p.get("hostPort")}
        if used:
            containers.append(str(container.get("name")))
            ports |= used
    if not containers:
        return None
    verb = _plural("uses", "use", len(containers))
    noun = _plural("hostPort", "hostPorts", len(ports))
    return "hostPort", f"{_named(containers)} {verb} {noun} {', '.join(sorted(ports))}"


def _hosts_of(handler: Obj | None) -> list[str]:
    if not isinstance(handler, dict):
        return []
    return [
        str(action["host"])
        for action in (handler.get("httpGet"), handler.get("tcpSocket"))
        if isinstance(action, dict) and action.get("host")
    ]


def _host_probes(meta: Obj, spec: Obj, version: tuple[int, int]) -> tuple[str, str] | None:
    if version < (1, 34):
        return None
    containers, hosts = set(), set()
    for container in _containers(spec):
        lifecycle = container.get("lifecycle") or {}
        handlers = [container.get(p) for p in ("livenessProbe", "readinessProbe", "startupProbe")]
        handlers += [lifecycle.get("postStart"), lifecycle.get("preStop")]
        found = [host for handler in handlers for host in _hosts_of(handler)]
        if found:
            containers.add(str(container.get("name")))
            hosts |= set(found)
    if not containers:
        return None
    noun = _plural("probe or lifecycle host", "probe or lifecycle hosts", len(hosts))
    verb = _plural("uses", "use", len(containers))
    named = _named(sorted(containers))
    return "probe or lifecycle host", f"{named} {verb} {noun} {_quote(sorted(hosts))}"


def _privileged(meta: Obj, spec: Obj, version: tuple[int, int]) -> tuple[str, str] | None:
    containers = [str(c.get("name")) for c in _containers(spec) if _context(c).get("privileged")]
    if not containers:
        return None
    return "privileged", f"{_named(containers)} must not set securityContext.privileged=true"


def _proc_mount(meta: Obj, spec: Obj, version: tuple[int, int]) -> tuple[str, str] | None:
    if version >= (1, 35) and spec.get("hostUsers") is False:
        return None  # a pod in a user namespace may
    containers, kinds = [], set()
    for container in _containers(spec):
        mount = _context(container).get("procMount")
        if mount is not None and mount != "Default":
            containers.append(str(container.get("name")))
            kinds.add(str(mount))
    if not containers:
        return None
    detail = (
        f"{_named(containers)} must not set securityContext.procMount to {_quote(sorted(kinds))}"
    )
    return "procMount", detail


def _se_linux(meta: Obj, spec: Obj, version: tuple[int, int]) -> tuple[str, str] | None:
    allowed = {"", "container_t", "container_init_t", "container_kvm_t"}
    if version >= (1, 31):
        allowed.add("container_engine_t")
    bad_types: set[str] = set()
    user = role = False

    def valid(options: Obj) -> bool:
        nonlocal user, role
        ok = str(options.get("type") or "") in allowed
        if not ok:
            bad_types.add(str(options.get("type") or ""))
        if options.get("user"):
            ok, user = False, True
        if options.get("role"):
            ok, role = False, True
        return ok

    pod_options = _context(spec).get("seLinuxOptions")
    pod_bad = isinstance(pod_options, dict) and not valid(pod_options)
    containers = [
        str(c.get("name"))
        for c in _containers(spec)
        if isinstance(_context(c).get("seLinuxOptions"), dict)
        and not valid(_context(c)["seLinuxOptions"])
    ]
    setters = _setters(pod_bad, containers)
    if not setters:
        return None
    data = (
        [f"{_plural('type', 'types', len(bad_types))} {_quote(sorted(bad_types))}"]
        if bad_types
        else []
    )
    data += ["user may not be set"] if user else []
    data += ["role may not be set"] if role else []
    detail = f"{' and '.join(setters)} set forbidden securityContext.seLinuxOptions: "
    return "seLinuxOptions", detail + "; ".join(data)


def _seccomp(meta: Obj, spec: Obj, version: tuple[int, int]) -> tuple[str, str] | None:
    setters, bad_values = _profile_setters(spec, "seccompProfile", {"Localhost", "RuntimeDefault"})
    if not setters:
        return None
    detail = f"{' and '.join(setters)} must not set securityContext.seccompProfile.type to "
    return "seccompProfile", detail + _quote(sorted(bad_values))


_SYSCTLS = (
    ((1, 0), {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range"}),
    ((1, 0), {"net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range"}),
    ((1, 0), {"net.ipv4.ip_unprivileged_port_start"}),
    ((1, 27), {"net.ipv4.ip_local_reserved_ports"}),
    ((1, 29), {"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout"}),
    ((1, 29), {"net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes"}),
    ((1, 32), {"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"}),
    ((1, 37), {"net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"}),
)


def _sysctls(meta: Obj, spec: Obj, version: tuple[int, int]) -> tuple[str, str] | None:
    allowed = {name for since, names in _SYSCTLS if version >= since for name in names}
    forbidden = [
        str(s.get("name"))
        for s in _context(spec).get("sysctls") or []
        if isinstance(s, dict) and s.get("name") not in allowed
    ]
    return ("forbidden sysctls", ", ".join(forbidden)) if forbidden else None


def _host_process(meta: Obj, spec: Obj, version: tuple[int, int]) -> tuple[str, str] | None:
    def host_process(obj: Obj) -> bool:
        return bool((_context(obj).get("windowsOptions") or {}).get("hostProcess"))

    containers = [str(c.get("name")) for c in _containers(spec) if host_process(c)]
    setters = _setters(host_process(spec), containers)
    if not setters:
        return None
    return "hostProcess", f"{' and '.join(setters)} must not set " + (
        "securityContext.windowsOptions.hostProcess=true"
    )


# Sorted by check ID, as the registry orders them (appArmorProfile, capabilities_baseline,
# hostNamespaces, hostPathVolumes, hostPorts, hostProbesAndHostLifecycle, privileged, procMount,
# seLinuxOptions, seccompProfile_baseline, sysctls, windowsHostProcess).
_CHECKS: tuple[Check, ...] = (
    _app_armor,
    _capabilities,
    _host_namespaces,
    _host_path_volumes,
    _host_ports,
    _host_probes,
    _privileged,
    _proc_mount,
    _se_linux,
    _seccomp,
    _sysctls,
    _host_process,
)
