"""A CronJob's schedule as kube-apiserver validates it: robfig/cron v3's standard parser (five
fields, or a descriptor such as `@hourly`), whose error is the field error's text, then
Kubernetes' own rule against a time zone in the schedule (`spec.timeZone` is the place for it).
The words are the Go code's, so a client shows the same refusal on both backends.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from simulator.api.store.go_values import bad_value

__all__ = ["cronjob_errors"]

_MONTHS = {
    m: n
    for n, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_DAYS = {d: n for n, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
# (minimum, maximum, names) of minute, hour, day of month, month, day of week.
_BOUNDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, _MONTHS),
    (0, 6, _DAYS),
)
_DESCRIPTORS = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
_ZONE_PART = re.compile(r"[A-Za-z.\-_0-9+]{1,14}")
_GO_DURATION = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def cronjob_errors(cronjob: dict[str, Any]) -> list[str]:
    """Field errors of a CronJob's schedule, as `spec.schedule: ...` texts ([] when valid)."""
    found = cronjob.get("spec")
    spec: dict[str, Any] = found if isinstance(found, dict) else {}
    schedule = spec.get("schedule")
    if not isinstance(schedule, str) or not schedule:
        return ["spec.schedule: Required value"]
    errors = []
    problem = _parse_error(schedule)
    if problem:
        errors.append(f'spec.schedule: Invalid value: "{schedule}": {problem}')
    if "TZ" in schedule:
        errors.append(
            f'spec.schedule: Invalid value: "{schedule}": cannot use TZ or CRON_TZ in schedule, '
            "use timeZone field instead"
        )
    deadline = spec.get("startingDeadlineSeconds")
    if isinstance(deadline, int) and deadline < 0:
        errors.append(
            f"spec.startingDeadlineSeconds: Invalid value: {deadline}: must be greater than or "
            "equal to 0"
        )
    return errors + _time_zone_errors(spec.get("timeZone"))


def _time_zone_errors(zone: object) -> list[str]:
    """validateTimeZone: a name time.LoadLocation knows, and not `Local`."""
    if not isinstance(zone, str):
        return []
    shown = f"spec.timeZone: Invalid value: {bad_value(zone)}"
    if not zone:
        return [f"{shown}: timeZone must be nil or non-empty string"]
    for part in zone.split("/"):
        if part in (".", "..") or part.startswith("-") or not _ZONE_PART.fullmatch(part):
            return [f"{shown}: unknown time zone {zone}"]
    errors = []
    if zone.lower() == "local":
        errors.append(
            f"{shown}: timeZone must be an explicit time zone as defined in "
            "https://www.iana.org/time-zones"
        )
    if zone != "Local" and (refused := _load_error(zone)):  # LoadLocation("Local"): the host's
        errors.append(f"{shown}: {refused}")
    return errors


def _load_error(name: str) -> str:
    """time.LoadLocation's error for `name` ('' when it loads)."""
    if name == "UTC":
        return ""
    try:
        ZoneInfo(name)
    except IsADirectoryError:  # "America": a folder of zones, which Go reads and fails
        return "is a directory"
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return f"unknown time zone {name}"
    return ""


class _Unparsable(Exception):
    """robfig/cron's error for a schedule, its text the Go one."""


def _parse_error(spec: str) -> str:
    """robfig/cron's ParseStandard error for `spec` ('' when it parses)."""
    try:
        _parse(spec)
    except _Unparsable as exc:
        return str(exc)
    return ""


def _parse(spec: str) -> None:
    if spec.startswith(("TZ=", "CRON_TZ=")):
        end = spec.find(" ") if " " in spec else len(spec)
        zone = spec[spec.index("=") + 1 : end]
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise _Unparsable(f"provided bad location {zone}: unknown time zone {zone}") from exc
        spec = spec[end:].strip()
    if spec.startswith("@"):
        _descriptor(spec)
        return
    fields = spec.split()
    if len(fields) != len(_BOUNDS):
        raise _Unparsable(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    for field, bounds in zip(fields, _BOUNDS, strict=True):
        for expr in (e for e in field.split(",") if e):
            _range(expr, bounds)


def _descriptor(spec: str) -> None:
    if spec in _DESCRIPTORS:
        return
    if not spec.startswith("@every "):
        raise _Unparsable(f"unrecognized descriptor: {spec}")
    duration = spec[len("@every ") :]
    if duration != "0" and (not duration or _GO_DURATION.sub("", duration) not in ("", "-", "+")):
        raise _Unparsable(f'failed to parse duration {spec}: time: invalid duration "{duration}"')


def _range(expr: str, bounds: tuple[int, int, dict[str, int]]) -> None:
    """robfig's getRange: `*`, `N`, `N-M`, each with an optional `/step`."""
    low, high, names = bounds
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    if low_and_high[0] in ("*", "?"):
        start, end = low, high
    else:
        start = _int_or_name(low_and_high[0], names)
        if len(low_and_high) > 2:
            raise _Unparsable(f"too many hyphens: {expr}")
        end = _int_or_name(low_and_high[1], names) if len(low_and_high) == 2 else start
    step = 1
    if len(range_and_step) > 2:
        raise _Unparsable(f"too many slashes: {expr}")
    if len(range_and_step) == 2:
        step = _int(range_and_step[1])
        if len(low_and_high) == 1:  # "N/step" is "N-max/step"
            end = high
    for broken, problem in (
        (start < low, f"beginning of range ({start}) below minimum ({low})"),
        (end > high, f"end of range ({end}) above maximum ({high})"),
        (start > end, f"beginning of range ({start}) beyond end of range ({end})"),
        (step == 0, "step of range should be a positive number"),
    ):
        if broken:
            raise _Unparsable(f"{problem}: {expr}")


def _int_or_name(text: str, names: dict[str, int]) -> int:
    return names[text.lower()] if text.lower() in names else _int(text)


def _int(text: str) -> int:
    """Go's strconv.Atoi, then robfig's refusal of a negative number."""
    if not re.fullmatch(r"[+-]?\d+", text):
        raise _Unparsable(
            f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax'
        )
    number = int(text)
    if number < 0:
        raise _Unparsable(f"negative number ({number}) not allowed: {text}")
    return number
