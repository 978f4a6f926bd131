"""Pod Security admission's baseline checks (k8s.io/pod-security-admission v0.37,
policy/check_*.go), each with its words, at the release `version` names; and the helpers of
policy/helpers.go and visitor.go the restricted checks share. pod_security.py runs them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = [
    "app_armor",
    "capabilities",
    "containers_named",
    "each_container",
    "host_namespaces",
    "host_path_volumes",
    "host_ports",
    "host_probes",
    "host_process",
    "plural",
    "privileged",
    "proc_mount",
    "quote",
    "se_linux",
    "seccomp",
    "security_context",
    "setters_of",
    "sysctls",
]

Obj = dict[str, Any]
Found = tuple[str, str] | None


# -- helpers of policy/helpers.go and visitor.go ------------------------------------------------


def quote(items: list[str]) -> str:
    return '"' + '", "'.join(items) + '"' if items else ""


def plural(singular: str, plural: str, count: int) -> str:
    return singular if count == 1 else plural


def each_container(spec: Obj) -> Iterator[Obj]:
    """Init containers, containers, then ephemeral containers (visitContainers)."""
    for field in ("initContainers", "containers", "ephemeralContainers"):
        yield from (c for c in spec.get(field) or [] if isinstance(c, dict))


def security_context(obj: Obj) -> Obj:
    context = obj.get("securityContext")
    return context if isinstance(context, dict) else {}


def containers_named(containers: list[str]) -> str:
    return f"{plural('container', 'containers', len(containers))} {quote(containers)}"


def setters_of(pod_set: bool, containers: list[str]) -> list[str]:
    return (["pod"] if pod_set else []) + ([containers_named(containers)] if containers else [])


# -- the baseline checks, in the order of their IDs ----------------------------------------------


def profile_setters(spec: Obj, field: str, allowed: set[str]) -> tuple[list[str], set[str]]:
    """Who sets the profile `field` (appArmorProfile, seccompProfile) to a type not `allowed`
    (`pod`, `container(s) "a", ...`), and those types."""
    bad_values: set[str] = set()

    def bad(obj: Obj) -> bool:
        profile = security_context(obj).get(field)
        if isinstance(profile, dict) and profile.get("type") not in allowed:
            bad_values.add(str(profile.get("type") or ""))
            return True
        return False

    pod_bad = bad(spec)
    containers = [str(c.get("name")) for c in each_container(spec) if bad(c)]
    return setters_of(pod_bad, containers), bad_values


def app_armor(meta: Obj, spec: Obj, version: tuple[int, int]) -> Found:
    setters, bad_values = profile_setters(spec, "appArmorProfile", {"RuntimeDefault", "Localhost"})
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
        setters.append(plural("annotation", "annotations", len(annotations)))
    if not setters:
        return None
    return (
        plural("forbidden AppArmor profile", "forbidden AppArmor profiles", len(values)),
        f"{' and '.join(setters)} must not set AppArmor profile type to {quote(values)}",
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


def capabilities(meta: Obj, spec: Obj, version: tuple[int, int]) -> Found:
    containers, added = [], set()
    for container in each_container(spec):
        extra = {
            str(c)
            for c in (security_context(container).get("capabilities") or {}).get("add") or []
            if str(c) not in _DEFAULT_CAPABILITIES
        }
        if extra:
            containers.append(str(container.get("name")))
            added |= extra
    if not containers:
        return None
    detail = f"{containers_named(containers)} must not include {quote(sorted(added))} in "
    return "non-default capabilities", detail + "securityContext.capabilities.add"


def host_namespaces(meta: Obj, spec: Obj, version: tuple[int, int]) -> Found:
    used = [f"{key}=true" for key in ("hostNetwork", "hostPID", "hostIPC") if spec.get(key)]
    return ("host namespaces", ", ".join(used)) if used else None


def host_path_volumes(meta: Obj, spec: Obj, version: tuple[int, int]) -> Found:
    volumes = [str(v.get("name")) for v in spec.get("volumes") or [] if v.get("hostPath")]
    if not volumes:
        return None
    return "hostPath volumes", f"{plural('volume', 'volumes', len(volumes))} {quote(volumes)}"


def host_ports(meta: Obj, spec: Obj, version: tuple[int, int]) -> Found:
    containers, ports = [], set()
    for container in each_container(spec):
        used = {str(p.get("hostPort")) for p in container.get("ports") or [] if p.get("hostPort")}
        if used:
            containers.append(str(container.get("name")))
            ports |= used
    if not containers:
        return None
    verb = plural("uses", "use", len(containers))
    noun = plural("hostPort", "hostPorts", len(ports))
    return "hostPort", f"{containers_named(containers)} {verb} {noun} {', '.join(sorted(ports))}"


def hosts_of(handler: Obj | None) -> list[str]:
    if not isinstance(handler, dict):
        return []
    return [
        str(action["host"])
        for action in (handler.get("httpGet"), handler.get("tcpSocket"))
        if isinstance(action, dict) and action.get("host")
    ]


def host_probes(meta: Obj, spec: Obj, version: tuple[int, int]) -> Found:
    if version < (1, 34):
        return None
    containers, hosts = set(), set()
    for container in each_container(spec):
        lifecycle = container.get("lifecycle") or {}
        handlers = [container.get(p) for p in ("livenessProbe", "readinessProbe", "startupProbe")]
        handlers += [lifecycle.get("postStart"), lifecycle.get("preStop")]
        found = [host for handler in handlers for host in hosts_of(handler)]
        if found:
            containers.add(str(container.get("name")))
            hosts |= set(found)
    if not containers:
        return None
    noun = plural("probe or lifecycle host", "probe or lifecycle hosts", len(hosts))
    verb = plural("uses", "use", len(containers))
    named = containers_named(sorted(containers))
    return "probe or lifecycle host", f"{named} {verb} {noun} {quote(sorted(hosts))}"


def privileged(meta: Obj, spec: Obj, version: tuple[int, int]) -> Found:
    containers = [
        str(c.get("name")) for c in each_container(spec) if security_context(c).get("privileged")
    ]
    if not containers:
        return None
    return (
        "privileged",
        f"{containers_named(containers)} must not set securityContext.privileged=true",
    )


def proc_mount(meta: Obj, spec: Obj, version: tuple[int, int]) -> Found:
    if version >= (1, 35) and spec.get("hostUsers") is False:
        return None  # a pod in a user namespace may
    containers, kinds = [], set()
    for container in each_container(spec):
        mount = security_context(container).get("procMount")
        if mount is not None and mount != "Default":
            containers.append(str(container.get("name")))
            kinds.add(str(mount))
    if not containers:
        return None
    kinds_set = quote(sorted(kinds))
    return (
        "procMount",
        f"{containers_named(containers)} must not set securityContext.procMount to {kinds_set}",
    )


def se_linux(meta: Obj, spec: Obj, version: tuple[int, int]) -> Found:
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

    pod_options = security_context(spec).get("seLinuxOptions")
    pod_bad = isinstance(pod_options, dict) and not valid(pod_options)
    containers = [
        str(c.get("name"))
        for c in each_container(spec)
        if isinstance(security_context(c).get("seLinuxOptions"), dict)
        and not valid(security_context(c)["seLinuxOptions"])
    ]
    setters = setters_of(pod_bad, containers)
    if not setters:
        return None
    data = (
        [f"{plural('type', 'types', len(bad_types))} {quote(sorted(bad_types))}"]
        if bad_types
        else []
    )
    data += ["user may not be set"] if user else []
    data += ["role may not be set"] if role else []
    detail = f"{' and '.join(setters)} set forbidden securityContext.seLinuxOptions: "
    return "seLinuxOptions", detail + "; ".join(data)


def seccomp(meta: Obj, spec: Obj, version: tuple[int, int]) -> Found:
    setters, bad_values = profile_setters(spec, "seccompProfile", {"Localhost", "RuntimeDefault"})
    if not setters:
        return None
    detail = f"{' and '.join(setters)} must not set securityContext.seccompProfile.type to "
    return "seccompProfile", detail + quote(sorted(bad_values))


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


def sysctls(meta: Obj, spec: Obj, version: tuple[int, int]) -> Found:
    allowed = {name for since, names in _SYSCTLS if version >= since for name in names}
    forbidden = [
        str(s.get("name"))
        for s in security_context(spec).get("sysctls") or []
        if isinstance(s, dict) and s.get("name") not in allowed
    ]
    return ("forbidden sysctls", ", ".join(forbidden)) if forbidden else None


def host_process(meta: Obj, spec: Obj, version: tuple[int, int]) -> Found:
    def host_process(obj: Obj) -> bool:
        return bool((security_context(obj).get("windowsOptions") or {}).get("hostProcess"))

    containers = [str(c.get("name")) for c in each_container(spec) if host_process(c)]
    setters = setters_of(host_process(spec), containers)
    if not setters:
        return None
    return "hostProcess", f"{' and '.join(setters)} must not set " + (
        "securityContext.windowsOptions.hostProcess=true"
    )
