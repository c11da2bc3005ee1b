"""Database errors worth retrying are told apart from the rest."""

from pymongo.errors import AutoReconnect, DuplicateKeyError, OperationFailure

from jobrunner_shared.dberrors import is_transient


def test_outages_and_busy_servers_are_transient() -> None:
    assert is_transient(AutoReconnect("connection closed"))
    busy = OperationFailure("database is locked (5) (SQLITE_BUSY)", code=1)
    assert is_transient(busy)
    assert is_transient(OperationFailure("stepped down", code=189))


def test_mistakes_are_not_transient() -> None:
    assert not is_transient(DuplicateKeyError("E11000", code=11000))
    assert not is_transient(OperationFailure("bad query", code=2))
    assert not is_transient(ValueError("not a database error"))
