"""Label and field selectors as apimachinery reads them, with its errors.

A port of k8s.io/apimachinery/pkg/labels/selector.go (v0.37): the same tokens, the same
lookahead, the same requirement validation, so that a selector kube-apiserver refuses is refused
here with its words (`unable to parse requirement: found '', expected: ',' or ')'`) and one it
accepts (`a>1`, `a in (b,)`) is accepted. Field selectors follow fields/selector.go the same
way, and each kind's field label conversion its own refusal. Matching stays in `selectors`.
"""

from __future__ import annotations

import re

from simulator.api.names import label_key_errors, label_value_errors
from simulator.errors import SimulatorError

__all__ = ["SyntaxProblem", "field_label_refusal", "parse_field_terms", "parse_requirements"]

_SPECIAL = frozenset("=!(),><")
_SPACE = frozenset(" \t\r\n")
# Literal tokens; anything else a word scans to is an identifier.
_TOKENS = {
    ")": "close",
    ",": "comma",
    "!": "not",
    "==": "==",
    "=": "=",
    ">": "gt",
    "in": "in",
    "<": "lt",
    "!=": "!=",
    "notin": "notin",
    "(": "open",
}
_OPERATORS = {"in", "notin", "=", "==", "!=", "gt", "lt"}
_BINARY = "in, notin, =, ==, !=, gt, lt"


class SyntaxProblem(SimulatorError, ValueError):
    """A selector apimachinery's parser refuses; the message is its text."""


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lex(text: str) -> list[tuple[str, str]]:
    """The tokens of `text`, ending with ("end", "")."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in _SPACE:
            pos += 1
        if pos >= len(text):
            tokens.append(("end", ""))
            return tokens
        start = pos
        if text[pos] in _SPECIAL:
            # The longest run of special characters that is still a token.
            last: tuple[str, str, int] | None = None
            while pos < len(text) and text[pos] in _SPECIAL:
                pos += 1
                word = text[start:pos]
                if word in _TOKENS:
                    last = (_TOKENS[word], word, pos)
                elif last is not None:
                    break
            assert last is not None  # every special character alone is a token
            tokens.append(last[:2])
            pos = last[2]
        else:
            while pos < len(text) and text[pos] not in _SPECIAL and text[pos] not in _SPACE:
                pos += 1
            word = text[start:pos]
            tokens.append((_TOKENS.get(word, "id"), word))


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _lex(text)
        self.pos = 0

    def lookahead(self, values: bool = True) -> tuple[str, str]:
        kind, literal = self.tokens[self.pos]
        return ("id" if values and kind in ("in", "notin") else kind), literal

    def consume(self, values: bool = True) -> tuple[str, str]:
        token = self.lookahead(values)
        self.pos += 1
        return token

    def requirements(self) -> list[tuple[str, str, tuple[str, ...]]]:
        found: list[tuple[str, str, tuple[str, ...]]] = []
        while True:
            kind, literal = self.lookahead()
            if kind == "end":
                return found
            if kind not in ("id", "not"):
                raise SyntaxProblem(
                    f"found '{literal}', expected: !, identifier, or 'end of string'"
                )
            try:
                found.append(self.requirement())
            except SyntaxProblem as exc:
                raise SyntaxProblem(f"unable to parse requirement: {exc}") from exc
            kind, literal = self.consume()
            if kind == "end":
                return found
            if kind != "comma":
                raise SyntaxProblem(f"found '{literal}', expected: ',' or 'end of string'")
            kind, literal = self.lookahead()
            if kind not in ("id", "not"):
                raise SyntaxProblem(f"found '{literal}', expected: identifier after ','")

    def requirement(self) -> tuple[str, str, tuple[str, ...]]:
        kind, key = self.consume()
        negated = kind == "not"
        if negated:
            kind, key = self.consume()
        if kind != "id":
            raise SyntaxProblem(f"found '{key}', expected: identifier")
        problems = label_key_errors(key)
        if problems:
            raise SyntaxProblem(f"<nil>: Invalid value: {_quote(key)}: {'; '.join(problems)}")
        if negated or self.lookahead()[0] in ("end", "comma"):
            return key, "!exists" if negated else "exists", ()
        kind, literal = self.consume(values=False)
        if kind not in _OPERATORS:
            raise SyntaxProblem(f"found '{literal}', expected: {_BINARY}")
        values = self.set_values() if kind in ("in", "notin") else self.exact_value()
        return key, kind, _validated(key, kind, sorted(values))

    def exact_value(self) -> set[str]:
        if self.lookahead()[0] in ("end", "comma"):
            return {""}
        kind, literal = self.consume()
        if kind != "id":
            raise SyntaxProblem(f"found '{literal}', expected: identifier")
        return {literal}

    def set_values(self) -> set[str]:
        kind, literal = self.consume()
        if kind != "open":
            raise SyntaxProblem(f"found '{literal}' expected: '('")
        kind, literal = self.lookahead()
        if kind == "close":
            self.consume()
            return {""}
        if kind not in ("id", "comma"):
            raise SyntaxProblem(f"found '{literal}', expected: ',', ')' or identifier")
        values = self.identifiers()
        if self.consume()[0] != "close":
            raise SyntaxProblem(f"found '{literal}', expected: ')'")
        return values

    def identifiers(self) -> set[str]:
        values: set[str] = set()
        while True:
            kind, literal = self.consume()
            if kind == "id":
                values.add(literal)
                after, shown = self.lookahead()
                if after == "close":
                    return values
                if after != "comma":
                    raise SyntaxProblem(f"found '{shown}', expected: ',' or ')'")
            elif kind == "comma":
                if not values:
                    values.add("")  # `(,` names the empty value
                after, _ = self.lookahead()
                if after == "close":
                    values.add("")  # so does `,)`
                    return values
                if after == "comma":
                    self.consume()
                    values.add("")  # and `,,`
            else:
                raise SyntaxProblem(f"found '{literal}', expected: ',', or identifier")


def _validated(key: str, op: str, values: list[str]) -> tuple[str, ...]:
    """labels.NewRequirement's checks of the values (in sorted order, as it gets them)."""
    problems = []
    if op in ("gt", "lt"):
        for index, value in enumerate(values):
            if not re.fullmatch(r"[+-]?[0-9]+", value):
                problems.append(
                    f"values[{index}]: Invalid value: {_quote(value)}: for 'Gt', 'Lt' operators, "
                    "the value must be an integer"
                )
    for index, value in enumerate(values):
        found = label_value_errors(value)
        if found:
            problems.append(
                f"values[{index}][{key}]: Invalid value: {_quote(value)}: {'; '.join(found)}"
            )
    if problems:
        raise SyntaxProblem(problems[0] if len(problems) == 1 else f"[{', '.join(problems)}]")
    return tuple(values)


def parse_requirements(text: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """(key, operator, values) for each requirement; SyntaxProblem with apimachinery's text.

    Operators: `=` (also `==`), `!=`, `in`, `notin`, `exists`, `!exists`, `gt`, `lt`.
    """
    requirements = _Parser(text).requirements()
    return [(key, "=" if op == "==" else op, values) for key, op, values in requirements]


def _split_terms(text: str) -> list[str]:
    """fields.splitTerms: split on commas a backslash does not escape."""
    terms, start, escaped = [], 0, False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            terms.append(text[start:index])
            start = index + 1
    return [*terms, text[start:]]


def _unescape(value: str) -> str:
    """fields.UnescapeValue: `\\\\`, `\\,` and `\\=` are data; a bare `,` or `=` is an error."""
    out, escaped = [], False
    for char in value:
        if escaped:
            if char not in "\\,=":
                raise SyntaxProblem(f"invalid field selector: invalid escape sequence: \\{char}")
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            raise SyntaxProblem(
                f"invalid field selector: unescaped character in value: {ord(char)}"
            )
        else:
            out.append(char)
    if escaped:
        raise SyntaxProblem("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def parse_field_terms(text: str) -> list[tuple[str, bool, str]]:
    """(field, equal, value) per term of a field selector, as fields.ParseSelector reads it
    (terms sorted, no space trimmed); SyntaxProblem with its text."""
    terms = []
    for part in sorted(_split_terms(text)):
        if not part:
            continue
        found = next(
            (
                (index, op)
                for index in range(len(part))
                for op in ("!=", "==", "=")
                if part.startswith(op, index)
            ),
            None,
        )
        if found is None:
            raise SyntaxProblem(f"invalid selector: '{text}'; can't understand '{part}'")
        index, op = found
        terms.append((part[:index], op != "!=", _unescape(part[index + len(op) :])))
    return terms


# Kinds whose field label conversion is their own, and how each refuses an unknown label;
# every other kind's is apimachinery's default one.
_OWN_REFUSALS = {
    **dict.fromkeys(
        (
            ("", "pods"),
            ("", "secrets"),
            ("", "namespaces"),
            ("", "nodes"),
            ("", "events"),
            ("", "services"),
            ("", "replicationcontrollers"),
            ("events.k8s.io", "events"),
            ("certificates.k8s.io", "certificatesigningrequests"),
            ("certificates.k8s.io", "clustertrustbundles"),
            ("certificates.k8s.io", "podcertificaterequests"),
        ),
        "field label not supported: {label}",
    ),
    ("batch", "jobs"): 'field label "{label}" not supported for Job',
    ("resource.k8s.io", "resourceslices"): (
        "field label not supported for resource.k8s.io/v1, Kind=ResourceSlice: {label}"
    ),
}


def field_label_refusal(group: str, resource: str, label: str, crd: str = "") -> str:
    """What kube-apiserver says of a field label the resource does not support (the CRD
    handler, `crd` naming one, as the kinds with their own field labels say it)."""
    default = '"{label}" is not a known field selector: only "metadata.name", "metadata.namespace"'
    own = "field label not supported: {label}" if crd else _OWN_REFUSALS.get((group, resource))
    return (own or default).format(label=label)
