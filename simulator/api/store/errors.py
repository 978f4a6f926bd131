"""The store's errors, each one a Kubernetes `Status` (code, reason), and the Status body itself."""

from __future__ import annotations

from typing import Any

from simulator.errors import SimulatorError

__all__ = [
    "AlreadyExistsError",
    "BadRequestError",
    "ConflictError",
    "ExpiredError",
    "ForbiddenError",
    "InvalidError",
    "NotFoundError",
    "PatchNotApplicableError",
    "StoreError",
    "UnknownReasonError",
    "UnsupportedMediaTypeError",
    "status_body",
]


def status_body(
    code: int, reason: str, message: str, *, empty_details: bool = False, **details: Any
) -> dict[str, Any]:
    """The `Status` object kube-apiserver answers a failed request with, in its field order
    (metav1.Status: kind, apiVersion, metadata, status, message, reason, details, code);
    `empty_details`: `"details": {}` when there are none (an error made with details that are
    all zero, as apierrors.NewForbidden makes a non-resource path's)."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
    }
    if reason:  # StatusReasonUnknown is "", and omitted
        body["reason"] = reason
    if details or empty_details:
        body["details"] = details
    body["code"] = code
    return body


class StoreError(SimulatorError):
    """Root of the store's errors; each maps to a Kubernetes Status (`code`, `reason`)."""

    code = 500
    reason = "InternalError"
    # Whether the Status has `details` even when empty (its apierrors constructor sets them).
    empty_details = False
    # Seconds a client should wait before it asks again (details.retryAfterSeconds and the
    # Retry-After header, which client-go's retries honour).
    retry_after: int | None = None

    def __init__(
        self,
        message: str,
        *,
        name: str = "",
        group: str = "",
        kind: str = "",
        causes: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.group = group
        self.kind = kind
        self.causes = causes or []

    def status(self) -> dict[str, Any]:
        """The `Status` object a real API server answers with."""
        details: dict[str, Any] = {}
        if self.name:
            details["name"] = self.name
        if self.group:
            details["group"] = self.group
        if self.kind:
            details["kind"] = self.kind
        if self.causes:
            details["causes"] = self.causes
        if self.retry_after:
            details["retryAfterSeconds"] = self.retry_after
        empty = self.empty_details
        return status_body(self.code, self.reason, self.message, empty_details=empty, **details)


class UnknownReasonError(StoreError):
    """500 with no reason: an error kube-apiserver got as plain Go error, not as a Status
    (ErrorToAPIStatus), e.g. an apply configuration structured-merge-diff cannot type."""

    reason = ""


class BadRequestError(StoreError):
    """400: malformed request (selector, patch body)."""

    code = 400
    reason = "BadRequest"


class ForbiddenError(StoreError):
    """403: e.g. a create in a namespace that is being deleted."""

    code = 403
    reason = "Forbidden"
    empty_details = True  # apierrors.NewForbidden


class NotFoundError(StoreError):
    """404: the object, or its kind, does not exist."""

    code = 404
    reason = "NotFound"


class AlreadyExistsError(StoreError):
    """409: create of a name that exists."""

    code = 409
    reason = "AlreadyExists"


class PatchNotApplicableError(StoreError):
    """422: a well-formed JSON patch that cannot be applied (a failed `test`, a missing path).

    kube-apiserver answers it with `NewGenericServerResponse(422)`: a fixed message, empty
    details; what went wrong is only in the server's own words, which it does not send.
    """

    code = 422
    reason = "Invalid"

    def status(self) -> dict[str, Any]:
        body = status_body(
            self.code, self.reason, "the server rejected our request due to an error in our request"
        )
        del body["code"]
        return {**body, "details": {}, "code": self.code}


class ConflictError(StoreError):
    """409: write with a stale resourceVersion."""

    code = 409
    reason = "Conflict"


class ExpiredError(StoreError):
    """410: the resourceVersion is older than the retained watch history."""

    code = 410
    reason = "Expired"


class UnsupportedMediaTypeError(StoreError):
    """415: e.g. a strategic merge patch against a custom resource."""

    code = 415
    reason = "UnsupportedMediaType"


class InvalidError(StoreError):
    """422: the object fails validation (e.g. no name)."""

    code = 422
    reason = "Invalid"
