"""Rules of the vehicles REST API: identifiers are unique, the plan caps how many there are."""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncConnection

from webhost.data.fleet import vehicles_repository as repository
from webhost.data.fleet.points import identifier_problem
from webhost.data.fleet.vehicle_schemas import VehicleCreate, VehiclePatch
from webhost.data.fleet.vehicles_repository import Vehicle
from webhost.data.tenancy.scope import Tenant
from webhost.db.admin import quote_ident
from webhost.db.driver import driver_of
from webhost.errors import Conflict, InvalidInput, NotFound, VehicleLimitReached


async def create(
    connection: AsyncConnection, tenant: Tenant, vehicle_limit: int | None, body: VehicleCreate
) -> Vehicle:
    driver, schema = await driver_of(connection), quote_ident(tenant.name)
    if vehicle_limit is not None:
        await repository.lock_registrations(driver)
        if await repository.count(driver, schema) >= vehicle_limit:
            raise VehicleLimitReached(
                f"the plan allows at most {vehicle_limit} vehicles; delete one or change plans "
                "to add another"
            )
    created = await repository.insert(driver, schema, body.model_dump())
    if created is None:
        raise Conflict(f"a vehicle with identifier {json.dumps(body.identifier)} exists already")
    return created


async def page(
    connection: AsyncConnection, tenant: Tenant, *, limit: int, offset: int, status: str | None
) -> list[Vehicle]:
    return await repository.page(
        await driver_of(connection),
        quote_ident(tenant.name),
        limit=limit,
        offset=offset,
        status=status,
    )


async def get(connection: AsyncConnection, tenant: Tenant, identifier: str) -> Vehicle:
    _check(identifier)
    found = await repository.find(await driver_of(connection), quote_ident(tenant.name), identifier)
    if found is None:
        raise _not_found(identifier)
    return found


async def change(
    connection: AsyncConnection, tenant: Tenant, identifier: str, patch: VehiclePatch
) -> Vehicle:
    _check(identifier)
    changes = patch.changes()
    if not changes:
        return await get(connection, tenant, identifier)
    driver, schema = await driver_of(connection), quote_ident(tenant.name)
    changed = await repository.update(driver, schema, identifier, changes)
    if changed is None:
        raise _not_found(identifier)
    return changed


async def delete(connection: AsyncConnection, tenant: Tenant, identifier: str) -> None:
    _check(identifier)
    driver, schema = await driver_of(connection), quote_ident(tenant.name)
    if not await repository.delete(driver, schema, identifier):
        raise _not_found(identifier)


def _check(identifier: str) -> None:
    """A path's identifier: one that could not be stored is refused before SQL sees it."""
    problem = identifier_problem(identifier)
    if problem is not None:
        raise InvalidInput(f"identifier {problem}")


def _not_found(identifier: str) -> NotFound:
    return NotFound(f"no vehicle with identifier {json.dumps(identifier)}")
