"""The one place that talks to the Kubernetes API (through the official `kubernetes` client).

Everything else in `appliance` works on the plain `Snapshot` this package returns.
"""

from __future__ import annotations

from appliance.cluster.connecting import Cluster, ClusterError, connect
from appliance.cluster.reading import count_seeded_users, read_snapshot, server_time

__all__ = [
    "Cluster",
    "ClusterError",
    "connect",
    "count_seeded_users",
    "read_snapshot",
    "server_time",
]
