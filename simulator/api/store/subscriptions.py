"""Who hears of changes: subscribers get each changed object, listeners only a wake-up."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

__all__ = ["Subscriber", "Subscriptions"]

Subscriber = Callable[[str, dict[str, Any]], None]


class Subscriptions:
    """Thread-safe lists of subscribers and listeners, called outside any store lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback(event_type, obj)` after every change; returns an unsubscribe function."""
        return self._add(self._subscribers, callback)

    def add_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener()` (no arguments, no copy) after every change and log write."""
        return self._add(self._listeners, listener)

    def has_subscribers(self) -> bool:
        """Whether anyone wants the changed objects (copies are made only then)."""
        return bool(self._subscribers)

    def wake(self) -> None:
        """Tell the listeners something changed."""
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def publish(self, event_type: str, make_obj: Callable[[], dict[str, Any]]) -> None:
        """Wake the listeners, then hand each subscriber its own copy of the changed object."""
        with self._lock:
            subscribers = list(self._subscribers)
        self.wake()
        for callback in subscribers:
            callback(event_type, make_obj())

    def _add(self, where: list[Any], item: Any) -> Callable[[], None]:
        with self._lock:
            where.append(item)

        def remove() -> None:
            with self._lock:
                if item in where:
                    where.remove(item)

        return remove
