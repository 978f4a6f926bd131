"""Why the Kubernetes API could not be reached, in a few words an admin reads on the page.

The exceptions are the ones the official client raises (urllib3 wraps the cause in
`MaxRetryError`, a dropped connection in `ProtocolError`); what the admin sees must never be
urllib3's `HTTPSConnectionPool(...): Max retries exceeded ...` (issue 14 item 9).
"""

from __future__ import annotations

import errno
import http.client
import socket
import ssl

import pytest
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from appliance.cluster.connecting import describe_unreachable, unreachable_reason

HOST = "https://10.0.0.1:6443"


def _retried(cause: BaseException) -> MaxRetryError:
    return MaxRetryError(None, "/api/v1/pods", cause)  # type: ignore[arg-type]


def _refused() -> NewConnectionError:
    error = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] refused")  # type: ignore[arg-type]
    error.__cause__ = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    return error


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (_retried(_refused()), "connection refused"),
        (
            _retried(
                ProtocolError(
                    "Connection aborted.",
                    http.client.RemoteDisconnected("Remote end closed connection without response"),
                )
            ),
            "the connection closed without an answer",
        ),
        (
            _retried(socket.gaierror(socket.EAI_NONAME, "Name or service not known")),
            "host name not found",
        ),
        (_retried(TimeoutError("timed out")), "timed out"),
        (_retried(ssl.SSLCertVerificationError("certificate verify failed")), "TLS failed"),
        (_retried(ProtocolError("Connection broken: IncompleteRead(0 bytes read)")), "no answer"),
    ],
    ids=["refused", "closed", "dns", "timeout", "tls", "broken"],
)
def test_the_cause_in_a_few_words(error: BaseException, words: str) -> None:
    said = describe_unreachable(HOST, error)
    assert said.startswith(f"cannot reach the Kubernetes API at {HOST}: {words}")
    for noise in ("HTTPSConnectionPool", "Max retries", "Caused by", "Errno"):
        assert noise not in said


def test_a_real_refused_connection() -> None:
    """A port nobody listens on, through urllib3 itself: `connection refused`."""
    import urllib3

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    pool = urllib3.PoolManager(retries=urllib3.Retry(total=0))
    with pytest.raises(urllib3.exceptions.HTTPError) as raised:
        pool.request("GET", f"http://127.0.0.1:{port}/version", timeout=2.0)
    assert unreachable_reason(raised.value) == "connection refused"
