"""Connecting to a cluster: kubeconfig or in-cluster credentials, and the API server's clock.

The API client records the `Date` header of every response, because the status engine measures
elapsed times against the cluster's clock, never the local one (docs/architecture.md, "Time is the
cluster's").
"""

from __future__ import annotations

import errno
import functools
import http.client
import re
import socket
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.clocking import PARTICIPANT_HEADER, participant_from_env
from appliance.cluster.kubeconfig import client_complaints, load_kubeconfig, redacted
from appliance.errors import ClusterError
from appliance.site import choose_kubeconfig

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

__all__ = ["Cluster", "ClusterError", "connect", "parse_http_date"]

# Connect and read timeouts (seconds) for every API call: an admin waits on these.
REQUEST_TIMEOUT: tuple[float, float] = (5.0, 30.0)


def parse_http_date(raw: object) -> datetime | None:
    """An HTTP `Date` header (RFC 9110: `Tue, 29 Apr 2026 15:00:00 GMT`) as an aware time."""
    if not isinstance(raw, str) or not raw:
        return None
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


@functools.cache
def _clocked_api_client() -> type[ApiClient]:
    """The client class, defined on first use: importing `kubernetes` costs a quarter of a
    second, which a command that never reaches a cluster (`--help`, a bootstrap run that stops
    in the host layer) should not pay."""
    from kubernetes import client

    class _ClockedApiClient(client.ApiClient):
        """An ApiClient that remembers the API server's clock from each response's Date header."""

        def __init__(self, configuration: Any) -> None:
            super().__init__(configuration)
            self._clock_lock = threading.Lock()
            self.last_server_time: datetime | None = None

        def call_api(self, *args: Any, **kwargs: Any) -> Any:
            response = super().call_api(*args, **kwargs)
            self._remember_date(response)
            return response

        def _remember_date(self, response: Any) -> None:
            headers = getattr(response, "headers", None)
            when = parse_http_date(headers.get("Date") if headers is not None else None)
            if when is None:
                return
            with self._clock_lock:
                self.last_server_time = when

    return _ClockedApiClient


@dataclass
class Cluster:
    """A connected API client plus where its credentials came from (for error messages)."""

    api_client: Any
    origin: str
    host: str
    _closed: bool = field(default=False, repr=False)

    @property
    def last_server_time(self) -> datetime | None:
        """The API server's clock at its most recent response, if any answered yet."""
        value: datetime | None = getattr(self.api_client, "last_server_time", None)
        return value

    def close(self) -> None:
        """Release the connection pool."""
        if not self._closed:
            self._closed = True
            self.api_client.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(
    kubeconfig: Path | None = None,
    *,
    in_cluster: bool = False,
    context: str | None = None,
) -> Cluster:
    """Load credentials (a kubeconfig file, or the pod's service account) and build a client.

    Raises ClusterError naming the file and the reason when the kubeconfig cannot be used.
    """
    from kubernetes import client, config

    configuration = client.Configuration()
    if in_cluster:
        try:
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        except config.ConfigException as exc:
            raise ClusterError(
                f"in-cluster credentials unusable: {exc}; run inside a pod with a service account "
                "or pass --kubeconfig"
            ) from exc
        origin = "in-cluster service account"
    else:
        path = _resolve_kubeconfig(kubeconfig)
        if not path.exists():
            raise ClusterError(
                f"kubeconfig {path} does not exist; pass --kubeconfig with the file bootstrap wrote"
            )
        document = load_kubeconfig(path)  # read once: the client never opens the file itself
        try:
            with client_complaints() as complaints:
                config.load_kube_config_from_dict(  # type: ignore[no-untyped-call]
                    document,
                    context=context,
                    client_configuration=configuration,
                    persist_config=False,
                )
        except (config.ConfigException, ImportError, LookupError, OSError, TypeError) as exc:
            raise ClusterError(
                f"kubeconfig {path} is not usable: {redacted(exc)}; check the file or pass "
                "another --kubeconfig"
            ) from None
        except (AttributeError, ValueError) as exc:
            raise ClusterError(
                f"kubeconfig {path} is not usable: {type(exc).__name__} ({redacted(exc)}); "
                "check the file or pass another --kubeconfig"
            ) from None
        if complaints:
            raise ClusterError(
                f"kubeconfig {path}: getting the user's credentials failed: "
                f"{redacted(Exception(complaints[0]))}; run its exec command by hand to see why"
            )
        origin = f"kubeconfig {path}"
        if not configuration.verify_ssl:
            # The kubeconfig says `insecure-skip-tls-verify: true`: the admin chose it, and
            # kubectl says nothing about it; urllib3 printed two lines for every request (30 for
            # one `appliance status`, without end for a watching service).
            import warnings

            from urllib3.exceptions import InsecureRequestWarning

            warnings.filterwarnings("ignore", category=InsecureRequestWarning)
    # A status read must fail fast when the API is down rather than retry for minutes.
    configuration.retries = 0
    api_client = _clocked_api_client()(configuration)
    participant = participant_from_env()
    if participant is not None:
        # Under the test clock the simulated API learns whose watch streams it writes to.
        api_client.set_default_header(PARTICIPANT_HEADER, participant)  # type: ignore[no-untyped-call]
    return Cluster(api_client=api_client, origin=origin, host=str(configuration.host))


def _resolve_kubeconfig(kubeconfig: Path | None) -> Path:
    # Commands that know the site choose its kubeconfig before calling connect (site.py).
    return choose_kubeconfig(kubeconfig, site=None).path


_ERRNO_WORDS = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.EHOSTUNREACH: "no route to host",
    errno.ENETUNREACH: "network unreachable",
    errno.ETIMEDOUT: "timed out",
}


def _words_for(cause: BaseException) -> str | None:
    """A few words for one exception of the chain, or None to look further down."""
    if isinstance(cause, ssl.SSLError | ssl.CertificateError):
        return f"TLS failed: {getattr(cause, 'reason', None) or cause}"
    if isinstance(cause, socket.gaierror):
        return "host name not found"
    if isinstance(cause, TimeoutError) or "timed out" in str(cause).lower():
        return "timed out"
    if isinstance(cause, http.client.RemoteDisconnected):
        # The server went away mid-request (a restart, a stop): the next try says more.
        return "the connection closed without an answer"
    code = getattr(cause, "errno", None)
    return _ERRNO_WORDS.get(code) if isinstance(code, int) else None


def _causes(exc: BaseException) -> list[BaseException]:
    """The exceptions under `exc`: urllib3 keeps them in `reason` (MaxRetryError) or in its
    arguments (ProtocolError('Connection aborted.', cause)), Python in __cause__/__context__."""
    under = [getattr(exc, "reason", None), exc.__cause__, exc.__context__, *exc.args]
    return [cause for cause in under if isinstance(cause, BaseException)]


def unreachable_reason(exc: BaseException) -> str:
    """Why a request did not reach the API, in a few words (`connection refused`, `timed out`).

    urllib3 wraps the cause in MaxRetryError text ("HTTPSConnectionPool(...): Max retries
    exceeded ... (Caused by NewConnectionError(...))"); the admin needs only the cause.
    """
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        words = _words_for(current)
        if words is not None:
            return words
        pending.extend(_causes(current))
    text = str(exc)
    found = re.search(r"\[Errno (\d+)\] ([^\"')]+)", text)
    if found:
        return _ERRNO_WORDS.get(int(found.group(1)), found.group(2).strip().lower())
    if "Max retries exceeded" in text or "Caused by" in text:
        # urllib3's retry wrapper around a cause we have no words for: name the cause only.
        caused = re.search(r"Caused by (\w+)", text)
        return f"no answer ({caused.group(1) if caused else type(exc).__name__})"
    return (text or type(exc).__name__)[:200]


def describe_unreachable(host: str, exc: BaseException) -> str:
    """`cannot reach the Kubernetes API at https://...: connection refused`."""
    return f"cannot reach the Kubernetes API at {host}: {unreachable_reason(exc)}"
