"""Simulated node addresses: free loopback addresses in 127.0.0.0/8."""

from __future__ import annotations

import socket

from simulator.neighbours.addresses import choose_node_address, ports_free


def test_chosen_address_is_loopback_with_the_node_ports_free() -> None:
    """The address is under 127.42/16 and 8080, 3000 and 50000 can be bound there."""
    address = choose_node_address()
    assert address.startswith("127.42.")
    assert ports_free(address)


def test_an_address_is_never_handed_out_twice() -> None:
    """Two calls in one process give two different addresses."""
    assert choose_node_address(ports=(50000,)) != choose_node_address(ports=(50000,))


def test_a_bound_port_is_not_free() -> None:
    """ports_free notices a listener on the address."""
    address = choose_node_address(ports=(3000,))
    with socket.socket() as sock:
        sock.bind((address, 3000))
        sock.listen()
        assert not ports_free(address, (3000,))
