"""Which names an object may have, by kind, as kube-apiserver's validation decides them.

Most kinds take a DNS-1123 subdomain; a Namespace a DNS-1123 label, a Service a DNS-1035 label
(their names become DNS names); RBAC roles and bindings any name that is a safe path segment
(`system:controller:x` is one). The messages are apimachinery's own (`pkg/util/validation`,
`pkg/api/validate/content`), so a client shows the same refusal on both backends.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from simulator.api.kinds import KindInfo

__all__ = [
    "SUBDOMAIN_MESSAGE",
    "SUBDOMAIN_PATTERN",
    "dns1035_label_errors",
    "generate_name_errors",
    "kube_finalizer_refused",
    "label_errors",
    "label_key_errors",
    "label_value_errors",
    "name_errors",
    "path_segment_errors",
    "regex_error",
    "resource_label",
    "subdomain_errors",
]

_LABEL = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
SUBDOMAIN_PATTERN = _LABEL + "(\\." + _LABEL + ")*"
_DNS1035 = "[a-z]([-a-z0-9]*[a-z0-9])?"
# Compiled once: every create checks its name.
_LABEL_RE, _SUBDOMAIN_RE, _DNS1035_RE = (
    re.compile(p) for p in (_LABEL, SUBDOMAIN_PATTERN, _DNS1035)
)
_LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character"
)
SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character"
)
_DNS1035_MESSAGE = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character"
)


def regex_error(message: str, pattern: str, *examples: str) -> str:
    """apimachinery's RegexError: each example ends with ", " and later ones start with " or "
    (hence its two spaces: `'MyName',  or 'my.name', `)."""
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{message} (e.g. {shown}regex used for validation is '{pattern}')"


def resource_label(info: KindInfo) -> str:
    """`pods`, `deployments.apps`: how the API server names a resource in its messages."""
    return info.plural if not info.group else f"{info.plural}.{info.group}"


def _too_long(value: str, limit: int) -> list[str]:
    return [f"must be no more than {limit} characters"] if len(value) > limit else []


def _subdomain(value: str) -> list[str]:
    errors = _too_long(value, 253)
    if not _SUBDOMAIN_RE.fullmatch(value):
        errors.append(regex_error(SUBDOMAIN_MESSAGE, SUBDOMAIN_PATTERN, "example.com"))
    return errors


def _dns_label(value: str) -> list[str]:
    errors = _too_long(value, 63)
    if not _LABEL_RE.fullmatch(value):
        if _SUBDOMAIN_RE.fullmatch(value):
            errors.append("must not contain dots")  # a subdomain of the right length: the dots
        else:
            errors.append(regex_error(_LABEL_MESSAGE, _LABEL, "my-name", "123-abc"))
    return errors


def label_errors(value: str) -> list[str]:
    """Why `value` is not a DNS-1123 label (a container's name, a namespace's)."""
    return _dns_label(value)


def _dns1035_label(value: str) -> list[str]:
    errors = _too_long(value, 63)
    if not _DNS1035_RE.fullmatch(value):
        errors.append(regex_error(_DNS1035_MESSAGE, _DNS1035, "my-name", "abc-123"))
    return errors


def dns1035_label_errors(value: str) -> list[str]:
    """Why `value` is not a DNS-1035 label (a Service's name, a CRD's plural or version)."""
    return _dns1035_label(value)


def subdomain_errors(value: str) -> list[str]:
    """Why `value` is not a DNS-1123 subdomain (most names, an API group)."""
    return _subdomain(value)


def path_segment_errors(value: str) -> list[str]:
    """Why `value` cannot be a path segment (IsPathSegmentName: `.`, `..`, `/` or `%`)."""
    return _path_segment(value)


def _path_segment(value: str) -> list[str]:
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{c}'" for c in ("/", "%") if c in value]


_PATH_SEGMENT_GROUPS = frozenset({"rbac.authorization.k8s.io", "apiregistration.k8s.io"})


def _rule(info: KindInfo) -> Callable[[str], list[str]]:
    if info.group == "" and info.plural == "namespaces":
        return _dns_label
    if info.group == "" and info.plural == "services":
        return _dns1035_label
    if info.group in _PATH_SEGMENT_GROUPS or (info.group, info.plural) == ("", "events"):
        # A core/v1 Event's: its strategy checks no name (BeforeCreate's); an APIService's also
        # must be its spec's version.group (not checked here: `v1.` is one).
        return _path_segment
    return _subdomain


def name_errors(info: KindInfo, name: str) -> list[str]:
    """Why `name` is not one `info` may have, as kube-apiserver's field errors ([] when it is)."""
    return [f'metadata.name: Invalid value: "{name}": {e}' for e in _rule(info)(name)]


def generate_name_errors(info: KindInfo, prefix: str) -> list[str]:
    """Why `prefix` is no `generateName` for `info` (ValidateObjectMeta's, before the name's):
    the name's rule with a trailing dash masked (maskTrailingDash: the last two characters
    become an `a`); a path segment's prefix may only not hold `/` or `%`."""
    rule = _rule(info)
    if rule is _path_segment:
        found = [f"may not contain '{c}'" for c in ("/", "%") if c in prefix]
    else:
        masked = f"{prefix[:-2]}a" if len(prefix) > 1 and prefix.endswith("-") else prefix
        found = rule(masked)
    return [f'metadata.generateName: Invalid value: "{prefix}": {e}' for e in found]


# The finalizers core names without a domain prefix (helper.IsStandardFinalizerName).
_STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})


def kube_finalizer_refused(name: str) -> bool:
    """validateKubeFinalizerName: a built-in kind's finalizer without a prefix must be one of
    Kubernetes' own ("name is neither a standard finalizer name nor is it fully qualified")."""
    return "/" not in name and name not in _STANDARD_FINALIZERS


# Label keys (and annotation keys) are qualified names; label values are their own rule.
_QUALIFIED = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_VALUE = f"({_QUALIFIED})?"
_QUALIFIED_RE, _VALUE_RE = re.compile(_QUALIFIED), re.compile(_VALUE)
_QUALIFIED_MESSAGE = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character"
)
_VALUE_MESSAGE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character"
)


# Memoised: the same few label keys and values come back on object after object (a pod
# template's labels are its workload's), and the rules are pure functions of the text.
@functools.lru_cache(maxsize=4096)
def label_key_errors(key: str) -> tuple[str, ...]:
    """apimachinery's IsQualifiedName, with its v1.37 words (lengths in bytes)."""
    parts = key.split("/")
    if len(parts) > 2:
        return (
            f"a valid label key {regex_error(_QUALIFIED_MESSAGE, _QUALIFIED, *_EXAMPLES)} with an "
            "optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
        )
    errors: list[str] = []
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            if len(prefix.encode()) > 253:
                errors.append("prefix part must be no more than 253 bytes")
            if not _SUBDOMAIN_RE.fullmatch(prefix):
                errors.append(
                    "prefix part "
                    + regex_error(SUBDOMAIN_MESSAGE, SUBDOMAIN_PATTERN, "example.com")
                )
    name = parts[-1]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name.encode()) > 63:
        errors.append("name part must be no more than 63 bytes")
    if not _QUALIFIED_RE.fullmatch(name):
        errors.append(f"name part {regex_error(_QUALIFIED_MESSAGE, _QUALIFIED, *_EXAMPLES)}")
    return tuple(errors)


_EXAMPLES = ("MyName", "my.name", "123-abc")


@functools.lru_cache(maxsize=4096)
def label_value_errors(value: str) -> tuple[str, ...]:
    """apimachinery's IsValidLabelValue, with its v1.37 words."""
    errors = ["must be no more than 63 bytes"] if len(value.encode()) > 63 else []
    if not _VALUE_RE.fullmatch(value):
        errors.append(regex_error(_VALUE_MESSAGE, _VALUE, "MyValue", "my_value", "12345"))
    return tuple(errors)
