"""YAML loading that remembers where every value came from.

Pydantic reports an error location as a path (`stages`, 3, `delay`); scenario authors need the
line. PyYAML's composer keeps a mark on every node, so we compose the document once, build plain
Python data from it and a map from each path to its line, and translate errors with that map.
libyaml's composer (when PyYAML has it) keeps the same marks at a sixth of the cost: every
`appliance-sim` process and every world loads its scenario (60 ms of CPU each in pure Python).

Before composing, one pass over the parser's events bounds what a hostile file could cost: the
nesting depth (the composer recurses) and the number of values once aliases are expanded (a
"billion laughs" alias bomb is a few lines that expand to billions of values). Both fail with the
line where the limit was crossed, before anything is built.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import yaml

from simulator.errors import SimulatorError

__all__ = [
    "MAX_DEPTH",
    "MAX_VALUES",
    "SAFE_LOADER",
    "LocatedDocument",
    "YamlSyntaxError",
    "load_located",
]

Path = tuple[str | int, ...]

# A scenario is a handful of levels deep (a Pod's containers' env is about 8); 64 is generous.
MAX_DEPTH = 64
# Values (scalars and collections) after alias expansion: a recording of a busy hour is ~10^5.
MAX_VALUES = 1_000_000
# libyaml when PyYAML has it: the same safe documents, several times faster.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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


def _check_shape(text: str, *, max_depth: int, max_values: int) -> None:
    """Depth and alias-expanded size from the event stream (iterative: nothing is built)."""
    open_sizes: list[int] = []  # one running size per open collection
    anchored: dict[str, int] = {}
    anchors: list[str | None] = []
    total = 0
    for event in yaml.parse(text, Loader=SAFE_LOADER):
        line, column = (
            (event.start_mark.line + 1, event.start_mark.column + 1) if event.start_mark else (1, 1)
        )
        size = 0
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_sizes) >= max_depth:
                raise YamlSyntaxError("", line, column, f"nested deeper than {max_depth} levels")
            open_sizes.append(1)
            anchors.append(event.anchor)
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            size = open_sizes.pop()
            anchor = anchors.pop()
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor in anchors:
                raise YamlSyntaxError("", line, column, f"alias *{event.anchor} refers to itself")
            size, anchor = anchored.get(str(event.anchor), 1), None
        elif isinstance(event, yaml.ScalarEvent):
            size, anchor = 1, event.anchor
        else:
            continue
        if anchor is not None:
            anchored[anchor] = size
        if open_sizes:
            open_sizes[-1] += size
        else:
            total += size
        if total + sum(open_sizes) > max_values:
            raise YamlSyntaxError(
                "", line, column, f"expands to more than {max_values} values (aliases included)"
            )


def load_located(
    text: str, *, source: str, max_depth: int = MAX_DEPTH, max_values: int = MAX_VALUES
) -> LocatedDocument:
    """Parse one YAML document from `text`; `source` names it in errors (a file path)."""
    try:
        _check_shape(text, max_depth=max_depth, max_values=max_values)
        node = yaml.compose(text, Loader=SAFE_LOADER)
    except yaml.MarkedYAMLError as exc:
        raise _named_alias(_located(source, exc), text) from None
    except yaml.YAMLError as exc:  # libyaml's errors may come without a mark
        raise YamlSyntaxError(source, 1, 1, str(exc).splitlines()[0]) from None
    except YamlSyntaxError as exc:
        raise YamlSyntaxError(source, exc.line, exc.column, exc.reason) from None
    lines: dict[Path, int] = {}
    if node is None:
        return LocatedDocument(data=None, lines={(): 1})
    try:
        data = _build(node, (), lines, yaml.SafeLoader(""))
    except YamlSyntaxError as exc:
        raise YamlSyntaxError(source, exc.line, exc.column, exc.reason) from None
    except yaml.MarkedYAMLError as exc:  # a value no safe constructor makes (`=`, `!!python/...`)
        raise _located(source, exc) from None
    return LocatedDocument(data=data, lines=lines)


def _located(source: str, exc: yaml.MarkedYAMLError) -> YamlSyntaxError:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    reason = " ".join(part for part in (exc.context, exc.problem) if part) or str(exc)
    return YamlSyntaxError(source, line, column, reason)


def _named_alias(error: YamlSyntaxError, text: str) -> YamlSyntaxError:
    """libyaml's composer says `found undefined alias` without its name: add it from the text
    at the error's mark, as PyYAML's own composer does."""
    if error.reason != "found undefined alias":
        return error
    lines = text.splitlines()
    at = lines[error.line - 1][error.column - 1 :] if error.line <= len(lines) else ""
    name = re.match(r"\*([^\s,\[\]{}]+)", at)
    if name is None:
        return error
    return YamlSyntaxError(
        error.source, error.line, error.column, f"{error.reason} {name.group(1)!r}"
    )


def _build(node: yaml.Node, path: Path, lines: dict[Path, int], loader: yaml.SafeLoader) -> object:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[object, object] = {}
        for key_node, value_node in node.value:
            key = _construct(key_node, loader)
            if not isinstance(key, str | int | float | bool) and key is not None:
                # `? [a, b]`: YAML allows any key, a scenario (and Go's decoder) only scalars.
                mark = key_node.start_mark
                raise YamlSyntaxError("", mark.line + 1, mark.column + 1, "a key must be a name")
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
    return _construct(node, loader)


def _construct(node: yaml.Node, loader: yaml.SafeLoader) -> object:
    """The value of a scalar (or key) node; an explicit tag whose text is not such a value
    (`!!int x`, `!!bool maybe`, `=`) is a located error, not a traceback."""
    try:
        return loader.construct_object(node, deep=True)
    except yaml.MarkedYAMLError:
        raise
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        mark = node.start_mark
        reason = f"{node.tag.rsplit(':', 1)[-1]} value {node.value!r} cannot be read ({exc})"
        raise YamlSyntaxError("", mark.line + 1, mark.column + 1, reason) from None
