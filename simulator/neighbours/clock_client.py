"""Time for our fake CLIs (`talosctl`, `flux`): the machine's, or the warped world's.

A fake CLI the bootstrapper runs inherits the bootstrapper's `APPLIANCE_TEST_CLOCK` lease, so
while it polls, its sleeps are the lease's: the world's clock jumps past them as it would past
the bootstrapper's own. Kept to the standard library: each CLI run starts a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import time

from simulator.neighbours import loopback_http

__all__ = ["now", "poll_pause", "sleep", "warped"]

_ENV = "APPLIANCE_TEST_CLOCK"  # the product's test switch (clock_endpoint.CLOCK_ENV)
_counter = iter(range(1, 1 << 62))


def _lease() -> str:
    return os.environ.get(_ENV, "").strip()


def warped() -> bool:
    """Whether this process waits on a warped world's clock."""
    return bool(_lease())


def _call(method: str, verb: str, **query: object) -> float:
    from urllib.parse import urlencode, urlsplit  # only a warped world's CLI asks the clock

    # The world's loopback URL, from the environment the world gave us.
    lease = urlsplit(_lease())
    target = f"{lease.path.rstrip('/')}/{verb}" + (f"?{urlencode(query)}" if query else "")
    answer = loopback_http.request(lease.hostname or "127.0.0.1", lease.port or 80, method, target)
    if answer.status != 200:
        raise OSError(f"the clock endpoint answered {verb} with HTTP {answer.status}")
    return float(json.loads(answer.body)["now"])


def now() -> float:
    """Seconds on the world's clock (epoch seconds) when warped, else `time.monotonic()`."""
    return _call("GET", "now") if warped() else time.monotonic()


def sleep(seconds: float) -> None:
    """Sleep `seconds` of the world's time when warped, else of the machine's."""
    if warped():
        _call("POST", "sleep", seconds=seconds, wid=f"cli-{os.getpid()}-{next(_counter)}")
    else:
        time.sleep(seconds)


def poll_pause() -> None:
    """The pause between two polls of a waiting CLI: short in wall time, a couple of seconds of
    the world's time when warped (each pause is a jump; the world's reactions take seconds)."""
    sleep(2.0 if warped() else 0.1)
