"""What runs inside simulated containers: their logs, and the answers to `kubectl exec`."""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["ContainerLogs", "ExecHandler", "ExecHandlers"]

ExecHandler = Callable[[str, str, str, list[str]], "tuple[str, str, int] | None"]


class ContainerLogs:
    """Container logs by (namespace, pod, container); they outlive their pod, as on a node."""

    def __init__(self, on_write: Callable[[], None]) -> None:
        self._lock = threading.Lock()
        self._logs: dict[tuple[str, str, str], str] = {}
        # Listeners hear log growth: `kubectl logs -f` streams it.
        self._on_write = on_write

    def set(self, namespace: str, pod: str, container: str, text: str) -> None:
        """Set the whole log of a container (what `kubectl logs` prints)."""
        with self._lock:
            self._logs[(namespace, pod, container)] = text
        self._on_write()

    def append(self, namespace: str, pod: str, container: str, text: str) -> None:
        """Append to a container's log (add the trailing newline yourself)."""
        with self._lock:
            key = (namespace, pod, container)
            self._logs[key] = self._logs.get(key, "") + text
        self._on_write()

    def text(self, namespace: str, pod: str, container: str) -> str:
        """The raw stored log of one container ('' when none)."""
        with self._lock:
            return self._logs.get((namespace, pod, container), "")


class ExecHandlers:
    """Answers to `kubectl exec`, newest handler first; a few shell builtins otherwise."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handlers: list[ExecHandler] = []

    def register(self, handler: ExecHandler) -> Callable[[], None]:
        """Add a handler(namespace, pod, container, command) -> (out, err, code) or None.

        Returns a function that removes it.
        """
        with self._lock:
            self._handlers.insert(0, handler)

        def remove() -> None:
            with self._lock:
                if handler in self._handlers:
                    self._handlers.remove(handler)

        return remove

    def run(
        self, namespace: str, pod: str, container: str, command: list[str]
    ) -> tuple[str, str, int]:
        """Run `command` in a simulated container via the registered handlers."""
        with self._lock:
            handlers = list(self._handlers)
        for handler in handlers:
            answer = handler(namespace, pod, container, command)
            if answer is not None:
                return answer
        if command and command[0] == "echo":
            return " ".join(command[1:]) + "\n", "", 0
        if command and command[0] in ("true", "false"):
            return "", "", 0 if command[0] == "true" else 1
        exe = command[0] if command else ""
        return (
            "",
            "OCI runtime exec failed: exec failed: unable to start container process: "
            f'exec: "{exe}": executable file not found in $PATH: unknown\n',
            127,
        )
