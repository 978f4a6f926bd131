"""What kube-apiserver's Service storage does besides storing (pkg/registry/core/service/storage,
v1.37): it allocates a cluster IP and node ports, keeps what it allocated when an update leaves
them out, and drops what a new type no longer uses.

- A create: `clusterIP` alone (an old client, or `None` for a headless Service) also fills
  `clusterIPs`; a NodePort or LoadBalancer Service (unless `allocateLoadBalancerNodePorts` is
  false) gets a node port for each port, a requested one checked against the range and against
  every other Service's; a LoadBalancer with `externalTrafficPolicy: Local` a health check port.
- An update (patchAllocatedValues, normalizeClusterIPs, allocateUpdate, then the strategy's
  dropTypeDependentFields): what the client left out is what was allocated; a type that needs
  no cluster IP or node ports drops them, with the IP families, the traffic policies and the
  load balancer's status, unless the client changed them too.

Node ports are taken as the portallocator takes them, from the range's upper band first (the
lower one is kept for ports asked by number), but in a deterministic order (a hash of the
Service and port), so that a scenario allocates the same ports on every run. Which ports are
taken is read from the stored Services, as the allocator's bitmap would say.
"""

from __future__ import annotations

import copy
import ipaddress
import itertools
import re
import zlib
from collections.abc import Iterable
from typing import Any

from simulator.api.kinds import KindInfo
from simulator.api.store.errors import InvalidError, StoreError
from simulator.api.store.go_values import bad_value, not_supported
from simulator.api.store.object_meta import invalid_object

__all__ = ["NODE_PORT_RANGE", "allocate_service", "next_cluster_ip"]

Obj = dict[str, Any]
NODE_PORT_RANGE = range(30000, 32768)
# portallocator's static band: min(max(16, size/32), 128) ports at the bottom of the range.
_STATIC_BAND = min(max(16, len(NODE_PORT_RANGE) // 32), 128)
_RANGE_TEXT = f"{NODE_PORT_RANGE.start}-{NODE_PORT_RANGE.stop - 1}"
_cluster_ips = itertools.count(1)
_ONE_STACK = "must be 'RequireDualStack' or 'PreferDualStack'"
_FAMILIES = ("IPv4", "IPv6")
_POLICIES = ("PreferDualStack", "RequireDualStack", "SingleStack")
_NOT_AN_ADDRESS = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"


class _Refused(Exception):
    """Field errors of the Service being allocated; allocate_service names the kind."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(errors)
        self.errors = errors


def allocate_service(
    info: KindInfo, stored: dict[Any, Obj], new: Obj, live: Obj | None
) -> Obj | None:
    """What a write of a Service allocates, keeps and drops (`stored`: the Services by key;
    `live`: the stored Service an update replaces). An update's answer is `new` as it was
    before, whose fields the writer's manager owns (kube-apiserver's field manager runs before
    its storage); a create's is None (its managed fields are tracked before), as is any other
    kind's, which is left as it is."""
    if info.group != "" or info.kind != "Service":
        return None
    try:
        if live is None:  # a create's managed fields are tracked before; nothing to keep
            _allocate_on_create(stored.values(), new)
            return None
        sent = copy.deepcopy(new)
        _allocate_on_update(stored.values(), live, new)
    except _Refused as refused:
        name = str((new.get("metadata") or {}).get("name", ""))
        raise invalid_object(info, name, refused.errors) from None
    return sent


def next_cluster_ip() -> str:
    """The next address of the service range (10.96.0.0/12), after kubernetes' own .1."""
    n = next(_cluster_ips)
    return f"10.96.{(n // 250) % 250}.{n % 250 + 1}"


def _spec(svc: Obj) -> Obj:
    spec = svc.get("spec")
    return spec if isinstance(spec, dict) else {}


def _ports(svc: Obj) -> list[Obj]:
    return [p for p in _spec(svc).get("ports") or [] if isinstance(p, dict)]


def _needs_cluster_ip(svc: Obj) -> bool:
    return _spec(svc).get("type") != "ExternalName"


def _needs_node_ports(svc: Obj) -> bool:
    spec = _spec(svc)
    kind = spec.get("type")
    return kind == "NodePort" or (
        kind == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is not False
    )


def _needs_health_check_port(svc: Obj) -> bool:
    spec = _spec(svc)
    return spec.get("type") == "LoadBalancer" and spec.get("externalTrafficPolicy") == "Local"


def _externally_accessible(svc: Obj) -> bool:
    spec = _spec(svc)
    return spec.get("type") in ("LoadBalancer", "NodePort") or (
        spec.get("type") == "ClusterIP" and bool(spec.get("externalIPs"))
    )


def _node_ports(svc: Obj) -> list[int]:
    return [
        p["nodePort"] for p in _ports(svc) if isinstance(p.get("nodePort"), int) and p["nodePort"]
    ]


class _PortOperation:
    """One write's view of the node port allocator (portallocator.StartOperation)."""

    def __init__(self, services: Iterable[Obj], svc: Obj) -> None:
        """Every stored Service's ports are taken, the one `svc` replaces included: an update
        releases its old ports only once it is stored (ReleaseDeferred)."""
        meta = svc.get("metadata") or {}
        self.taken: set[int] = set()
        for other in services:
            self.taken.update(_node_ports(other))
            health = _spec(other).get("healthCheckNodePort")
            if isinstance(health, int) and health:
                self.taken.add(health)
        self.seed = f"{meta.get('namespace')}/{meta.get('name')}"

    def allocate(self, port: int) -> str | None:
        """Reserve `port`; the allocator's words when it cannot."""
        if port not in NODE_PORT_RANGE:
            return (
                "provided port is not in the valid range. The range of valid ports is "
                f"{_RANGE_TEXT}"
            )
        if port in self.taken:
            return "provided port is already allocated"
        self.taken.add(port)
        return None

    def allocate_next(self) -> int:
        dynamic = range(NODE_PORT_RANGE.start + _STATIC_BAND, NODE_PORT_RANGE.stop)
        start = zlib.crc32(f"{self.seed}#{len(self.taken)}".encode()) % len(dynamic)
        order = itertools.chain(
            dynamic[start:], dynamic[:start], range(NODE_PORT_RANGE.start, dynamic.start)
        )
        for port in order:
            if port not in self.taken:
                self.taken.add(port)
                return port
        raise InvalidError("failed to allocate a nodePort: range is full")


def _refused(index: int, port: object, words: str) -> _Refused:
    return _Refused([f"spec.ports[{index}].nodePort: Invalid value: {port}: {words}"])


def _init_node_ports(svc: Obj, operation: _PortOperation) -> None:
    """initNodePorts: the same port number shares one node port; a requested one is checked."""
    by_port: dict[object, int] = {}
    ports = _ports(svc)
    for index, port in enumerate(ports):
        if not port.get("nodePort") and not _needs_node_ports(svc):
            continue  # a LoadBalancer without node ports still keeps the ones asked for
        shared = by_port.get(port.get("port"))
        if shared is None:
            asked = next(
                (
                    p["nodePort"]
                    for p in ports
                    if p.get("port") == port.get("port") and p.get("nodePort")
                ),
                0,
            )
            if asked:
                if (words := operation.allocate(asked)) is not None:
                    raise _refused(index, asked, words)
                port["nodePort"] = asked
            else:
                port["nodePort"] = operation.allocate_next()
            by_port[port.get("port")] = port["nodePort"]
        elif port.get("nodePort") != shared:
            if not port.get("nodePort"):
                port["nodePort"] = shared
            elif (words := operation.allocate(port["nodePort"])) is not None:
                raise _refused(index, port["nodePort"], words)


def _update_node_ports(svc: Obj, live: Obj, operation: _PortOperation) -> None:
    """updateNodePorts: the old Service's ports stay its own; new ones are checked or taken."""
    mine = set(_node_ports(live))  # the old Service's own, and those this write took
    for index, port in enumerate(_ports(svc)):
        if not port.get("nodePort") and not _needs_node_ports(svc):
            continue
        number = port.get("nodePort")
        if number and number not in mine:
            if (words := operation.allocate(number)) is not None:
                raise _refused(index, number, words)
            mine.add(number)
        elif not number:
            port["nodePort"] = operation.allocate_next()


def _allocate_on_create(services: Iterable[Obj], svc: Obj) -> None:
    """A new Service's IP families, cluster IP and node ports (`services`: those stored)."""
    spec = svc.setdefault("spec", {})
    if spec.get("clusterIP") and not spec.get("clusterIPs"):
        spec["clusterIPs"] = [spec["clusterIP"]]
    _init_ip_families(svc, None)
    if _needs_cluster_ip(svc) and not spec.get("clusterIP"):
        spec["clusterIP"] = next_cluster_ip()
        spec["clusterIPs"] = [spec["clusterIP"]]
    if spec.get("type") not in ("NodePort", "LoadBalancer"):
        return
    operation = _PortOperation(services, svc)
    _init_node_ports(svc, operation)
    if _needs_health_check_port(svc):
        _health_check_port(spec, operation)


def _health_check_port(spec: Obj, operation: _PortOperation) -> None:
    """allocHealthCheckNodePort: the one asked for, or the next; a 500 when the asked one is
    not free (kube-apiserver wraps it as an internal error)."""
    asked = spec.get("healthCheckNodePort")
    if not asked:
        spec["healthCheckNodePort"] = operation.allocate_next()
    elif (words := operation.allocate(asked)) is not None:
        problem = f"failed to allocate requested HealthCheck NodePort {asked}: {words}"
        raise StoreError(f"Internal error occurred: {problem}", causes=[{"message": problem}])


def _allocate_on_update(services: Iterable[Obj], live: Obj, svc: Obj) -> None:
    """An updated Service: allocated values kept, new ones allocated, and what its type no
    longer uses dropped (the candidate `svc` is decoded and defaulted)."""
    spec, old = svc.setdefault("spec", {}), _spec(live)
    _patch_allocated_values(svc, live)
    _normalize_cluster_ips(spec, old)
    _init_ip_families(svc, live)
    if not _needs_cluster_ip(live) and _needs_cluster_ip(svc) and not spec.get("clusterIP"):
        spec["clusterIP"] = next_cluster_ip()
        spec["clusterIPs"] = [spec["clusterIP"]]
    operation = _PortOperation(services, svc)
    if spec.get("type") in ("NodePort", "LoadBalancer"):
        _update_node_ports(svc, live, operation)
    if _needs_health_check_port(svc) and not _needs_health_check_port(live):
        _health_check_port(spec, operation)
    _drop_type_dependent_fields(svc, live)


def _init_ip_families(svc: Obj, live: Obj | None) -> None:
    """initIPFamilyFields on a single-stack IPv4 cluster: the policy asked for (or the old
    one, or RequireDualStack for a headless Service without a selector, else SingleStack),
    the families the cluster IPs imply; dual-stack refused, except for that headless case."""
    spec = _spec(svc)
    if spec.get("type") == "ExternalName":
        return
    if spec.get("ipFamilyPolicy") is None:
        old = _spec(live).get("ipFamilyPolicy") if live is not None else None
        headless = spec.get("clusterIP") == "None" and not spec.get("selector")
        spec["ipFamilyPolicy"] = old or ("RequireDualStack" if headless else "SingleStack")
    policy, families = spec["ipFamilyPolicy"], list(spec.get("ipFamilies") or [])
    shown = f"spec.ipFamilyPolicy: Invalid value: {bad_value(policy)}"
    errors = _related_field_errors(spec, _spec(live) if live is not None else {})
    if errors:  # the loose pre-validation: bail out before the families are inferred
        raise _Refused(errors)
    if policy == "SingleStack" and len(spec.get("clusterIPs") or []) == 2:
        errors.append(f"{shown}: {_ONE_STACK} when multiple cluster IPs are specified")
    if policy == "SingleStack" and len(families) == 2:
        errors.append(f"{shown}: {_ONE_STACK} when multiple IP families are specified")
    errors += _implied_families(spec, families)
    if not errors and spec.get("clusterIP") == "None" and not spec.get("selector"):
        families = families or ["IPv4"]
        if len(families) < 2 and policy != "SingleStack":
            families.append("IPv6" if families[0] == "IPv4" else "IPv4")
        spec["ipFamilies"] = families
        return
    if not errors and policy == "RequireDualStack":
        errors.append(f"{shown}: this cluster is not configured for dual-stack services")
    if not errors:
        errors += [
            f"spec.ipFamilies[{i}]: Invalid value: {bad_value(f)}: not configured on this cluster"
            for i, f in enumerate(families)
            if f != "IPv4"
        ]
    if errors:
        raise _Refused(errors)
    spec["ipFamilies"] = families or ["IPv4"]


def _related_field_errors(spec: Obj, old: Obj) -> list[str]:
    """ValidateServiceClusterIPsRelatedFields, single-stack: clusterIP and clusterIPs agree,
    families and policy are known ones, each cluster IP is an address (or the one `None`)."""
    errors: list[str] = []
    single, many = str(spec.get("clusterIP") or ""), list(spec.get("clusterIPs") or [])
    shown = f"spec.clusterIPs: Invalid value: {bad_value(spec.get('clusterIPs'))}"
    if single and not many:
        errors.append("spec.clusterIPs: Required value")
    elif single and many[0] != single:
        errors.append(f"{shown}: first value must match `clusterIP`")
    elif not single and many:
        errors.append(f"{shown}: must be empty when `clusterIP` is not specified")
    seen: set[object] = set()
    for i, family in enumerate(spec.get("ipFamilies") or []):
        if family not in _FAMILIES:
            errors.append(not_supported(f"spec.ipFamilies[{i}]", family, _FAMILIES))
        if family in seen:
            errors.append(f"spec.ipFamilies[{i}]: Duplicate value: {bad_value(family)}")
        seen.add(family)
    if spec.get("ipFamilyPolicy") not in _POLICIES:
        errors.append(not_supported("spec.ipFamilyPolicy", spec.get("ipFamilyPolicy"), _POLICIES))
    existing = old.get("clusterIPs") or []
    for i, value in enumerate(many):
        if i == 0 and value == "None":
            if len(many) > 1:
                errors.append(f"{shown}: 'None' must be the first and only value")
            continue
        problem = None if value in existing else _address_problem(str(value))
        if problem:
            errors.append(f"spec.clusterIPs[{i}]: Invalid value: {bad_value(value)}: {problem}")
    if len(many) > 2:
        errors.append(f"{shown}: may only hold up to 2 values")
    return errors


def _address_problem(text: str) -> str | None:
    """parseIP with StrictIPCIDRValidation (on since v1.36): an address, no leading zeros,
    not an IPv4-mapped IPv6 one."""
    if re.fullmatch(r"[0-9]+(\.[0-9]+){3}", text):
        parts = text.split(".")
        if any(int(part) > 255 for part in parts):
            return _NOT_AN_ADDRESS
        return "must not have leading 0s" if any(p != str(int(p)) for p in parts) else None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return _NOT_AN_ADDRESS
    mapped = isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None
    return "must not be an IPv4-mapped IPv6 address" if mapped else None


def _implied_families(spec: Obj, families: list[str]) -> list[str]:
    """The families the cluster IPs imply, added to `families`; an IPv6 one is refused."""
    errors = []
    for i, ip in enumerate(spec.get("clusterIPs") or []):
        if ip == "None":
            break
        family = "IPv6" if ":" in str(ip) else "IPv4"
        if i >= len(families) and family != "IPv4":
            where = f"spec.clusterIPs[{i}]: Invalid value: {bad_value(spec['clusterIPs'])}"
            errors.append(f"{where}: {family} is not configured on this cluster")
        elif i >= len(families):
            families.append(family)
    return errors


def _patch_allocated_values(svc: Obj, live: Obj) -> None:
    spec, old = _spec(svc), _spec(live)
    if _needs_cluster_ip(live) and _needs_cluster_ip(svc):
        if not spec.get("clusterIP") and old.get("clusterIP"):
            spec["clusterIP"] = old["clusterIP"]
        if not spec.get("clusterIPs") and old.get("clusterIPs"):
            spec["clusterIPs"] = list(old["clusterIPs"])
    if _needs_node_ports(live) and _needs_node_ports(svc):
        used = set(_node_ports(live)) & set(_node_ports(svc))
        by_name = {p.get("name", ""): p.get("nodePort") for p in _ports(live)}
        for port in _ports(svc):
            kept = by_name.get(port.get("name", ""))
            if not port.get("nodePort") and kept and kept not in used:
                port["nodePort"] = kept
    if (
        _needs_health_check_port(live)
        and _needs_health_check_port(svc)
        and not spec.get("healthCheckNodePort")
        and old.get("healthCheckNodePort")
    ):
        spec["healthCheckNodePort"] = old["healthCheckNodePort"]


def _normalize_cluster_ips(spec: Obj, old: Obj) -> None:
    before, after = old.get("clusterIP") or "", spec.get("clusterIP") or ""
    if old.get("clusterIPs") and not spec.get("clusterIPs") and before == after:
        spec["clusterIPs"] = list(old["clusterIPs"])  # an old client's patch left them out
    if before != after:
        same_plural = (old.get("clusterIPs") or []) == (spec.get("clusterIPs") or [])
        if before and not after:
            if same_plural:
                spec.pop("clusterIPs", None)
        elif same_plural:
            spec["clusterIPs"] = [after]


def _drop_type_dependent_fields(svc: Obj, live: Obj) -> None:
    """What a type that no longer uses them drops, unless the client changed them too (then
    validation speaks)."""
    spec, old = _spec(svc), _spec(live)

    def drop(*keys: str) -> None:
        if all(old.get(key) == spec.get(key) for key in keys):
            for key in keys:
                spec.pop(key, None)

    if _needs_cluster_ip(live) and not _needs_cluster_ip(svc):
        drop("clusterIP", "clusterIPs")
        drop("ipFamilies")
        drop("ipFamilyPolicy")
    # The strategy's needsNodePort is the type's alone, and its sameNodePorts a subset test.
    uses_ports = ("NodePort", "LoadBalancer")
    if (
        old.get("type") in uses_ports
        and spec.get("type") not in uses_ports
        and set(_node_ports(svc)) <= set(_node_ports(live))
    ):
        for port in _ports(svc):
            port.pop("nodePort", None)
    if _needs_health_check_port(live) and not _needs_health_check_port(svc):
        drop("healthCheckNodePort")
    if old.get("type") == "LoadBalancer" and spec.get("type") != "LoadBalancer":
        if "allocateLoadBalancerNodePorts" in old:
            drop("allocateLoadBalancerNodePorts")
        drop("loadBalancerClass")
    if _externally_accessible(live) and not _externally_accessible(svc):
        drop("externalTrafficPolicy")
    if spec.get("type") == "ExternalName":
        spec.pop("internalTrafficPolicy", None)  # defaultOnReadInternalTrafficPolicy
    if spec.get("type") != "LoadBalancer" and isinstance(svc.get("status"), dict):
        svc["status"]["loadBalancer"] = {}
