"""Comparing one request's two answers: the fake API's and the real control plane's.

Status codes first, then the bodies, normalised (`normalise.py`): a Status by its whole body
(code, reason, details, message), an object field by field, a list (or Table, or watch stream)
by the objects in it that the corpus itself wrote: what else a real cluster holds (its
controllers' ReplicaSets, pods and Events, the node) is not the API server's answer to the corpus
and has no counterpart on the fake side, which runs no controllers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator.fidelity.corpus import CorpusRequest
from simulator.fidelity.known import known_labels
from simulator.fidelity.normalise import (
    FieldPath,
    ObjectKey,
    foreign_fields,
    normalise,
    object_key,
)
from simulator.fidelity.replay import Answer, object_path

__all__ = ["Comparison", "Sides", "compare", "comparisons", "diff"]

Obj = dict[str, Any]
_MAX_SHOWN = 120


@dataclass(frozen=True)
class Comparison:
    """How one request's answers differ (no differences: identical)."""

    request: CorpusRequest
    fake: Answer
    real: Answer
    differences: tuple[str, ...]

    @property
    def identical(self) -> bool:
        return not self.differences

    @property
    def known(self) -> tuple[str, ...]:
        """The known differences (`known.py`) that explain every difference; () otherwise."""
        return known_labels(self.request, self.differences)


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def diff(fake: Any, real: Any, path: str = "") -> list[str]:
    """Where two decoded documents differ: `spec.replicas: 1 (fake) vs 2 (real)`."""
    if fake == real:  # most documents are the same: one comparison, not a walk of each field
        return []
    here = path or "body"
    if isinstance(fake, dict) and isinstance(real, dict):
        found: list[str] = []
        for key in sorted(fake.keys() | real.keys()):
            sub = f"{path}.{key}" if path else str(key)
            if key not in real:
                found.append(f"{sub}: only on the fake API ({_short(fake[key])})")
            elif key not in fake:
                found.append(f"{sub}: only on the real API ({_short(real[key])})")
            else:
                found += diff(fake[key], real[key], sub)
        return found
    if isinstance(fake, list) and isinstance(real, list) and len(fake) == len(real):
        found = []
        for index, (left, right) in enumerate(zip(fake, real, strict=True)):
            found += diff(left, right, f"{path}[{index}]")
        return found
    if fake == real:
        return []
    return [f"{here}: {_short(fake)} (fake) vs {_short(real)} (real)"]


@dataclass
class Sides:
    """What each backend's replay says about which objects the corpus wrote."""

    fake_owned: set[str]
    real_owned: set[str]
    managers: set[str]
    # What foreign managers wrote into each object, by the real answers so far.
    foreign_seen: dict[ObjectKey, set[FieldPath]] = field(default_factory=dict)

    def foreign(self, real: Obj) -> set[FieldPath]:
        """The fields of `real` that managers outside the corpus wrote, now or earlier."""
        key = object_key(real)
        found = foreign_fields(real, self.managers, self.foreign_seen.get(key, ()))
        self.foreign_seen[key] = found
        return found


def compare(request: CorpusRequest, fake: Answer, real: Answer, *, sides: Sides) -> Comparison:
    """Compare one request's two answers."""

    def done(*found: str) -> Comparison:
        return Comparison(request, fake, real, tuple(found))

    if fake.error or real.error:
        return done(f"no answer: fake {fake.error or fake.code}, real {real.error or real.code}")
    if fake.code != real.code:
        return done(f"status {fake.code} (fake) vs {real.code} (real)")
    found = []
    if _media(fake.content_type) != _media(real.content_type):
        found.append(f"content type {fake.content_type!r} (fake) vs {real.content_type!r} (real)")
    if request.is_watch and fake.code == 200:
        return done(*found, *_events(request, fake, real, sides))
    left, right = _document(fake), _document(real)
    if left is None or right is None:
        return done(*found) if fake.body == real.body else done(*found, "body bytes differ")
    return done(*found, *_documents(request.path, left, right, sides))


def _document(answer: Answer) -> Any:
    """The answer's document: JSON or protobuf, and JSON sent as text/plain (kube-apiserver's
    OpenAPI index names no type, and Go's sniffing calls it text)."""
    found = answer.json()
    if found is None and answer.content_type.startswith("text/plain") and answer.body:
        try:
            return json.loads(answer.body)
        except ValueError:
            return None
    return found


def _media(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _owned_items(collection: str, doc: Obj, owned: set[str]) -> list[Obj]:
    return [
        item
        for item in doc.get("items") or []
        if isinstance(item, dict) and object_path(collection, item) in owned
    ]


def _documents(collection: str, fake: Any, real: Any, sides: Sides) -> list[str]:
    if not isinstance(fake, dict) or not isinstance(real, dict):
        return diff(fake, real)
    if collection.startswith("/openapi/"):
        return _openapi(collection, fake, real, sides)
    kind = str(real.get("kind", ""))
    if kind == "APIGroupDiscoveryList":
        return diff(fake, served_discovery(fake, real))
    if kind.endswith("List") and isinstance(real.get("items"), list):
        fake = {**fake, "items": _owned_items(collection, fake, sides.fake_owned)}
        real = {**real, "items": _owned_items(collection, real, sides.real_owned)}
        pairs = _pair_items(fake["items"], real["items"], sides)
        fake["items"] = [f for f, _ in pairs]
        real["items"] = [r for _, r in pairs]
        return diff(_plain(fake, sides), _plain(real, sides))
    if kind == "Table":
        return _tables(collection, fake, real, sides)
    return _objects(fake, real, sides)


# What kube-apiserver serves and the fake API leaves out (docs/simulator-api.md, "Out of
# scope"): a path of an OpenAPI document that ends in one of these is not compared.
_UNSERVED_PATH = re.compile(
    r"/(proxy(/\{path\})?|attach|portforward|ephemeralcontainers|resize|finalize|bindings"
    r"|componentstatuses(/\{name\})?)$"
)


def _openapi(path: str, fake: Obj, real: Obj, sides: Sides) -> list[str]:
    """An OpenAPI document, or the v3 index, without what the fake API does not serve: in a
    document, the paths of `_UNSERVED_PATH`; in the index, the group versions (and the
    documents of groups and of non-resource paths) the fake API has none of. Everything else
    is compared, so a path either side lacks otherwise is a difference."""
    described, published = fake.get("paths"), real.get("paths")
    if isinstance(described, dict) and isinstance(published, dict):
        index = path.rstrip("/") == "/openapi/v3"
        kept = {
            key: value
            for key, value in published.items()
            if key in described or not (index or _UNSERVED_PATH.search(key))
        }
        real = {**real, "paths": kept}
    return diff(_plain(fake, sides), _plain(real, sides))


def _pairs(real: Any, fake: Any, key: Callable[[Obj], Any]) -> list[tuple[Obj, Obj]]:
    """The real list's entries that the fake list also has (by `key`), in the real order."""
    mine = {key(item): item for item in fake or [] if isinstance(item, dict)}
    return [(item, mine[key(item)]) for item in real or [] if key(item) in mine]


def served_discovery(fake: Obj, real: Obj) -> Obj:
    """kube-apiserver's aggregated discovery cut to the groups, versions, resources and
    subresources the fake API serves (docs/simulator-api.md, "Out of scope"), in its order:
    what the fake API says about what it serves must be what kube-apiserver says."""

    def named(field: str) -> Callable[[Obj], Any]:
        return lambda item: item.get(field)

    def resource(real_one: Obj, fake_one: Obj) -> Obj:
        if "subresources" not in real_one:
            return real_one
        subs = _pairs(real_one["subresources"], fake_one.get("subresources"), named("subresource"))
        return {**real_one, "subresources": [sub for sub, _ in subs]}

    def version(real_one: Obj, fake_one: Obj) -> Obj:
        pairs = _pairs(real_one.get("resources"), fake_one.get("resources"), named("resource"))
        return {**real_one, "resources": [resource(r, f) for r, f in pairs]}

    def group(real_one: Obj, fake_one: Obj) -> Obj:
        pairs = _pairs(real_one.get("versions"), fake_one.get("versions"), named("version"))
        return {**real_one, "versions": [version(r, f) for r, f in pairs]}

    by_name = lambda item: (item.get("metadata") or {}).get("name", "")  # noqa: E731
    groups = _pairs(real.get("items"), fake.get("items"), by_name)
    return {**real, "items": [group(r, f) for r, f in groups]}


def _plain(doc: Obj, sides: Sides) -> Any:
    return normalise(doc, strip=set(), corpus_managers=sides.managers)


def _objects(fake: Obj, real: Obj, sides: Sides) -> list[str]:
    strip = sides.foreign(real)
    return diff(
        normalise(fake, strip=strip, corpus_managers=sides.managers),
        normalise(real, strip=strip, corpus_managers=sides.managers),
    )


def _pair_items(fake: list[Obj], real: list[Obj], sides: Sides) -> list[tuple[Any, Any]]:
    """Items paired by namespace and name (the real list's order, then what only the fake
    holds), normalised with each real item's foreign fields stripped from both."""

    def key(item: Obj) -> tuple[str, str]:
        meta = item.get("metadata") or {}
        return (str(meta.get("namespace", "")), str(meta.get("name", "")))

    left_by = {key(item): item for item in fake}
    right_by = {key(item): item for item in real}
    out: list[tuple[Any, Any]] = []
    for name in [*right_by, *(k for k in left_by if k not in right_by)]:
        left, right = left_by.get(name), right_by.get(name)
        strip = sides.foreign(right) if right is not None else set()
        out.append(
            (
                normalise(left, strip=strip, corpus_managers=sides.managers) if left else None,
                normalise(right, strip=strip, corpus_managers=sides.managers) if right else None,
            )
        )
    return out


def _tables(collection: str, fake: Obj, real: Obj, sides: Sides) -> list[str]:
    managers = sides.managers

    def rows(doc: Obj, owned: set[str], foreign: Callable[[Obj], set[FieldPath]]) -> list[Any]:
        names = [str(c.get("name", "")).lower() for c in doc.get("columnDefinitions") or []]
        kept = []
        for row in doc.get("rows") or []:
            obj = row.get("object") or {}
            if object_path(collection, obj) not in owned:
                continue
            cells = [
                _BLANKED_CELLS.get(names[index], cell) if index < len(names) else cell
                for index, cell in enumerate(row.get("cells") or [])
            ]
            strip = foreign(obj)
            kept.append(
                {
                    **row,
                    "cells": cells,
                    "object": normalise(obj, strip=strip, corpus_managers=sides.managers),
                }
            )
        return kept

    fake = {**fake, "rows": rows(fake, sides.fake_owned, lambda o: foreign_fields(o, managers))}
    real = {**real, "rows": rows(real, sides.real_owned, sides.foreign)}
    return diff(_plain(fake, sides), _plain(real, sides))


# Table cells that legitimately differ: when an object was made, the address a Service got.
_BLANKED_CELLS = {"age": "<age>", "cluster-ip": "<ip>"}


def _events(request: CorpusRequest, fake: Answer, real: Answer, sides: Sides) -> list[str]:
    """A watch by what it says about the corpus's objects: ADDED and DELETED, errors, and the
    end of the initial events. MODIFIED events are not compared: the real controllers modify
    the corpus's objects on their own schedule (a Deployment's status)."""

    def summary(answer: Answer, owned: set[str]) -> list[str]:
        out = []
        for event in answer.events():
            kind = str(event.get("type", ""))
            obj = event.get("object") or {}
            if kind == "ERROR":
                out.append(f"ERROR {obj.get('code')} {obj.get('reason')}")
            elif kind == "BOOKMARK":
                annotations = (obj.get("metadata") or {}).get("annotations") or {}
                if annotations.get("k8s.io/initial-events-end") == "true":
                    out.append("BOOKMARK initial-events-end")
            elif kind in ("ADDED", "DELETED") and object_path(request.path, obj) in owned:
                meta = obj.get("metadata") or {}
                out.append(f"{kind} {meta.get('namespace', '')}/{meta.get('name')}")
        return out

    return diff(summary(fake, sides.fake_owned), summary(real, sides.real_owned), "events")


def comparisons(
    requests: list[CorpusRequest],
    fake: list[Answer],
    real: list[Answer],
    *,
    fake_owned: set[str],
    real_owned: set[str],
    managers: set[str],
    on_each: Callable[[Comparison], None] | None = None,
) -> list[Comparison]:
    """Compare every request's answers."""
    sides = Sides(fake_owned, real_owned, managers)
    out = []
    for request, left, right in zip(requests, fake, real, strict=True):
        found = compare(request, left, right, sides=sides)
        out.append(found)
        if on_each is not None:
            on_each(found)
    return out
