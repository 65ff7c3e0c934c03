"""The one exception type that the CLI turns into a one-line message and exit code 1."""


class RcaError(Exception):
    """A handled, user-facing error: bad file, missing store, busy store, bad mapping."""
