"""FastAPI dependencies of record routes: the collection named in the path, as a table."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from webhost.data.collections.tables import RecordTable
from webhost.data.tenancy.dependencies import CallerDep, PlaneDep, TenantConnectionDep


async def get_record_table(
    name: str, plane: PlaneDep, caller: CallerDep, connection: TenantConnectionDep
) -> RecordTable:
    """404 when the collection does not exist; its schema comes from the plane's cache."""
    return RecordTable(
        caller.tenant, await plane.catalogue.require(connection, caller.tenant, name)
    )


RecordTableDep = Annotated[RecordTable, Depends(get_record_table)]
