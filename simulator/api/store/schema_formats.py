"""The string formats a custom resource's schema may name, checked as kube-apiserver checks them.

apiextensions-apiserver keeps the formats of `supportedVersionedFormats` for validation (the rest
are dropped from the schema first); these are go-openapi strfmt.Default's checks of the common
ones, by the name go-openapi normalises them to (dashes dropped). A format not here is not
checked.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import uuid
from collections.abc import Callable
from datetime import date, datetime

__all__ = ["FORMATS"]


def _date_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return "T" in text.upper() or " " in text


def _date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _ip(version: int) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        try:
            return ipaddress.ip_address(text).version == version
        except ValueError:
            return False

    return check


def _cidr(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return "/" in text


def _byte(text: str) -> bool:
    try:
        base64.b64decode(text, validate=True)
    except ValueError:
        return False
    return True


def _uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


# go-openapi's hostname expression with its Unicode letter and symbol classes left out.
_HOSTNAME = re.compile(
    r"^([a-zA-Z0-9]((-?[a-zA-Z0-9]{0,62})?)|"
    r"([a-zA-Z0-9](([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.)){1,}([a-zA-Z]){2,63})$"
)
_MAC = re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$")
_DURATION = re.compile(r"^(-?\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")

FORMATS: dict[str, Callable[[str], bool]] = {
    "datetime": _date_time,
    "date": _date,
    "ipv4": _ip(4),
    "ipv6": _ip(6),
    "cidr": _cidr,
    "byte": _byte,
    "uuid": _uuid,
    "hostname": lambda text: bool(_HOSTNAME.match(text)) and len(text) <= 255,
    "mac": lambda text: bool(_MAC.match(text)),
    "duration": lambda text: bool(_DURATION.match(text)),
    "password": lambda _text: True,
}
