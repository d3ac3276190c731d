"""Errors a user can act on. Each message says what was wrong and what to do next."""

from __future__ import annotations


class CustodyError(Exception):
    """Base of every refusal custody makes; ``status`` is the HTTP status the API answers with."""

    status = 400
    title = "Invalid request"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(CustodyError):
    status = 422
    title = "Invalid input"


class NotFound(CustodyError):
    status = 404
    title = "Not found"


class Conflict(CustodyError):
    status = 409
    title = "Conflict"


class IllegalTransition(Conflict):
    title = "Illegal state transition"


class RefusedByLaw(CustodyError):
    """The user asked for something the law decision for this agency does not allow."""

    status = 409
    title = "Refused by law"


class StoreUnavailable(CustodyError):
    """The store cannot be opened or reached: nothing was done, and the fix is in the deployment
    (the folder, the database's address, its server), not in the request."""

    status = 503
    title = "Store unavailable"


class ServiceUnavailable(CustodyError):
    """A server custody needs besides its store (NATS JetStream) cannot be reached: nothing was done,
    and the fix is in the deployment (the server, its address), not in the request."""

    status = 503
    title = "Service unavailable"
