"""Routes of collections and records; the rules live in the catalogue and record services."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from webhost.data.collections import record_service
from webhost.data.collections.dependencies import RecordTableDep
from webhost.data.collections.query import parse_list_query
from webhost.data.collections.schemas import RECORD_SCHEMA, CollectionDefinition, CollectionOut
from webhost.data.tenancy.dependencies import CallerDep, PlaneDep, TenantConnectionDep
from webhost.http.json_body import read_json_object
from webhost.validation import MAX_JSON_DEPTH

router = APIRouter(prefix="/v1/collections", tags=["collections"])

_RECORD_BODY = {
    "requestBody": {"required": True, "content": {"application/json": {"schema": RECORD_SCHEMA}}}
}
_RECORD_RESPONSE = {"content": {"application/json": {"schema": RECORD_SCHEMA}}}
_RECORD_LIST_RESPONSE = {
    "content": {"application/json": {"schema": {"type": "array", "items": RECORD_SCHEMA}}}
}


def _json(body: str, status_code: int = 200) -> Response:
    return Response(content=body, status_code=status_code, media_type="application/json")


@router.get("", response_model=list[CollectionOut])
async def list_collections(
    plane: PlaneDep, caller: CallerDep, connection: TenantConnectionDep
) -> list[CollectionOut]:
    collections = await plane.catalogue.list(connection, caller.tenant)
    return [CollectionOut.of(collection) for collection in collections]


@router.put(
    "/{name}",
    response_model=CollectionOut,
    responses={201: {"description": "Created", "model": CollectionOut}},
    summary="Create a collection or evolve its indexes",
)
async def define_collection(
    name: str,
    definition: CollectionDefinition,
    plane: PlaneDep,
    caller: CallerDep,
    connection: TenantConnectionDep,
    response: Response,
) -> CollectionOut:
    collection, created = await plane.catalogue.define(
        connection, caller.tenant, name, definition.schema_
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return CollectionOut.of(collection)


@router.get("/{name}", response_model=CollectionOut)
async def get_collection(
    name: str, plane: PlaneDep, caller: CallerDep, connection: TenantConnectionDep
) -> CollectionOut:
    return CollectionOut.of(await plane.catalogue.require(connection, caller.tenant, name))


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def drop_collection(
    name: str, plane: PlaneDep, caller: CallerDep, connection: TenantConnectionDep
) -> Response:
    await plane.catalogue.drop(connection, caller.tenant, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{name}/records",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=_RECORD_BODY,
    responses={201: _RECORD_RESPONSE},
)
async def create_record(
    request: Request, table: RecordTableDep, plane: PlaneDep, connection: TenantConnectionDep
) -> Response:
    body = await read_json_object(request)
    record = await record_service.create_record(connection, plane.writer, table, body)
    return _json(record, status.HTTP_201_CREATED)


@router.get(
    "/{name}/records",
    responses={200: _RECORD_LIST_RESPONSE},
    summary="List records with PostgREST-style filters",
    description="Filters: `field=op.value` with op in eq, neq, gt, gte, lt, lte, like, ilike, "
    "in.(a,b), is.null|true|false, cs (contains, takes JSON nested at most "
    f"{MAX_JSON_DEPTH} levels), each negatable with `not.`; "
    "`order=field.desc,other`; `limit` (default 100, max 1000); `offset`.",
)
async def list_records(
    request: Request, table: RecordTableDep, plane: PlaneDep, connection: TenantConnectionDep
) -> Response:
    query = parse_list_query(request.query_params.multi_items())
    return _json(await record_service.list_records(connection, table, query))


@router.get("/{name}/records/{record_id}", responses={200: _RECORD_RESPONSE})
async def get_record(
    record_id: str, table: RecordTableDep, plane: PlaneDep, connection: TenantConnectionDep
) -> Response:
    return _json(await record_service.get_record(connection, table, record_id))


@router.put(
    "/{name}/records/{record_id}",
    openapi_extra=_RECORD_BODY,
    responses={200: _RECORD_RESPONSE, 201: _RECORD_RESPONSE},
    summary="Create or replace a record",
)
async def put_record(
    record_id: str,
    request: Request,
    table: RecordTableDep,
    plane: PlaneDep,
    connection: TenantConnectionDep,
) -> Response:
    body = await read_json_object(request)
    record, created = await record_service.put_record(
        connection, plane.writer, table, record_id, body
    )
    return _json(record, status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@router.patch(
    "/{name}/records/{record_id}",
    openapi_extra=_RECORD_BODY,
    responses={200: _RECORD_RESPONSE},
    summary="Merge-patch a record (null removes a field)",
)
async def patch_record(
    record_id: str,
    request: Request,
    table: RecordTableDep,
    plane: PlaneDep,
    connection: TenantConnectionDep,
) -> Response:
    patch = await read_json_object(request)
    return _json(
        await record_service.patch_record(connection, plane.writer, table, record_id, patch)
    )


@router.delete("/{name}/records/{record_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_record(
    record_id: str, table: RecordTableDep, plane: PlaneDep, connection: TenantConnectionDep
) -> Response:
    await record_service.delete_record(connection, plane.writer, table, record_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
