"""Go's encoding/json error texts, for answers that must read as kube-apiserver's.

kube-apiserver decodes request bodies with Go's encoding/json (through sigs.k8s.io/json), so a
malformed body is refused with the Go scanner's words (`invalid character 'b' looking for
beginning of object key string`) and a value of the wrong JSON type with the decoder's
(`json: cannot unmarshal number into Go struct field ConfigMap.data of type string`). Clients
and people read those words; the fake API gives the same ones.
"""

from __future__ import annotations

from typing import Any

import msgspec

__all__ = ["json_kind", "quote_char", "syntax_error", "unmarshal_error"]

_DECODER = msgspec.json.Decoder()
_SPACE = b" \t\n\r"
_END = "unexpected end of JSON input"
_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_ESCAPES["\v"] = "\\v"


def quote_char(byte: int) -> str:
    """A byte as Go's scanner names it: the byte read as a rune, quoted by strconv.Quote."""
    if byte == ord("'"):
        return "'\\''"
    if byte == ord('"'):
        return "'\"'"
    char = chr(byte)
    if char in _ESCAPES:
        return f"'{_ESCAPES[char]}'"
    if char == "\\":
        return "'\\\\'"
    if char.isprintable():
        return f"'{char}'"
    return f"'\\x{byte:02x}'" if byte < 0x80 else f"'\\u{byte:04x}'"


class _Syntax(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Scanner:
    """A recursive reading of one JSON value that fails where Go's state machine fails."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def peek(self) -> int | None:
        return self.data[self.pos] if self.pos < len(self.data) else None

    def take(self) -> int:
        byte = self.peek()
        if byte is None:
            raise _Syntax(_END)
        self.pos += 1
        return byte

    def skip_space(self) -> int | None:
        while (byte := self.peek()) is not None and byte in _SPACE:
            self.pos += 1
        return byte

    def next_byte(self) -> int:
        """The next byte that is not space, taken."""
        self.skip_space()
        return self.take()

    @staticmethod
    def invalid(byte: int, context: str) -> _Syntax:
        return _Syntax(f"invalid character {quote_char(byte)} {context}")

    def value(self) -> None:
        byte = self.next_byte()
        if byte == ord("{"):
            self.object()
        elif byte == ord("["):
            self.array()
        elif byte == ord('"'):
            self.string()
        elif byte == ord("-") or ord("0") <= byte <= ord("9"):
            self.number(byte)
        elif byte in b"tfn":
            word = {ord("t"): "true", ord("f"): "false", ord("n"): "null"}[byte]
            for expected in word[1:]:
                got = self.take()
                if got != ord(expected):
                    raise self.invalid(got, f"in literal {word} (expecting '{expected}')")
        else:
            raise self.invalid(byte, "looking for beginning of value")

    def object(self) -> None:
        byte = self.next_byte()
        if byte == ord("}"):
            return
        while True:
            if byte != ord('"'):
                raise self.invalid(byte, "looking for beginning of object key string")
            self.string()
            if (after := self.next_byte()) != ord(":"):
                raise self.invalid(after, "after object key")
            self.value()
            if self.closed("}", "after object key:value pair"):
                return
            byte = self.next_byte()

    def array(self) -> None:
        if self.skip_space() == ord("]"):
            self.pos += 1
            return
        while True:
            self.value()
            if self.closed("]", "after array element"):
                return

    def closed(self, close: str, context: str) -> bool:
        """After a member: True at the closing byte, False at a comma, else Go's error."""
        after = self.next_byte()
        if after == ord(close):
            return True
        if after != ord(","):
            raise self.invalid(after, context)
        return False

    def string(self) -> None:
        while True:
            byte = self.take()
            if byte == ord('"'):
                return
            if byte < 0x20:
                raise self.invalid(byte, "in string literal")
            if byte == ord("\\"):
                escape = self.take()
                if escape == ord("u"):
                    for _ in range(4):
                        digit = self.take()
                        if chr(digit) not in "0123456789abcdefABCDEF":
                            raise self.invalid(digit, "in \\u hexadecimal character escape")
                elif escape not in b'"\\/bfnrt':
                    raise self.invalid(escape, "in string escape code")

    def digits(self) -> None:
        while (byte := self.peek()) is not None and ord("0") <= byte <= ord("9"):
            self.pos += 1

    def need_digit(self, context: str) -> None:
        byte = self.take()
        if not ord("0") <= byte <= ord("9"):
            raise self.invalid(byte, context)

    def number(self, first: int) -> None:
        if first == ord("-"):
            first = self.take()
            if not ord("0") <= first <= ord("9"):
                raise self.invalid(first, "in numeric literal")
        if first != ord("0"):
            self.digits()
        if self.peek() == ord("."):
            self.pos += 1
            self.need_digit("after decimal point in numeric literal")
            self.digits()
        if self.peek() in (ord("e"), ord("E")):
            self.pos += 1
            if self.peek() in (ord("+"), ord("-")):
                self.pos += 1
            self.need_digit("in exponent of numeric literal")
            self.digits()


def syntax_error(data: bytes) -> str | None:
    """What Go's json.Valid/Unmarshal says of `data` when it is not one JSON value, else None."""
    try:
        _DECODER.decode(data)
        return None  # the fast path: the byte-wise scan below only names what is wrong
    except msgspec.DecodeError:
        pass
    scanner = _Scanner(data)
    try:
        scanner.value()
        trailing = scanner.skip_space()
        if trailing is not None:
            raise scanner.invalid(trailing, "after top-level value")
    except _Syntax as exc:
        return exc.message
    return None


def json_kind(value: Any) -> str:
    """How Go's decoder names a decoded JSON value's type in an UnmarshalTypeError."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def unmarshal_error(value: Any, go_type: str) -> str:
    """`json: cannot unmarshal <kind> into Go value of type <go_type>`."""
    return f"json: cannot unmarshal {json_kind(value)} into Go value of type {go_type}"


_BASE64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_NEWLINES = b"\r\n"


def _skip_newlines(data: bytes, at: int) -> int:
    while at < len(data) and data[at] in _NEWLINES:
        at += 1
    return at


def base64_error(text: str) -> str | None:
    """What Go's base64.StdEncoding says of a []byte field's string (kube-apiserver decodes a
    Secret's data with it), or None when it decodes: the byte where decoding stopped."""
    data, at = text.encode(), 0
    while True:
        filled = 0
        while filled < 4:
            if at == len(data):
                return None if filled == 0 else _corrupt(at - filled)
            byte = data[at]
            at += 1
            if byte in _NEWLINES:
                continue
            if byte in _BASE64:
                filled += 1
                continue
            if byte != ord("=") or filled < 2:
                return _corrupt(at - 1)
            if filled == 2:  # "==" is needed; the first "=" is taken
                at = _skip_newlines(data, at)
                if at == len(data):
                    return _corrupt(len(data))
                if data[at] != ord("="):
                    return _corrupt(at - 1)
                at += 1
            at = _skip_newlines(data, at)
            return _corrupt(at) if at < len(data) else None


def _corrupt(at: int) -> str:
    return f"illegal base64 data at input byte {at}"
