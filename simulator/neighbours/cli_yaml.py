"""YAML for the fake CLIs (`talosctl`, `flux`): imported by the commands that read or write it.

Each CLI run is a fresh interpreter, and `import yaml` is a third of a fake talosctl's start (its
reader and resolver compile their regexes at import) while most runs read no YAML at all; so the
CLIs import this module at top and yaml only when a command calls it. Through libyaml when PyYAML
has it: the same documents, several times faster to build.
"""

from __future__ import annotations

# typing costs a few ms of every CLI start; mypy reads this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["dump", "load", "load_all"]


def load(text: str) -> Any:
    """One document, as `yaml.safe_load` reads it."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


def load_all(text: str) -> list[Any]:
    """Every document, as `yaml.safe_load_all` reads them."""
    import yaml

    return list(yaml.load_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def dump(doc: Any) -> str:
    """`yaml.safe_dump(doc)` for text only a parser reads (flux's apply bodies): libyaml's emitter
    may fold a long quoted string at another place than PyYAML's, so files keep PyYAML's."""
    import yaml

    text: str = yaml.dump(doc, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper))
    return text
