"""What the fake API still owes its clients, for a world whose clock jumps (simulator/warp.py).

The warp may jump only when the API has nothing in hand: no request being served, and every
open watch stream has been written up to the store's latest resourceVersion. Streams of a
participant that names its lease (`X-Appliance-Test-Clock`, sent under the product's test clock)
also count the lines written to it, and a stream the server ends leaves the participant owing a
new watch; the warp keeps those books per lease.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass

from simulator.api.store import ObjectStore
from simulator.warp import Warp

__all__ = ["PARTICIPANT_HEADER", "Delivery", "Stream"]

# The header the product's test clock adds to its Kubernetes requests: its lease id.
PARTICIPANT_HEADER = b"x-appliance-test-clock"


@dataclass
class Stream:
    """One open watch stream's books."""

    sid: int
    participant: str
    path: str
    rv: int


class Delivery:
    """Requests in flight and watch streams behind the store; a busy probe of the warp."""

    def __init__(self, store: ObjectStore, warp: Warp) -> None:
        self._store = store
        self._warp = warp
        self._lock = threading.Lock()
        self._in_flight: set[int] = set()
        self._streams: dict[int, Stream] = {}
        self._ids = itertools.count(1)
        self._remove = warp.add_probe("fake API requests and watches", self.busy)

    def close(self) -> None:
        """Stop reporting (the server stopped)."""
        self._remove()

    def busy(self) -> bool:
        """A request is being served or a watch has not been written up to the store."""
        with self._lock:
            if self._in_flight:
                return True
            behind = [s.rv for s in self._streams.values()]
        latest = self._store.resource_version
        return any(rv < latest for rv in behind)

    def request_started(self, ticket: int) -> None:
        """A request arrived (`ticket` identifies it until it is finished)."""
        with self._lock:
            self._in_flight.add(ticket)

    def request_finished(self, ticket: int) -> None:
        """The request is answered (or became an open stream); idempotent."""
        with self._lock:
            self._in_flight.discard(ticket)
        self._warp.poke()

    def watch_requested(self, participant: str, path: str) -> None:
        """A watch request arrived, whatever its answer will be."""
        if participant:
            self._warp.watch_requested(participant, path)

    def open_stream(self, ticket: int, participant: str, path: str, rv: int) -> Stream:
        """A watch stream is open from `rv`; its request no longer counts as in flight."""
        stream = Stream(next(self._ids), participant, path, rv)
        with self._lock:
            self._streams[stream.sid] = stream
        self.request_finished(ticket)
        return stream

    def written(self, stream: Stream, rv: int, lines: int) -> None:
        """Call before sending: the stream covers the store up to `rv` with `lines` lines."""
        if lines and stream.participant:
            self._warp.watch_written(stream.participant, lines)
        with self._lock:
            stream.rv = max(stream.rv, rv)
        self._warp.poke()

    def close_stream(self, stream: Stream, *, by_server: bool) -> None:
        """The stream ended; when the server ended it, its participant owes a new watch."""
        with self._lock:
            self._streams.pop(stream.sid, None)
        if by_server and stream.participant:
            self._warp.watch_ended(stream.participant, stream.path)
        self._warp.poke()
