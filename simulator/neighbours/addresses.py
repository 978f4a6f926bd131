"""Choosing a simulated node address: a free loopback address in 127.0.0.0/8.

Linux answers on all of 127.0.0.0/8, so each simulated appliance gets its own "node IP" with the
real ports (8080 status, 3000 app, 50000 Talos) and parallel test runs do not collide.
"""

from __future__ import annotations

import os
import random
import socket
import threading
from collections.abc import Iterable

from simulator.errors import SimulatorError

__all__ = ["NODE_PORTS", "AddressError", "choose_node_address", "ports_free"]

NODE_PORTS = (8080, 3000, 50000)
_lock = threading.Lock()
_taken: set[str] = set()


class AddressError(SimulatorError):
    """No free simulated node address was found."""


def ports_free(address: str, ports: Iterable[int] = NODE_PORTS) -> bool:
    """Whether every port in `ports` can be bound on `address` right now."""
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind((address, port))
            except OSError:
                return False
    return True


def choose_node_address(
    *, prefix: str = "127.42", ports: Iterable[int] = NODE_PORTS, attempts: int = 200
) -> str:
    """A `prefix.x.y` address (x, y in 1..254) whose `ports` are all free, never the same twice.

    Candidates are drawn at random (seeded by the pid) so concurrent test processes spread out.
    """
    wanted = tuple(ports)
    rng = random.Random(os.getpid() ^ threading.get_ident())  # noqa: S311 - not security
    with _lock:
        for _ in range(attempts):
            address = f"{prefix}.{rng.randint(1, 254)}.{rng.randint(1, 254)}"
            if address in _taken:
                continue
            if ports_free(address, wanted):
                _taken.add(address)
                return address
    raise AddressError(
        f"no free simulated node address under {prefix}.0.0/16 with ports {wanted} free after "
        f"{attempts} tries; stop leftover simulator processes or choose another prefix"
    )
