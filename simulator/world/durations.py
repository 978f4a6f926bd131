"""Durations as scenarios write them (`90m`, `16m2.1s`, `30`) and as kubelet prints them.

Scenario authors copy durations from real logs, so the parser accepts Go's `time.Duration` syntax
and plain numbers of seconds; `format_go_duration` prints them the way kubelet does in its
`Successfully pulled image ... in 16m2.1s` events.
"""

from __future__ import annotations

import math
import re

__all__ = ["MAX_DURATION_SECONDS", "format_go_duration", "parse_duration"]

# Thirty days: far beyond any install (an observed one is an hour), far below what overflows a
# datetime; `at: 1000000000h` is a typo, not a plan.
MAX_DURATION_SECONDS = 30 * 24 * 3600.0

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")


def parse_duration(value: object) -> float:
    """Seconds in `value`: a number, or a string such as `90m`, `1h30m`, `16m2.1s`, `250ms`."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string like '90m', not a boolean")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"a duration must be a finite number of seconds, got {value}")
        if value < 0:
            raise ValueError(f"a duration cannot be negative, got {value}")
        if value > MAX_DURATION_SECONDS:
            raise ValueError(f"a duration can be at most 30 days (2592000s), got {value:g}s")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"a duration is a number of seconds or a string like '90m', got {value!r}")
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        return parse_duration(number)
    pos = 0
    total = 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise ValueError(
            f"cannot read duration {value!r}: write seconds (e.g. 30) or units like "
            "'90m', '1h30m', '16m2.1s'"
        )
    return parse_duration(total)


def format_go_duration(seconds: float) -> str:
    """Render seconds like Go's `time.Duration.String()` (`16m2.1s`, `1h0m0s`, `450ms`)."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{_trim(seconds * 1000)}ms"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    secs = round(secs, 3)
    if secs >= 60:
        minutes, secs = minutes + 1, secs - 60
    if hours:
        return f"{int(hours)}h{int(minutes)}m{_trim(secs)}s"
    if minutes:
        return f"{int(minutes)}m{_trim(secs)}s"
    return f"{_trim(secs)}s"


def _trim(number: float) -> str:
    text = f"{number:.3f}".rstrip("0").rstrip(".")
    return text or "0"
