"""`appliance-sim fidelity`: one corpus of requests against the fake API and a real control plane.

    appliance-sim fidelity --kubeconfig KC [--corpus FILE] [--record FILE] [--helm PATH]

Without `--corpus` the corpus is recorded first (`recording.py`: a bootstrap plus status service
run of happy-path on the fake API; `users.py`: what a user does with kubectl, the official
client and helm). Each request is then sent to a fresh fake API and to the control plane `KC`
reaches (which must not hold the corpus's objects yet: a fresh `appliance-sim control-plane`),
the answers compared (`compare.py`), and a table of the differences printed, then one line per
source and, last, `fidelity: N/M identical`. `--record FILE` also writes the corpus.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

from simulator.api import ApiServer
from simulator.api.store import ObjectStore
from simulator.clock import VirtualClock
from simulator.controlplane.access import ControlPlaneAccess
from simulator.errors import SimulatorError
from simulator.fidelity.compare import Comparison, comparisons
from simulator.fidelity.corpus import PRODUCT, SOURCES, CorpusRequest, load_corpus, save_corpus
from simulator.fidelity.normalise import manager_of
from simulator.fidelity.replay import Replayer
from simulator.replay.kubeclient import ApiError

__all__ = ["FidelityReport", "add_fidelity_command", "run_fidelity", "run_fidelity_command"]

_REPO = Path(__file__).resolve().parents[2]
HAPPY_PATH = _REPO / "scenarios" / "happy-path.yaml"


@dataclass(frozen=True)
class FidelityReport:
    """Every request's comparison; counts per source."""

    comparisons: tuple[Comparison, ...]

    def counts(self, sources: Sequence[str] | None = None) -> tuple[int, int, int]:
        """(identical, known, total) over `sources` (all when None); `known`: the comparisons
        that differ only in the known ways (`known.py`)."""
        chosen = [c for c in self.comparisons if sources is None or c.request.source in sources]
        same = sum(1 for c in chosen if c.identical)
        known = sum(1 for c in chosen if not c.identical and c.known)
        return same, known, len(chosen)

    def differences(self) -> list[Comparison]:
        return [c for c in self.comparisons if not c.identical]

    def lines(self) -> list[str]:
        """The table of differences, one line per source, and the verdict last."""
        out = []
        rows = [(n, c) for n, c in enumerate(self.comparisons, start=1) if not c.identical]
        if rows:
            out.append(f"{'#':>4}  {'source':<8} {'actor':<28} {'request':<60} difference")
        for number, found in rows:
            request = found.request
            target = request.target if len(request.target) <= 60 else request.target[:57] + "..."
            more = f" (+{len(found.differences) - 1} more)" if len(found.differences) > 1 else ""
            label = f"[known: {', '.join(found.known)}] " if found.known else ""
            out.append(
                f"{number:>4}  {request.source:<8} {request.actor[:28]:<28} {target:<60} "
                f"{label}{found.differences[0]}{more}"
            )
        for source in SOURCES:
            same, known, total = self.counts([source])
            if total:
                out.append(f"{source}: {same}/{total} identical, {known} differ only in known ways")
        same, known, total = self.counts()
        out.append(
            f"known differences (docs/simulator-api.md): {known} requests; "
            f"other differences: {total - same - known}"
        )
        out.append(f"fidelity: {same}/{total} identical")
        return out


def corpus_managers(requests: Sequence[CorpusRequest]) -> set[str]:
    """The field managers the corpus's writes are recorded under on a real API server."""
    found = set()
    for request in requests:
        if request.method in ("POST", "PUT", "PATCH"):
            manager = (parse_qs(request.query).get("fieldManager") or [""])[0]
            found.add(manager_of(manager, request.header("user-agent")))
    return found


_BUILT_IN_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


def _check_fresh(access: ControlPlaneAccess, requests: Sequence[CorpusRequest]) -> None:
    """SimulatorError when the cluster already holds a namespace the corpus works in: the
    answers would be about what an earlier run left, not about the corpus."""
    namespaces = {
        parts[parts.index("namespaces") + 1]
        for parts in (r.path.strip("/").split("/") for r in requests)
        if "namespaces" in parts[:-1]
    } - _BUILT_IN_NAMESPACES
    for namespace in sorted(namespaces):
        try:
            access.client.request("GET", f"/api/v1/namespaces/{namespace}")
        except ApiError as exc:
            if exc.code == 404:
                continue
            raise
        raise SimulatorError(
            f"{access.admin_kubeconfig}: namespace {namespace} exists already; fidelity needs a "
            "fresh control plane (appliance-sim control-plane --kubeconfig-out FILE)"
        )


def run_fidelity(
    requests: Sequence[CorpusRequest],
    kubeconfig: Path,
    *,
    on_each: Callable[[Comparison], None] | None = None,
) -> FidelityReport:
    """Send `requests` to a fresh fake API and to the control plane; compare every answer."""
    access = ControlPlaneAccess(kubeconfig)
    try:
        _check_fresh(access, requests)
        version = str(access.client.request("GET", "/version").get("gitVersion", ""))
        store = ObjectStore(VirtualClock(datetime.now(UTC), speed=1.0))
        fake = ApiServer(store, git_version=version or "v1.37.0")
        fake.start()
        try:
            with Replayer("fake", fake) as left, Replayer("real", access) as right:
                # Each backend gets the whole sequence in order, from its own thread: the two
                # are independent (each replayer keeps its own state), and most of a replay is
                # spent reading watch streams for a fixed time, so the two overlap.
                with ThreadPoolExecutor(2, thread_name_prefix="fidelity-replay") as pool:
                    on_fake = pool.submit(left.run, requests)
                    on_real = pool.submit(right.run, requests)
                    fake_answers, real_answers = on_fake.result(), on_real.result()
                found = comparisons(
                    list(requests),
                    fake_answers,
                    real_answers,
                    fake_owned=left.owned,
                    real_owned=right.owned,
                    managers=corpus_managers(requests),
                    on_each=on_each,
                )
        finally:
            fake.stop()
    finally:
        access.close()
    return FidelityReport(tuple(found))


def add_fidelity_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `fidelity` on `appliance-sim`'s subparsers."""
    command = sub.add_parser(
        "fidelity", help="compare the fake API with a real control plane, request by request"
    )
    command.add_argument(
        "--kubeconfig",
        type=Path,
        required=True,
        help="a fresh real control plane (appliance-sim control-plane --kubeconfig-out)",
    )
    command.add_argument("--corpus", type=Path, help="replay this corpus instead of recording one")
    command.add_argument("--record", type=Path, help="write the recorded corpus here")
    command.add_argument(
        "--helm", type=Path, help="the helm binary for the user corpus (default: helm on PATH)"
    )


def record_corpus(
    echo: Callable[[str], None] = print, *, helm: Path | None = None
) -> list[CorpusRequest]:
    """The product's requests (happy-path on the fake API) and a user's (kubectl, client, helm)."""
    from simulator.fidelity.recording import record_product
    from simulator.fidelity.users import record_users

    started = time.monotonic()
    # The two recordings use fake APIs of their own and mostly wait on processes they start
    # (the bootstrapper and the status service; kubectl and helm): they overlap.
    with ThreadPoolExecutor(1, thread_name_prefix="fidelity-recording") as pool:
        recording = pool.submit(record_product, HAPPY_PATH, repository=_REPO)
        users = record_users(helm)
        product = recording.result()
    echo(f"recorded {len(product)} requests of a bootstrap of {HAPPY_PATH.name}")
    echo(f"recorded {len(users)} requests of kubectl, the official client and helm")
    echo(f"recording took {time.monotonic() - started:.0f}s")
    return [*product, *users]


def run_fidelity_command(args: argparse.Namespace) -> int:
    """`appliance-sim fidelity`; exit 2 with one line for bad input."""
    try:
        if not args.kubeconfig.is_file():
            raise SimulatorError(f"{args.kubeconfig}: no such kubeconfig")
        requests = load_corpus(args.corpus) if args.corpus else record_corpus(helm=args.helm)
        if args.record:
            save_corpus(args.record, requests)
            print(f"wrote {len(requests)} requests to {args.record}")
        report = run_fidelity(requests, args.kubeconfig)
    except SimulatorError as exc:
        print(f"appliance-sim fidelity: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    for line in report.lines():
        print(line)
    # Exit 1 when the product's own requests meet a difference that is not a known one.
    product_same, product_known, product_total = report.counts([PRODUCT])
    return 0 if product_same + product_known == product_total else 1
