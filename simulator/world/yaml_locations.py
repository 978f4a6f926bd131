"""YAML loading that remembers where every value came from.

Pydantic reports an error location as a path (`stages`, 3, `delay`); scenario authors need the
line. PyYAML's composer keeps a mark on every node, so we compose the document once, build plain
Python data from it and a map from each path to its line, and translate errors with that map.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import yaml

from simulator.errors import SimulatorError

__all__ = ["LocatedDocument", "YamlSyntaxError", "load_located"]

Path = tuple[str | int, ...]


class YamlSyntaxError(SimulatorError, ValueError):
    """Malformed YAML: carries the parser's line, column and reason."""

    def __init__(self, source: str, line: int, column: int, reason: str) -> None:
        super().__init__(f"{source}:{line}:{column}: {reason}")
        self.source = source
        self.line = line
        self.column = column
        self.reason = reason


@dataclass(frozen=True)
class LocatedDocument:
    """Plain data from one YAML document plus the line (1-based) of every path in it."""

    data: object
    lines: dict[Path, int]

    def line_of(self, path: Sequence[str | int]) -> int:
        """The line of the deepest known prefix of `path` (1 when nothing is known)."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), 1)


def load_located(text: str, *, source: str) -> LocatedDocument:
    """Parse one YAML document from `text`; `source` names it in errors (a file path)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        column = mark.column + 1 if mark else 1
        reason = " ".join(part for part in (exc.context, exc.problem) if part) or str(exc)
        raise YamlSyntaxError(source, line, column, reason) from exc
    lines: dict[Path, int] = {}
    if node is None:
        return LocatedDocument(data=None, lines={(): 1})
    try:
        data = _build(node, (), lines, yaml.SafeLoader(""))
    except YamlSyntaxError as exc:
        raise YamlSyntaxError(source, exc.line, exc.column, exc.reason) from None
    return LocatedDocument(data=data, lines=lines)


def _build(node: yaml.Node, path: Path, lines: dict[Path, int], loader: yaml.SafeLoader) -> object:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[object, object] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            child = (*path, str(key))
            if key in result:
                mark = key_node.start_mark
                raise YamlSyntaxError("", mark.line + 1, mark.column + 1, f"duplicate key {key!r}")
            result[key] = _build(value_node, child, lines, loader)
            # point mapping entries at their key: that is the line the author looks for
            lines[child] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*path, index), lines, loader) for index, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)
