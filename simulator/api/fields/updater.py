"""Who owns which fields after an update or an apply: structured-merge-diff's `merge.Updater`.

An *update* (create, PUT, non-apply patch) gives its manager the fields it changed and takes them
from every other manager. An *apply* makes its manager own exactly the fields of its
configuration: fields it applied before and no longer does are removed unless another manager
owns them too, and a field another manager owns that the apply would change is a conflict,
unless forced, which moves the field to the applier. One API version: the fake API stores every
version of a group in one shape, so no manager's fields need converting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.api.fields.fieldsets import FieldSet, Path
from simulator.api.fields.schema import Ref
from simulator.api.fields.typed import (
    MISSING,
    Comparison,
    compare,
    ensure_named_fields,
    merge,
    remove_items,
    same,
    to_set,
)
from simulator.errors import SimulatorError

__all__ = ["Conflicts", "Managers", "Owned", "Updater"]


@dataclass(frozen=True, slots=True)
class Owned:
    """One manager's fields (structured-merge-diff's VersionedSet)."""

    fields: FieldSet
    api_version: str
    applied: bool


Managers = dict[str, Owned]


class Conflicts(SimulatorError):
    """Fields an apply would change that other managers own: (manager, path) pairs."""

    def __init__(self, conflicts: list[tuple[str, Path]]) -> None:
        super().__init__(f"{len(conflicts)} conflicts")
        self.conflicts = conflicts


class Updater:
    """Updates and applies against one type; `ignored` are the fields the write resets."""

    def __init__(self, root: Ref, ignored: FieldSet | None = None) -> None:
        self.root = root
        self.ignored = ignored

    def filter(self, fields: FieldSet) -> FieldSet:
        """`fields` without the write's reset fields."""
        return fields if self.ignored is None else fields.recursive_difference(self.ignored)

    def _settle(
        self, old: Any, new: Any, managers: Managers, workflow: str, *, force: bool
    ) -> tuple[Managers, Comparison]:
        """Take what changed from the other managers; Conflicts when not forced."""
        changes = compare(old, new, self.root).excluding(self.ignored)
        touched = changes.modified.union(changes.added)
        conflicts: dict[str, FieldSet] = {}
        for manager, owned in managers.items():
            if manager != workflow:
                clash = owned.fields.intersection(touched)
                if not clash.empty():
                    conflicts[manager] = clash
        if conflicts and not force:
            raise Conflicts([(m, p) for m in sorted(conflicts) for p in conflicts[m].paths()])
        out: Managers = {}
        for manager, owned in managers.items():
            kept = owned.fields
            if manager != workflow:
                if manager in conflicts:
                    kept = kept.difference(conflicts[manager])
                kept = kept.difference(changes.removed)
            if not kept.empty():
                out[manager] = Owned(kept, owned.api_version, owned.applied)
        return out, changes

    def update(
        self, live: Any, new: Any, version: str, managers: Managers, manager: str
    ) -> Managers:
        """An update's ownership: `manager` gains what changed, others lose it."""
        managers, changes = self._settle(live, new, managers, manager, force=True)
        previous = managers.get(manager)
        fields = previous.fields if previous else FieldSet()
        fields = fields.difference(changes.removed).union(changes.modified).union(changes.added)
        fields = self.filter(fields)
        managers = dict(managers)
        managers.pop(manager, None)
        if not fields.empty():
            managers[manager] = Owned(fields, version, applied=False)
        return managers

    def apply(
        self,
        live: dict[str, Any],
        config: dict[str, Any],
        version: str,
        managers: Managers,
        manager: str,
        *,
        force: bool,
    ) -> tuple[dict[str, Any] | None, Managers]:
        """The applied object (None when unchanged) and the new ownership; Conflicts."""
        merged = merge(live, config, self.root)
        last = managers.get(manager)
        managers = {
            **managers,
            manager: Owned(self.filter(to_set(config, self.root)), version, True),
        }
        new = self._prune(merged, managers, last)
        managers, _ = self._settle(live, new, managers, manager, force=force)
        return (None if same(live, new) else new), managers

    def _prune(self, merged: dict[str, Any], managers: Managers, last: Owned | None) -> Any:
        """Remove what the manager applied last time and nobody owns now."""
        if last is None or last.fields.empty():
            return merged
        named = self._named
        pruned = self._without(merged, named(last.fields))
        owned = FieldSet()
        for other in managers.values():
            owned = owned.union(other.fields)
        everything = named(to_set(merged, self.root))
        keep = named(to_set(pruned, self.root)).union(named(owned))
        pruned = self._without(merged, everything.difference(keep))
        dangling = everything.difference(named(to_set(pruned, self.root)))
        return self._without(merged, dangling.intersection(named(last.fields)))

    def _named(self, fields: FieldSet) -> FieldSet:
        return ensure_named_fields(fields, self.root)

    def _without(self, value: dict[str, Any], fields: FieldSet) -> dict[str, Any]:
        kept = remove_items(value, fields, self.root)
        return {} if kept is MISSING else dict(kept)
