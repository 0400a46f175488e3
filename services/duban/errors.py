"""One error hierarchy, mapped once to HTTP (see app.py). Messages are for a clerk to read."""

from __future__ import annotations


class DubanError(Exception):
    """Base of every error the platform raises on purpose."""

    status_code = 400

    def __init__(self, message: str, *, detail: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail or {}


class InvalidInput(DubanError):
    status_code = 400


class NotAuthenticated(DubanError):
    status_code = 401


class Forbidden(DubanError):
    status_code = 403


class NotFound(DubanError):
    status_code = 404


class Conflict(DubanError):
    """The object is not in a state that allows the action."""

    status_code = 409


class TooLarge(DubanError):
    """The request carries more than the platform takes (an attachment over the size limit)."""

    status_code = 413


class TooManyRequests(DubanError):
    """Throttled: the caller should wait ``retry_after`` seconds."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: int = 60) -> None:
        super().__init__(message, detail={"retry_after": retry_after})
        self.retry_after = retry_after


class ServiceUnavailable(DubanError):
    status_code = 503


class Refused(DubanError):
    """An event the receiver will not take from its sender at all (it holds no standing for it here):
    kept as rejected, unlike a ``Conflict``, which is kept for an operator to replay."""

    status_code = 403
