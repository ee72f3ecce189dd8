"""Domain errors. Raised anywhere, turned into HTTP answers in one place (app.main)."""


class DomainError(Exception):
    """An error the client can act on; ``status_code`` is its HTTP status."""

    status_code = 400
    headers: dict[str, str] | None = None

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class InvalidInput(DomainError):
    """Input that is well-formed but cannot be used as it is."""

    status_code = 422


class PreconditionFailed(DomainError):
    """An edit sent with an If-Match that the entity no longer matches; it answers
    the entity's current ETag."""

    status_code = 412

    def __init__(self, detail: str, *, etag: str) -> None:
        super().__init__(detail)
        self.headers = {"ETag": etag}


class InvalidAliasFile(DomainError):
    """An alias file that does not parse or validate; nothing of it was loaded."""

    status_code = 422


class PayloadTooLarge(DomainError):
    status_code = 413


class DatabaseUnusable(DomainError):
    """The database cannot be used at all (or did not answer in time); nothing to retry."""

    status_code = 503


class OverBudget(DomainError):
    """A request's work ran past its time budget; nothing of it is answered."""

    status_code = 503


class ClientGone(DomainError):
    """The client closed the connection before its answer was ready (nginx's 499)."""

    status_code = 499


class UnknownType(DomainError):
    """A type the table does not declare (in a filter: neither declares nor uses)."""

    status_code = 422
