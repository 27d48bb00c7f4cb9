"""Which failures mean the database could not be reached, rather than refused a statement.

A write that fails because the server went away (or is shutting down, or its pool is full) is
answered "busy, send it again"; one the server refused for what it was asked is a defect of
that request alone.
"""

from __future__ import annotations

import asyncpg
from sqlalchemy import exc as sqlalchemy_errors

_UNREACHABLE = (
    OSError,
    TimeoutError,
    asyncpg.InterfaceError,  # the connection is closed, or was lost mid-statement
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.OperatorInterventionError,  # class 57: shutdown, crash recovery, cancelled
    sqlalchemy_errors.TimeoutError,  # no pool connection came in time
    # the tenant's data is frozen while it moves to another plane (data/tenancy/freeze.py)
    asyncpg.InsufficientPrivilegeError,
)


def storage_unavailable(error: BaseException) -> bool:
    if isinstance(error, _UNREACHABLE):
        return True
    if isinstance(error, sqlalchemy_errors.DBAPIError):
        if error.connection_invalidated:
            return True
        return error.orig is not None and storage_unavailable(error.orig)
    cause = error.__cause__
    return cause is not None and cause is not error and storage_unavailable(cause)
