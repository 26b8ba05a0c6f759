"""What a use case refuses, in words a handler can show the user."""

from __future__ import annotations


class ServiceError(Exception):
    """A refusal with a Chinese sentence for the person who asked."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    pass


class NotAllowed(ServiceError):
    pass


class Conflict(ServiceError):
    pass


class InvalidInput(ServiceError):
    pass
