"""Which database errors are worth retrying: the ones a healthy server recovers from."""

from pymongo.errors import ConnectionFailure, OperationFailure

DUPLICATE_KEY = 11000  # a unique index refused a write (in a bulk write's per-item errors)

# Server error codes that say "not now" rather than "never": an internal error (FerretDB's
# "database is locked" under load), a failover, a shutdown, a write conflict, a time limit.
TRANSIENT_CODES = frozenset({
    1,  # InternalError
    6, 7, 89, 9001,  # HostUnreachable, HostNotFound, NetworkTimeout, SocketException
    50, 262,  # MaxTimeMSExpired, ExceededTimeLimit
    91, 11600, 11602,  # ShutdownInProgress, InterruptedAtShutdown, ...DueToReplStateChange
    112,  # WriteConflict
    189, 10107, 13435, 13436,  # PrimarySteppedDown, NotWritablePrimary, NotPrimary...
})


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionFailure):
        return True
    if isinstance(exc, OperationFailure):
        labels = ("RetryableWriteError", "TransientTransactionError")
        return exc.code in TRANSIENT_CODES or any(exc.has_error_label(lb) for lb in labels)
    return False
