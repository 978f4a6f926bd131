"""KubeClient.close() while another thread is still connecting: the connection that thread makes
must not outlive the client.

httpx's pool forgets its connections when closed, and closes each one that has connected; a
connection still in its TLS handshake at that moment connects afterwards, answers its request
and is then nobody's. Its socket stayed open until the garbage collector found it, and the
ResourceWarning raised there failed whatever test was running then (a recorder's, a replay's
or a control plane follower's threads can be reconnecting while another thread closes).
"""

from __future__ import annotations

import gc
import socket
import threading
import warnings
from pathlib import Path

import yaml

from simulator.replay.kubeclient import KubeClient
from tests.integration.fake_api_harness import running_api


def _relay(
    upstream: tuple[str, int], accepted: threading.Event, gate: threading.Event
) -> tuple[socket.socket, int]:
    """A listener that sets `accepted` for each client, then waits for `gate` before relaying
    it to `upstream`: the client's TLS handshake waits meanwhile."""
    listener = socket.create_server(("127.0.0.1", 0))

    def pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                end.close()

    def serve() -> None:
        try:
            while True:
                client, _ = listener.accept()
                accepted.set()
                gate.wait(30)
                server = socket.create_connection(upstream)
                threading.Thread(target=pump, args=(client, server), daemon=True).start()
                threading.Thread(target=pump, args=(server, client), daemon=True).start()
        except OSError:
            return

    threading.Thread(target=serve, daemon=True).start()
    return listener, listener.getsockname()[1]


def test_a_connection_made_while_the_client_closes_is_closed(tmp_path: Path) -> None:
    """A request whose TLS handshake is held (by a relay) until `close` has returned: once it
    ends, no socket of the client is left for the garbage collector."""
    with running_api(tmp_path) as api:
        accepted, gate = threading.Event(), threading.Event()
        listener, port = _relay(("127.0.0.1", api.server.port), accepted, gate)
        config = yaml.safe_load(api.kubeconfig.read_text())
        config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{port}"
        kubeconfig = tmp_path / "relayed"
        kubeconfig.write_text(yaml.safe_dump(config))
        client = KubeClient(kubeconfig)
        outcome: list[object] = []

        def ask() -> None:
            try:
                outcome.append(client.request("GET", "/version"))
            except Exception as exc:  # its answer (or its error) does not matter here
                outcome.append(exc)

        asking = threading.Thread(target=ask)
        try:
            asking.start()
            assert accepted.wait(30), "the client never connected"
            client.close()  # while the client's handshake waits for the gate
            gate.set()
            asking.join(30)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ResourceWarning)
                gc.collect()
        finally:
            gate.set()
            listener.close()
        assert outcome, "the request never ended"
        unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
        assert not unclosed
