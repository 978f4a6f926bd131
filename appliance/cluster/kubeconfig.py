"""A kubeconfig read as kubectl reads it, but safely: the file and the credential files it names
(a CA, a client certificate and key, a token file) must be regular files of bounded size (a
FIFO, `/dev/zero` or a directory is an error, not a hang or an exhausted memory), the document
must have the shape the client library assumes (a `server` that is a string, a `user` that is a
map), and an error never quotes the file's content, which holds keys, passwords and tokens.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from appliance.errors import ClusterError
from appliance.files import open_regular, read_regular

__all__ = ["client_complaints", "load_kubeconfig", "redacted"]

_LIMIT = 4 * 1024 * 1024  # far above any real kubeconfig (certificates inlined included)
_FILE_LIMIT = 1024 * 1024  # a certificate, a key or a token
# The fields that name a file the client library reads, by the entry's inner key.
_FILES = {
    "cluster": ("certificate-authority",),
    "user": ("client-certificate", "client-key", "tokenFile"),
}


def load_kubeconfig(path: Path) -> dict[str, Any]:
    """The kubeconfig at `path`, checked, with the files it names made absolute (relative to
    the kubeconfig's folder, as kubectl resolves them); ClusterError in one line otherwise."""
    data = read_regular(path, what="kubeconfig", limit=_LIMIT, error=ClusterError)
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ClusterError(f"kubeconfig {path} is not valid YAML{where}") from None
    except RecursionError:
        raise ClusterError(f"kubeconfig {path} is nested too deeply to be a kubeconfig") from None
    if not isinstance(doc, dict) or not doc.get("clusters"):
        raise ClusterError(
            f"kubeconfig {path} has no clusters; it is not a kubeconfig (expected 'clusters:', "
            "'users:' and 'contexts:')"
        )
    for section, inner in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
        for index, entry in enumerate(_entries(path, doc, section)):
            where = f"kubeconfig {path}: {section}[{index}]"
            if not isinstance(entry, dict) or not isinstance(entry.get("name", ""), str):
                raise ClusterError(f"{where} is not a map with a name")
            body = entry.get(inner)
            if body is None and inner == "user":
                continue
            if not isinstance(body, dict):
                raise ClusterError(f"{where}.{inner} is not a map")
            if inner == "cluster":
                _check_cluster(where, body)
            for key in _FILES.get(inner, ()):
                if body.get(key) is not None:
                    body[key] = _credential_file(path, f"{where}.{inner}.{key}", body[key])
    if not isinstance(doc.get("current-context", ""), str):
        raise ClusterError(f"kubeconfig {path}: current-context is not a string")
    return doc


def _check_cluster(where: str, cluster: dict[str, Any]) -> None:
    """A server URL, and a proxy the client can use (a SOCKS one needs PySocks)."""
    if _scheme(cluster.get("server")) not in ("https", "http"):
        raise ClusterError(f"{where}.cluster.server is not an https:// URL")
    if not isinstance(cluster.get("insecure-skip-tls-verify", False), bool):
        # The client library takes any non-empty text ("no" included) as true.
        raise ClusterError(f"{where}.cluster.insecure-skip-tls-verify is not true or false")
    proxy = cluster.get("proxy-url")
    if proxy is None:
        return
    scheme = _scheme(proxy)
    if scheme not in ("http", "https", "socks5", "socks5h"):
        raise ClusterError(
            f"{where}.cluster.proxy-url is not an http://, https:// or socks5:// URL"
        )
    if scheme.startswith("socks") and importlib.util.find_spec("socks") is None:
        raise ClusterError(
            f"{where}.cluster.proxy-url is a SOCKS proxy, which needs the PySocks package "
            "(pip install pysocks)"
        )


def _scheme(url: object) -> str:
    """A URL's scheme, "" for what is no URL (a number, `https://[::1`)."""
    try:
        return urlsplit(url).scheme if isinstance(url, str) else ""
    except ValueError:
        return ""


def _entries(path: Path, doc: dict[str, Any], section: str) -> list[Any]:
    entries = doc.get(section) or []
    if not isinstance(entries, list):
        raise ClusterError(f"kubeconfig {path}: {section} is not a list")
    return entries


def _credential_file(path: Path, where: str, value: object) -> str:
    """A credential file the kubeconfig names, absolute, checked to be a bounded regular file."""
    if not isinstance(value, str) or not value:
        raise ClusterError(f"{where} is not a file name")
    named = Path(value).expanduser()
    target = named if named.is_absolute() else path.parent / named
    with open_regular(target, what=where.split(": ", 1)[1], limit=_FILE_LIMIT, error=_in(path)):
        pass
    return str(target)


def _in(path: Path) -> Any:
    return lambda message: ClusterError(f"kubeconfig {path}: {message}")


def redacted(exc: BaseException) -> str:
    """What the client library said, cut before it quotes the kubeconfig's content (it prints
    a user's whole map, keys and passwords included, into some of its errors)."""
    text = (str(exc).splitlines() or [""])[0]
    kept = re.split(r"[{\[]", text, maxsplit=1)[0].rstrip(" :,/")
    return kept or type(exc).__name__


@contextlib.contextmanager
def client_complaints() -> Iterator[list[str]]:
    """What the client library logs instead of raising while it loads a kubeconfig, collected
    (and kept off stderr) for the caller to raise. It runs a user's credential plugin (`exec`)
    at load time and, when the plugin fails, logs `exec: process returned 1` on the root logger
    and carries on without credentials: kubectl stops there, and so must we."""
    complaints: list[str] = []

    loading = threading.get_ident()  # another thread's load keeps its own complaints

    def collect(record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR or not record.pathname.endswith("kube_config.py"):
            return True
        if record.thread != loading:
            return True
        complaints.append(record.getMessage())
        return False

    root = logging.getLogger()
    root.addFilter(collect)
    try:
        yield complaints
    finally:
        root.removeFilter(collect)
