"""A bound ServiceAccount token authenticates only while it is unexpired on the cluster's clock
and what it is bound to still lives (judged live in test_fake_api_vs_apiserver_rbac.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from simulator.api.rbac import TokenBinding, TokenBook, service_account_user
from simulator.api.store import ObjectStore
from simulator.clock import VirtualClock

START = datetime(2026, 1, 1, tzinfo=UTC)


def _book() -> tuple[TokenBook, ObjectStore, str]:
    store = ObjectStore(VirtualClock(START))
    store.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "msp"}})
    account = store.create(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "a", "namespace": "msp"},
        }
    )
    return TokenBook("admin-token", store=store), store, str(account["metadata"]["uid"])


def test_a_token_expires_on_the_clusters_clock() -> None:
    book, store, uid = _book()
    user = service_account_user("msp", "a")
    book.add("t", user, TokenBinding("msp", "a", uid, expires=START + timedelta(hours=1)))
    assert book.lookup("t") == user
    store.clock.advance(59 * 60)
    assert book.lookup("t") == user
    store.clock.advance(60)
    assert book.lookup("t") is None


def test_a_token_ends_with_its_account_and_a_namesake_does_not_revive_it() -> None:
    book, store, uid = _book()
    user = service_account_user("msp", "a")
    book.add("t", user, TokenBinding("msp", "a", uid))
    book.add("unbound", user)  # issued for an account the test never made: not checked
    store.delete("v1", "ServiceAccount", "a", "msp")
    assert book.lookup("t") is None
    store.create(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "a", "namespace": "msp"},
        }
    )
    assert book.lookup("t") is None
    assert book.lookup("unbound") == user
