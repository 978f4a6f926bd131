"""A corpus of Kubernetes API requests: what `appliance-sim fidelity` sends to both backends.

Each request is kept as it was sent (method, path, query, the headers that change the answer,
the body) with who sent it (`admin` or `system:serviceaccount:NS:NAME`: each backend hands out its
own credential for that identity) and where it came from (`source`: the product, kubectl, the
official client, helm; `actor`: the program or command that made it, for the table). A corpus is
a JSON-lines file, one request a line, so it can be recorded once and replayed anywhere.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.errors import SimulatorError

__all__ = [
    "PRODUCT",
    "SOURCES",
    "CorpusError",
    "CorpusRequest",
    "load_corpus",
    "of_source",
    "save_corpus",
]

PRODUCT = "product"
SOURCES = (PRODUCT, "flux", "kubectl", "client", "helm")
ADMIN = "admin"


class CorpusError(SimulatorError):
    """A corpus file that cannot be read: the message names the file, line and field."""


@dataclass(frozen=True)
class CorpusRequest:
    """One request as a client sent it."""

    source: str
    actor: str
    user: str
    method: str
    path: str
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str:
        """A header's value ('' when absent); names are lower case."""
        return next((value for key, value in self.headers if key == name), "")

    @property
    def is_watch(self) -> bool:
        return any(part in ("watch=true", "watch=1") for part in self.query.split("&"))

    @property
    def target(self) -> str:
        """`GET /api/v1/pods?watch=true`: what the table shows."""
        return f"{self.method} {self.path}" + (f"?{self.query}" if self.query else "")

    def to_json(self) -> dict[str, Any]:
        """The JSON-lines form: a UTF-8 body as text, anything else as base64."""
        doc: dict[str, Any] = {
            "source": self.source,
            "actor": self.actor,
            "user": self.user,
            "method": self.method,
            "path": self.path,
        }
        if self.query:
            doc["query"] = self.query
        if self.headers:
            doc["headers"] = dict(self.headers)
        if self.body:
            try:
                doc["body"] = self.body.decode("utf-8")
            except UnicodeDecodeError:
                doc["bodyBase64"] = base64.b64encode(self.body).decode()
        return doc

    @classmethod
    def from_json(cls, doc: object, *, where: str) -> CorpusRequest:
        """Read one line's object; CorpusError names `where` and the field at fault."""
        if not isinstance(doc, dict):
            raise CorpusError(f"{where}: a request must be a JSON object")
        fields: dict[str, str] = {}
        for name in ("source", "actor", "user", "method", "path"):
            value = doc.get(name)
            if not isinstance(value, str) or not value:
                raise CorpusError(f"{where}: field {name!r} must be a non-empty string")
            fields[name] = value
        if fields["source"] not in SOURCES:
            raise CorpusError(f"{where}: field 'source' must be one of {', '.join(SOURCES)}")
        if not fields["path"].startswith("/"):
            raise CorpusError(f"{where}: field 'path' must start with /")
        query = doc.get("query", "")
        headers = doc.get("headers", {})
        if not isinstance(query, str):
            raise CorpusError(f"{where}: field 'query' must be a string")
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise CorpusError(f"{where}: field 'headers' must map names to strings")
        body = b""
        if "body" in doc:
            if not isinstance(doc["body"], str):
                raise CorpusError(f"{where}: field 'body' must be a string")
            body = doc["body"].encode("utf-8")
        elif "bodyBase64" in doc:
            try:
                body = base64.b64decode(str(doc["bodyBase64"]), validate=True)
            except ValueError as exc:
                raise CorpusError(f"{where}: field 'bodyBase64' is not base64: {exc}") from exc
        return cls(
            **fields,
            query=query,
            headers=tuple((k.lower(), v) for k, v in headers.items()),
            body=body,
        )


def save_corpus(path: Path, requests: Iterable[CorpusRequest]) -> int:
    """Write the corpus as JSON lines; returns how many requests it holds."""
    lines = [json.dumps(r.to_json(), sort_keys=True) for r in requests]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)


_MAX_CORPUS_BYTES = 64 * 1024 * 1024  # a corpus of a few thousand requests is a few MB


def load_corpus(path: Path) -> list[CorpusRequest]:
    """Read a JSON-lines corpus; CorpusError (exit 2, one line) for anything malformed."""
    try:
        size = path.stat().st_size
        if size > _MAX_CORPUS_BYTES:
            raise CorpusError(f"{path}: {size} bytes is more than a corpus can be (64 MiB)")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path}: cannot read the corpus: {exc}") from exc
    requests: list[CorpusRequest] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            doc = json.loads(line)
        except ValueError as exc:
            raise CorpusError(f"{where}: not JSON: {exc}") from exc
        requests.append(CorpusRequest.from_json(doc, where=where))
    if not requests:
        raise CorpusError(f"{path}: the corpus holds no requests")
    return requests


def of_source(requests: Sequence[CorpusRequest], source: str) -> list[CorpusRequest]:
    """The requests one source made."""
    return [r for r in requests if r.source == source]
