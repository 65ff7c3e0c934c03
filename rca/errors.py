"""The exception types that the CLI turns into a one-line message and the API into a status.

Every handled, user-facing error is an `RcaError` (CLI: exit code 1). The subclasses say what
kind of problem it is, so the HTTP service can answer 400 / 404 / 503 without parsing messages.
"""


class RcaError(Exception):
    """A handled, user-facing error: bad file, missing store, busy store, bad mapping."""


class InvalidInputError(RcaError):
    """The caller's input is malformed (a period name, a cursor): HTTP 400."""


class NotFoundError(RcaError):
    """The thing asked for does not exist (a theme id, a model version): HTTP 404."""


class NotReadyError(RcaError):
    """The store or the champion model is not there yet: HTTP 503 until it is."""


class BusyError(RcaError):
    """The store is locked by a writer for longer than the retry budget: HTTP 503, retry."""
