"""Who hears of changes: subscribers get each changed object, listeners only a wake-up."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

__all__ = ["Subscriber", "Subscriptions", "Wants"]

Subscriber = Callable[[str, dict[str, Any]], None]
# Which changes a subscriber hears, asked of the changed object as stored (read-only).
Wants = Callable[[str, dict[str, Any]], bool]


class Subscriptions:
    """Thread-safe lists of subscribers and listeners, called outside any store lock.

    Both are tuples replaced whole under the lock when someone joins or leaves (rarely), so a
    change (every write) reads a consistent snapshot without taking the lock or copying.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: tuple[tuple[Subscriber, Wants | None], ...] = ()
        self._listeners: tuple[Callable[[], None], ...] = ()

    def subscribe(self, callback: Subscriber, *, wants: Wants | None = None) -> Callable[[], None]:
        """Call `callback(event_type, obj)` after every change, or only after those `wants`
        accepts (no copy is made for the others: most changes concern few subscribers);
        returns an unsubscribe function."""
        return self._add("_subscribers", (callback, wants))

    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener()` (no arguments, no copy) after every change and log write."""
        return self._add("_listeners", listener)

    def has_subscribers(self) -> bool:
        """Whether anyone wants the changed objects (copies are made only then)."""
        return bool(self._subscribers)

    def wake(self) -> None:
        """Tell the listeners something changed."""
        for listener in self._listeners:
            listener()

    def publish(
        self,
        event_type: str,
        stored: dict[str, Any],
        make_copy: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        """Wake the listeners, then hand each subscriber that wants the change its own copy
        (`make_copy()`) of the changed object, or `stored` itself when there is no `make_copy`
        (a store whose objects are its subscribers' already)."""
        subscribers = self._subscribers
        self.wake()
        for callback, wants in subscribers:
            if wants is None or wants(event_type, stored):
                callback(event_type, stored if make_copy is None else make_copy())

    def _add(self, where: str, item: Any) -> Callable[[], None]:
        with self._lock:
            setattr(self, where, (*getattr(self, where), item))

        def remove() -> None:
            with self._lock:
                items = list(getattr(self, where))
                if item in items:
                    items.remove(item)
                    setattr(self, where, tuple(items))

        return remove
